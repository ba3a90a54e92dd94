"""``cakupan worker``: APScheduler 3 runs the jobs of :mod:`cakupan.scheduling.jobs` on their
cron schedule in Asia/Jakarta, in one long-running process (or inside ``cakupan serve
--with-worker`` / ``cakupan demo``).

Why APScheduler: a maintained in-process scheduler with cron triggers in a time zone,
coalescing of missed runs and one instance per job; the guarantees that matter across
processes (a period done once, one worker at a time per job) live in the database
(:mod:`cakupan.scheduling.runner`), so the scheduler's own job store stays in memory and a
restarted worker needs no state but the database's.

At start the worker runs a catch-up round: every job runs once for the period due now (the
close of last month, today's reminders, this hour's refresh...); a period already done is
skipped, so a worker that was down catches up and one that was not does nothing twice.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from cakupan.dates import JAKARTA
from cakupan.scheduling.jobs import JOBS
from cakupan.scheduling.runner import JobContext, JobSpec, run_job

__all__ = ["build_scheduler", "catch_up", "start_background_worker"]

logger = logging.getLogger("cakupan.worker")


def _runner(ctx: JobContext, spec: JobSpec) -> None:
    report = run_job(ctx, spec)
    if report.outcome not in ("idle", "done-before"):
        logger.info("%s %s: %s %s", spec.name, report.period or "", report.outcome, report.counts)


def catch_up(ctx: JobContext) -> list[dict[str, Any]]:
    """Run every job once for the period due now (done periods are skipped): what a worker
    does when it starts, so that what it missed while down is done, once."""
    return [run_job(ctx, spec).as_json() for spec in JOBS]


def build_scheduler(ctx: JobContext, *, blocking: bool) -> BaseScheduler:
    """A scheduler holding every job (cron in Asia/Jakarta or an interval); a missed run is
    coalesced into one, run however late, one instance per job at a time."""
    scheduler: BaseScheduler = (
        BlockingScheduler(timezone=JAKARTA) if blocking else BackgroundScheduler(timezone=JAKARTA)
    )
    for spec in JOBS:
        trigger: CronTrigger | IntervalTrigger
        if spec.cron is not None:
            trigger = CronTrigger(timezone=JAKARTA, **spec.cron)
        else:
            trigger = IntervalTrigger(seconds=spec.interval_seconds or 60, timezone=JAKARTA)
        scheduler.add_job(
            _runner,
            trigger,
            args=(ctx, spec),
            id=spec.name,
            name=spec.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            replace_existing=True,
        )
    return scheduler


def start_background_worker(ctx: JobContext) -> BaseScheduler:
    """Start the worker in this process (beside the web server): the catch-up round runs in a
    thread, then the schedule. Call ``shutdown()`` on the result to stop it."""
    scheduler = build_scheduler(ctx, blocking=False)

    def first_round() -> None:
        try:
            catch_up(ctx)
        except Exception:  # the schedule goes on; each job records its own failure
            logger.exception("catch-up round failed")

    threading.Thread(target=first_round, name="cakupan-catch-up", daemon=True).start()
    scheduler.start()
    return scheduler
