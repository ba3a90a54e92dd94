"""Benchmark of the campaigns area (issue 8) on SQLite and PostgreSQL: prospect import with
deduplication against the registry (NIK, phone + name), attribution and funnels of every campaign,
the comparison by segment, coverage and the targeting ranking, and the effect of the index on
``participant.phone`` (migration ``campaigns_0002``) on deduplicating prospects without a NIK (the
same phone-only file re-imported with the index and with it dropped). Results:
``benchmarks/results/campaigns.{json,md}``, with the 1-minute load average before and after.

    .venv/bin/python -m benchmarks.bench_campaigns --participants 200000 --prospects 100000

The ledger is the targets benchmark's synthetic one (``bench_targets._ledger_rows``, written
directly) with addresses, occupations and distinct phones added over the districts of South
Sumatra (16) and Lampung (18). Campaigns (one per 1,000 participants, each on a random district
or regency, 30-day window), prospects (30 % registered NIKs, 30 % new NIKs, 20 % registered
phone + name without NIK, 20 % new phones) and potential (every district x 3 segments) are
written as files and imported through the real actions. Reads: median of 3 runs after a warm-up.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.bench_targets import _ledger_rows, _load
from benchmarks.common import WORK, fresh_database, machine, machine_markdown, write_results
from cakupan import campaigns
from cakupan.auth import Actor
from cakupan.campaigns.reference import load_weights
from cakupan.db import make_engine, make_session_factory

ACTOR = Actor.system("bench")
OCCUPATIONS = ("farmer", "fisher", "market_trader", "online_driver", "umkm")
SEGMENTS = ("lampung-farmers", "lampung-micro", "market-traders", "ojol-drivers")
AS_OF = date(2026, 11, 26)
DISTRICTS_CSV = (
    Path(__file__).resolve().parent.parent / "src/cakupan/regions/data/idn-area-data/districts.csv"
)


def _districts() -> list[str]:
    with DISTRICTS_CSV.open(encoding="utf-8") as handle:
        return [row["code"] for row in csv.DictReader(handle) if row["code"][:2] in ("16", "18")]


def _phone(pid: int) -> str:
    return f"08{pid:010d}"


def _files(folder: Path, participants: int, prospects: int) -> dict[str, Path]:
    rng = random.Random(8)
    districts = _districts()
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        name: folder / f"{name}.csv"
        for name in ("campaigns", "prospects", "potential", "phone_prospects")
    }
    codes = []
    with paths["campaigns"].open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["code", "name", "objective", "type", "start_on", "end_on", "budget",
                      "actual_cost", "reached", "interested", "segments", "areas"])  # fmt: skip
        for i in range(max(1, participants // 1000)):
            start = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 1000))
            area = rng.choice(districts)
            area = area[:5] if rng.random() < 0.2 else area
            code = f"C{i:05d}"
            codes.append(code)
            out.writerow([code, f"Sosialisasi {i}", "Register", "sosialisasi_offline",
                          start, start + timedelta(days=rng.randrange(0, 3)),
                          rng.randrange(1, 50) * 500_000, "", rng.randrange(50, 500),
                          rng.randrange(5, 50), rng.choice(SEGMENTS), area])  # fmt: skip
    with paths["prospects"].open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["nik", "name", "phone", "district_code", "campaign_code", "listed_on"])
        for i in range(prospects):
            kind = rng.random()
            pid = rng.randrange(1, participants + 1)
            listed = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 900))
            campaign = rng.choice(codes)
            district = rng.choice(districts)
            if kind < 0.3:
                out.writerow([f"{pid:016d}", f"P{pid}", "", district, campaign, listed])
            elif kind < 0.6:
                out.writerow([f"9{i:015d}", f"Baru {i}", "", district, campaign, listed])
            elif kind < 0.8:
                out.writerow(
                    ["", f"Bapak p{pid}", f"+62 {_phone(pid)[1:]}", district, campaign, listed]
                )
            else:
                out.writerow(["", f"Orang {i}", f"0877{i:08d}", district, campaign, listed])
    with paths["phone_prospects"].open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)  # without NIK: half registered phone + name, half new phones
        out.writerow(["name", "phone", "district_code"])
        for i in range(max(1, prospects // 5)):
            pid = rng.randrange(1, participants + 1)
            if i % 2:
                out.writerow([f"Ibu p{pid}", f"0{_phone(pid)[1:]}", rng.choice(districts)])
            else:
                out.writerow([f"Warga {i}", f"0858{i:08d}", rng.choice(districts)])
    with paths["potential"].open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["area_code", "segment", "year", "potential", "source"])
        for district in districts:
            for segment in ("market-traders", "ojol-drivers", "lampung-farmers"):
                out.writerow(
                    [district, segment, 2026, rng.randrange(100, 20_000), "synthetic bench"]
                )
    return paths


def _project_memberships(url: str) -> None:
    """The loaded rows skip the registry's projection; set paid-through and months paid from the
    covered months as the posting actions would; then gather PostgreSQL's statistics."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE membership SET "
            "paid_through_month = (SELECT max(c.month) FROM covered_month c "
            "WHERE c.membership_id = membership.id AND NOT c.reversed), "
            "months_paid = (SELECT count(*) FROM covered_month c "
            "WHERE c.membership_id = membership.id AND NOT c.reversed)"
        )
        if engine.dialect.name == "postgresql":
            # Statistics inside this committed transaction: ``bench_targets._load`` runs ANALYZE
            # on a connection that is never committed, so PostgreSQL would plan without them.
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def _median(run: Any) -> tuple[float, Any]:
    value = run()
    times = []
    for _ in range(3):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), value


