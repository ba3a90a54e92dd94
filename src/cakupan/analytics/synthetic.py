"""A valid national-size synthetic snapshot (SYNTHETIC data), written straight to Parquet by DuckDB.

    cakupan analytics synthetic-snapshot --participants 15000000 --out DIR --as-of 2026-10-31

A snapshot of 15,000,000 participants through the ledger (``cakupan seed`` then ``cakupan
analytics snapshot``) takes most of a day; the national report only reads the snapshot's files,
so its benchmark needs the files, not the ledger. This writes the same tables, columns and types
as :func:`cakupan.analytics.snapshot.take_snapshot`, with a manifest that
:func:`~cakupan.analytics.snapshot.open_snapshot` accepts, in a few minutes.

The behaviour is the synthetic ledger's in outline (docs/synthetic-data.md): registrations spread
over the 60 months before ``--as-of`` across every regency (each served by its branch: the
shipped offices, else the default branch of the regency), and per episode one of four profiles:
pays every month until the snapshot (30%), pays for 1-12 months then lapses (40%), pays once
(20%), never pays (10%); three payers in five pay three months at a time; one lapsed
participant in ten comes back with a second episode later; 0.2% of payments are reversed five
days after and paid again (a day after the first payment, i.e. dated before the reversal,
or a week after it). Everything is derived from DuckDB's ``hash(id, seed)``: the same arguments and DuckDB version
give the same files.
"""

from __future__ import annotations

import csv
import json
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from cakupan.analytics.snapshot import MANIFEST, TABLES, Snapshot, _sha256
from cakupan.dates import Month
from cakupan.regions.reference import AREA_DATA_DIR, DEFAULT_BRANCHES_CSV, OFFICES_CSV

#: DuckDB's memory ceiling while generating (beyond it, it spills to a temporary directory).
GENERATOR_MEMORY_LIMIT = "6GB"


def _places(con: duckdb.DuckDBPyConnection) -> None:
    """Tables ``place`` (regency -> province, branch), ``provinces``, ``regencies``, ``branches``."""
    served: dict[str, str] = {}
    branches: list[tuple[str, str, str]] = []
    for path in (OFFICES_CSV, DEFAULT_BRANCHES_CSV):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                branches.append((row["code"], row["name"], row["region_code"]))
                for regency in row["regency_codes"].split():
                    served.setdefault(regency, row["code"])
    con.execute(
        "CREATE TABLE branches (branch_code VARCHAR, branch_name VARCHAR, region_code VARCHAR)"
    )
    con.executemany("INSERT INTO branches VALUES (?, ?, ?)", branches)
    con.execute(
        "CREATE TABLE provinces AS SELECT CAST(code AS VARCHAR) AS province_code, "
        f"name AS province_name FROM read_csv('{AREA_DATA_DIR / 'provinces.csv'}', all_varchar=true)"
    )
    con.execute(
        "CREATE TABLE regencies AS SELECT code AS regency_code, province_code, name AS regency_name "
        f"FROM read_csv('{AREA_DATA_DIR / 'regencies.csv'}', all_varchar=true)"
    )
    con.execute("CREATE TABLE served (regency_code VARCHAR, branch_code VARCHAR)")
    con.executemany("INSERT INTO served VALUES (?, ?)", sorted(served.items()))
    con.execute(
        "CREATE TABLE place AS SELECT row_number() OVER (ORDER BY r.regency_code) - 1 AS k, "
        "r.regency_code, r.province_code, s.branch_code "
        "FROM regencies r JOIN served s USING (regency_code)"
    )


