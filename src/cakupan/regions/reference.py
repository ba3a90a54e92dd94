"""Reference loaders of the regions area: Indonesia's areas (vendored idn-area-data) and the
shipped BPJS TK offices. Listed in :data:`cakupan.reference.REFERENCE_LOADERS`.

Loading is idempotent: codes already in the database are left alone, missing ones are added. The
first load of the 83,763 villages takes about a second: psycopg ``COPY`` on PostgreSQL, batched
``executemany`` on SQLite.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from cakupan.db import is_postgres
from cakupan.imports import ImportResult, in_batches
from cakupan.regions.actions import apply_office_rows
from cakupan.regions.models import (
    Branch,
    BranchRegency,
    District,
    OfficeRegion,
    Province,
    Regency,
    Village,
)
from cakupan.regions.rules import OfficeRow, Problems, parse_office_row

DATA_DIR = Path(__file__).parent / "data"
AREA_DATA_DIR = DATA_DIR / "idn-area-data"
OFFICE_REGIONS_CSV = DATA_DIR / "office_regions.csv"
OFFICES_CSV = DATA_DIR / "offices.csv"
#: One documented default branch per regency that no shipped branch serves (issue 19): every
#: regency is served, under the regional office of its province. ``cakupan offices import``
#: replaces them (see docs/regions.md).
DEFAULT_BRANCHES_CSV = DATA_DIR / "default_branches.csv"

_BATCH = 10_000


@dataclass(frozen=True)
class _AreaFile:
    table: Table
    file_name: str
    columns: tuple[str, str, str]


_AREA_FILES = (
    _AreaFile(Province.__table__, "provinces.csv", ("code", "name", "")),  # type: ignore[arg-type]
    _AreaFile(Regency.__table__, "regencies.csv", ("code", "province_code", "name")),  # type: ignore[arg-type]
    _AreaFile(District.__table__, "districts.csv", ("code", "regency_code", "name")),  # type: ignore[arg-type]
    _AreaFile(Village.__table__, "villages.csv", ("code", "district_code", "name")),  # type: ignore[arg-type]
)


def _columns(area: _AreaFile) -> list[str]:
    return [column for column in area.columns if column]


def _rows(area: _AreaFile) -> Iterator[tuple[str, ...]]:
    with (AREA_DATA_DIR / area.file_name).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        names = _columns(area)
        for record in reader:
            yield tuple(record[name].strip() for name in names)


@cache
def _shipped_count(area: _AreaFile) -> int:
    data = (AREA_DATA_DIR / area.file_name).read_bytes().rstrip(b"\n")
    return data.count(b"\n")  # lines after the header (the files hold no blank lines)


def areas_loaded(session: Session) -> bool:
    """Whether every shipped area is in the database (compared by count per level)."""
    return all(
        session.execute(select(func.count()).select_from(area.table)).scalar_one()
        >= _shipped_count(area)
        for area in _AREA_FILES
    )


def load_areas(session: Session) -> int:
    """Add the shipped provinces, regencies, districts and villages the database lacks."""
    added = 0
    for area in _AREA_FILES:
        columns = _columns(area)
        code_column = area.table.c.code
        present = session.execute(select(func.count()).select_from(area.table)).scalar_one()
        existing: set[str] = set()
        if present:
            existing = set(session.execute(select(code_column)).scalars())
        rows = (row for row in _rows(area) if row[0] not in existing)
        if is_postgres(session):
            added += _copy_rows(session, area.table.name, columns, rows)
            continue
        for batch in in_batches(rows, _BATCH):
            session.execute(
                insert(area.table), [dict(zip(columns, row, strict=True)) for row in batch]
            )
            added += len(batch)
    return added


def _copy_rows(
    session: Session, table: str, columns: list[str], rows: Iterator[tuple[str, ...]]
) -> int:
    """psycopg COPY inside the session's transaction (PostgreSQL only)."""
    driver_connection: Any = session.connection().connection.driver_connection
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    count = 0
    with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def shipped_office_rows() -> list[tuple[int, OfficeRow]]:
    """The regional offices and branches shipped in ``data/``, as parsed office rows."""
    rows: list[tuple[int, OfficeRow]] = []
    with OFFICE_REGIONS_CSV.open(encoding="utf-8", newline="") as handle:
        for number, record in enumerate(csv.DictReader(handle), start=2):
            rows.append((number, _parsed({"kind": "region", **record}, OFFICE_REGIONS_CSV, number)))
    with OFFICES_CSV.open(encoding="utf-8", newline="") as handle:
        for number, record in enumerate(csv.DictReader(handle), start=2):
            values = {"kind": "branch", "parent_code": record.pop("region_code"), **record}
            rows.append((number, _parsed(values, OFFICES_CSV, number)))
    return rows


