"""Single-payment posting and status lookup benchmark (issue 4): posting one payment through the
action (its own transaction, audit included) >= 1,000/s on PostgreSQL; ``status_of`` p95 <= 5 ms.

    .venv/bin/python -m benchmarks.bench_posting --participants 20000 --payments 5000 --workers 4

With ``--workers N`` (N > 1) the postings are also made by N threads at once, each with its own
connection and one transaction per posting, as concurrent API requests would be; the
sequential run is always made too (half of the payments each when N > 1).

The database is seeded with synthetic data (``cakupan.synthetic.seed``); then fresh registrations
(one per posting) are made in bulk and each gets its first month paid by one ``post_payment`` call
in its own transaction, as a branch counter or a partner call would. Results go to
``benchmarks/results/posting.{json,md}``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import threading
import time
from datetime import date, datetime
from datetime import time as dtime

from sqlalchemy import Engine, select

from benchmarks.common import fresh_database, machine, machine_markdown, write_results
from cakupan.auth import Actor
from cakupan.bootstrap import ensure_ready
from cakupan.contributions import PolicyBook, load_policy_book
from cakupan.dates import JAKARTA, FixedClock, Month
from cakupan.db import make_engine, make_session_factory, transaction
from cakupan.registry.actions import post_payment, register_participants
from cakupan.registry.inputs import RegistrationRow
from cakupan.registry.models import Participant
from cakupan.registry.queries import status_of
from cakupan.synthetic.generator import Generator, NamePool, build_network
from cakupan.synthetic.seed import load_places, seed

AS_OF = date(2026, 10, 31)
POST_DAY = date(2026, 11, 3)


def _post_in_process(
    url: str, items: list[tuple[int, str, int]], start_at: float
) -> tuple[list[float], float]:
    """A worker process: its own engine and connection, one transaction per posting. Returns
    the latencies and the instant (perf_counter) its last posting ended."""
    engine = make_engine(url)
    clock = FixedClock(datetime.combine(POST_DAY, dtime(10), JAKARTA))
    actor = Actor.system("benchmark")
    with make_session_factory(engine)() as session:
        book = load_policy_book(session)
    with transaction(engine):  # connect before the start, as a server's pool would be
        pass
    while time.perf_counter() < start_at:
        time.sleep(0.001)
    latencies: list[float] = []
    _post_each(engine, actor, clock, book, items, latencies)
    engine.dispose()
    return latencies, time.perf_counter()


def _post_each(
    engine: Engine,
    actor: Actor,
    clock: FixedClock,
    book: PolicyBook,
    items: list[tuple[int, str, int]],
    latencies: list[float],
) -> None:
    """Pay each (number, NIK, amount) with ``post_payment`` in its own transaction, appending
    each posting's latency (seconds) to ``latencies``."""
    for n, nik, amount in items:
        t0 = time.perf_counter()
        with transaction(engine) as session:
            post_payment(
                session,
                actor,
                nik=nik,
                amount=amount,
                paid_on=POST_DAY,
                reference=f"BENCH-{n:07d}",
                channel="bank",
                clock=clock,
                book=book,
            )
        latencies.append(time.perf_counter() - t0)


def _concurrent_summary(
    workers: int, mode: str, postings: int, seconds: float, latencies: list[float]
) -> dict[str, object]:
    assert len(latencies) == postings, "a worker failed"
    return {
        "workers": workers,
        "mode": mode,
        "postings": postings,
        "postings_per_second": round(postings / seconds),
        "posting_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "posting_p95_ms": round(statistics.quantiles(latencies, n=100)[94] * 1000, 2),
    }


