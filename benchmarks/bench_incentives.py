"""Incentive run benchmark (issue 5): the monthly run over a national-shaped ledger, on SQLite and
PostgreSQL (target: 100,000 partners, 1,000,000 participants, 12 months of payments <= 60 s).

    .venv/bin/python -m benchmarks.bench_incentives --participants 1000000 --partners 100000

The ledger is the synthetic one of the ledger benchmark (``benchmarks.bench_ledger.generate``),
with the partner network padded to ``--partners`` Perisai agents (perisai-2022 agreements) under
the generated Wadahs, and the Perisai registrations spread over them, so that every agent has
its own statement. Everything is imported through the real commands; then ``cakupan incentives
run`` is timed (first run, idempotent re-run) in separate processes. Results go to
``benchmarks/results/incentives.{json,md}``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.bench_ledger import AS_OF, generate
from benchmarks.common import (
    CAKUPAN,
    PG_ADMIN_URL,
    WORK,
    Database,
    Run,
    _pg_admin,
    check,
    fresh_database,
    machine,
    machine_markdown,
    write_results,
)
from cakupan.dates import Month


def run_measured(*args: str) -> Run:
    """Like ``benchmarks.common.run_measured`` but with this benchmark's own output files, so
    that benchmarks of other areas running at the same time cannot overwrite them."""
    folder = WORK / f"incentives-out-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    out_path, err_path = folder / "stdout.txt", folder / "stderr.txt"
    started = time.perf_counter()
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen([CAKUPAN, *args], stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    return Run(
        seconds,
        usage.ru_maxrss / 1024,
        out_path.read_text(),
        err_path.read_text(),
        os.waitstatus_to_exitcode(status),
        usage.ru_utime + usage.ru_stime,
    )


def pad_network(folder: Path, partners: int) -> int:
    """Add Perisai agents under the generated Wadahs until there are ``partners`` rows, and move
    the Perisai registrations onto them (deterministically). Returns the partner count."""
    with (folder / "partners.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = list(rows[0])
    wadahs = [r for r in rows if r["kind"] == "wadah"]
    agents: dict[str, list[str]] = defaultdict(list)
    missing = max(0, partners - len(rows))
    for i in range(missing):
        wadah = wadahs[i % len(wadahs)]
        code = f"{wadah['code']}-X{i:06d}"
        agents[wadah["code"]].append(code)
        rows.append(
            {
                **dict.fromkeys(columns, ""),
                "code": code,
                "name": f"Perisai {code}",
                "kind": "perisai",
                "parent_code": wadah["code"],
                "branch_code": wadah["branch_code"],
                "scheme": "perisai-2022",
                "valid_from": wadah["valid_from"],
                "valid_to": wadah["valid_to"],
            }
        )
    with (folder / "partners.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    if agents:
        rng = random.Random(2026)
        source = folder / "participants.csv"
        moved = folder / "participants.padded.csv"
        with source.open(newline="") as handle, moved.open("w", newline="") as out:
            reader = csv.DictReader(handle)
            writer = csv.DictWriter(out, fieldnames=list(reader.fieldnames or []))
            writer.writeheader()
            for row in reader:
                pool = agents.get(row.get("partner_code") or "")
                if pool and row.get("agent_code"):
                    row["agent_code"] = rng.choice(pool)
                writer.writerow(row)
        moved.replace(source)
    return len(rows)


def kept_database(kind: str, label: str) -> Database:
    """A database that outlives the run (``--keep``): the SQLite file
    ``benchmarks/.work/<label>.db`` or the PostgreSQL database ``ck_bench_<label>``."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    WORK.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        return Database("sqlite", f"sqlite:///{WORK / f'{label}.db'}")
    name = f"ck_bench_{label}".replace("-", "_")
    engine = create_engine(PG_ADMIN_URL)
    with engine.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
    engine.dispose()
    if not exists:
        _pg_admin(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return Database("postgresql", url)


def load_ledger(db: Database, folder: Path) -> dict[str, object]:
    """Import the generated files through the real commands; the import results."""
    url = ["--database-url", db.url]
    check(run_measured("db", "upgrade", "--json", *url), "db upgrade")
    out: dict[str, object] = {}
    check(
        run_measured("partners", "import", str(folder / "partners.csv"), "--json", *url),
        "partners import",
    )
    for what in ("participants", "payments"):
        # --partial: the synthetic generator's rejected rows (if any) are counted, not fatal
        imported = run_measured(
            what, "import", str(folder / f"{what}.csv"), "--partial", "--json", *url
        )
        body = json.loads(imported.stdout) if imported.stdout.strip() else {}
        if imported.returncode not in (0, 1) or not body:
            check(imported, f"{what} import")
        out[f"{what}_import"] = {k: body.get(k) for k in ("accepted", "duplicates", "rejected")}
        print(db.engine, what, out[f"{what}_import"], round(imported.seconds, 1), "s", flush=True)
    return out


def bench_engine(
    kind: str, folder: Path, periods: list[str], *, keep: bool = False
) -> dict[str, object]:
    label = f"incentives-keep-{folder.name.split('-', 1)[1]}"
    db = kept_database(kind, label) if keep else fresh_database(kind, "incentives")
    marker = WORK / f"{label}.{kind}.loaded.json"
    try:
        url = ["--database-url", db.url]
        if keep and marker.exists():
            out: dict[str, object] = json.loads(marker.read_text())
            check(run_measured("db", "upgrade", "--json", *url), "db upgrade")
        else:
            out = load_ledger(db, folder)
            if keep:
                marker.write_text(json.dumps(out))
        for period in periods:
            load = os.getloadavg()[0]
            first = run_measured("incentives", "run", "--period", period, "--json", *url)
            body = check(first, f"run {period}")
            again = run_measured("incentives", "run", "--period", period, "--json", *url)
            body_again = check(again, f"re-run {period}")
            statements = body.get("statements", [])
            out[period] = {
                "seconds": round(first.seconds, 2),
                "cpu_seconds": round(first.cpu_seconds, 2),
                "rerun_seconds": round(again.seconds, 2),
                "rerun_cpu_seconds": round(again.cpu_seconds, 2),
                "peak_rss_mib": round(first.max_rss_mib),
                "statements": len(statements),
                "lines": sum(len(s["lines"]) for s in statements),
                "total": sum(s["total"] for s in statements),
                "rerun_identical": body == body_again,
                "load_average_before": round(load, 1),
                "load_average_after": round(os.getloadavg()[0], 1),
            }
            print(kind, period, out[period], flush=True)
        return out
    finally:
        if not keep:
            db.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=1_000_000)
    parser.add_argument("--partners", type=int, default=100_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--name", default="incentives")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse the generated files of the same size"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the loaded databases (and use them again instead of importing)",
    )
    parser.add_argument(
        "--load-only", action="store_true", help="with --keep: import, then stop (no runs)"
    )
    args = parser.parse_args()
    folder = WORK / f"incentives-{args.participants}-{args.partners}"
    started = time.perf_counter()
    marker = folder / "counts.json"
    if args.reuse and marker.exists():
        counts = json.loads(marker.read_text())
    else:
        counts = generate(args.participants, folder)
        counts["partners"] = pad_network(folder, args.partners)
        marker.write_text(json.dumps(counts))
    generation = time.perf_counter() - started
    last = Month.of(AS_OF)
    periods = [str(last + -6), str(last)]
    info = machine()
    results: dict[str, object] = {
        "machine": info,
        "data": counts,
        "generation_seconds": round(generation, 1),
    }
    for kind in args.engines.split(","):
        print(f"== {kind}", flush=True)
        results[kind] = bench_engine(
            kind, folder, [] if args.load_only else periods, keep=args.keep
        )
    if args.load_only:
        return
    lines = [
        "# Incentive run benchmark\n\n",
        machine_markdown(info),
        "The machine is shared with other work running at the same time: figures are upper bounds.\n",
        f"\nData: {counts['participants']:,} participants, {counts['payments']:,} payments "
        f"(synthetic, a year to {AS_OF}), {counts['partners']:,} partners and agents with agreements.\n",
        "\n| engine | period | run (wall) | run (CPU of the process) | re-run, idempotent (wall / CPU) "
        "| peak memory | statements | lines | total | load average, 1 min (before -> after; 2 cores) |",
        "\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind in args.engines.split(","):
        per_engine = results[kind]
        assert isinstance(per_engine, dict)
        for period, r in per_engine.items():
            if not period[:4].isdigit():
                continue
            lines.append(
                f"\n| {kind} | {period} | {r['seconds']} s | {r.get('cpu_seconds', '-')} s | "
                f"{r['rerun_seconds']} s / {r.get('rerun_cpu_seconds', '-')} s"
                f"{'' if r['rerun_identical'] else ' (DIFFERENT)'} | {r['peak_rss_mib']} MiB | "
                f"{r['statements']:,} | {r['lines']:,} | Rp {r['total']:,} | "
                f"{r.get('load_average_before', '-')} -> {r.get('load_average_after', '-')} |".replace(
                    ",", "."
                )
            )
    for kind in args.engines.split(","):
        per_engine = results[kind]
        assert isinstance(per_engine, dict)
        lines.append(
            f"\n\n{kind}: participants import {per_engine['participants_import']}, "
            f"payments import {per_engine['payments_import']} (rows rejected by the posting "
            "engine are the synthetic generator's, imported with --partial)."
        )
    lines.append(
        "\n\nTarget (issue 5): a national run (100,000 partners, 1,000,000 participants, 12 months "
        "of payments) <= 60 s. Reproduce: `.venv/bin/python -m benchmarks.bench_incentives "
        f"--participants {args.participants} --partners {args.partners}`.\n"
    )
    write_results(args.name, results, "".join(lines))


if __name__ == "__main__":
    main()
