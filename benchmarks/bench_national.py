"""National report at national size: a SYNTHETIC snapshot of N participants (default 15,000,000,
``cakupan analytics synthetic-snapshot``), then ``cakupan analytics national --engine duckdb`` on
it, each the real command in its own process (wall time, CPU time, peak RSS, load average).

    .venv/bin/python -m benchmarks.bench_national --participants 15000000 [--reuse] [--runs 3]

Target (issue #22): 15,000,000 participants in <= 20 s and <= 4 GiB peak on 2 cores.
Results: ``benchmarks/results/national-<N>.{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import shutil

from benchmarks.common import WORK, check, machine, machine_markdown, run_measured, write_results


def _load() -> float:
    return round(os.getloadavg()[0], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=15_000_000)
    parser.add_argument("--as-of", default="2026-10-31")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep an existing snapshot")
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    info = machine()
    out = WORK / f"national-{args.participants}"
    generated: dict[str, object] = {"reused": True}
    if not (args.reuse and (out / "manifest.json").is_file()):
        shutil.rmtree(out, ignore_errors=True)
        before = _load()
        made = run_measured(
            "analytics",
            "synthetic-snapshot",
            "--participants",
            str(args.participants),
            "--out",
            str(out),
            "--as-of",
            args.as_of,
            "--json",
        )
        manifest = check(made, "synthetic snapshot")
        generated = {
            "reused": False,
            "seconds": round(made.seconds, 1),
            "cpu_s": round(made.cpu_seconds, 1),
            "peak_mib": round(made.max_rss_mib),
            "rows": manifest["rows"],
            "load_before": before,
            "load_after": _load(),
        }
    runs = []
    for _ in range(args.runs):
        before = _load()
        run = run_measured(
            "analytics", "national", "--snapshot", str(out), "--as-of", args.as_of, "--json"
        )
        report = check(run, "national report")
        runs.append(
            {
                "wall_s": round(run.seconds, 2),
                "cpu_s": round(run.cpu_seconds, 2),
                "peak_mib": round(run.max_rss_mib),
                "engine_load_s": report["timings"]["load_s"],
                "engine_query_s": report["timings"]["query_s"],
                "load_before": before,
                "load_after": _load(),
                "rows": report["snapshot"]["rows"],
            }
        )
    payload = {"machine": info, "participants": args.participants, "generated": generated}
    payload["runs"] = runs
    payload["note"] = args.note
    lines = [
        f"# National report, {args.participants:,} participants (SYNTHETIC snapshot)",
        machine_markdown(info),
        "Snapshot: `cakupan analytics synthetic-snapshot` (SYNTHETIC data, docs/analytics.md). "
        "Report: `cakupan analytics national --engine duckdb` (12 complete months), its own "
        "process, start-up included; DuckDB memory limit 3 GB.",
        "",
    ]
    if not generated.get("reused"):
        lines.append(
            f"Generation: {generated['seconds']} s wall, {generated['cpu_s']} s CPU, peak "
            f"{generated['peak_mib']} MiB, rows {generated['rows']}, load "
            f"{generated['load_before']} -> {generated['load_after']}.\n"
        )
    lines += [
        "| run | wall | CPU (user+sys) | peak RSS | staging (engine) | queries (engine) | load "
        "(1 min, before -> after) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, run_ in enumerate(runs, 1):
        lines.append(
            f"| {i} | {run_['wall_s']} s | {run_['cpu_s']} s | {run_['peak_mib']} MiB | "
            f"{run_['engine_load_s']} s | {run_['engine_query_s']} s | "
            f"{run_['load_before']} -> {run_['load_after']} |"
        )
    if args.note:
        lines += ["", args.note]
    write_results(f"national-{args.participants}", payload, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