@cache
def default_branch_rows() -> tuple[tuple[int, OfficeRow], ...]:
    """The default branches shipped in ``data/default_branches.csv`` (one per regency that no
    shipped branch serves; code ``D`` + the regency's digits, e.g. ``D3171``)."""
    rows: list[tuple[int, OfficeRow]] = []
    with DEFAULT_BRANCHES_CSV.open(encoding="utf-8", newline="") as handle:
        for number, record in enumerate(csv.DictReader(handle), start=2):
            values = {"kind": "branch", "parent_code": record.pop("region_code"), **record}
            rows.append((number, _parsed(values, DEFAULT_BRANCHES_CSV, number)))
    return tuple(rows)


@cache
def default_branch_codes() -> frozenset[str]:
    """Codes of the shipped default branches (their regencies may be taken over by an import)."""
    return frozenset(row.code for _, row in default_branch_rows())


def _parsed(values: dict[str, str], path: Path, number: int) -> OfficeRow:
    row, problems = parse_office_row(values)
    if row is None or problems:
        details = "; ".join(f"{f}: {m.en}" for f, m in problems)
        raise RuntimeError(f"shipped office data {path.name} row {number} is invalid: {details}")
    return row


def offices_loaded(session: Session) -> bool:
    """Whether every shipped office code exists (a user's later changes to them are kept) and
    every regency is served by a branch."""
    shipped = shipped_office_rows()
    regions = set(session.execute(select(OfficeRegion.code)).scalars())
    branches = set(session.execute(select(Branch.code)).scalars())
    if not all(row.code in (regions if row.kind == "region" else branches) for _, row in shipped):
        return False
    return not _unserved_regencies(session)


def _unserved_regencies(session: Session) -> set[str]:
    return set(session.execute(select(Regency.code)).scalars()) - set(
        session.execute(select(BranchRegency.regency_code)).scalars()
    )


def load_offices(session: Session) -> int:
    """Add the shipped offices whose codes are missing."""
    regions = set(session.execute(select(OfficeRegion.code)).scalars())
    branches = set(session.execute(select(Branch.code)).scalars())
    missing = [
        (number, row)
        for number, row in shipped_office_rows()
        if row.code not in (regions if row.kind == "region" else branches)
    ]
    result = ImportResult()
    apply_office_rows(session, [(number, row, []) for number, row in missing], result)
    if result.rejected:
        details = "; ".join(f"row {e.row} {e.field}: {e.message.en}" for e in result.errors)
        raise RuntimeError(f"shipped office data conflicts with the database: {details}")
    # Then a default branch for each regency still served by none (a regency a user's branch
    # serves keeps that branch; a default code already present is left as the user made it).
    session.flush()
    unserved = _unserved_regencies(session)
    branches = set(session.execute(select(Branch.code)).scalars())
    defaults: list[tuple[int, OfficeRow, Problems]] = [
        (number, row, [])
        for number, row in default_branch_rows()
        if row.covers <= unserved and row.code not in branches
    ]
    apply_office_rows(session, defaults, result)
    if result.rejected:
        details = "; ".join(f"row {e.row} {e.field}: {e.message.en}" for e in result.errors)
        raise RuntimeError(f"default branches conflict with the database: {details}")
    return result.accepted
