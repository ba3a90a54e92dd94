"""The worker's jobs and their schedule (Asia/Jakarta). docs/operations.md describes them.

Each job is idempotent for its period: the close and the incentive run of a month, the
reminders of a day, the analytics snapshot of a night, the month-to-date refresh of an hour.
The two delivery jobs (reminder outbox, partner webhooks) have no period: their rows carry
their own state (queued, sent, delivered...), so any run delivers what is due and nothing twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from cakupan.auth import Actor
from cakupan.dates import JAKARTA, Month, parse_date, today
from cakupan.db import transaction
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.scheduling.monthly import close_month_with_events, reclose_late_months
from cakupan.scheduling.runner import JobContext, JobSpec, RunReport, run_job

__all__ = ["JOBS", "job_named", "run_named"]

_ACTOR_NAME = "worker"


def _actor() -> Actor:
    return Actor.system(_ACTOR_NAME)


def _this_month(ctx: JobContext) -> str:
    return str(Month.of(today(ctx.clock)))


def _last_month(ctx: JobContext) -> str:
    return str(Month.of(today(ctx.clock)) + -1)


def _day(ctx: JobContext) -> str:
    return today(ctx.clock).isoformat()


def _hour(ctx: JobContext) -> str:
    return ctx.clock.now().astimezone(JAKARTA).strftime("%Y-%m-%dT%H")


def _refresh(ctx: JobContext, period: str | None) -> dict[str, Any]:
    """Month-to-date statuses and KPI pre-aggregates of the current month (the dashboard's
    figures "per <closed_at>"); no webhook events: those belong to the final close."""
    from cakupan.registry.close import close_month

    month = Month.of(today(ctx.clock))
    with transaction(ctx.engine) as session:
        result = close_month(session, _actor(), month, clock=ctx.clock)
    return {"month": str(month), "participants": result.participants}


def _close(ctx: JobContext, period: str | None) -> dict[str, Any]:
    month = Month.parse(period or _last_month(ctx))
    with transaction(ctx.engine) as session:
        result = close_month_with_events(session, _actor(), month, ctx.clock)
    return {"month": str(month), "participants": result.participants, **result.transitions}


def _reclose(ctx: JobContext, period: str | None) -> dict[str, Any]:
    """Close again the months late data made stale (single postings, reversals and imports
    whose own re-close did not finish; issue 21, docs/lifecycle.md)."""
    done = reclose_late_months(ctx.engine, _actor(), ctx.clock)
    # "reclosed" is the count that makes the run recorded (a continuous job that did nothing
    # is not); "months" names them
    return {"reclosed": len(done), "months": [str(item.month) for item in done]}


def _incentives(ctx: JobContext, period: str | None) -> dict[str, Any]:
    """The month's incentive run, after its close (the close is run first if it is not done:
    the same lock and record, so it never runs twice)."""
    from cakupan.incentives import actions as incentive_actions

    month_text = period or _last_month(ctx)
    closing = run_job(ctx, job_named("close"), period=month_text)
    if closing.outcome == "failed":
        raise RuntimeError(f"the close of {month_text} failed: {closing.error}")
    if closing.outcome == "locked":
        raise RuntimeError(f"the close of {month_text} is running in another worker")
    with transaction(ctx.engine) as session:
        result = incentive_actions.run_period(session, _actor(), ctx.clock, Month.parse(month_text))
    return {"month": month_text, "statements": len(result.statements)}


def _reminders(ctx: JobContext, period: str | None) -> dict[str, Any]:
    from cakupan.dates import parse_date
    from cakupan.reminders.actions import queue_reminders

    on = parse_date(period) if period else today(ctx.clock)
    with transaction(ctx.engine) as session:
        queued = queue_reminders(session, _actor(), ctx.clock, on)
    return {"day": on.isoformat(), **queued}


def _outbox(ctx: JobContext, period: str | None) -> dict[str, Any]:
    from cakupan.reminders.delivery import deliver_due
    from cakupan.reminders.gateway import gateway_from_settings

    gateway = ctx.gateway or gateway_from_settings()
    return deliver_due(
        ctx.engine, ctx.clock, gateway, budget_seconds=ctx.delivery_budget_seconds
    ).as_json()


def _webhooks(ctx: JobContext, period: str | None) -> dict[str, Any]:
    from cakupan.integration import webhooks

    return webhooks.work(ctx.engine, once=True, clock=ctx.clock).as_json()


def _snapshot(ctx: JobContext, period: str | None) -> dict[str, Any]:
    from cakupan.analytics import take_snapshot
    from cakupan.settings import get_settings

    out = ctx.snapshot_dir or get_settings().analytics_snapshot
    as_of = today(ctx.clock) - timedelta(days=1)  # the night after the day it covers
    snapshot = take_snapshot(ctx.engine, _actor(), out, as_of=as_of, taken_at=ctx.clock.now())
    return {"as_of": as_of.isoformat(), **{k: int(v) for k, v in snapshot.rows.items()}}


JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        "refresh",
        "Status dan angka dasbor bulan berjalan / current month's statuses and dashboard figures",
        {"minute": 5},
        None,
        _hour,
        _refresh,
    ),
    JobSpec(
        "close",
        "Tutup bulan lalu + event webhook / close last month + webhook events (the 1st, 00:30)",
        {"day": 1, "hour": 0, "minute": 30},
        None,
        _last_month,
        _close,
    ),
    JobSpec(
        "incentives",
        "Laporan insentif bulan lalu / last month's incentive run (the 1st, 02:00, after the close)",
        {"day": 1, "hour": 2, "minute": 0},
        None,
        _last_month,
        _incentives,
    ),
    JobSpec(
        "reminders",
        "Rencana dan antrean pengingat hari ini / plan and queue today's reminders (06:00)",
        {"hour": 6, "minute": 0},
        None,
        _day,
        _reminders,
    ),
    JobSpec(
        "outbox",
        "Kirim pengingat yang jatuh tempo / deliver due reminders (every 30 s, 08:00-20:00 WIB)",
        None,
        30,
        lambda ctx: None,
        _outbox,
    ),
    JobSpec(
        "reclose",
        "Tutup ulang bulan yang terkena data terlambat / close again the months late data made"
        " stale (every 10 min)",
        None,
        600,
        lambda ctx: None,
        _reclose,
    ),
    JobSpec(
        "webhooks",
        "Kirim webhook mitra / deliver partner webhooks (every 30 s)",
        None,
        30,
        lambda ctx: None,
        _webhooks,
    ),
    JobSpec(
        "snapshot",
        "Snapshot analitik nasional / nightly national analytics snapshot (01:30)",
        {"hour": 1, "minute": 30},
        None,
        _day,
        _snapshot,
    ),
)


def job_named(name: str) -> JobSpec:
    """The job called ``name``; an invalid-input error naming the known jobs otherwise."""
    for spec in JOBS:
        if spec.name == name:
            return spec
    known = ", ".join(spec.name for spec in JOBS)
    raise invalid(
        "job",
        t("pekerjaan tak dikenal {n!r}; yang ada: {k}", "unknown job {n!r}; known: {k}").format(
            n=name, k=known
        ),
    )


_PERIOD_FORMS = {
    "refresh": ("YYYY-MM-DDTHH", r"^\d{4}-\d{2}-\d{2}T\d{2}$"),
    "close": ("YYYY-MM", r"^\d{4}-\d{2}$"),
    "incentives": ("YYYY-MM", r"^\d{4}-\d{2}$"),
    "reminders": ("YYYY-MM-DD", r"^\d{4}-\d{2}-\d{2}$"),
    "snapshot": ("YYYY-MM-DD", r"^\d{4}-\d{2}-\d{2}$"),
}


def _check_period(name: str, period: str) -> None:
    form = _PERIOD_FORMS.get(name)
    valid = form is not None and re.match(form[1], period) is not None
    if valid and form is not None and form[0] == "YYYY-MM":
        valid = _parses(lambda: Month.parse(period))
    elif valid and form is not None and form[0] == "YYYY-MM-DD":
        valid = _parses(lambda: parse_date(period))
    if not valid:
        expected = form[0] if form else t("tanpa periode", "no period")
        raise invalid(
            "--period",
            t("{n}: diharapkan {e}, diterima {v!r}", "{n}: expected {e}, got {v!r}").format(
                n=name, e=expected, v=period
            ),
        )


def _parses(parse: Callable[[], object]) -> bool:
    try:
        parse()
    except ValueError:
        return False
    return True


def run_named(ctx: JobContext, name: str, period: str | None = None) -> RunReport:
    """Run the job ``name`` now (for ``period``, default the one due now); a period of the wrong
    form for the job is invalid input."""
    spec = job_named(name)
    if period is not None:
        _check_period(name, period)
    return run_job(ctx, spec, period=period)
