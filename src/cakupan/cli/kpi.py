"""``cakupan kpi``: the dashboard's KPI pre-aggregates (thin over ``cakupan.dashboard``).

``cakupan close`` refreshes them already; ``kpi refresh`` rewrites them for closed months (e.g.
after a definition change), ``kpi verify`` compares them with figures computed from the ledger.
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from cakupan.auth import Actor
from cakupan.cli.common import DatabaseUrlOption, JsonOption, console, open_engine, print_json
from cakupan.dashboard import refresh_kpis
from cakupan.dashboard.queries import kpi_summary, ledger_summary
from cakupan.dates import Month
from cakupan.db import transaction
from cakupan.errors import CakupanError, ErrorKind, invalid
from cakupan.i18n import t
from cakupan.registry.close_models import MonthClose
from cakupan.registry.late import queued_months

app = typer.Typer(
    help="KPI dasbor (pra-agregasi) / dashboard KPIs (pre-aggregates).", no_args_is_help=True
)

MonthOption = Annotated[
    str | None,
    typer.Option(
        "--month",
        help="Bulan YYYY-MM (default: semua bulan yang ditutup) / month (default: all closed).",
        show_default=False,
    ),
]


def _months(session: Session, month: str | None) -> list[Month]:
    if month is not None:
        try:
            return [Month.parse(month)]
        except ValueError:
            raise invalid(
                "--month",
                t(
                    "diharapkan bulan YYYY-MM, diterima {v!r}",
                    "expected a month as YYYY-MM, got {v!r}",
                ).format(v=month),
            ) from None
    return list(session.scalars(select(MonthClose.month).order_by(MonthClose.month)))


@app.command("refresh")
def refresh(
    month: MonthOption = None, database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """Tulis ulang KPI bulan yang sudah ditutup / rewrite the KPIs of closed months (audited)."""
    engine = open_engine(database_url)
    out = []
    with transaction(engine) as session:
        for closing in _months(session, month):
            counts = refresh_kpis(session, Actor.system(), closing)
            out.append({"month": str(closing), **counts})
    if as_json:
        print_json({"months": out})
        return
    for item in out:
        console.print(
            f"{item['month']}: kpi_monthly {item['kpi_monthly_rows']}, "
            f"kpi_cohort {item['kpi_cohort_rows']}"
        )


@app.command("verify")
def verify(
    month: MonthOption = None, database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """Bandingkan KPI pra-agregasi dengan buku besar / compare the pre-aggregated KPIs with
    figures computed directly from the ledger; exit 1 when any differs."""
    engine = open_engine(database_url)
    report = []
    with transaction(engine) as session:
        for closing in _months(session, month):
            ledger = ledger_summary(session, closing)
            aggregated = kpi_summary(session, closing)
            report.append(
                {
                    "month": str(closing),
                    "ledger": ledger,
                    "kpi": aggregated,
                    "match": ledger == aggregated,
                }
            )
        waiting = [str(m) for m in queued_months(session)]
    if as_json:
        print_json(
            {"months": report, "match": all(r["match"] for r in report), "late_months": waiting}
        )
    else:
        for item in report:
            console.print(f"{item['month']}: {'OK' if item['match'] else 'BEDA / DIFFERS'}")
        if waiting:
            console.print(
                "Menunggu ditutup ulang (data terlambat) / waiting to be closed again (late"
                f" data): {', '.join(waiting)}"
            )
    if not all(r["match"] for r in report):
        raise CakupanError(
            title=t(
                "KPI pra-agregasi berbeda dari buku besar: jalankan 'cakupan close --late'"
                " (bulan yang terkena data terlambat) atau 'cakupan kpi refresh'",
                "Pre-aggregated KPIs differ from the ledger: run 'cakupan close --late' (months"
                " late data made stale) or 'cakupan kpi refresh'",
            ),
            kind=ErrorKind.CONFLICT,
            code="dashboard.kpi_mismatch",
        )
