"""The shared KPI dashboard (issue 7): pre-aggregates written at the monthly close, scoped KPI
reads, partner league table, early warnings, drill-down and the arrears worklist.

What other areas may use: :func:`refresh_kpis_in_close` (the close calls it) and the read side
in :mod:`cakupan.dashboard.queries`. See ``docs/dashboard.md``.
"""

from cakupan.dashboard.actions import record_contact, refresh_kpis, refresh_kpis_in_close

__all__ = ["record_contact", "refresh_kpis", "refresh_kpis_in_close"]