def bench(url: str, paths: dict[str, Path]) -> dict[str, Any]:
    engine = make_engine(url)
    out: dict[str, Any] = {}
    for name, action in (
        ("campaigns import", lambda: campaigns.import_campaigns(engine, ACTOR, paths["campaigns"])),
        ("potential import", lambda: campaigns.import_potential(engine, ACTOR, paths["potential"])),
        ("prospects import", lambda: campaigns.import_prospects(engine, ACTOR, paths["prospects"])),
        ("prospects re-import (all duplicates)",
         lambda: campaigns.import_prospects(engine, ACTOR, paths["prospects"])),
    ):  # fmt: skip
        started = time.perf_counter()
        result = action()
        out[name] = {
            "seconds": round(time.perf_counter() - started, 3),
            "value": f"accepted {result.accepted:,}, duplicates {result.duplicates:,}, "
            f"rejected {result.rejected:,}",
        }
    weights = load_weights()
    with make_session_factory(engine)() as session:
        reads = {
            "funnels of every campaign": lambda: campaigns.funnels(session),
            "compare by segment": lambda: campaigns.compare_funnels(session, "segment"),
            "coverage (every district x 3 segments)": lambda: campaigns.coverage(session, AS_OF),
            "targeting rank": lambda: campaigns.rank_targets(session, AS_OF, weights),
        }
        for name, run in reads.items():
            seconds, value = _median(run)
            if name == "funnels of every campaign":
                registered = sum(f.counts["registered"] for f in value.values())
                kept = sum(f.counts["retained_month_6"] for f in value.values())
                shown = (
                    f"{len(value):,} campaigns, {registered:,} registrations, {kept:,} at month 6"
                )
            else:
                shown = f"{len(value):,} rows"
            out[name] = {"seconds": round(seconds, 3), "value": shown}
    out.update(_phone_index_effect(engine, paths["phone_prospects"]))
    engine.dispose()
    return out


_FORMS = '["081234567890", "6281234567890", "+6281234567890"]'
#: The dedup lookup as ``prospects._among`` writes it: an IN over one JSON parameter.
_PHONE_PROBE = {
    "sqlite": f"SELECT id FROM participant WHERE phone IN (SELECT value FROM json_each('{_FORMS}'))",
    "postgresql": "SELECT id FROM participant WHERE phone IN "
    f"(SELECT value FROM json_array_elements_text(CAST('{_FORMS}' AS JSON)) AS value)",
}


