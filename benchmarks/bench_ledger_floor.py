"""The floor under the payments import (issue 4): how long the ledger's own writes take, with
nothing else around them.

    .venv/bin/python -m benchmarks.bench_ledger_floor --payments 1000000 --participants 400000

Into a freshly migrated database (the real schema: its foreign keys, unique and secondary
indexes), with ``--participants`` participants and their first membership inserted first (not
timed; minimal but valid rows), this times ONLY writing ``--payments`` payment rows and their
covered months (``--months-per-payment`` on average, as in the synthetic data) with the very
function the import writes them with (``_insert_ready``: binary ``COPY`` on PostgreSQL,
``executemany`` on SQLite), in chunks of 50,000 as the import does, one transaction. No file
is read, no row is checked, no contribution is computed, no state is read, no projection is
updated: the import cannot be faster than this. Rows are generated before the clock starts.

Results: ``benchmarks/results/<name>.{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text

from benchmarks.common import fresh_database, machine, machine_markdown, write_results
from cakupan.bootstrap import ensure_ready
from cakupan.dates import Month
from cakupan.db import is_postgres, make_engine, transaction
from cakupan.registry.actions import (
    _BULK_CACHE_KIB,
    _COVERED_COLUMNS,
    _COVERED_PG_TYPES,
    _PAYMENT_COLUMNS,
    _PAYMENT_PG_TYPES,
    _insert_ready,
    _sqlite_instant,
)

CHUNK = 50_000
FIRST_MONTH = Month(2025, 11).index


def _people(session: Any, participants: int) -> None:
    """``participants`` participants (NIK-shaped unique keys) and one membership each, set-based
    (untimed)."""
    if is_postgres(session):
        series = f"SELECT g AS i FROM generate_series(1, {participants}) AS g"
    else:
        series = (
            f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {participants})"
            " SELECT i FROM s"
        )
    occupation = session.execute(text("SELECT code FROM occupation ORDER BY code")).scalar()
    session.execute(
        text(
            "INSERT INTO participant (id, nik, name, sex, birth_date, phone, occupation,"
            " reported_income, programs, sector, funding, channel, registered_on, created_at)"
            f" SELECT i, CAST(1671010000000000 + i AS VARCHAR(16)), 'Peserta', 'M', :born,"
            " '0812', :occupation, 1000000, 'JKK+JKM', 'other', 'self', 'branch', :registered,"
            f" :created FROM ({series}) AS s"
        ),
        {
            "born": date(1990, 1, 1),
            "occupation": occupation,
            "registered": date(2025, 11, 1),
            "created": datetime(2025, 11, 1, tzinfo=UTC),
        },
    )
    session.execute(
        text(
            "INSERT INTO membership (id, participant_id, episode_no, registered_on, start_month,"
            f" channel, months_paid) SELECT i, i, 1, :registered, {FIRST_MONTH}, 'branch', 0"
            f" FROM ({series}) AS s"
        ),
        {"registered": date(2025, 11, 1)},
    )


def _rows(
    payments: int, participants: int, months_each: float, postgres: bool, seed: int
) -> tuple[list[list[tuple[object, ...]]], list[list[tuple[object, ...]]], int]:
    """The chunks of payment rows and covered-month rows, in the form the import hands to
    ``_insert_ready`` (ids given, months as indexes, dates as dates on PostgreSQL and ISO text
    on SQLite)."""
    rng = random.Random(seed)
    posted_at: object = datetime(2026, 11, 26, 3, tzinfo=UTC)
    if not postgres:
        posted_at = _sqlite_instant(posted_at)  # type: ignore[arg-type]
    next_month = [FIRST_MONTH] * (participants + 1)
    payment_chunks: list[list[tuple[object, ...]]] = []
    covered_chunks: list[list[tuple[object, ...]]] = []
    covered_total = 0
    extra = months_each - 1
    for start in range(0, payments, CHUNK):
        pay: list[tuple[object, ...]] = []
        covered: list[tuple[object, ...]] = []
        for payment_id in range(start + 1, min(start + CHUNK, payments) + 1):
            who = rng.randint(1, participants)
            months = 1 + (rng.random() < extra) + (rng.random() < extra / 4)
            first = next_month[who]
            next_month[who] = first + months
            paid = date(2025, 11, 1) + timedelta(days=rng.randrange(390))
            pay.append(
                (
                    payment_id,
                    "bank",
                    f"TRX{payment_id:09d}{rng.randrange(10**6):06d}",
                    who,
                    who,
                    16_800 * months,
                    paid if postgres else paid.isoformat(),
                    first,
                    months,
                    None,
                    None,
                    f"{rng.getrandbits(64):016x}",
                    posted_at,
                    None,
                )
            )
            for k in range(months):
                covered.append((payment_id, first + k, who, who, 16_800, False if postgres else 0))
        payment_chunks.append(pay)
        covered_chunks.append(covered)
        covered_total += len(covered)
    return payment_chunks, covered_chunks, covered_total


def bench(kind: str, payments: int, participants: int, months_each: float) -> dict[str, object]:
    db = fresh_database(kind, "floor")
    engine = make_engine(db.url)
    try:
        ensure_ready(engine)
        with transaction(engine) as session:
            _people(session, participants)
        postgres = kind == "postgresql"
        payment_chunks, covered_chunks, covered_total = _rows(
            payments, participants, months_each, postgres, seed=7
        )
        load_before = round(os.getloadavg()[0], 2)
        cpu_before = time.process_time()
        started = time.perf_counter()
        with transaction(engine) as session:
            if not postgres:  # the import's page cache for a large batch (_BULK_CACHE_KIB)
                session.connection().exec_driver_sql(f"PRAGMA cache_size={_BULK_CACHE_KIB}")
            for pay, covered in zip(payment_chunks, covered_chunks, strict=True):
                _insert_ready(session, "payment", _PAYMENT_COLUMNS, _PAYMENT_PG_TYPES, pay)
                _insert_ready(
                    session, "covered_month", _COVERED_COLUMNS, _COVERED_PG_TYPES, covered
                )
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        return {
            "payments": payments,
            "covered_months": covered_total,
            "participants": participants,
            "seconds": round(seconds, 2),
            "payments_per_second": round(payments / seconds),
            "client_cpu_seconds": round(cpu, 2),
            "load_average_1min": {"before": load_before, "after": round(os.getloadavg()[0], 2)},
        }
    finally:
        engine.dispose()
        db.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--participants", type=int, default=400_000)
    parser.add_argument("--months-per-payment", type=float, default=1.3)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--name", default="ledger-floor")
    args = parser.parse_args()
    info = machine()
    results: dict[str, object] = {"machine": info}
    for kind in args.engines.split(","):
        results[kind] = bench(kind, args.payments, args.participants, args.months_per_payment)
        print(kind, results[kind], flush=True)
    lines = [
        "# The floor under the payments import: the ledger's writes alone",
        machine_markdown(info),
        f"{args.payments:,} payments and their covered months ({args.months_per_payment} per "
        f"payment on average) written into the real schema over {args.participants:,} "
        "participants, with the import's own write function, in chunks of 50,000, one "
        "transaction; nothing read, checked or computed (see the module's docstring).",
        "",
        "| engine | payments | covered months | seconds | payments/s | client CPU s | load (1 min) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind in args.engines.split(","):
        r: dict[str, Any] = results[kind]  # type: ignore[assignment]
        lines.append(
            f"| {kind} | {r['payments']:,} | {r['covered_months']:,} | {r['seconds']} | "
            f"{r['payments_per_second']:,} | {r['client_cpu_seconds']} | "
            f"{r['load_average_1min']['before']} -> {r['load_average_1min']['after']} |"
        )
    lines += [
        "",
        "Target (issue 4): the whole import >= 100,000 rows/s. Reproduce: "
        f"`.venv/bin/python -m benchmarks.bench_ledger_floor --payments {args.payments} "
        f"--participants {args.participants}`.",
        "",
    ]
    write_results(args.name, results, "\n".join(lines))


if __name__ == "__main__":
    main()
