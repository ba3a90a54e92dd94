"""National analytics benchmark: snapshot of a seeded ledger to Parquet, then the national
report on DuckDB (embedded) and on Spark (local mode), each as the real command in its own
process.

    .venv/bin/python -m benchmarks.bench_analytics \\
        --database-url sqlite:////path/seed-1m.db --as-of 2026-10-31

The database is read only (prepare it with ``cakupan seed --participants 1000000 --as-of
2026-10-31``). Results: ``benchmarks/results/analytics.{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import shutil

from sqlalchemy.engine import make_url

from benchmarks.common import WORK, check, machine, machine_markdown, run_measured, write_results

KEYS = ("national", "provinces", "branches", "cohorts", "province_cohorts", "regencies")


def _load() -> float:
    return round(os.getloadavg()[0], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", action="append", required=True)
    parser.add_argument("--as-of", default="2026-10-31")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--name", default="analytics")
    args = parser.parse_args()
    info = machine()
    runs = []
    for url in args.database_url:
        source = make_url(url).get_backend_name()
        out = WORK / f"snapshot-{source}"
        shutil.rmtree(out, ignore_errors=True)
        before = _load()
        taken = run_measured(
            "analytics",
            "snapshot",
            "--out",
            str(out),
            "--as-of",
            args.as_of,
            "--json",
            "--database-url",
            url,
        )
        manifest = check(taken, f"snapshot from {source}")
        entry: dict[str, object] = {
            "source": source,
            "rows": manifest["rows"],
            "snapshot_s": round(taken.seconds, 2),
            "snapshot_cpu_s": round(taken.cpu_seconds, 2),
            "snapshot_peak_mib": round(taken.max_rss_mib),
            "load_before": before,
            "load_after": _load(),
            "engines": {},
        }
        reports = {}
        for engine in args.engines.split(","):
            before = _load()
            ran = run_measured(
                "analytics", "national", "--snapshot", str(out), "--engine", engine, "--json"
            )
            report = check(ran, f"national report on {engine}")
            reports[engine] = report
            entry["engines"][engine] = {  # type: ignore[index]
                "wall_s": round(ran.seconds, 2),
                "cpu_s_python": round(ran.cpu_seconds, 2),
                "load_s": report["timings"]["load_s"],
                "query_s": report["timings"]["query_s"],
                "load_before": before,
                "load_after": _load(),
            }
        if len(reports) > 1:
            first, *others = reports.values()
            entry["engines_agree"] = all(
                other[key] == first[key] for other in others for key in KEYS
            )
        runs.append(entry)
        shutil.rmtree(out, ignore_errors=True)
    payload = {"machine": info, "as_of": args.as_of, "runs": runs}
    lines = [
        "# National analytics benchmark",
        machine_markdown(info),
        "Snapshot = `cakupan analytics snapshot` (ledger -> pseudonymous Parquet via DuckDB); "
        "report = `cakupan analytics national` (12 complete months: monthly figures by province "
        "and branch, cohort retention at 1/3/6/12 months by province, regencies), each the real "
        "command in its own process, start-up included. Spark runs in local mode (`local[2]`), "
        "JVM start included in its wall time.",
        "",
        "| source | participants | payments | snapshot | engine | report wall | engine load | "
        "engine queries | load average (1 min, before -> after) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for entry in runs:
        rows = entry["rows"]
        for engine, figures in entry["engines"].items():  # type: ignore[attr-defined]
            lines.append(
                f"| {entry['source']} | {rows['participants']:,} | {rows['payments']:,} | "
                f"{entry['snapshot_s']} s (peak {entry['snapshot_peak_mib']} MiB) | {engine} | "
                f"{figures['wall_s']} s | {figures['load_s']} s | {figures['query_s']} s | "
                f"{figures['load_before']} -> {figures['load_after']} |"
            )
        if "engines_agree" in entry:
            lines.append("")
            lines.append(
                f"DuckDB and Spark reports identical ({entry['source']} source): "
                f"**{entry['engines_agree']}**."
            )
    lines.append("")
    lines.append(
        "Reproduce: `.venv/bin/python -m benchmarks.bench_analytics --database-url URL "
        f"--as-of {args.as_of}` on a database seeded with `cakupan seed --participants N "
        f"--as-of {args.as_of}`."
    )
    write_results(args.name, payload, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
