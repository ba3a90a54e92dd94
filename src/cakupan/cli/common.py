"""What every command shares: the database option, JSON output and error reporting.

Contract: invalid input exits 2 with the message on stderr and nothing on stdout; "not found" and
rejected rows exit 1; an unexpected failure exits 3 with a short message (never a stack trace).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy import Engine

from cakupan.dates import parse_date
from cakupan.db import make_engine
from cakupan.errors import CakupanError, invalid
from cakupan.i18n import t
from cakupan.settings import get_settings

# soft_wrap: never break long lines (tokens, URLs, messages) at the terminal width; output is
# copied and parsed.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


@dataclass
class GlobalOptions:
    """Options given before the command (``cakupan --database-url X ...``)."""

    database_url: str | None = None


GLOBAL = GlobalOptions()

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL of the database (default: CAKUPAN_DATABASE_URL or the user's SQLite file).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def resolve_database_url(database_url: str | None) -> str:
    """Command option, else global option, else settings (environment / default file)."""
    return database_url or GLOBAL.database_url or get_settings().database_url


def open_engine(database_url: str | None, *, prepare: bool = True) -> Engine:
    """An engine for the command; with ``prepare`` the schema and reference data are brought up
    to date first (unless ``CAKUPAN_AUTO_MIGRATE=false``)."""
    engine = make_engine(resolve_database_url(database_url))
    if prepare and get_settings().auto_migrate:
        from cakupan.bootstrap import ensure_ready

        ensure_ready(engine)
    return engine


def print_json(payload: Any) -> None:
    """JSON on stdout, UTF-8, one document."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def fail(error: CakupanError, *, as_json: bool = False) -> NoReturn:
    """Report an error (stderr; with ``--json`` the problem document goes to stderr too) and exit."""
    if as_json:
        sys.stderr.write(json.dumps(error.as_problem(), ensure_ascii=False) + "\n")
    else:
        err_console.print(error.render(), markup=False, highlight=False)
    raise typer.Exit(error.kind.exit_code)


def date_option(value: str | None, field: str) -> date | None:
    """An optional ``YYYY-MM-DD`` option: None when absent, an INVALID error naming ``field``
    when it is not a calendar date."""
    if value is None or value == "":
        return None
    try:
        return parse_date(value)
    except ValueError as error:
        raise invalid(
            field,
            t("harus tanggal YYYY-MM-DD, diterima {v!r}", "{m}").format(v=value, m=str(error)),
        ) from None


def required_date_option(value: str, field: str) -> date:
    """Like :func:`date_option` for an option that must be given."""
    parsed = date_option(value, field)
    if parsed is None:
        raise invalid(field, t("tanggal wajib diisi", "a date is required"))
    return parsed
