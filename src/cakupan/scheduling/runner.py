"""Running one job once: the lock that keeps two workers from running it together, the check
that its period was not already done, and its record in ``job_run``.

On PostgreSQL every run holds a session-level advisory lock keyed on the job's name on its own
connection for as long as it runs: a second worker that reaches the same job finds the lock
taken and skips it. On SQLite one worker is supported (the database is one file on one
machine). A job's period (the month of a close, the day of the reminders) is done once it has
an ``ok`` run: a later run for the same period, by the same or another worker, by the schedule
or the catch-up at start, is skipped, so nothing is done twice.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select, text, update

from cakupan.dates import Clock
from cakupan.db import is_postgres, make_session_factory, transaction
from cakupan.scheduling.models import JobRun

__all__ = ["JobContext", "JobSpec", "RunReport", "run_job", "worker_name"]

logger = logging.getLogger("cakupan.jobs")

#: Namespace of the jobs' PostgreSQL advisory locks ("jobs" << 32).
_LOCK_BASE = 0x6A6F6273_00000000


@dataclass
class JobContext:
    """What a job may use: the database, the clock (injected: tests replay a month), the
    reminder gateway and where the analytics snapshot goes."""

    engine: Engine
    clock: Clock
    gateway: Any = None  # cakupan.reminders.gateway.Gateway (imported lazily: no cycle)
    snapshot_dir: Path | None = None
    #: Seconds one delivery round may take before it hands back to the scheduler.
    delivery_budget_seconds: float = 20.0


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job: its name, when it runs (cron fields in Asia/Jakarta, or an interval),
    the period it covers at an instant (None: a continuous job, run whenever due), and the work."""

    name: str
    description: str
    cron: dict[str, str | int] | None
    interval_seconds: int | None
    period: Callable[[JobContext], str | None]
    work: Callable[[JobContext, str | None], dict[str, Any]]


@dataclass
class RunReport:
    """What one call of :func:`run_job` did: ran (with the row's outcome), or why it skipped."""

    job: str
    period: str | None
    outcome: str  # ok, failed, done-before, locked, idle
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    run_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def worker_name() -> str:
    """host:pid of this process (which worker ran a job)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def _lock_key(job: str) -> int:
    digest = hashlib.sha256(job.encode()).digest()
    return _LOCK_BASE + int.from_bytes(digest[:3], "big")


#: One lock per job inside this process (the catch-up thread and the scheduler's threads).
_LOCAL_LOCKS: dict[str, threading.Lock] = {}
_LOCAL_GUARD = threading.Lock()


@contextmanager
def _job_lock(engine: Engine, job: str) -> Iterator[bool]:
    """Yield whether this process holds the job's lock: an in-process lock, and on PostgreSQL
    the job's advisory lock (across processes and machines)."""
    with _LOCAL_GUARD:
        local = _LOCAL_LOCKS.setdefault(job, threading.Lock())
    if not local.acquire(blocking=False):
        yield False
        return
    try:
        with _database_lock(engine, job) as held:
            yield held
    finally:
        local.release()


@contextmanager
def _database_lock(engine: Engine, job: str) -> Iterator[bool]:
    if not is_postgres(engine):
        yield True
        return
    connection: Connection = engine.connect()
    try:
        key = _lock_key(job)
        got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        connection.commit()
        try:
            yield got
        finally:
            if got:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()
    finally:
        connection.close()


def run_job(ctx: JobContext, spec: JobSpec, *, period: str | None = None) -> RunReport:
    """Run ``spec`` for ``period`` (default: the period due now) unless another worker holds it
    or the period is already done. The run is recorded (start, end, outcome, counts, error);
    a continuous job's run is recorded only when it did something or failed."""
    wanted = period if period is not None else spec.period(ctx)
    with _job_lock(ctx.engine, spec.name) as held:
        if not held:
            return RunReport(spec.name, wanted, "locked")
        factory = make_session_factory(ctx.engine)
        with factory() as session:
            if wanted is not None:
                done = session.execute(
                    select(JobRun.id).where(
                        JobRun.job == spec.name, JobRun.period == wanted, JobRun.outcome == "ok"
                    )
                ).first()
                if done is not None:
                    return RunReport(spec.name, wanted, "done-before", run_id=done[0])
        run_id: int | None = None
        if wanted is not None:
            with transaction(ctx.engine) as session:
                # Holding the lock, a row still "running" belongs to a worker that died.
                session.execute(
                    update(JobRun)
                    .where(JobRun.job == spec.name, JobRun.outcome == "running")
                    .values(outcome="interrupted", finished_at=ctx.clock.now())
                )
                row = JobRun(
                    job=spec.name,
                    period=wanted,
                    started_at=ctx.clock.now(),
                    outcome="running",
                    counts={},
                    worker=worker_name(),
                )
                session.add(row)
                session.flush()
                run_id = row.id
        started = ctx.clock.now()
        try:
            counts = spec.work(ctx, wanted)
        except Exception as error:
            message = f"{type(error).__name__}: {error}"[:2000]
            logger.error("job %s (%s) failed: %s", spec.name, wanted, message)
            logger.debug("%s", traceback.format_exc())
            _finish(ctx, spec, wanted, run_id, started, "failed", {}, message)
            return RunReport(spec.name, wanted, "failed", error=message, run_id=run_id)
        if run_id is None and not any(
            v for v in counts.values() if isinstance(v, int) and not isinstance(v, bool)
        ):
            return RunReport(spec.name, wanted, "idle", counts=counts)
        run_id = _finish(ctx, spec, wanted, run_id, started, "ok", counts, None)
        logger.info("job %s (%s) ok: %s", spec.name, wanted, counts)
        return RunReport(spec.name, wanted, "ok", counts=counts, run_id=run_id)


def _finish(
    ctx: JobContext,
    spec: JobSpec,
    period: str | None,
    run_id: int | None,
    started: Any,
    outcome: str,
    counts: dict[str, Any],
    error: str | None,
) -> int:
    with transaction(ctx.engine) as session:
        if run_id is None:
            row = JobRun(
                job=spec.name,
                period=period,
                started_at=started,
                outcome=outcome,
                counts=counts,
                error=error,
                worker=worker_name(),
                finished_at=ctx.clock.now(),
            )
            session.add(row)
            session.flush()
            return row.id
        session.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(outcome=outcome, counts=counts, error=error, finished_at=ctx.clock.now())
        )
        return run_id
