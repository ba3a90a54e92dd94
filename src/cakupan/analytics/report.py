"""The national report: one set of SQL texts run unchanged on DuckDB or Spark over a snapshot.

Definitions are the dashboard's (docs/dashboard.md), computed here from the snapshot's payments
rather than from the close, for the complete months of a window ending at the snapshot date:

- ``active_participants`` of month m: episodes with month m covered by a payment made by the end
  of m and not reversed by then (the check ``cakupan kpi verify`` uses);
- ``contributions_collected`` / ``payments``: payments made in m, not reversed by the end of m;
- ``new_registrations``: first episodes starting in m; ``reacquired_episodes``: later episodes
  starting in m (a closed participant paying again, D-4);
- cohort retention at n months: of the episodes starting in month c, those with month c + n
  covered as of the end of c + n, for every c + n inside the window.

Participants are counted at their current branch and regency (the snapshot's values).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from cakupan.dates import Month, month_range
from cakupan.money import ratio_percent

AGES = (1, 3, 6, 12)
MONTH_FIGURES = (
    "new_registrations",
    "reacquired_episodes",
    "payments",
    "contributions_collected",
    "active_participants",
)

#: One row per month x province x branch. Tables: participants, episodes, payments, months.
MONTHLY_SQL = """
WITH pay AS (
    SELECT p.membership_id, p.amount, p.paid_on, p.first_month, p.months, p.reversed_on,
           pt.province_code, pt.branch_code
    FROM payments p JOIN participants pt ON pt.participant_id = p.participant_id
),
facts AS (
    SELECT mo.m, pt.province_code, pt.branch_code,
           CASE WHEN e.episode_no = 1 THEN 1 ELSE 0 END AS new_registrations,
           CASE WHEN e.episode_no > 1 THEN 1 ELSE 0 END AS reacquired_episodes,
           0 AS payments, CAST(0 AS BIGINT) AS contributions_collected,
           0 AS active_participants
    FROM episodes e
    JOIN participants pt ON pt.participant_id = e.participant_id
    JOIN months mo ON mo.m = e.start_month
    UNION ALL
    SELECT mo.m, pay.province_code, pay.branch_code, 0, 0, 1, pay.amount, 0
    FROM pay JOIN months mo ON pay.paid_on BETWEEN mo.first_day AND mo.last_day
    WHERE pay.reversed_on IS NULL OR pay.reversed_on > mo.last_day
    UNION ALL
    SELECT covered.m, covered.province_code, covered.branch_code, 0, 0, 0, 0, 1
    FROM (
        SELECT DISTINCT mo.m, pay.province_code, pay.branch_code, pay.membership_id
        FROM pay JOIN months mo
          ON pay.first_month <= mo.m AND pay.first_month + pay.months - 1 >= mo.m
        WHERE pay.paid_on <= mo.last_day
          AND (pay.reversed_on IS NULL OR pay.reversed_on > mo.last_day)
    ) covered
)
SELECT m, province_code, branch_code,
       SUM(new_registrations), SUM(reacquired_episodes), SUM(payments),
       SUM(contributions_collected), SUM(active_participants)
FROM facts
GROUP BY m, province_code, branch_code
"""

#: One row per cohort month x province x age: episodes seen (base) and still covered (retained).
COHORT_SQL = """
WITH seen AS (
    SELECT e.membership_id, e.start_month AS cohort, pt.province_code, a.n,
           mo.m, mo.last_day
    FROM episodes e
    JOIN participants pt ON pt.participant_id = e.participant_id
    JOIN months first_mo ON first_mo.m = e.start_month
    CROSS JOIN ages a
    JOIN months mo ON mo.m = e.start_month + a.n
),
kept AS (
    SELECT DISTINCT s.membership_id, s.n
    FROM seen s JOIN payments p ON p.membership_id = s.membership_id
    WHERE p.first_month <= s.m AND p.first_month + p.months - 1 >= s.m
      AND p.paid_on <= s.last_day
      AND (p.reversed_on IS NULL OR p.reversed_on > s.last_day)
)
SELECT s.cohort, s.province_code, s.n, COUNT(*) AS base,
       SUM(CASE WHEN k.membership_id IS NULL THEN 0 ELSE 1 END) AS retained
