"""``cakupan serve``: run the web application (pages and ``/api/v1``) with uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from cakupan.cli.common import DatabaseUrlOption, console, open_engine

HostOption = Annotated[
    str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only).")
]
PortOption = Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)]


def run_web(
    engine: Engine, host: str, port: int, *, analytics_snapshot: Path | None = None
) -> None:
    """Serve the app on ``engine`` until interrupted (Ctrl+C)."""
    import uvicorn

    from cakupan.web import create_app

    app = create_app(engine, analytics_snapshot=analytics_snapshot)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Serve the web application (sign in with a user made by `cakupan users create`)."""
    engine = open_engine(database_url)
    console.print(f"cakupan: http://{host}:{port}/  (Ctrl+C untuk berhenti / to stop)")
    run_web(engine, host, port)