def synthetic_snapshot(participants: int, as_of: date, seed: int, out: Path) -> Snapshot:
    """Write the snapshot into ``out`` (created; files there are replaced) and return it."""
    out.mkdir(parents=True, exist_ok=True)
    last = Month.of(as_of).index
    scratch = tempfile.TemporaryDirectory(prefix="cakupan-synthetic-")
    con = duckdb.connect(
        config={
            "memory_limit": GENERATOR_MEMORY_LIMIT,
            "temp_directory": scratch.name,
            "preserve_insertion_order": False,
        }
    )
    _places(con)
    places = con.execute("SELECT count(*) FROM place").fetchone()
    assert places is not None
    con.execute(
        f"""
        CREATE TABLE p AS
        SELECT i + 1 AS participant_id,
               hash(i, {seed}) AS h,
               {last} - 59 + CAST(hash(i, {seed}, 1) % 60 AS INTEGER) AS reg_month
        FROM range({participants}) t(i)
        """
    )
    month_start = "make_date(CAST(({m}) // 12 AS INTEGER), CAST(({m}) % 12 + 1 AS INTEGER), 1)"
    participants_sql = f"""
        SELECT p.participant_id,
               CASE WHEN p.h % 2 = 0 THEN 'L' ELSE 'P' END AS sex,
               CAST(1960 + p.h % 45 AS INTEGER) AS birth_year,
               ['pedagang', 'petani', 'nelayan', 'online_driver', 'buruh_harian', 'umkm_owner']
                   [CAST(p.h % 6 AS INTEGER) + 1] AS occupation,
               CASE WHEN p.h % 5 = 0 THEN 'JKK+JKM+JHT' ELSE 'JKK+JKM' END AS programs,
               CASE WHEN p.h % 3 = 0 THEN 'partner' ELSE 'branch' END AS channel,
               CAST(NULL AS VARCHAR) AS partner_code,
               CAST(NULL AS VARCHAR) AS agent_code,
               pl.branch_code, pl.regency_code, pl.province_code,
               {month_start.format(m="p.reg_month")}
                   + CAST(hash(p.participant_id, {seed}, 2) % 28 AS INTEGER) AS registered_on
        FROM p JOIN place pl ON pl.k = p.h % {places[0]}
    """
    # Episodes: the first at registration; a lapsed participant in ten comes back later.
    con.execute(
        f"""
        CREATE TABLE ep AS
        WITH first AS (
            SELECT participant_id, h, reg_month AS start_month, 1 AS episode_no,
                   CAST(hash(participant_id, {seed}, 3) % 100 AS INTEGER) AS profile
            FROM p
        )
        SELECT * FROM first
        UNION ALL
        SELECT participant_id, h, start_month + 14 + CAST(h % 6 AS INTEGER), 2, 10
        FROM first
        WHERE profile BETWEEN 30 AND 69 AND h % 10 = 3
          AND start_month + 14 + CAST(h % 6 AS INTEGER) <= {last}
        """
    )
    con.execute(
        "CREATE TABLE e AS SELECT row_number() OVER (ORDER BY participant_id, episode_no) "
        "AS membership_id, * FROM ep"
    )
    episodes_sql = f"""
        SELECT e.membership_id, e.participant_id, e.episode_no, e.start_month,
               CASE WHEN e.h % 3 = 0 THEN 'partner' ELSE 'branch' END AS channel,
               CAST(NULL AS VARCHAR) AS partner_code, CAST(NULL AS VARCHAR) AS agent_code,
               pl.province_code, pl.branch_code
        FROM e JOIN place pl ON pl.k = e.h % {places[0]}
    """
    # Months paid per episode by profile, then payments of 1 or 3 months each.
    payments_sql = f"""
        WITH plan AS (
            SELECT membership_id, participant_id, h, start_month, profile, province_code,
                   branch_code,
                   CASE WHEN h % 5 < 3 THEN 3 ELSE 1 END AS per_payment,
                   CASE
                       WHEN profile < 30 THEN {last} - start_month + 1
                       WHEN profile < 70 THEN LEAST(1 + CAST(h % 12 AS INTEGER),
                                                    {last} - start_month + 1)
                       WHEN profile < 90 THEN 1
                       ELSE 0
                   END AS months_paid,
                   CASE WHEN h % 5 = 0 THEN 36800 ELSE 16800 END AS monthly
            FROM e JOIN place pl ON pl.k = e.h % {places[0]}
        ),
        pay AS (
            SELECT plan.membership_id, plan.participant_id, plan.monthly,
                   plan.province_code, plan.branch_code,
                   plan.start_month + j * plan.per_payment AS first_month,
                   LEAST(plan.per_payment,
                         plan.months_paid - j * plan.per_payment) AS months,
                   hash(plan.membership_id, j, {seed}) AS ph
            FROM plan,
                 range(CAST(ceil(plan.months_paid / plan.per_payment) AS BIGINT)) t(j)
            WHERE plan.months_paid > 0
        ),
        dated AS (
            SELECT *,
                   {month_start.format(m="first_month")}
                       + CAST(ph % 28 AS INTEGER)
                       + CASE WHEN ph % 10 = 0 THEN 31 ELSE 0 END AS paid_on
            FROM pay
        ),
        posted AS (
            SELECT participant_id, membership_id, monthly, months, first_month, paid_on,
                   CASE WHEN ph % 500 = 7 THEN paid_on + 5 END AS reversed_on, 0 AS again,
                   province_code, branch_code
            FROM dated
            UNION ALL
            -- a reversed payment paid again: after the reversal, or (a settlement dated back)
            -- four days before it, when both count for a month-end in between
            SELECT participant_id, membership_id, monthly, months, first_month,
                   paid_on + CASE WHEN (ph // 500) % 2 = 0 THEN 1 ELSE 7 END, NULL, 1,
                   province_code, branch_code
            FROM dated WHERE ph % 500 = 7
        )
        SELECT row_number() OVER (ORDER BY membership_id, first_month, again) AS payment_id,
               participant_id, membership_id, CAST(monthly * months AS BIGINT) AS amount,
               paid_on, CAST(first_month AS INTEGER) AS first_month,
               CAST(months AS INTEGER) AS months,
               CASE WHEN reversed_on <= DATE '{as_of.isoformat()}' THEN reversed_on END
                   AS reversed_on,
               year(paid_on) * 12 + month(paid_on) - 1 AS paid_month,
               CASE WHEN reversed_on <= DATE '{as_of.isoformat()}'
                    THEN year(reversed_on) * 12 + month(reversed_on) - 1 END AS reversed_month,
               province_code, branch_code
        FROM posted
        WHERE paid_on <= DATE '{as_of.isoformat()}'
    """
    queries = {
        "participants": participants_sql,
        "episodes": episodes_sql,
        "payments": payments_sql,
        "provinces": "SELECT province_code, province_name FROM provinces",
        "regencies": "SELECT regency_code, province_code, regency_name FROM regencies",
        "branches": "SELECT branch_code, branch_name, region_code FROM branches",
    }
    rows: dict[str, int] = {}
    hashes: dict[str, str] = {}
    for table in TABLES:
        typed = ", ".join(f"CAST({name} AS {kind}) AS {name}" for name, kind in table.columns)
        target = out / f"{table.name}.parquet"
        con.execute(
            f"COPY (SELECT {typed} FROM ({queries[table.name]})) TO '{target}' "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
        count = con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()
        rows[table.name] = int(count[0]) if count else 0
        hashes[table.name] = _sha256(target)
    con.close()
    scratch.cleanup()
    taken_at = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC).isoformat()
    snapshot = Snapshot(out, as_of, taken_at, "synthetic", rows, hashes)
    (out / MANIFEST).write_text(
        json.dumps(snapshot.as_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return snapshot
