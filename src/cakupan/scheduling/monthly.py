"""The monthly close as one orchestration (``cakupan close``, the worker's ``close`` job and the
seed all call it): the lifecycle close of the month and the partner webhook events of its
transitions, in the caller's transaction; and the re-close of months that late data made stale
(issue 21: ``reclose_late_months``, called after an import, by ``cakupan close --late`` and by the
worker's ``reclose`` job)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, exists, select
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.dates import Clock, Month
from cakupan.db import transaction
from cakupan.imports import ImportResult
from cakupan.integration import enqueue_close_events
from cakupan.registry.close import CloseResult, close_month
from cakupan.registry.close_models import MonthClose
from cakupan.registry.late import queued_months

__all__ = [
    "Reclosed",
    "close_month_with_events",
    "reclose_after_import",
    "reclose_late_months",
]


def close_month_with_events(
    session: Session, actor: Actor, month: Month, clock: Clock
) -> CloseResult:
    """Close ``month`` (statuses, transitions, KPI pre-aggregates) and queue the webhook events
    of its transitions into arrears and closed. The caller commits."""
    result = close_month(session, actor, month, clock=clock)
    enqueue_close_events(session, month, clock.now())
    return result


@dataclass(frozen=True)
class Reclosed:
    """One month closed again because late data arrived, and what changed."""

    month: Month
    before: dict[str, Any] | None
    result: CloseResult
    #: draft incentive statements of the period recomputed (0 when the period had none)
    incentive_drafts: int

    def as_json(self) -> dict[str, Any]:
        return {
            "month": str(self.month),
            "changed": self.before is None
            or _counts(self.before) != _counts(self.result.as_json()),
            "close": self.result.as_json(),
            "incentive_drafts": self.incentive_drafts,
        }


def _counts(document: dict[str, Any]) -> dict[str, Any]:
    return {key: document.get(key) for key in ("participants", "statuses", "transitions")}


def reclose_late_months(
    engine: Engine, actor: Actor, clock: Clock, months: Sequence[Month] | None = None
) -> list[Reclosed]:
    """Close again every month queued by late data (only those of ``months`` when given, still
    queued), oldest first, each in its own transaction: statuses, transitions and KPI
    pre-aggregates from the ledger as it is now (the close removes the month from the queue), the
    period's *draft* incentive statements recomputed (approved, paid and disputed ones never
    change: the late payment is carried as an adjustment by a later run, docs/incentives.md),
    and one ``registry.reclose_late`` audit row per month. No webhook events are queued again:
    partners received the month's events at its close. Idempotent: a month no longer queued is
    skipped, so a second call does nothing."""
    from cakupan.incentives import actions as incentive_actions
    from cakupan.incentives.models import IncentiveStatement

    with transaction(engine) as session:
        waiting = queued_months(session)
    wanted = waiting if months is None else [m for m in waiting if m in set(months)]
    done: list[Reclosed] = []
    for month in wanted:
        with transaction(engine) as session:
            if month not in queued_months(session):  # closed meanwhile by another run
                continue
            earlier = session.get(MonthClose, month)
            before = None if earlier is None else {"month": str(month), **earlier.counts}
            result = close_month(session, actor, month, clock=clock)
            drafts = session.scalar(
                select(
                    exists().where(
                        IncentiveStatement.period == month, IncentiveStatement.status == "draft"
                    )
                )
            )
            recomputed = 0
            if drafts:
                run = incentive_actions.run_period(session, actor, clock, month)
                recomputed = len(run.statements)
            reclosed = Reclosed(month, before, result, recomputed)
            record_audit(
                session,
                actor,
                "registry.reclose_late",
                "month_close",
                str(month),
                before=before,
                after=reclosed.as_json(),
                at=clock.now(),
            )
        done.append(reclosed)
    return done


def reclose_after_import(
    engine: Engine, actor: Actor, clock: Clock, result: ImportResult
) -> ImportResult:
    """After an import has committed: close again the closed months its rows were dated in or
    before (``result.late_months``, queued in the import's transaction) and record in
    ``result.reclosed_months`` those no longer waiting. The import's rows stay committed whatever
    happens here; a month this step could not close stays queued for the worker."""
    if not result.late_months:
        return result
    reclose_late_months(engine, actor, clock, [Month.parse(m) for m in result.late_months])
    with transaction(engine) as session:
        waiting = {str(month) for month in queued_months(session)}
    result.reclosed_months = [m for m in result.late_months if m not in waiting]
    return result
