"""Benchmark of the contribution calculator's fast path. Results: benchmarks/results/contributions.md.

Run: ``.venv/bin/python -m benchmarks.bench_contributions``. Measures, on the shipped policies,

1. ``PolicyBook.monthly_total`` over 1,000,000 random (income, programs, month, sector, funding)
   calls spread over 36 contribution months (the ledger's hot path), from a cold book;
2. ``PolicyBook.quote`` (lines and policies) over 300,000 of the same calls;
3. ``load_policy_book`` from a migrated SQLite database (time and number of SQL statements).
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from benchmarks.common import machine, machine_markdown, write_results
from cakupan.bootstrap import ensure_ready
from cakupan.contributions import load_policy_book, shipped_policy_book
from cakupan.dates import Month
from cakupan.db import make_engine, make_session_factory

CALLS = 1_000_000
QUOTES = 300_000


def _calls(count: int) -> list[tuple[int, str, Month, str, str]]:
    rng = random.Random(20261126)
    months = [Month(2025, 1) + i for i in range(36)]
    return [
        (
            rng.randrange(0, 25_000_000),
            rng.choice(("JKK+JKM", "JKK+JKM+JHT")),
            rng.choice(months),
            rng.choice(("transport", "other")),
            rng.choice(("self", "self", "self", "apbn", "apbd")),
        )
        for _ in range(count)
    ]


def bench_fast_path() -> dict[str, Any]:
    calls = _calls(CALLS)
    book = shipped_policy_book()
    started = time.perf_counter()
    total = 0
    for income, programs, month, sector, funding in calls:
        total += book.monthly_total(
            income=income, programs=programs, month=month, sector=sector, funding=funding
        )
    totals_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for income, programs, month, sector, funding in calls[:QUOTES]:
        book.quote(income=income, programs=programs, month=month, sector=sector, funding=funding)
    quote_seconds = time.perf_counter() - started
    return {
        "monthly_total_calls": CALLS,
        "monthly_total_seconds": round(totals_seconds, 3),
        "monthly_total_per_second": round(CALLS / totals_seconds),
        "quote_calls": QUOTES,
        "quote_seconds": round(quote_seconds, 3),
        "quote_per_second": round(QUOTES / quote_seconds),
        "sum_of_totals": total,
    }


def bench_load() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        ensure_ready(engine)
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        with make_session_factory(engine)() as session:
            started = time.perf_counter()
            load_policy_book(session)
            seconds = time.perf_counter() - started
        engine.dispose()
    return {
        "load_policy_book_seconds": round(seconds, 4),
        "load_policy_book_statements": len(statements),
    }


def main() -> None:
    info = machine()
    fast = bench_fast_path()
    load = bench_load()
    payload = {"machine": info, **fast, **load}
    markdown = (
        "# contributions benchmark\n\n"
        "`.venv/bin/python -m benchmarks.bench_contributions`\n\n"
        + machine_markdown(info)
        + "The machine is shared with other work running at the same time: figures are lower bounds.\n\n"
        "| what | result |\n| --- | --- |\n"
        f"| `monthly_total`, {CALLS:,} random calls over 36 months, cold book | "
        f"{fast['monthly_total_seconds']} s ({fast['monthly_total_per_second']:,}/s) |\n"
        f"| `quote` (lines and policies), {QUOTES:,} calls | "
        f"{fast['quote_seconds']} s ({fast['quote_per_second']:,}/s) |\n"
        f"| `load_policy_book` from SQLite | {load['load_policy_book_seconds']} s, "
        f"{load['load_policy_book_statements']} SQL statements |\n"
    )
    write_results("contributions", payload, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
