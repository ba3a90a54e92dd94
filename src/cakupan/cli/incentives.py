"""``cakupan incentives ...``: incentive schemes as data (list, show, import a version)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cakupan.auth import Actor
from cakupan.cli.common import DatabaseUrlOption, JsonOption, console, open_engine, print_json
from cakupan.db import make_session_factory, transaction
from cakupan.errors import invalid
from cakupan.i18n import current_lang, t
from cakupan.incentives import actions, queries

app = typer.Typer(
    help="Insentif mitra dan agen / partner and agent incentives.", no_args_is_help=True
)
schemes_app = typer.Typer(help="Skema insentif / incentive schemes.", no_args_is_help=True)
app.add_typer(schemes_app, name="schemes")


@schemes_app.command("list")
def schemes_list(database_url: DatabaseUrlOption = None, as_json: JsonOption = False) -> None:
    """List every scheme version with its validity and source."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        found = queries.schemes(session)
    if as_json:
        print_json([s.as_dict() for s in found])
        return
    for s in found:
        title = s.title_en if current_lang() == "en" else s.title_id
        console.print(
            f"{s.name:<16} v{s.version:<3} {s.valid_from}..{s.valid_to or ''}  {title}",
            markup=False,
            highlight=False,
        )


@schemes_app.command("show")
def schemes_show(
    name: Annotated[str, typer.Argument(help="Scheme name, e.g. komunitas-2024.")],
    version: Annotated[
        int | None, typer.Option("--version", help="Default: the latest.", show_default=False)
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one scheme version's definition."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        if version is None:
            versions = queries.schemes(session, name)
            if not versions:
                queries.scheme_version(session, name, 1)  # raises NOT_FOUND
            record = versions[-1]
        else:
            record = queries.scheme_version(session, name, version)
    payload = record.as_dict()
    if as_json:
        print_json(payload)
        return
    import json

    console.print_json(json.dumps(payload, ensure_ascii=False))


@schemes_app.command("import")
def schemes_import(
    file: Annotated[
        Path, typer.Argument(help="A scheme version as JSON (see docs/incentives.md).")
    ],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a scheme version from a JSON file (validated). Re-importing the same file changes
    nothing; the same name and version with other content is refused."""
    if not file.is_file():
        raise invalid("file", t(f"berkas {file} tidak ditemukan", f"file {file} not found"))
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise invalid("file", t("berkas harus UTF-8", "the file must be UTF-8")) from None
    scheme = actions.parse_scheme_version(text, record=file.name)
    engine = open_engine(database_url)
    with transaction(engine) as session:
        added = actions.add_scheme_version(session, Actor.system(), scheme)
    if as_json:
        print_json({"name": scheme.name, "version": scheme.version, "added": added})
    else:
        console.print(
            t(
                f"Skema {scheme.name} versi {scheme.version} "
                + ("ditambahkan" if added else "sudah ada (tidak berubah)"),
                f"Scheme {scheme.name} version {scheme.version} "
                + ("added" if added else "already present (unchanged)"),
            ).render()
        )
