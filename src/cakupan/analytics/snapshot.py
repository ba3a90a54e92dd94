"""A pseudonymous, columnar snapshot of the ledger for national analytics.

The operational database (SQLite or PostgreSQL) answers the branch's questions; national
questions scan millions of payments, so they run on a columnar copy: Parquet files written by
DuckDB, read by DuckDB embedded or by Spark when the data outgrows one machine. A snapshot holds
no NIK, name, phone, e-mail or address below the regency: participants are identified by their
internal id only.

Files of a snapshot directory::

    participants.parquet  participant_id, sex, birth_year, occupation, programs, channel,
                          partner_code, agent_code, branch_code, regency_code, province_code,
                          registered_on
    episodes.parquet      membership_id, participant_id, episode_no, start_month, channel,
                          partner_code, agent_code, province_code, branch_code
    payments.parquet      payment_id, participant_id, membership_id, amount, paid_on,
                          first_month, months, reversed_on, paid_month, reversed_month,
                          province_code, branch_code
    provinces.parquet     province_code, province_name
    regencies.parquet     regency_code, province_code, regency_name
    branches.parquet      branch_code, branch_name, region_code
    manifest.json         as_of, taken_at, source engine, row count and SHA-256 of every file

Episodes and payments repeat their participant's province and branch, and payments carry their
paid and reversed months as month indexes, so that the national report joins nothing to its
largest table. Everything is as of the snapshot's date: registrations and payments made after it are left out,
and a reversal recorded after it is not (yet) a reversal. Months are integers
``year * 12 + month - 1`` as in the ledger.
"""

from __future__ import annotations

import csv
import hashlib
import json
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Engine, text

from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.db import is_postgres, transaction
from cakupan.errors import invalid
from cakupan.i18n import t

#: 2: payments and episodes carry the participant's province and branch, payments their paid and
#: reversed month indexes (the national report then joins nothing to its 100 M payment rows).
SNAPSHOT_VERSION = 2
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Table:
    """One file of a snapshot: its columns with DuckDB types, and the SQL that reads it from the
    operational database (``:as_of`` is the snapshot date)."""

    name: str
    columns: tuple[tuple[str, str], ...]
    source_sql: str


TABLES: tuple[Table, ...] = (
    Table(
        "participants",
        (
            ("participant_id", "BIGINT"),
            ("sex", "VARCHAR"),
            ("birth_year", "INTEGER"),
            ("occupation", "VARCHAR"),
            ("programs", "VARCHAR"),
            ("channel", "VARCHAR"),
            ("partner_code", "VARCHAR"),
            ("agent_code", "VARCHAR"),
            ("branch_code", "VARCHAR"),
            ("regency_code", "VARCHAR"),
            ("province_code", "VARCHAR"),
            ("registered_on", "DATE"),
        ),
        "SELECT id, sex, {birth_year}, occupation, programs, channel, partner_code, agent_code,"
        " branch_code, regency_code, substr(regency_code, 1, 2), registered_on"
        " FROM participant WHERE registered_on <= :as_of",
    ),
    Table(
        "episodes",
        (
            ("membership_id", "BIGINT"),
            ("participant_id", "BIGINT"),
            ("episode_no", "INTEGER"),
            ("start_month", "INTEGER"),
            ("channel", "VARCHAR"),
            ("partner_code", "VARCHAR"),
            ("agent_code", "VARCHAR"),
            ("province_code", "VARCHAR"),
            ("branch_code", "VARCHAR"),
        ),
        "SELECT m.id, m.participant_id, m.episode_no, m.start_month, m.channel, m.partner_code,"
        " m.agent_code, substr(pt.regency_code, 1, 2), pt.branch_code"
        " FROM membership m JOIN participant pt ON pt.id = m.participant_id"
        " WHERE m.registered_on <= :as_of",
    ),
    Table(
        "payments",
        (
            ("payment_id", "BIGINT"),
            ("participant_id", "BIGINT"),
            ("membership_id", "BIGINT"),
            ("amount", "BIGINT"),
            ("paid_on", "DATE"),
            ("first_month", "INTEGER"),
            ("months", "INTEGER"),
            ("reversed_on", "DATE"),
            ("paid_month", "INTEGER"),
            ("reversed_month", "INTEGER"),
            ("province_code", "VARCHAR"),
            ("branch_code", "VARCHAR"),
        ),
        "SELECT p.id, p.participant_id, p.membership_id, p.amount, p.paid_on, p.first_month,"
        " p.months, r.reversed_on, {paid_month}, {reversed_month},"
        " substr(pt.regency_code, 1, 2), pt.branch_code FROM payment p"
        " JOIN participant pt ON pt.id = p.participant_id"
        " LEFT JOIN payment_reversal r ON r.payment_id = p.id AND r.reversed_on <= :as_of"
        " WHERE p.paid_on <= :as_of",
    ),
    Table(
        "provinces",
        (("province_code", "VARCHAR"), ("province_name", "VARCHAR")),
        "SELECT code, name FROM province",
    ),
    Table(
        "regencies",
        (("regency_code", "VARCHAR"), ("province_code", "VARCHAR"), ("regency_name", "VARCHAR")),
        "SELECT code, province_code, name FROM regency",
    ),
    Table(
        "branches",
        (("branch_code", "VARCHAR"), ("branch_name", "VARCHAR"), ("region_code", "VARCHAR")),
        "SELECT code, name, region_code FROM branch",
    ),
)


