"""The national report's window-bounded SQL (analytics/report.py) against the report's definition
written the plain way (every payment expanded into its months, then de-duplicated), on a
SYNTHETIC snapshot from ``cakupan analytics synthetic-snapshot`` that has reversed payments paid
again, some dated before their reversal (so a month-end can count two live payments of one
episode: the case the running-sum shortcut must not take)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cakupan.analytics import national_report, open_snapshot
from cakupan.analytics.engines import _months_values
from cakupan.analytics.report import AGES, NAMES_SQL, Window, assemble
from cakupan.analytics.snapshot import SNAPSHOT_VERSION, TABLES, snapshot_version
from cakupan.analytics.synthetic import synthetic_snapshot
from cakupan.errors import CakupanError

AS_OF = date(2026, 10, 31)

#: The definitions of docs/analytics.md, written without any shortcut (the report's first form).
DEFINITION_MONTHLY = """
WITH pay AS (
    SELECT p.membership_id, p.amount, p.paid_on, p.first_month, p.months, p.reversed_on,
           pt.province_code, pt.branch_code
    FROM payments p JOIN participants pt ON pt.participant_id = p.participant_id
),
facts AS (
    SELECT mo.m, pt.province_code, pt.branch_code,
           CASE WHEN e.episode_no = 1 THEN 1 ELSE 0 END AS new_registrations,
           CASE WHEN e.episode_no > 1 THEN 1 ELSE 0 END AS reacquired_episodes,
           0 AS payments, CAST(0 AS BIGINT) AS contributions_collected, 0 AS active_participants
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
SELECT m, province_code, branch_code, SUM(new_registrations), SUM(reacquired_episodes),
       SUM(payments), SUM(contributions_collected), SUM(active_participants)
FROM facts GROUP BY m, province_code, branch_code
"""

DEFINITION_COHORT = """
WITH seen AS (
    SELECT e.membership_id, e.start_month AS cohort, pt.province_code, a.n, mo.m, mo.last_day
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
SELECT s.cohort, s.province_code, s.n, COUNT(*),
       SUM(CASE WHEN k.membership_id IS NULL THEN 0 ELSE 1 END)
FROM seen s LEFT JOIN kept k ON k.membership_id = s.membership_id AND k.n = s.n
GROUP BY s.cohort, s.province_code, s.n
"""

DEFINITION_REGENCY = """
WITH last_month AS (SELECT MAX(m) AS m FROM months),
active AS (
    SELECT DISTINCT p.participant_id
    FROM payments p CROSS JOIN last_month lm JOIN months mo ON mo.m = lm.m
    WHERE p.first_month <= mo.m AND p.first_month + p.months - 1 >= mo.m
      AND p.paid_on <= mo.last_day
      AND (p.reversed_on IS NULL OR p.reversed_on > mo.last_day)
)
SELECT pt.regency_code, pt.province_code, COUNT(*),
       SUM(CASE WHEN a.participant_id IS NULL THEN 0 ELSE 1 END)
FROM participants pt LEFT JOIN active a ON a.participant_id = pt.participant_id
GROUP BY pt.regency_code, pt.province_code
"""

DOUBLE_COUNTED = """
SELECT COUNT(*) FROM (
    SELECT mo.m, p.membership_id
    FROM payments p JOIN months mo
      ON p.first_month <= mo.m AND p.first_month + p.months - 1 >= mo.m
    WHERE p.paid_on <= mo.last_day AND (p.reversed_on IS NULL OR p.reversed_on > mo.last_day)
    GROUP BY mo.m, p.membership_id HAVING COUNT(*) > 1
) twice
"""


@pytest.fixture(scope="module")
def snapshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("national") / "snapshot"
    synthetic_snapshot(20_000, AS_OF, 7, out)
    return out


def _connect(snapshot_dir: Path, window: Window) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for table in TABLES:
        con.execute(
            f"CREATE VIEW {table.name} AS SELECT * FROM "
            f"read_parquet('{snapshot_dir / (table.name + '.parquet')}')"
        )
    con.execute(
        f"CREATE TABLE months AS SELECT * FROM (VALUES {_months_values(window)}) "
        "t(m, first_day, last_day)"
    )
    ages = ", ".join(f"({n})" for n in AGES)
    con.execute(f"CREATE TABLE ages AS SELECT * FROM (VALUES {ages}) t(n)")
    return con


def _by_definition(snapshot_dir: Path, window: Window) -> dict[str, Any]:
    con = _connect(snapshot_dir, window)
    try:
        names = {
            key: {str(code): str(name) for code, name in con.execute(sql).fetchall()}
            for key, sql in NAMES_SQL.items()
        }
        return assemble(
            window,
            con.execute(DEFINITION_MONTHLY).fetchall(),
            con.execute(DEFINITION_COHORT).fetchall(),
            con.execute(DEFINITION_REGENCY).fetchall(),
            names,
        )
    finally:
        con.close()


def test_the_synthetic_snapshot_is_valid_and_reproducible(
    snapshot_dir: Path, tmp_path: Path
) -> None:
    opened = open_snapshot(snapshot_dir)  # the manifest's hashes match the files
    assert opened.rows["participants"] == 20_000
    assert opened.rows["payments"] > 100_000
    assert opened.source == "synthetic"
    again = synthetic_snapshot(20_000, AS_OF, 7, tmp_path / "again")
    assert again.sha256 == opened.sha256
    other = synthetic_snapshot(2_000, AS_OF, 8, tmp_path / "other")
    assert other.sha256["payments"] != opened.sha256["payments"]


@pytest.mark.parametrize("months", [12, 3, 70])  # 70: longer than a bit mask holds
def test_the_report_equals_its_definition(snapshot_dir: Path, months: int) -> None:
    report = national_report(open_snapshot(snapshot_dir), months=months, as_of=AS_OF)
    window = Window.ending(AS_OF, months)
    expected = _by_definition(snapshot_dir, window)
    for key in ("national", "provinces", "branches", "cohorts", "province_cohorts", "regencies"):
        assert report[key] == expected[key], key
    assert sum(row["active_participants"] for row in report["national"]) > 10_000
    assert sum(row["reacquired_episodes"] for row in report["national"]) > 0


def test_the_snapshot_has_month_ends_with_two_live_payments_of_one_episode(
    snapshot_dir: Path,
) -> None:
    """Without these the comparison above would not exercise the de-duplicated path."""
    con = _connect(snapshot_dir, Window.ending(AS_OF, 12))
    try:
        row = con.execute(DOUBLE_COUNTED).fetchone()
    finally:
        con.close()
    assert row is not None
    assert row[0] > 0


def test_a_snapshot_of_an_older_format_is_refused_with_what_to_do(tmp_path: Path) -> None:
    out = tmp_path / "old"
    synthetic_snapshot(200, AS_OF, 1, out)
    assert snapshot_version(out) == SNAPSHOT_VERSION == 2
    manifest = out / "manifest.json"
    document = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps({**document, "version": 1}), encoding="utf-8")
    assert snapshot_version(out) == 1
    with pytest.raises(CakupanError) as refused:
        open_snapshot(out)
    assert "cakupan analytics snapshot" in str(refused.value.render())
    assert snapshot_version(tmp_path / "none") is None
