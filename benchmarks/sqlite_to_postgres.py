"""Copy a seeded SQLite database into a new PostgreSQL database, set-based (COPY), so that a
benchmark at 1,000,000 participants runs on both engines over the same data without seeding
PostgreSQL for an hour.

    .venv/bin/python -m benchmarks.sqlite_to_postgres /work/bench1m/seed-1m.db ck_bench1m

Steps: create the database (dropped first if it exists), ``cakupan db upgrade`` (schema and
reference data), empty every table, then per table of the schema (in foreign-key order) stream
the SQLite rows into ``COPY ... FROM STDIN`` with the foreign-key triggers off, set every
identity sequence past the copied ids, and ``ANALYZE``. Prints the rows per table and the time.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from typing import Any

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.common import PG_ADMIN_URL
from cakupan.bootstrap import ensure_ready
from cakupan.schema import metadata

BATCH = 20_000


def _admin(sql: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def copy(sqlite_path: str, database: str) -> dict[str, Any]:
    started = time.perf_counter()
    _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{database}"')
    url = make_url(PG_ADMIN_URL).set(database=database)
    engine = create_engine(url)
    ensure_ready(engine)
    engine.dispose()
    source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    present = {
        row[0] for row in source.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    # tables added by migrations newer than the seeded file stay empty
    tables = [t for t in metadata.sorted_tables if t.name in present]
    counts: dict[str, int] = {}
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK triggers while copying
        conn.execute("SET timezone = 'UTC'")  # SQLite keeps instants as naive UTC
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        conn.execute(f"TRUNCATE {names}")
        for table in tables:
            columns = [c.name for c in table.columns]
            quoted = ", ".join(f'"{c}"' for c in columns)
            cursor = source.execute(f'SELECT {quoted} FROM "{table.name}"')
            n = 0
            with conn.cursor().copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as out:
                while rows := cursor.fetchmany(BATCH):
                    for row in rows:
                        out.write_row(row)
                    n += len(rows)
            counts[table.name] = n
            print(f"{table.name}: {n:,}", flush=True)
        for table in tables:
            for column in table.primary_key.columns:
                if column.autoincrement is True or (
                    column.autoincrement == "auto" and len(table.primary_key.columns) == 1
                ):
                    sequence = conn.execute(
                        "SELECT pg_get_serial_sequence(%s, %s)", (f'"{table.name}"', column.name)
                    ).fetchone()
                    if sequence and sequence[0]:
                        conn.execute(
                            f'SELECT setval(%s, COALESCE((SELECT MAX("{column.name}")'
                            f' FROM "{table.name}"), 0) + 1, false)',
                            (sequence[0],),
                        )
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {"rows": counts, "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sqlite_path")
    parser.add_argument("database", help="name of the PostgreSQL database to (re)create")
    args = parser.parse_args()
    print(json.dumps(copy(args.sqlite_path, args.database)), flush=True)


if __name__ == "__main__":
    main()
