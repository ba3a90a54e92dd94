"""Targets vs realization (with conflict-flagged historical figures) and the weekly performance
cycle: plan, execute, assess, review, improve (issue 6, domain.md section 7).

Other areas may use :func:`realization_from_ledger` and :func:`report` (read side)."""

from cakupan.targets.queries import ReportRow, realization_from_ledger, report

__all__ = ["ReportRow", "realization_from_ledger", "report"]
