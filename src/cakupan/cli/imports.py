"""``cakupan participants import FILE`` and ``cakupan payments import FILE``: thin commands over
``cakupan.registry.imports``, added to the registry's command groups.

Contract (docs/imports.md): ``--json`` prints ``{"accepted", "duplicates", "rejected", "errors":
[{"row", "field", "message"}]}``; exit 0 when nothing was rejected, 1 otherwise, 2 when the file
itself is unusable. A progress bar goes to stderr when it is a terminal and ``--json`` is not
given.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from cakupan.auth import Actor
from cakupan.cli.common import (
    DatabaseUrlOption,
    JsonOption,
    console,
    err_console,
    open_engine,
    print_json,
)
from cakupan.cli.registry import participants_app, payments_app
from cakupan.dates import SystemClock
from cakupan.imports import ImportResult
from cakupan.registry.imports import import_participants, import_payments
from cakupan.scheduling import reclose_after_import

FileArgument = Annotated[
    Path, typer.Argument(help="Berkas .csv (UTF-8) atau .xlsx / a .csv (UTF-8) or .xlsx file.")
]
PartialOption = Annotated[
    bool,
    typer.Option(
        "--partial",
        help="Posting baris yang valid walau ada baris salah / post the valid rows even when "
        "some are rejected (default: all or nothing).",
    ),
]


@participants_app.command("import")
def participants_import(
    file: FileArgument,
    partial: PartialOption = False,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Impor peserta dari berkas / import participants from a file (docs/imports.md)."""
    engine = open_engine(database_url)
    with _progress(as_json, "peserta / participants") as progress:
        result = import_participants(
            engine, Actor.system(), file, partial=partial, progress=progress
        )
    _report(reclose_after_import(engine, Actor.system(), SystemClock(), result), as_json)


@payments_app.command("import")
def payments_import(
    file: FileArgument,
    partial: PartialOption = False,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Impor berkas setelmen pembayaran / import a payments settlement file (docs/imports.md)."""
    engine = open_engine(database_url)
    with _progress(as_json, "pembayaran / payments") as progress:
        result = import_payments(engine, Actor.system(), file, partial=partial, progress=progress)
    _report(reclose_after_import(engine, Actor.system(), SystemClock(), result), as_json)


@contextmanager
def _progress(as_json: bool, what: str) -> Iterator[Callable[[int], None] | None]:
    """A rows-done progress display on stderr, only for a person watching a terminal."""
    if as_json or not sys.stderr.isatty():
        yield None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} baris / rows"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(what, total=None)
        yield lambda done: bar.update(task, completed=done)


def _report(result: ImportResult, as_json: bool) -> None:
    if as_json:
        print_json(result.as_json())
    else:
        console.print(result.render(), markup=False, highlight=False)
    raise typer.Exit(result.exit_code)
