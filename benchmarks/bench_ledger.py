"""Ledger benchmark (issue 4): import payments (>= 100,000 rows/s, memory bounded) and the monthly
close of 1,000,000 participants with a year of payments (<= 30 s), on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/bench_ledger.py --participants 1000000

The data is synthetic (``cakupan.synthetic``), written once to CSV files under
``benchmarks/.work/``, then imported through the real commands (``cakupan partners|participants|
payments import``, ``cakupan close``) in separate processes whose wall time and peak memory are
recorded. Results go to ``benchmarks/results/ledger.{json,md}``.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.common import (
    WORK,
    check,
    fresh_database,
    machine,
    machine_markdown,
    run_measured,
    write_results,
)
from cakupan.bootstrap import ensure_ready
from cakupan.contributions import shipped_policy_book
from cakupan.dates import Month
from cakupan.db import make_engine, make_session_factory
from cakupan.synthetic.generator import (
    PARTICIPANT_COLUMNS,
    PARTNER_COLUMNS,
    PAYMENT_COLUMNS,
    Generator,
    NamePool,
    build_network,
)
from cakupan.synthetic.seed import load_places

AS_OF = date(2026, 10, 31)


def generate(participants: int, folder: Path) -> dict[str, int]:
    """Write partners.csv, participants.csv and payments.csv (payments in paid_on order)."""
    folder.mkdir(parents=True, exist_ok=True)
    reference = make_engine(f"sqlite:///{folder / 'reference.db'}")
    ensure_ready(reference)
    with make_session_factory(reference)() as session:
        places, branches = load_places(session)
    reference.dispose()
    book = shipped_policy_book()
    start = AS_OF - timedelta(days=365)
    network = build_network(branches, start, AS_OF)
    generator = Generator(
        seed=2026,
        places=places,
        network=network,
        names=NamePool.from_faker(2026),
        monthly_amount=lambda i, p, m, s, f: book.monthly_total(
            income=i, programs=p, month=m, sector=s, funding=f
        ),
        start=start,
        as_of=AS_OF,
    )
    with (folder / "partners.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=PARTNER_COLUMNS)
        writer.writeheader()
        writer.writerows(network.rows)
    payments: list[tuple[str, str, str, str, str, str, str]] = []
    with (folder / "participants.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=PARTICIPANT_COLUMNS)
        writer.writeheader()
        for row, paid in generator.generate(participants):
            writer.writerow(row)
            payments.extend(tuple(p[c] for c in PAYMENT_COLUMNS) for p in paid)  # type: ignore[misc]
    # Same day, same participant: keep the generation order (the sequence ending the reference).
    payments.sort(key=lambda p: (p[3], int(p[0].rsplit("-", 1)[1])))
    with (folder / "payments.csv").open("w", newline="") as handle:
        writer2 = csv.writer(handle)
        writer2.writerow(PAYMENT_COLUMNS)
        writer2.writerows(payments)
    return {"participants": participants, "payments": len(payments), "partners": len(network.rows)}


def bench_engine(
    kind: str, folder: Path, counts: dict[str, int], close: bool = True
) -> dict[str, object]:
    db = fresh_database(kind, "ledger")
    try:
        url = ["--database-url", db.url]
        check(run_measured("db", "upgrade", "--json", *url), "db upgrade")
        check(
            run_measured("partners", "import", str(folder / "partners.csv"), "--json", *url),
            "partners",
        )
        reg = run_measured(
            "participants", "import", str(folder / "participants.csv"), "--json", *url
        )
        reg_result = check(reg, "participants import")
        pay = run_measured("payments", "import", str(folder / "payments.csv"), "--json", *url)
        pay_result = check(pay, "payments import")
        again = run_measured("payments", "import", str(folder / "payments.csv"), "--json", *url)
        again_result = check(again, "payments re-import")
        month = str(Month.of(AS_OF))
        closed: dict[str, object] = {"month": month, "skipped": True}
        if close:
            first = run_measured("close", "--month", month, "--json", *url)
            close_result = check(first, "close")
            again_close = run_measured("close", "--month", month, "--json", *url)
            check(again_close, "close again")
            closed = {
                "month": month,
                "seconds": round(first.seconds, 2),
                "rerun_seconds": round(again_close.seconds, 2),
                "participants": close_result.get("participants"),
                "statuses": close_result.get("statuses"),
            }
        return {
            "participants_import": {
                "rows": counts["participants"],
                "seconds": round(reg.seconds, 2),
                "rows_per_second": round(counts["participants"] / reg.seconds),
                "cpu_seconds": round(reg.cpu_seconds, 2),
                "peak_rss_mib": round(reg.max_rss_mib),
                "result": {k: reg_result.get(k) for k in ("accepted", "duplicates", "rejected")},
            },
            "payments_import": {
                "rows": counts["payments"],
                "seconds": round(pay.seconds, 2),
                "rows_per_second": round(counts["payments"] / pay.seconds),
                "cpu_seconds": round(pay.cpu_seconds, 2),
                "rows_per_cpu_second": round(counts["payments"] / pay.cpu_seconds),
                "peak_rss_mib": round(pay.max_rss_mib),
                "result": {k: pay_result.get(k) for k in ("accepted", "duplicates", "rejected")},
            },
            "payments_reimport": {
                "seconds": round(again.seconds, 2),
                "rows_per_second": round(counts["payments"] / again.seconds),
                "result": {k: again_result.get(k) for k in ("accepted", "duplicates", "rejected")},
            },
            "close": closed,
        }
    finally:
        db.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse generated CSVs of the same size"
    )
    parser.add_argument("--name", default="ledger", help="results file name")
    parser.add_argument(
        "--skip-close", action="store_true", help="imports only (the close is measured apart)"
    )
    args = parser.parse_args()
    folder = WORK / f"ledger-{args.participants}"
    started = time.perf_counter()
    marker = folder / "counts.txt"
    if args.reuse and marker.exists():
        p, y, n = (int(x) for x in marker.read_text().split())
        counts = {"participants": p, "payments": y, "partners": n}
    else:
        counts = generate(args.participants, folder)
        marker.write_text(f"{counts['participants']} {counts['payments']} {counts['partners']}")
    generation = time.perf_counter() - started
    info = machine()
    results: dict[str, object] = {
        "machine": info,
        "data": counts,
        "generation_seconds": round(generation, 1),
    }
    loads: dict[str, tuple[float, float]] = {}
    for kind in args.engines.split(","):
        print(f"== {kind}", flush=True)
        before = os.getloadavg()[0]
        measured = bench_engine(kind, folder, counts, close=not args.skip_close)
        loads[kind] = (round(before, 1), round(os.getloadavg()[0], 1))
        measured["load_average_1min"] = {"before": loads[kind][0], "after": loads[kind][1]}
        results[kind] = measured
        print(results[kind], flush=True)
    lines = [
        "# Ledger benchmark\n",
        machine_markdown(info),
        f"\nData: {counts['participants']:,} participants, {counts['payments']:,} payments "
        f"(synthetic, a year to {AS_OF}), {counts['partners']:,} partners.\n",
        "\n| engine | participants import | payments import | payments import, CPU time of the process | peak memory (payments) | re-import (all duplicates) | close 1 month | close re-run | load average (1 min, before -> after) |",
        "\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind in args.engines.split(","):
        r = results[kind]
        assert isinstance(r, dict)
        pi, py, ri, cl = (
            r["participants_import"],
            r["payments_import"],
            r["payments_reimport"],
            r["close"],
        )
        lines.append(
            f"\n| {kind} | {pi['rows_per_second']:,} rows/s ({pi['seconds']} s) | "
            f"{py['rows_per_second']:,} rows/s ({py['seconds']} s) | "
            f"{py['cpu_seconds']} s ({py['rows_per_cpu_second']:,} rows per CPU second) | "
            f"{py['peak_rss_mib']} MiB | "
            f"{ri['rows_per_second']:,} rows/s | {cl.get('seconds', '-')} s | "
            f"{cl.get('rerun_seconds', '-')} s | "
            f"{loads[kind][0]} -> {loads[kind][1]} |"
        )
    lines.append(
        "\n\nTargets (issue 4): payments import >= 100,000 rows/s with bounded memory; close of "
        "1,000,000 participants <= 30 s. Times are wall times of the real command in its own "
        f"process (start-up included) on a {info['cores']}-core machine shared with other "
        "work; the load average is the machine's. Reproduce: `.venv/bin/python -m benchmarks.bench_ledger "
        f"--participants {args.participants}`.\n"
    )
    write_results(args.name, results, "".join(lines))


if __name__ == "__main__":
    main()
