"""The monthly close as one orchestration (``cakupan close``, the worker's ``close`` job and the
seed all call it): the lifecycle close of the month and the partner webhook events of its
transitions, in the caller's transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cakupan.auth import Actor
from cakupan.dates import Clock, Month
from cakupan.integration import enqueue_close_events
from cakupan.registry.close import CloseResult, close_month

__all__ = ["close_month_with_events"]


def close_month_with_events(
    session: Session, actor: Actor, month: Month, clock: Clock
) -> CloseResult:
    """Close ``month`` (statuses, transitions, KPI pre-aggregates) and queue the webhook events
    of its transitions into arrears and closed. The caller commits."""
    result = close_month(session, actor, month, clock=clock)
    enqueue_close_events(session, month, clock.now())
    return result
