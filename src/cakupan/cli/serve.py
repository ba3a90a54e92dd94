"""``cakupan serve``: run the web application (pages and ``/api/v1``) with uvicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from cakupan.cli.common import DatabaseUrlOption, console, open_engine, resolve_database_url

HostOption = Annotated[
    str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only).")
]
PortOption = Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)]


def run_web(
    engine: Engine,
    host: str,
    port: int,
    *,
    analytics_snapshot: Path | None = None,
    access_log: bool = True,
) -> None:
    """Serve the app on ``engine`` in this process until interrupted (Ctrl+C)."""
    import uvicorn

    from cakupan.web import create_app
    from cakupan.web.log_redaction import uvicorn_log_config

    app = create_app(engine, analytics_snapshot=analytics_snapshot)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=False,
        access_log=access_log,
        log_config=uvicorn_log_config(),
    )


def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    database_url: DatabaseUrlOption = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help="Proses server / server processes (production: about the number of cores).",
            min=1,
            max=64,
        ),
    ] = 1,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request line.")
    ] = True,
) -> None:
    """Serve the web application (sign in with a user made by `cakupan users create`)."""
    engine = open_engine(database_url)  # schema and reference data brought up to date once
    console.print(f"cakupan: http://{host}:{port}/  (Ctrl+C untuk berhenti / to stop)")
    if workers == 1:
        run_web(engine, host, port, access_log=access_log)
        return
    import uvicorn

    from cakupan.web.log_redaction import uvicorn_log_config
    from cakupan.web.secret import load_or_create_secret

    # Each worker process builds the app from the environment: the same database, the same
    # session-signing key (created here first, so workers never race to create it), and no
    # second migration.
    os.environ["CAKUPAN_DATABASE_URL"] = resolve_database_url(database_url)
    os.environ["CAKUPAN_AUTO_MIGRATE"] = "false"
    load_or_create_secret()
    engine.dispose()
    uvicorn.run(
        "cakupan.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_level="info",
        proxy_headers=False,
        log_config=uvicorn_log_config(),
    )
