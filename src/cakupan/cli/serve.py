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
    with_worker: bool = False,
) -> None:
    """Serve the app on ``engine`` in this process until interrupted (Ctrl+C); with
    ``with_worker`` the scheduled worker runs in the same process and stops with it."""
    import uvicorn

    from cakupan.web import create_app
    from cakupan.web.log_redaction import uvicorn_log_config

    app = create_app(engine, analytics_snapshot=analytics_snapshot)
    scheduler = None
    if with_worker:
        from cakupan.dates import SystemClock
        from cakupan.scheduling import JobContext
        from cakupan.scheduling.worker import start_background_worker

        console.print("cakupan worker: berjalan di proses yang sama / running in this process")
        scheduler = start_background_worker(
            JobContext(engine=engine, clock=SystemClock(), snapshot_dir=analytics_snapshot)
        )
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="info",
            proxy_headers=False,
            access_log=access_log,
            log_config=uvicorn_log_config(),
        )
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


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
    with_worker: Annotated[
        bool,
        typer.Option(
            "--with-worker",
            help="Jalankan juga pekerja terjadwal / also run the scheduled worker in this process "
            "(single-machine deployment; with --workers 1 only).",
        ),
    ] = False,
) -> None:
    """Serve the web application (sign in with a user made by `cakupan users create`)."""
    engine = open_engine(database_url)  # schema and reference data brought up to date once
    console.print(f"cakupan: http://{host}:{port}/  (Ctrl+C untuk berhenti / to stop)")
    if workers == 1:
        run_web(engine, host, port, access_log=access_log, with_worker=with_worker)
        return
    if with_worker:
        console.print(
            "--with-worker: hanya dengan --workers 1; jalankan `cakupan worker` terpisah / "
            "only with --workers 1; run `cakupan worker` as its own process"
        )
        raise typer.Exit(2)
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
        # A worker builds the whole app (every area's routes, the statistics of experiments)
        # before it answers the supervisor's health check: uvicorn's 5 s default killed and
        # restarted workers that were merely starting on a busy machine.
        timeout_worker_healthcheck=30,
        log_config=uvicorn_log_config(),
    )
