"""Tables of the scheduled jobs: one row per run of a job (issue 16)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cakupan.db import AwareDateTime, Base, BigIntPK


class JobRun(Base):
    """One run of a scheduled job: what it ran for (``period``: the month, day or hour it
    covers, or null for the continuous delivery jobs), when, how it ended, what it counted.
    A job whose period already has an ``ok`` run is not run again for it."""

    __tablename__ = "job_run"
    __table_args__ = (Index("ix_job_run_job_period", "job", "period"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    period: Mapped[str | None] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(AwareDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    #: running, ok, failed, interrupted (a worker died while it ran)
    outcome: Mapped[str] = mapped_column(String(12))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(String(2000))
    worker: Mapped[str] = mapped_column(String(120))
