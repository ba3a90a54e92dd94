"""Late data in closed months (issue 21): the write paths of the ledger call
:func:`queue_late_months` with the earliest month their rows touch; every month already closed
*and ended* from that month on is queued in ``month_reclose`` in the writer's transaction.

A month's close reads the whole ledger as of its last day, so a payment dated in September
changes September's and every later closed month's statuses and KPIs. The months are queued,
never re-closed here: the registry cannot run the close orchestration (events, incentives), and a
single posting of the partner API must not pay for a close. The orchestration
(``cakupan.scheduling.monthly.reclose_late_months``) re-closes them: right after an import (the
import's result names them), by ``cakupan close --late``, and by the worker's ``reclose`` job for
single postings. Until then the dashboard says which months are being recomputed, and ``kpi
verify`` names them. The current month is never queued: its figures are month-to-date already.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cakupan.dates import JAKARTA, Month
from cakupan.db import is_postgres
from cakupan.registry.close_models import MonthClose, MonthReclose

__all__ = ["LATE_MONTHS", "late_months_of", "queue_late_months", "queued_months"]

#: ``session.info`` key: the months this session's writes queued (an import reports them).
LATE_MONTHS = "cakupan.late_months"


def queue_late_months(
    session: Session, first: Month | date, now: datetime, source: str
) -> list[Month]:
    """Queue every closed month that has ended (before the month of ``now``, Asia/Jakarta) from
    ``first`` on, in the caller's transaction; returns them (empty in the usual case, where no
    query is made at all: the data is of the current month). Queuing twice changes nothing."""
    start = first if isinstance(first, Month) else Month.of(first)
    current = Month.of(now.astimezone(JAKARTA).date())
    if start >= current:
        return []
    months = list(
        session.scalars(
            select(MonthClose.month)
            .where(MonthClose.month >= start, MonthClose.month < current)
            .order_by(MonthClose.month)
        )
    )
    if not months:
        return []
    maker = pg_insert if is_postgres(session) else sqlite_insert
    session.execute(
        maker(MonthReclose).on_conflict_do_nothing(index_elements=["month"]),
        [{"month": month, "queued_at": now, "source": source} for month in months],
    )
    late: set[Month] = session.info.setdefault(LATE_MONTHS, set())
    late.update(months)
    return months


def late_months_of(session: Session) -> list[Month]:
    """The months this session's writes queued so far (oldest first)."""
    return sorted(session.info.get(LATE_MONTHS, ()))


def queued_months(session: Session) -> list[Month]:
    """Every month waiting to be closed again (oldest first)."""
    return list(session.scalars(select(MonthReclose.month).order_by(MonthReclose.month)))
