"""Benchmark of BPU realization from the ledger (issue 6): ``realization_from_ledger`` for every
metric for a branch, a region and the whole country, and the year's monthly series, on SQLite
and PostgreSQL. Results: ``benchmarks/results/targets.{json,md}``.

    .venv/bin/python -m benchmarks.bench_targets --participants 200000

The ledger rows are written directly (batched inserts of a deterministic synthetic ledger: one
first episode per participant registered over three years, 1-4 payments of 1-3 months each, a
re-acquisition for some, a few reversals), because the point is the read queries, not posting
(see ``bench_ledger``). Each figure is the median of 3 runs after one warm-up.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from benchmarks.common import fresh_database, machine, machine_markdown, write_results
from cakupan.bootstrap import ensure_ready
from cakupan.dates import Month
from cakupan.db import make_engine, make_session_factory
from cakupan.registry.models import (
    CoveredMonth,
    Membership,
    Participant,
    Payment,
    PaymentReversal,
)
from cakupan.targets import realization_from_ledger
from cakupan.targets.queries import ledger_monthly
from cakupan.targets.rules import METRICS, Period

BRANCHES = ("PLG", "BDL", "MTR", "JMB")  # PLG, BDL, MTR, JMB are all in SUMBAGSEL
MONTHLY = 16_800
NOW = datetime(2026, 11, 26, tzinfo=UTC)
CHUNK = 20_000


def _ledger_rows(n: int) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(20261126)
    rows: dict[str, list[dict[str, Any]]] = {
        "participant": [],
        "membership": [],
        "payment": [],
        "covered_month": [],
        "payment_reversal": [],
    }
    membership_id = payment_id = 0
    start = date(2024, 1, 1)
    for pid in range(1, n + 1):
        registered = start + timedelta(days=rng.randrange(0, 3 * 365))
        rows["participant"].append(
            {
                "id": pid,
                "nik": f"{pid:016d}",
                "name": f"P{pid}",
                "sex": "M",
                "birth_date": date(1990, 1, 1),
                "phone": "081234567890",
                "branch_code": BRANCHES[pid % len(BRANCHES)] if pid % 5 else "MDN",
                "occupation": "farmer",
                "reported_income": 1_000_000,
                "programs": "JKK+JKM",
                "sector": "other",
                "funding": "self",
                "channel": "branch",
                "registered_on": registered,
                "created_at": NOW,
            }
        )
        episodes = [(1, registered)]
        if rng.random() < 0.1:
            episodes.append((2, registered + timedelta(days=rng.randrange(200, 400))))
        for episode_no, day in episodes:
            membership_id += 1
            first = Month.of(day)
            rows["membership"].append(
                {
                    "id": membership_id,
                    "participant_id": pid,
                    "episode_no": episode_no,
                    "registered_on": day,
                    "start_month": first,
                    "channel": "branch",
                    "months_paid": 0,
                }
            )
            if rng.random() < 0.15:
                continue  # never paid
            month, paid_on = first, day
            for _ in range(rng.randrange(1, 5)):
                months = rng.randrange(1, 4)
                payment_id += 1
                rows["payment"].append(
                    {
                        "id": payment_id,
                        "channel": "bank",
                        "reference": f"R{payment_id}",
                        "participant_id": pid,
                        "membership_id": membership_id,
                        "amount": MONTHLY * months,
                        "paid_on": paid_on,
                        "first_month": month,
                        "months": months,
                        "fingerprint": f"f{payment_id}",
                        "posted_at": NOW,
                    }
                )
                reversed_ = rng.random() < 0.01
                for i in range(months):
                    rows["covered_month"].append(
                        {
                            "payment_id": payment_id,
                            "month": month + i,
                            "membership_id": membership_id,
                            "participant_id": pid,
                            "amount": MONTHLY,
                            "reversed": reversed_,
                        }
                    )
                if reversed_:
                    rows["payment_reversal"].append(
                        {
                            "payment_id": payment_id,
                            "reason": "bench",
                            "reversed_on": paid_on + timedelta(days=3),
                            "recorded_at": NOW,
                            "actor": "bench",
                        }
                    )
                    break
                month = month + months
                paid_on = month.first_day + timedelta(days=rng.randrange(0, 20))
    return rows


def _load(url: str, rows: dict[str, list[dict[str, Any]]]) -> float:
    engine = make_engine(url)
    ensure_ready(engine)
    started = time.perf_counter()
    tables = {
        "participant": Participant,
        "membership": Membership,
        "payment": Payment,
        "covered_month": CoveredMonth,
        "payment_reversal": PaymentReversal,
    }
    with engine.begin() as conn:
        for name, model in tables.items():
            batch = rows[name]
            for i in range(0, len(batch), CHUNK):
                conn.execute(insert(model), batch[i : i + CHUNK])
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return time.perf_counter() - started


def _median_seconds(run: Any) -> float:
    run()
    times = []
    for _ in range(3):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    out: dict[str, Any] = {}
    with make_session_factory(engine)() as session:
        for office in ("PLG", "SUMBAGSEL", "NATIONAL"):
            for metric in METRICS:
                value = realization_from_ledger(session, office, Period.whole_year(2025), metric)
                seconds = _median_seconds(
                    lambda office=office, metric=metric: realization_from_ledger(
                        session, office, Period.whole_year(2025), metric
                    )
                )
                out[f"{office} {metric}"] = {"value": value, "seconds": round(seconds, 4)}
        series_seconds = _median_seconds(
            lambda: ledger_monthly(session, "SUMBAGSEL", 2025, "contributions")
        )
        out["SUMBAGSEL contributions by month (1 query)"] = {
            "value": None,
            "seconds": round(series_seconds, 4),
        }
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=200_000)
    args = parser.parse_args()
    rows = _ledger_rows(args.participants)
    counts = {name: len(batch) for name, batch in rows.items()}
    results: dict[str, Any] = {"machine": machine(), "rows": counts, "engines": {}}
    for kind in ("sqlite", "postgresql"):
        database = fresh_database(kind, "targets")
        try:
            load = _load(database.url, rows)
            results["engines"][kind] = {
                "load_seconds": round(load, 1),
                "queries": bench(database.url),
            }
        finally:
            database.drop()
    sqlite_q, pg_q = (results["engines"][k]["queries"] for k in ("sqlite", "postgresql"))
    lines = [
        "# targets: realization from the ledger",
        "",
        f"`.venv/bin/python -m benchmarks.bench_targets --participants {args.participants}`",
        "",
        machine_markdown(results["machine"]).strip()
        + " The machine is shared with other work running at the same time: upper bounds.",
        "",
        "Ledger: " + ", ".join(f"{n:,} {name}" for name, n in counts.items()) + ".",
        "",
        "Year 2025, median of 3 runs (seconds):",
        "",
        "| query | value | SQLite | PostgreSQL |",
        "| --- | ---: | ---: | ---: |",
    ]
    for key, entry in sqlite_q.items():
        value = "" if entry["value"] is None else f"{entry['value']:,}"
        if pg_q[key]["value"] != entry["value"]:
            raise SystemExit(f"engines disagree on {key}: {entry['value']} vs {pg_q[key]['value']}")
        lines.append(f"| {key} | {value} | {entry['seconds']:.3f} | {pg_q[key]['seconds']:.3f} |")
    write_results("targets", results, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