@dataclass(frozen=True)
class Snapshot:
    """A snapshot directory and its manifest."""

    path: Path
    as_of: date
    taken_at: str
    source: str
    rows: dict[str, int]
    sha256: dict[str, str]

    def file(self, table: str) -> Path:
        return self.path / f"{table}.parquet"

    def as_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "version": SNAPSHOT_VERSION,
            "as_of": self.as_of.isoformat(),
            "taken_at": self.taken_at,
            "source": self.source,
            "rows": dict(self.rows),
            "sha256": dict(self.sha256),
        }


def _month_index(column: str, postgres: bool) -> str:
    """``year * 12 + month - 1`` of a date column (NULL stays NULL), in the source's SQL."""
    if postgres:
        return (
            f"CAST(EXTRACT(YEAR FROM {column}) AS INTEGER) * 12"
            f" + CAST(EXTRACT(MONTH FROM {column}) AS INTEGER) - 1"
        )
    return (
        f"CAST(substr({column}, 1, 4) AS INTEGER) * 12"
        f" + CAST(substr({column}, 6, 2) AS INTEGER) - 1"
    )


def _source_sql(table: Table, postgres: bool) -> str:
    birth_year = (
        "CAST(EXTRACT(YEAR FROM birth_date) AS INTEGER)"
        if postgres
        else "CAST(substr(birth_date, 1, 4) AS INTEGER)"
    )
    return (
        table.source_sql.replace("{birth_year}", birth_year)
        .replace("{paid_month}", _month_index("p.paid_on", postgres))
        .replace("{reversed_month}", _month_index("r.reversed_on", postgres))
    )


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _write_csv_generic(engine: Engine, sql: str, as_of: date, target: Path) -> None:
    """Stream rows of ``sql`` to a CSV file (empty field = NULL) without holding them in RAM."""
    with engine.connect() as conn, target.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        result = conn.execution_options(stream_results=True, yield_per=50_000).execute(
            text(sql), {"as_of": as_of}
        )
        for chunk in result.partitions():
            writer.writerows([_csv_value(v) for v in row] for row in chunk)


def _write_csv_postgres(engine: Engine, sql: str, as_of: date, target: Path) -> None:
    """PostgreSQL: ``COPY (query) TO STDOUT`` straight into the file."""
    literal = sql.replace(":as_of", f"DATE '{as_of.isoformat()}'")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with (
            target.open("wb") as out,
            cursor.copy(f"COPY ({literal}) TO STDOUT WITH (FORMAT csv)") as copy,
        ):
            for block in copy:
                out.write(block)
        raw.rollback()
    finally:
        raw.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _staged_select(table: Table, staged: Path) -> str:
    """The typed rows of a staged CSV file; an empty table (no row to read) keeps its columns."""
    if staged.stat().st_size == 0:
        typed = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in table.columns)
        return f"SELECT {typed} WHERE false"
    return (
        f"SELECT * FROM read_csv('{staged}', header = false, "
        f"columns = {_columns_clause(table.columns)}, nullstr = '', "
        "quote = '\"', escape = '\"')"
    )


