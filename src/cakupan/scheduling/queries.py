"""Read side of the job record (the admin page and ``cakupan jobs list``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cakupan.scheduling.jobs import JOBS
from cakupan.scheduling.models import JobRun

__all__ = ["job_overview", "recent_runs", "run_as_json"]


def run_as_json(run: JobRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "job": run.job,
        "period": run.period,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "outcome": run.outcome,
        "counts": run.counts,
        "error": run.error,
        "worker": run.worker,
    }


def recent_runs(session: Session, limit: int = 50, job: str | None = None) -> list[JobRun]:
    """The latest runs, newest first."""
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job is not None:
        query = query.where(JobRun.job == job)
    return list(session.scalars(query))


def job_overview(session: Session) -> list[dict[str, Any]]:
    """Every job with its schedule and its last recorded run."""
    overview = []
    for spec in JOBS:
        last = session.scalars(
            select(JobRun)
            .where(JobRun.job == spec.name)
            .order_by(JobRun.started_at.desc(), JobRun.id.desc())
            .limit(1)
        ).first()
        schedule = (
            "cron " + " ".join(f"{k}={v}" for k, v in spec.cron.items())
            if spec.cron
            else f"every {spec.interval_seconds} s"
        )
        overview.append(
            {
                "name": spec.name,
                "description": spec.description,
                "schedule": schedule + " (Asia/Jakarta)",
                "last_run": run_as_json(last) if last is not None else None,
            }
        )
    return overview
