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
from cakupan.scheduling import close_month_with_events


def close(
    month: Annotated[
        str,
        typer.Option(
            "--month", help="Bulan yang ditutup YYYY-MM / the month to close.", show_default=False
        ),
    ],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Tutup bulan: status setiap peserta di akhir bulan dan transisinya / close a month: every
    participant's status at month end and the month's transitions (safe to repeat)."""
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
