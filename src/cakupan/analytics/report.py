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

#: The longest window whose months fit one BIGINT bit mask (bits 0..61).
MASK_MONTHS = 62

#: The payments that can count in the window (the months table), each with its participant's
#: area and, in month indexes: ``paid_m`` (month paid), ``reversed_m``, ``counts_paid`` (1 when it
#: counts as a payment of month ``paid_m``: paid inside the window and not reversed by the end of
#: that month) and ``lo``..``hi``, the window months it covers as of each month's end (covered,
#: paid by then, not reversed by then; empty when ``hi < lo``). Every figure reads this instead of
#: the whole history, so the report's cost follows the window's payments, not every payment ever
#: made; nothing is joined to it (the snapshot's payment rows carry their participant's
#: province and branch and their month indexes). ``covered_mask`` has bit k set when the
#: payment covers window month k (windows of up to :data:`MASK_MONTHS` months). DuckDB
#: materialises it; Spark keeps it a view.
WINDOW_PAYMENTS_SQL = f"""
WITH b AS (SELECT MIN(m) AS first_m, MAX(m) AS last_m FROM months)
SELECT y.*,
       CASE WHEN y.hi >= y.lo
            THEN CAST(POWER(2, LEAST(y.hi - y.first_m + 1, {MASK_MONTHS})) AS BIGINT)
                 - CAST(POWER(2, LEAST(y.lo - y.first_m, {MASK_MONTHS})) AS BIGINT)
            ELSE CAST(0 AS BIGINT) END AS covered_mask
FROM (
    SELECT p.participant_id, p.membership_id, p.amount, p.paid_month AS paid_m,
           p.reversed_month AS reversed_m, b.first_m,
           CASE WHEN p.paid_month >= b.first_m
                     AND (p.reversed_month IS NULL OR p.reversed_month > p.paid_month)
                THEN 1 ELSE 0 END AS counts_paid,
           GREATEST(p.first_month, p.paid_month, b.first_m) AS lo,
           LEAST(p.first_month + p.months - 1, COALESCE(p.reversed_month - 1, b.last_m),
                 b.last_m) AS hi,
           p.province_code, p.branch_code
    FROM payments p CROSS JOIN b
    WHERE p.paid_month <= b.last_m
      AND (p.reversed_month IS NULL OR p.reversed_month >= b.first_m)
      AND (p.paid_month >= b.first_m OR p.first_month + p.months - 1 >= b.first_m)
) y
"""

#: Stages run before the queries, in order: (name, SQL). Each becomes a table or view.
STAGES: tuple[tuple[str, str], ...] = (("window_payments", WINDOW_PAYMENTS_SQL),)

_MONTHLY_SQL = """
WITH {active_ctes},
facts AS (
    SELECT e.start_month AS m, e.province_code, e.branch_code,
           CASE WHEN e.episode_no = 1 THEN 1 ELSE 0 END AS new_registrations,
           CASE WHEN e.episode_no > 1 THEN 1 ELSE 0 END AS reacquired_episodes,
           0 AS payments, CAST(0 AS BIGINT) AS contributions_collected,
           0 AS active_participants
    FROM episodes e
    JOIN months mo ON mo.m = e.start_month
    UNION ALL
    SELECT paid_m, province_code, branch_code, 0, 0, 1, amount, 0
    FROM window_payments WHERE counts_paid = 1
    UNION ALL
    SELECT m, province_code, branch_code, 0, 0, 0, 0, active_participants FROM active
)
SELECT m, province_code, branch_code,
       SUM(new_registrations), SUM(reacquired_episodes), SUM(payments),
       SUM(contributions_collected), SUM(active_participants)
FROM facts
GROUP BY m, province_code, branch_code
"""

#: Active episodes by month from bit masks: one mask per episode (the OR of its payments' masks:
#: a month covered twice, e.g. by a payment reversed later and its replacement, is one bit), then
#: one row per area and distinct mask, tested against each month's bit. No payment is expanded
#: into its months and no (month, episode) pair is de-duplicated.
_ACTIVE_BY_MASK = """
b AS (SELECT MIN(m) AS first_m FROM months),
episode_masks AS (
    SELECT province_code, branch_code, BIT_OR(covered_mask) AS mask
    FROM window_payments
    WHERE covered_mask <> 0
    GROUP BY membership_id, province_code, branch_code
),
mask_counts AS (
    SELECT province_code, branch_code, mask, COUNT(*) AS episodes
    FROM episode_masks
    GROUP BY province_code, branch_code, mask
),
active AS (
    SELECT mo.m, c.province_code, c.branch_code, SUM(c.episodes) AS active_participants
    FROM mask_counts c
    CROSS JOIN b
    JOIN months mo ON (c.mask & CAST(POWER(2, mo.m - b.first_m) AS BIGINT)) <> 0
    GROUP BY mo.m, c.province_code, c.branch_code
)"""

#: The same for windows longer than :data:`MASK_MONTHS`: each payment's months expanded, then
#: de-duplicated per episode.
_ACTIVE_EXPANDED = """
active AS (
    SELECT m, province_code, branch_code, COUNT(*) AS active_participants
    FROM (
        SELECT DISTINCT mo.m, w.province_code, w.branch_code, w.membership_id
        FROM window_payments w JOIN months mo ON mo.m BETWEEN w.lo AND w.hi
    ) covered
    GROUP BY m, province_code, branch_code
)"""

#: One row per month x province x branch.
MONTHLY_SQL = _MONTHLY_SQL.format(active_ctes=_ACTIVE_BY_MASK.strip())
MONTHLY_SQL_LONG = _MONTHLY_SQL.format(active_ctes=_ACTIVE_EXPANDED.strip())


def monthly_sql(window: Window) -> str:
    """The monthly query for ``window`` (bit masks up to :data:`MASK_MONTHS` months)."""
    return MONTHLY_SQL if len(window.months()) <= MASK_MONTHS else MONTHLY_SQL_LONG


#: One row per cohort month x province x age: episodes seen (base) and still covered (retained).
COHORT_SQL = """
WITH seen AS (
    SELECT e.membership_id, e.province_code, e.start_month AS cohort, a.n, mo.m
    FROM episodes e
    JOIN months first_mo ON first_mo.m = e.start_month
    CROSS JOIN ages a
    JOIN months mo ON mo.m = e.start_month + a.n
),
kept AS (
    SELECT DISTINCT s.membership_id, s.n
    FROM seen s JOIN window_payments w ON w.membership_id = s.membership_id
    WHERE s.m BETWEEN w.lo AND w.hi
)
SELECT s.cohort, s.province_code, s.n, COUNT(*) AS base,
       SUM(CASE WHEN k.membership_id IS NULL THEN 0 ELSE 1 END) AS retained
FROM seen s
LEFT JOIN kept k ON k.membership_id = s.membership_id AND k.n = s.n
GROUP BY s.cohort, s.province_code, s.n
"""

#: One row per regency: participants registered by the snapshot date, active in the last month.
REGENCY_SQL = """
WITH last_month AS (SELECT MAX(m) AS m FROM months),
active AS (
    SELECT DISTINCT w.participant_id
    FROM window_payments w CROSS JOIN last_month lm
    WHERE lm.m BETWEEN w.lo AND w.hi
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
