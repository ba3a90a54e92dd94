"""Benchmarks of the regions area and the shared import reader. Results: benchmarks/results/regions.md.

Run: ``.venv/bin/python -m benchmarks.bench_regions [postgresql-admin-url]``. Measures

1. loading the shipped areas (83,763 villages) and offices into an empty database, per engine;
2. streaming a 1,000,000-row CSV through ``cakupan.imports.open_records`` (time, peak RSS);
3. ``check_nik`` on 200,000 NIKs with the real district set.
"""

from __future__ import annotations

import resource
import secrets
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

from cakupan.bootstrap import load_reference_data, upgrade_schema
from cakupan.db import make_engine, make_session_factory
from cakupan.imports import open_records
from cakupan.regions import district_codes
from cakupan.regions.reference import load_areas, load_offices
from cakupan.registry.nik import check_nik, compose_nik


def _load(url: str) -> tuple[float, dict[str, int]]:
    """Seconds to load the areas and offices into a migrated, empty database."""
    engine = make_engine(url)
    upgrade_schema(engine)
    started = time.perf_counter()
    with make_session_factory(engine)() as session, session.begin():
        added = {"areas": load_areas(session), "offices": load_offices(session)}
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, added


def bench_load(pg_admin: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        seconds, added = _load(f"sqlite:///{Path(folder) / 'bench.db'}")
        print(f"sqlite: areas and offices loaded in {seconds:.2f} s: {added}")
    if pg_admin:
        name = f"bench_regions_{secrets.token_hex(3)}"
        admin = create_engine(pg_admin, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = pg_admin.rsplit("/", 1)[0] + f"/{name}"
            seconds, added = _load(url)
            print(f"postgresql: areas and offices loaded in {seconds:.2f} s: {added}")
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def bench_read(rows: int = 1_000_000) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.csv"
        with path.open("w", encoding="utf-8") as handle:
            handle.write("nik,name,amount,paid_on\n")
            for i in range(rows):
                handle.write(f"{1671010101900000 + i},Peserta {i},36800,2026-11-02\n")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        count = 0
        with open_records(path, required=("nik", "name", "amount", "paid_on")) as records:
            for _record in records:
                count += 1
        elapsed = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        size_mb = path.stat().st_size / 1e6
        print(
            f"open_records: {count:,} rows ({size_mb:.0f} MB) in {elapsed:.2f} s "
            f"({count / elapsed:,.0f} rows/s); peak RSS grew by {(rss_after - rss_before) / 1024:.1f} MB"
        )


def bench_nik(count: int = 200_000) -> None:
    engine = make_engine("sqlite://")
    upgrade_schema(engine)
    load_reference_data(engine)
    with make_session_factory(engine)() as session:
        districts = district_codes(session)
    ordered = sorted(districts)
    niks = [
        compose_nik(
            ordered[i % len(ordered)],
            date(1960 + i % 60, 1 + i % 12, 1 + i % 28),
            "F",
            1 + i % 9999,
        )
        for i in range(count)
    ]
    started = time.perf_counter()
    valid = sum(
        check_nik(n, known_districts=districts, today=date(2026, 11, 26)).valid for n in niks
    )
    elapsed = time.perf_counter() - started
    print(
        f"check_nik: {count:,} NIKs ({valid:,} valid) in {elapsed:.2f} s ({count / elapsed:,.0f}/s)"
    )


if __name__ == "__main__":
    bench_read()
    bench_load(sys.argv[1] if len(sys.argv) > 1 else None)
    bench_nik()
