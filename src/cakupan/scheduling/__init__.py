"""Scheduled jobs and the worker that runs them (issue 16; docs/operations.md)."""

from cakupan.scheduling.monthly import (
    close_month_with_events,
    reclose_after_import,
    reclose_late_months,
)
from cakupan.scheduling.runner import JobContext, RunReport, run_job

__all__ = [
    "JobContext",
    "RunReport",
    "close_month_with_events",
    "reclose_after_import",
    "reclose_late_months",
    "run_job",
]
