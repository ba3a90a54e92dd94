"""``cakupan accounts``: participants (accounts) assigned to account representatives (``ar`` /
``ark`` users), who then read the records of those accounts only (thin over
``cakupan.dashboard.accounts``)."""

from __future__ import annotations

from typing import Annotated

import typer

from cakupan.auth import Actor
from cakupan.cli.common import DatabaseUrlOption, JsonOption, console, open_engine, print_json
from cakupan.dashboard.accounts import (
    AccountSelection,
    assign_accounts,
    assigned_summary,
    unassign_accounts,
)
from cakupan.db import transaction

app = typer.Typer(
    help="Akun peserta AR/ARK / accounts of account representatives (ar, ark).",
    no_args_is_help=True,
)

UsernameArgument = Annotated[str, typer.Argument(help="Pengguna ar/ark / an ar or ark user.")]
VillageOption = Annotated[
    list[str] | None,
    typer.Option("--village", help="Kode desa/kelurahan (boleh berulang) / village code."),
]
DistrictOption = Annotated[
    list[str] | None,
    typer.Option("--district", help="Kode kecamatan (boleh berulang) / district code."),
]
NikOption = Annotated[
    list[str] | None, typer.Option("--nik", help="NIK peserta (boleh berulang) / a NIK.")
]


def _selection(
    village: list[str] | None, district: list[str] | None, nik: list[str] | None
) -> AccountSelection:
    return AccountSelection(
        villages=tuple(village or ()), districts=tuple(district or ()), niks=tuple(nik or ())
    )


@app.command("assign")
def assign(
    username: UsernameArgument,
    village: VillageOption = None,
    district: DistrictOption = None,
    nik: NikOption = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Tugaskan peserta cabang pengguna / assign the participants of the user's branch in the
    given villages or districts, or with the given NIKs (audited; repeating changes nothing)."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        counts = assign_accounts(
            session, Actor.system(), username, _selection(village, district, nik)
        )
    if as_json:
        print_json(counts)
    else:
        console.print(f"{username}: +{counts['assigned']} akun / accounts, total {counts['total']}")


@app.command("unassign")
def unassign(
    username: UsernameArgument,
    village: VillageOption = None,
    district: DistrictOption = None,
    nik: NikOption = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Lepaskan peserta dari pengguna / remove participants from the user's accounts."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        counts = unassign_accounts(
            session, Actor.system(), username, _selection(village, district, nik)
        )
    if as_json:
        print_json(counts)
    else:
        console.print(
            f"{username}: -{counts['unassigned']} akun / accounts, total {counts['total']}"
        )


@app.command("list")
def list_accounts(
    username: UsernameArgument, database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """Jumlah akun pengguna per wilayah / the user's accounts per district and village."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        summary = assigned_summary(session, Actor.system(), username)
    if as_json:
        print_json(summary)
        return
    console.print(
        f"{username} ({summary['role']}, {summary['branch_code']}): {summary['total']} akun"
    )
    for area in summary["areas"]:
        console.print(f"  {area['district_code']} {area['village_code']}: {area['accounts']}")