def bench(
    kind: str, participants: int, payments: int, workers: int = 1, processes: bool = False
) -> dict[str, object]:
    db = fresh_database(kind, "posting")
    engine = make_engine(db.url)
    try:
        ensure_ready(engine)
        clock = FixedClock(datetime.combine(POST_DAY, dtime(10), JAKARTA))
        actor = Actor.system("benchmark")
        seed(
            engine, participants=participants, seed_value=11, as_of=AS_OF, clock=clock, close=False
        )
        factory = make_session_factory(engine)
        with factory() as session:
            places, branches = load_places(session)
            book = load_policy_book(session)
        # Fresh registrations on POST_DAY: each will get its first month paid by one call.
        generator = Generator(
            seed=99,
            places=places,
            network=build_network(branches, POST_DAY, POST_DAY),
            names=NamePool.from_faker(99),
            monthly_amount=lambda i, p, m, s, f: book.monthly_total(
                income=i, programs=p, month=m, sector=s, funding=f
            ),
            start=POST_DAY,
            as_of=POST_DAY,
        )
        rows = []
        for n in range(payments):
            row = generator.participant().row
            rows.append(RegistrationRow(row=n + 1, **row))
        with transaction(engine) as session:
            result = register_participants(session, actor, rows, clock=clock, book=book)
            assert result.rejected == 0, result.errors[:3]
        month = Month.of(POST_DAY)
        todo = [
            (
                r.nik,
                book.monthly_total(
                    income=int(r.reported_income),
                    programs=r.programs,
                    month=month,
                    sector=r.sector or "other",
                    funding=r.funding or "self",
                ),
            )
            for r in rows
        ]

        def post_all(items: list[tuple[int, str, int]], latencies: list[float]) -> None:
            _post_each(engine, actor, clock, book, items, latencies)

        numbered = [(n, nik, amount) for n, (nik, amount) in enumerate(todo)]
        sequential_part = numbered if workers <= 1 else numbered[: len(numbered) // 2]
        concurrent_part = [] if workers <= 1 else numbered[len(numbered) // 2 :]
        latencies: list[float] = []
        started = time.perf_counter()
        post_all(sequential_part, latencies)
        posting_seconds = time.perf_counter() - started
        concurrent: dict[str, object] = {}
        if concurrent_part and processes:
            # N processes (fork): no GIL shared between the workers, as N API server workers.
            engine.dispose()
            start_at = time.perf_counter() + 3.0  # every worker connected and ready by then
            context = multiprocessing.get_context("fork")
            with context.Pool(workers) as pool:
                answers = pool.starmap(
                    _post_in_process,
                    [(db.url, concurrent_part[w::workers], start_at) for w in range(workers)],
                )
            seconds = max(end for _, end in answers) - start_at
            all_latencies = [x for part, _ in answers for x in part]
            concurrent = _concurrent_summary(
                workers, "processes", len(concurrent_part), seconds, all_latencies
            )
        elif concurrent_part:
            per_worker: list[list[float]] = [[] for _ in range(workers)]
            threads = [
                threading.Thread(target=post_all, args=(concurrent_part[w::workers], per_worker[w]))
                for w in range(workers)
            ]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
            all_latencies = [x for part in per_worker for x in part]
            concurrent = _concurrent_summary(
                workers, "threads", len(concurrent_part), seconds, all_latencies
            )

        with factory() as session:
            niks = list(session.scalars(select(Participant.nik)))
        rng = random.Random(5)
        sample = [rng.choice(niks) for _ in range(5000)]
        lookups: list[float] = []
        with factory() as session:
            for nik in sample:
                t0 = time.perf_counter()
                status_of(session, nik, POST_DAY)
                lookups.append(time.perf_counter() - t0)

        def pct(values: list[float], q: int) -> float:
            return round(statistics.quantiles(values, n=100)[q - 1] * 1000, 2)

        return {
            "participants": len(niks),
            "postings": len(sequential_part),
            "postings_per_second": round(len(sequential_part) / posting_seconds),
            "posting_p50_ms": pct(latencies, 50),
            "posting_p95_ms": pct(latencies, 95),
            "status_lookups": len(sample),
            "status_p50_ms": pct(lookups, 50),
            "status_p95_ms": pct(lookups, 95),
            "status_p99_ms": pct(lookups, 99),
            "concurrent": concurrent,
        }
    finally:
        engine.dispose()
        db.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=20_000)
    parser.add_argument("--payments", type=int, default=5_000)
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="also post with N concurrent threads (PostgreSQL; SQLite serialises writers)",
    )
    parser.add_argument(
        "--processes",
        action="store_true",
        help="the N concurrent workers are processes (each its own connection), not threads",
    )
    parser.add_argument("--name", default="posting", help="results file name")
    args = parser.parse_args()
    info = machine()
    results: dict[str, object] = {"machine": info}
    loads: dict[str, tuple[float, float]] = {}
    for kind in args.engines.split(","):
        before = os.getloadavg()[0]
        workers = args.workers if kind == "postgresql" else 1
        measured = bench(kind, args.participants, args.payments, workers, args.processes)
        loads[kind] = (round(before, 1), round(os.getloadavg()[0], 1))
        measured["load_average_1min"] = {"before": loads[kind][0], "after": loads[kind][1]}
        results[kind] = measured
        print(kind, results[kind], flush=True)
    lines = [
        "# Single payment posting and status lookup\n",
        machine_markdown(info),
        f"\nSeeded with {args.participants:,} synthetic participants; {args.payments:,} payments "
        "posted one per transaction through `post_payment` (validation, ledger, projection, "
        "audit); 5,000 `status_of` lookups of random NIKs.\n",
        "\n| engine | postings/s (1 thread) | posting p50 / p95 | concurrent postings/s "
        "(p50 / p95) | status p50 | status p95 | status p99 | load average (1 min, before -> "
        "after) |",
        "\n| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind in args.engines.split(","):
        r = results[kind]
        assert isinstance(r, dict)
        c = r["concurrent"]
        together = (
            f"{c['postings_per_second']:,} with {c['workers']} {c.get('mode', 'threads')} "
            f"({c['posting_p50_ms']} / {c['posting_p95_ms']} ms)"
            if c
            else "-"
        )
        lines.append(
            f"\n| {kind} | {r['postings_per_second']:,} | {r['posting_p50_ms']} / "
            f"{r['posting_p95_ms']} ms | {together} | {r['status_p50_ms']} ms | "
            f"{r['status_p95_ms']} ms | {r['status_p99_ms']} ms | {loads[kind][0]} -> "
            f"{loads[kind][1]} |"
        )
    lines.append(
        "\n\nTargets (issue 4): >= 1,000 postings/s on PostgreSQL; status lookup p95 <= 5 ms. "
        f"The machine has {info['cores']} cores shared with other work; the load average is "
        "the machine's, not this benchmark's alone. Reproduce: `.venv/bin/python -m "
        f"benchmarks.bench_posting --participants {args.participants} --payments "
        f"{args.payments} --workers {args.workers}{' --processes' if args.processes else ''}`.\n"
    )
    write_results(args.name, results, "".join(lines))


if __name__ == "__main__":
    main()