FROM seen s LEFT JOIN kept k ON k.membership_id = s.membership_id AND k.n = s.n
GROUP BY s.cohort, s.province_code, s.n
"""

#: One row per regency: participants registered by the snapshot date, active in the last month.
REGENCY_SQL = """
WITH last_month AS (SELECT MAX(m) AS m FROM months),
active AS (
    SELECT DISTINCT p.participant_id
    FROM payments p CROSS JOIN last_month lm JOIN months mo ON mo.m = lm.m
    WHERE p.first_month <= mo.m AND p.first_month + p.months - 1 >= mo.m
      AND p.paid_on <= mo.last_day
      AND (p.reversed_on IS NULL OR p.reversed_on > mo.last_day)
)
SELECT pt.regency_code, pt.province_code, COUNT(*) AS registered,
       SUM(CASE WHEN a.participant_id IS NULL THEN 0 ELSE 1 END) AS active
FROM participants pt LEFT JOIN active a ON a.participant_id = pt.participant_id
GROUP BY pt.regency_code, pt.province_code
"""

NAMES_SQL = {
    "provinces": "SELECT province_code, province_name FROM provinces",
    "regencies": "SELECT regency_code, regency_name FROM regencies",
    "branches": "SELECT branch_code, branch_name FROM branches",
}


@dataclass(frozen=True)
class Window:
    """The complete months a report covers."""

    first: Month
    last: Month

    @classmethod
    def ending(cls, as_of: date, months: int) -> Window:
        """The ``months`` complete months ending at or before ``as_of``."""
        current = Month.of(as_of)
        last = current if as_of == current.last_day else current + -1
        return cls(last + -(months - 1), last)

    def months(self) -> list[Month]:
        return month_range(self.first, self.last)

    def rows(self) -> list[tuple[int, date, date]]:
        """The ``months`` table: (m, first_day, last_day)."""
        return [(m.index, m.first_day, m.last_day) for m in self.months()]


def _blank() -> dict[str, int]:
    return dict.fromkeys(MONTH_FIGURES, 0)


def assemble(
    window: Window,
    monthly: Iterable[Sequence[Any]],
    cohorts: Iterable[Sequence[Any]],
    regencies: Iterable[Sequence[Any]],
    names: dict[str, dict[str, str]],
) -> dict[str, Any]:
    """Turn the engines' rows into the report document (sorted, plain ints, named areas)."""
    national: dict[int, dict[str, int]] = {m.index: _blank() for m in window.months()}
    provinces: dict[tuple[str, int], dict[str, int]] = defaultdict(_blank)
    branches: dict[tuple[str, int], dict[str, int]] = defaultdict(_blank)
    for m, province, branch, *figures in monthly:
        values = dict(zip(MONTH_FIGURES, (int(v or 0) for v in figures), strict=True))
        for target in (
            national[int(m)],
            provinces[(province or "", int(m))],
            branches[(branch or "", int(m))],
        ):
            for key, value in values.items():
                target[key] += value

    cohort_totals: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    cohort_rows = []
    for cohort, province, n, base, retained in cohorts:
        cohort_totals[(int(cohort), int(n))][0] += int(base)
        cohort_totals[(int(cohort), int(n))][1] += int(retained)
        cohort_rows.append((int(cohort), province or "", int(n), int(base), int(retained)))

    province_names = names["provinces"]
    return {
        "first_month": str(window.first),
        "last_month": str(window.last),
        "national": [{"month": str(Month.from_index(m)), **national[m]} for m in sorted(national)],
        "provinces": [
            {
                "province_code": code,
                "province": province_names.get(code, ""),
                "month": str(Month.from_index(m)),
                **figures,
            }
            for (code, m), figures in sorted(provinces.items())
        ],
        "branches": [
            {
                "branch_code": code,
                "branch": names["branches"].get(code, ""),
                "month": str(Month.from_index(m)),
                **figures,
            }
            for (code, m), figures in sorted(branches.items())
        ],
        "cohorts": [
            {
                "cohort": str(Month.from_index(cohort)),
                "n": n,
                "base": base,
                "retained": retained,
                "percent": ratio_percent(retained, base),
            }
            for (cohort, n), (base, retained) in sorted(cohort_totals.items())
        ],
        "province_cohorts": [
            {
                "cohort": str(Month.from_index(cohort)),
                "province_code": province,
                "n": n,
                "base": base,
                "retained": retained,
                "percent": ratio_percent(retained, base),
            }
            for cohort, province, n, base, retained in sorted(cohort_rows)
        ],
        "regencies": [
            {
                "regency_code": code or "",
                "regency": names["regencies"].get(code or "", ""),
                "province_code": province or "",
                "province": province_names.get(province or "", ""),
                "registered": int(registered),
                "active": int(active),
                "active_percent": ratio_percent(int(active), int(registered)),
            }
            for code, province, registered, active in sorted(
                regencies, key=lambda row: (row[0] or "", row[1] or "")
            )
        ],
    }
