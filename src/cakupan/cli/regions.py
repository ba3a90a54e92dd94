"""``cakupan offices ...`` and ``cakupan regions ...``: BPJS TK offices and Indonesia's areas."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cakupan import regions
from cakupan.auth import Actor
from cakupan.cli.common import DatabaseUrlOption, JsonOption, console, open_engine, print_json
from cakupan.db import make_session_factory
from cakupan.errors import not_found
from cakupan.i18n import t

offices_app = typer.Typer(
    help="Kantor wilayah dan kantor cabang / regional and branch offices.", no_args_is_help=True
)
regions_app = typer.Typer(
    help="Wilayah administratif Indonesia / Indonesia's administrative areas.",
    no_args_is_help=True,
)


@offices_app.command("list")
def list_offices(database_url: DatabaseUrlOption = None, as_json: JsonOption = False) -> None:
    """List every regional office (Kanwil) with its provinces and branches."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        offices = regions.list_offices(session)
    if as_json:
        print_json([region.as_json() for region in offices])
        return
    for region in offices:
        console.print(
            f"[bold]{region.code}[/bold] {region.name} "
            f"({t('provinsi', 'provinces')}: {' '.join(region.province_codes)})"
        )
        for branch in region.branches:
            console.print(f"  {branch.code:<8} {branch.name:<24} {' '.join(branch.regency_codes)}")


@offices_app.command("import")
def import_offices(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX file of offices.", show_default=False)],
    partial: Annotated[
        bool, typer.Option("--partial", help="Post the valid rows even when others are rejected.")
    ] = False,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add or update offices from a file with columns
    kind,code,name,parent_code,province_codes,regency_codes (see docs/regions.md).

    Exit 0 when no row is rejected, 1 otherwise, 2 when the file cannot be used.
    """
    engine = open_engine(database_url)
    result = regions.import_offices(engine, Actor.system(), file, partial=partial)
    if as_json:
        print_json(result.as_json())
    else:
        typer.echo(result.render())
    raise typer.Exit(result.exit_code)


@regions_app.command("show")
def show(
    code: Annotated[str, typer.Argument(help="Area code: 16, 16.71, 16.71.01 or 16.71.01.1001.")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show an area: its level, name, parent, and the branch and region serving it."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        info = regions.area(session, code)
    if info is None:
        raise not_found(
            t("Wilayah {c} tidak dikenal", "Unknown area {c}").format(c=code), "area.not_found"
        )
    if as_json:
        print_json(info.as_json())
        return
    office = f"{info.branch_code or '-'} / {info.region_code or '-'}"
    level = _LEVELS[info.level].render()
    typer.echo(f"{info.code} {info.name} ({level}; {t('kantor', 'office')}: {office})")


_LEVELS = {
    "province": t("provinsi", "province"),
    "regency": t("kabupaten/kota", "regency/city"),
    "district": t("kecamatan", "district"),
    "village": t("desa/kelurahan", "village"),
}