def _columns_clause(columns: Sequence[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns) + "}"


def take_snapshot(
    engine: Engine, actor: Actor, out: Path, *, as_of: date, taken_at: datetime
) -> Snapshot:
    """Write a snapshot of the ledger as of ``as_of`` into the directory ``out`` (created; files
    already there are replaced) and audit it (``analytics.snapshot``: where, as of when, row
    counts and hashes). Reads in one pass per table, memory bounded."""
    out.mkdir(parents=True, exist_ok=True)
    postgres = is_postgres(engine)
    rows: dict[str, int] = {}
    hashes: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="cakupan-snapshot-") as scratch:
        con = duckdb.connect()
        try:
            for table in TABLES:
                staged = Path(scratch) / f"{table.name}.csv"
                sql = _source_sql(table, postgres)
                if postgres:
                    _write_csv_postgres(engine, sql, as_of, staged)
                else:
                    _write_csv_generic(engine, sql, as_of, staged)
                target = out / f"{table.name}.parquet"
                con.execute(
                    f"COPY ({_staged_select(table, staged)}) "
                    f"TO '{target}' (FORMAT parquet, COMPRESSION zstd)"
                )
                count = con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()
                rows[table.name] = int(count[0]) if count else 0
                hashes[table.name] = _sha256(target)
        finally:
            con.close()
    snapshot = Snapshot(out, as_of, taken_at.isoformat(), engine.dialect.name, rows, hashes)
    (out / MANIFEST).write_text(
        json.dumps(snapshot.as_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    with transaction(engine) as session:
        record_audit(
            session,
            actor,
            "analytics.snapshot",
            "snapshot",
            None,
            after=snapshot.as_json(),
            at=taken_at,
        )
    return snapshot


def snapshot_version(path: Path) -> int | None:
    """The format version of the snapshot in ``path`` (None when there is none to read)."""
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return version if isinstance(version, int) else None


def open_snapshot(path: Path) -> Snapshot:
    """Read a snapshot's manifest and check its files are the ones it names (SHA-256)."""
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise invalid(
            "--snapshot",
            t(
                "diharapkan direktori snapshot berisi {m}, diterima {p}",
                "expected a snapshot directory holding {m}, got {p}",
            ).format(m=MANIFEST, p=str(path)),
        )
    data = json.loads(manifest_path.read_text(encoding="utf-8"))
    if data.get("version") != SNAPSHOT_VERSION:
        raise invalid(
            "--snapshot",
            t(
                "versi snapshot {v} tidak dikenal (diharapkan {e}): ambil snapshot baru dengan "
                "cakupan analytics snapshot",
                "unknown snapshot version {v} (expected {e}): take a new one with "
                "cakupan analytics snapshot",
            ).format(v=data.get("version"), e=SNAPSHOT_VERSION),
        )
    snapshot = Snapshot(
        path,
        date.fromisoformat(data["as_of"]),
        data["taken_at"],
        data["source"],
        {k: int(v) for k, v in data["rows"].items()},
        dict(data["sha256"]),
    )
    for name in _names(TABLES):
        file = snapshot.file(name)
        if not file.is_file() or _sha256(file) != snapshot.sha256.get(name):
            raise invalid(
                f"{name}.parquet",
                t(
                    "berkas snapshot hilang atau berubah sejak diambil (SHA-256 berbeda)",
                    "snapshot file missing or changed since it was taken (SHA-256 differs)",
                ),
            )
    return snapshot


def _names(tables: Iterable[Table]) -> list[str]:
    return [table.name for table in tables]