def _plan(engine: Any) -> str:
    """How the database finds participants by phone (the dedup lookup's access path), asked on
    a fresh connection."""
    fresh = make_engine(engine.url.render_as_string(hide_password=False))
    kind = fresh.dialect.name
    with fresh.connect() as conn:
        if kind == "postgresql":
            rows = conn.exec_driver_sql("EXPLAIN " + _PHONE_PROBE[kind]).all()
            lines = [r[0].strip() for r in rows]
            shown = [line for line in lines if "participant" in line] or lines[:1]
        else:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + _PHONE_PROBE[kind]).all()
            shown = [str(r[-1]) for r in rows if "participant" in str(r[-1])]
    fresh.dispose()
    return " / ".join(shown)


def _phone_index_effect(engine: Any, path: Path) -> dict[str, Any]:
    """Prospects without a NIK are matched on ``participant.phone``: the same phone-only file
    re-imported (every row a duplicate, so each run does the same lookups and writes nothing)
    with ``ix_participant_phone`` and with it dropped; then the index is built again."""
    first = campaigns.import_prospects(engine, ACTOR, path)
    out: dict[str, Any] = {}
    rerun = lambda: campaigns.import_prospects(engine, ACTOR, path)  # noqa: E731
    seconds, result = _median(rerun)
    assert result.duplicates == first.accepted + first.duplicates, result.as_json()
    value = f"{result.duplicates:,} rows, all duplicates"
    out["phone-only re-import, with ix_participant_phone"] = {
        "seconds": round(seconds, 3),
        "value": value,
        "plan": _plan(engine),
    }
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_participant_phone")
    seconds, _ = _median(rerun)
    out["phone-only re-import, index dropped"] = {
        "seconds": round(seconds, 3),
        "value": value,
        "plan": _plan(engine),
    }
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE INDEX ix_participant_phone ON participant (phone)")
    out["build ix_participant_phone"] = {
        "seconds": round(time.perf_counter() - started, 3),
        "value": "CREATE INDEX",
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=200_000)
    parser.add_argument("--prospects", type=int, default=100_000)
    args = parser.parse_args()
    rows = _ledger_rows(args.participants)
    districts = _districts()
    rng = random.Random(26)
    for row in rows["participant"]:
        district = rng.choice(districts)
        row.update(
            district_code=district,
            regency_code=district[:5],
            phone=_phone(row["id"]),
            occupation=OCCUPATIONS[row["id"] % len(OCCUPATIONS)],
        )
    paths = _files(WORK / "campaigns", args.participants, args.prospects)
    results: dict[str, Any] = {"machine": machine(), "args": vars(args), "engines": {}}
    results["load_before"] = os.getloadavg()[0]
    for kind in ("sqlite", "postgresql"):
        database = fresh_database(kind, "campaigns")
        try:
            load = _load(database.url, rows)
            _project_memberships(database.url)
            results["engines"][kind] = {
                "load_seconds": round(load, 1),
                "steps": bench(database.url, paths),
            }
        finally:
            database.drop()
    results["load_after"] = os.getloadavg()[0]
    lite, pg = (results["engines"][k]["steps"] for k in ("sqlite", "postgresql"))
    lines = [
        "# campaigns: prospects, attribution, funnels, coverage, targeting",
        "",
        f"`.venv/bin/python -m benchmarks.bench_campaigns --participants {args.participants}"
        f" --prospects {args.prospects}`",
        "",
        machine_markdown(results["machine"]).strip()
        + " The machine is shared with other work running at the same time: upper bounds."
        + f" 1-minute load average {results['load_before']:.2f} before, "
        f"{results['load_after']:.2f} after.",
        "",
        "| step | result | SQLite (s) | PostgreSQL (s) |",
        "| --- | --- | ---: | ---: |",
    ]
    for key, entry in lite.items():
        if pg[key]["value"] != entry["value"]:
            raise SystemExit(f"engines disagree on {key}: {entry['value']} vs {pg[key]['value']}")
        lines.append(
            f"| {key} | {entry['value']} | {entry['seconds']:.3f} | {pg[key]['seconds']:.3f} |"
        )
    lines += ["", "Access path of the participant phone lookup (`phone IN` a JSON list):", ""]
    for key in ("phone-only re-import, with ix_participant_phone",
                "phone-only re-import, index dropped"):  # fmt: skip
        for kind, steps in (("SQLite", lite), ("PostgreSQL", pg)):
            lines.append(f"- {key}, {kind}: `{steps[key]['plan']}`")
    write_results("campaigns", results, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
