"""``cakupan demo``: set up the embedded database with demo data and show what is there."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cakupan.cli.common import DatabaseUrlOption, console, open_engine
from cakupan.db import make_session_factory
from cakupan.money import format_number
from cakupan.schema import metadata


def demo(
    database_url: DatabaseUrlOption = None,
    summary_only: Annotated[
        bool, typer.Option("--summary-only", help="Prepare and print; do not serve.")
    ] = False,
) -> None:
    """Prepare the embedded database (schema, reference data) and print a summary of its contents."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        _print_summary(session)
    console.print(f"Database: {engine.url.render_as_string(hide_password=True)}")
    del summary_only  # the web application arrives with the web issue


def _print_summary(session: Session) -> None:
    for table in metadata.sorted_tables:
        count = session.execute(select(func.count()).select_from(table)).scalar_one()
        console.print(f"  {table.name:<32} {format_number(count):>12}")
