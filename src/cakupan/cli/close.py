"""``cakupan close --month YYYY-MM``: the monthly lifecycle close (thin over ``registry.close``)."""

from __future__ import annotations

from typing import Annotated

import typer

from cakupan.auth import Actor
from cakupan.cli.common import DatabaseUrlOption, JsonOption, console, open_engine, print_json
from cakupan.dates import Month, SystemClock
from cakupan.db import transaction
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.money import format_number
from cakupan.scheduling import close_month_with_events, reclose_late_months


def close(
    month: Annotated[
        str | None,
        typer.Option(
            "--month", help="Bulan yang ditutup YYYY-MM / the month to close.", show_default=False
        ),
    ] = None,
    late: Annotated[
        bool,
        typer.Option(
            "--late",
            help="Tutup ulang bulan yang menunggu karena data terlambat / close again the months "
            "queued by late data.",
        ),
    ] = False,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Tutup bulan: status setiap peserta di akhir bulan dan transisinya / close a month: every
    participant's status at month end and the month's transitions (safe to repeat). ``--late``:
    close again every month that late data made stale (docs/lifecycle.md)."""
    if late == (month is not None):
        raise invalid(
            "--month",
            t("berikan --month YYYY-MM atau --late", "give either --month YYYY-MM or --late"),
        )
    if month is None:
        _close_late(database_url, as_json)
        return
    try:
        closing = Month.parse(month)
    except ValueError:
        raise invalid(
            "--month",
            t(
                "diharapkan bulan YYYY-MM, diterima {v!r}", "expected a month as YYYY-MM, got {v!r}"
            ).format(v=month),
        ) from None
    engine = open_engine(database_url)
    with transaction(engine) as session:
        result = close_month_with_events(session, Actor.system(), closing, SystemClock())
    if as_json:
        print_json(result.as_json())
        return
    console.print(
        f"Bulan {result.month} ditutup / month {result.month} closed: "
        f"{format_number(result.participants)} peserta / participants"
    )
    for status, count in result.statuses.items():
        console.print(f"  {status:<18} {format_number(count):>12}")
    console.print("Transisi / transitions:")
    for kind, count in result.transitions.items():
        console.print(f"  {kind:<18} {format_number(count):>12}")


def _close_late(database_url: str | None, as_json: bool) -> None:
    engine = open_engine(database_url)
    done = reclose_late_months(engine, Actor.system(), SystemClock())
    if as_json:
        print_json({"reclosed": [item.as_json() for item in done]})
        return
    if not done:
        console.print("Tidak ada bulan yang menunggu / no month is waiting to be closed again")
    for item in done:
        console.print(
            f"Bulan {item.month} ditutup ulang / closed again: "
            f"{format_number(item.result.participants)} peserta / participants"
        )
