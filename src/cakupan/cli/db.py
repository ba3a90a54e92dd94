"""``cakupan db ...``: schema and reference data."""

from __future__ import annotations

import typer

from cakupan.bootstrap import current_revisions, head_revisions, load_reference_data, upgrade_schema
from cakupan.cli.common import DatabaseUrlOption, JsonOption, console, open_engine, print_json

app = typer.Typer(help="Database schema and reference data.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(database_url: DatabaseUrlOption = None, as_json: JsonOption = False) -> None:
    """Create or migrate the schema to the latest version and load missing reference data.

    Safe to run any number of times.
    """
    engine = open_engine(database_url, prepare=False)
    applied = upgrade_schema(engine)
    loaded = load_reference_data(engine)
    revisions = sorted(current_revisions(engine))
    if as_json:
        print_json({"migrated": applied, "revisions": revisions, "reference_loaded": loaded})
        return
    console.print(
        f"Skema {'diperbarui' if applied else 'sudah terbaru'} / schema "
        f"{'upgraded' if applied else 'already current'}: {', '.join(revisions)}"
    )
    for name, count in loaded.items():
        console.print(f"  {name}: {count:,}".replace(",", "."))


@app.command("status")
def status(database_url: DatabaseUrlOption = None, as_json: JsonOption = False) -> None:
    """Show the schema revision of the database and whether it is current."""
    engine = open_engine(database_url, prepare=False)
    current, heads = current_revisions(engine), head_revisions()
    if as_json:
        print_json(
            {"current": sorted(current), "heads": sorted(heads), "up_to_date": current == heads}
        )
        return
    console.print(
        f"current: {', '.join(sorted(current)) or '-'}; heads: {', '.join(sorted(heads))}"
    )
    if current != heads:
        raise typer.Exit(1)
