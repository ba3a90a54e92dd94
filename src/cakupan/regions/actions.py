"""The write path of offices: importing a file of regional offices and branches.

Areas (provinces ... villages) are reference data loaded by :mod:`cakupan.regions.reference`;
offices are reference data a user extends with ``cakupan offices import FILE``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.orm import Session

from cakupan.auth import Actor
from cakupan.i18n import Text
from cakupan.imports import ImportResult, open_records, post_file
from cakupan.regions.models import (
    Branch,
    BranchRegency,
    OfficeRegion,
    Province,
    Regency,
    RegionProvince,
)
from cakupan.regions.rules import OfficeRow, Problems, parse_office_row

#: Columns of an offices file (``cakupan offices import``).
OFFICE_COLUMNS_REQUIRED = ("kind", "code", "name")
OFFICE_COLUMNS_OPTIONAL = ("parent_code", "province_codes", "regency_codes")


def import_offices(
    engine: Engine, actor: Actor, path: Path | str, *, partial: bool = False
) -> ImportResult:
    """Post a CSV/XLSX file of offices (one transaction, audited once as ``office.import``).

    Each row is the whole truth about one office: a ``region`` row gives its name and every
    province it covers; a ``branch`` row its name, its region (``parent_code``) and every regency
    it serves. A row equal to what is stored counts as a duplicate; a row for an existing code
    with other values updates it. All-or-nothing unless ``partial``. Raises ``CakupanError``
    (INVALID) when the file itself is unusable.
    """
    with open_records(
        path, required=OFFICE_COLUMNS_REQUIRED, optional=OFFICE_COLUMNS_OPTIONAL
    ) as records:

        def post(session: Session, result: ImportResult) -> None:
            parsed: list[tuple[int, OfficeRow, Problems]] = []
            for record in records:
                row, problems = parse_office_row(record.values)
                problems = record.shape_problems() + problems
                if row is None:
                    result.reject(record.row, problems)
                else:
                    parsed.append((record.row, row, problems))
            apply_office_rows(session, parsed, result)
            result.errors.sort(key=lambda error: error.row)

        return post_file(engine, actor, "office", records.source, post, partial=partial)


@dataclass
class _OfficeState:
    """The offices as stored, updated as rows are accepted (so later rows see earlier ones)."""

    province_codes: frozenset[str]
    regency_province: dict[str, str]
    regions: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    branches: dict[str, tuple[str, str, frozenset[str]]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> _OfficeState:
        state = cls(
            frozenset(session.execute(select(Province.code)).scalars()),
            dict(session.execute(select(Regency.code, Regency.province_code)).all()),
        )
        provinces: dict[str, set[str]] = {}
        for region, province in session.execute(
            select(RegionProvince.region_code, RegionProvince.province_code)
        ):
            provinces.setdefault(region, set()).add(province)
        for code, name in session.execute(select(OfficeRegion.code, OfficeRegion.name)):
            state.regions[code] = (name, frozenset(provinces.get(code, ())))
        regencies: dict[str, set[str]] = {}
        for branch, regency in session.execute(
            select(BranchRegency.branch_code, BranchRegency.regency_code)
        ):
            regencies.setdefault(branch, set()).add(regency)
        for code, name, region in session.execute(
            select(Branch.code, Branch.name, Branch.region_code)
        ):
            state.branches[code] = (name, region, frozenset(regencies.get(code, ())))
        return state

    def province_owner(self, province: str) -> str | None:
        return next((c for c, (_, ps) in self.regions.items() if province in ps), None)

    def regency_owner(self, regency: str) -> str | None:
        return next((c for c, (_, _r, rs) in self.branches.items() if regency in rs), None)


def apply_office_rows(
    session: Session, rows: Iterable[tuple[int, OfficeRow, Problems]], result: ImportResult
) -> None:
    """Check parsed office rows (with the problems :func:`parse_office_row` found) against the
    stored offices and areas, write the valid ones and count them into ``result``; a rejected row
    lists its shape problems and those found against the database together. Regions are applied
    before branches, whatever the row order."""
    state = _OfficeState.load(session)
    ordered = sorted(rows, key=lambda item: (item[1].kind != "region", item[0]))
    seen: dict[tuple[str, str], tuple[int, OfficeRow]] = {}
    for number, row, shape in ordered:
        earlier = seen.get((row.kind, row.code))
        if earlier is not None and not shape:
            if earlier[1] == row:
                result.duplicates += 1
            else:
                result.reject(number, [("code", _repeated_in_file(row.code, earlier[0]))])
            continue
        if not shape:
            seen[(row.kind, row.code)] = (number, row)
        if row.kind == "region":
            _apply_region(session, state, number, row, shape, result)
        else:
            _apply_branch(session, state, number, row, shape, result)


def _apply_region(
    session: Session,
    state: _OfficeState,
    number: int,
    row: OfficeRow,
    shape: Problems,
    result: ImportResult,
) -> None:
    stored = state.regions.get(row.code)
    if not shape and stored == (row.name, row.covers):
        result.duplicates += 1
        return
    problems: Problems = list(shape)
    unknown = sorted(p for p in row.covers if p not in state.province_codes)
    if unknown:
        problems.append(
            (
                "province_codes",
                Text(
                    id=f"kode provinsi tidak dikenal: {', '.join(unknown)}",
                    en=f"unknown province codes: {', '.join(unknown)}",
                ),
            )
        )
    taken = sorted(
        f"{p} ({owner})"
        for p in row.covers
        if (owner := state.province_owner(p)) not in (None, row.code)
    )
    if taken:
        problems.append(
            (
                "province_codes",
                Text(
                    id=f"provinsi sudah dicakup kantor wilayah lain: {', '.join(taken)}",
                    en=f"provinces already covered by another regional office: {', '.join(taken)}",
                ),
            )
        )
    defaults = _default_codes()
    orphaned = sorted(
        f"{regency} ({branch})"
        for branch, (_, region, regencies) in state.branches.items()
        if region == row.code and branch not in defaults  # defaults follow their province
        for regency in regencies
        if state.regency_province[regency] not in row.covers
    )
    if orphaned:
        problems.append(
            (
                "province_codes",
                Text(
                    id="provinsi yang dilepas masih dilayani cabang wilayah ini: "
                    + ", ".join(orphaned),
                    en="provinces left out are still served by this region's branches: "
                    + ", ".join(orphaned),
                ),
            )
        )
    if problems:
        result.reject(number, problems)
        return
    if stored is None:
        session.execute(insert(OfficeRegion).values(code=row.code, name=row.name))
    else:
        session.execute(
            update(OfficeRegion).where(OfficeRegion.code == row.code).values(name=row.name)
        )
        session.execute(delete(RegionProvince).where(RegionProvince.region_code == row.code))
    session.execute(
        insert(RegionProvince),
        [{"province_code": p, "region_code": row.code} for p in sorted(row.covers)],
    )
    state.regions[row.code] = (row.name, row.covers)
    # Default branches (issue 19) move with their regency's province to the region taking it.
    for branch, (name, region, regencies) in list(state.branches.items()):
        if (
            branch in defaults
            and region != row.code
            and any(state.regency_province[r] in row.covers for r in regencies)
        ):
            session.execute(
                update(Branch).where(Branch.code == branch).values(region_code=row.code)
            )
            state.branches[branch] = (name, row.code, regencies)
    result.accepted += 1


def _apply_branch(
    session: Session,
    state: _OfficeState,
    number: int,
    row: OfficeRow,
    shape: Problems,
    result: ImportResult,
) -> None:
    stored = state.branches.get(row.code)
    if not shape and stored == (row.name, row.parent_code, row.covers):
        result.duplicates += 1
        return
    problems: Problems = list(shape)
    region = None if row.parent_code is None else state.regions.get(row.parent_code)
    if (
        region is None
        and row.parent_code is not None
        and not any(field == "parent_code" for field, _ in shape)
    ):
        problems.append(
            (
                "parent_code",
                Text(
                    id=f"kantor wilayah {row.parent_code} tidak ada (tambahkan baris region-nya)",
                    en=f"regional office {row.parent_code} does not exist (add its region row)",
                ),
            )
        )
    unknown = sorted(r for r in row.covers if r not in state.regency_province)
    if unknown:
        problems.append(
            (
                "regency_codes",
                Text(
                    id=f"kode kabupaten/kota tidak dikenal: {', '.join(unknown)}",
                    en=f"unknown regency codes: {', '.join(unknown)}",
                ),
            )
        )
    if region is not None:
        outside = sorted(
            r
            for r in row.covers
            if r in state.regency_province and state.regency_province[r] not in region[1]
        )
        if outside:
            problems.append(
                (
                    "regency_codes",
                    Text(
                        id=f"kabupaten/kota di luar provinsi kantor wilayah {row.parent_code}: "
                        + ", ".join(outside),
                        en=f"regencies outside the provinces of regional office {row.parent_code}: "
                        + ", ".join(outside),
                    ),
                )
            )
    # A regency served by a shipped default branch is taken over (issue 19: the defaults stand
    # in for the agency's network until an import replaces them).
    defaults = _default_codes()
    released = {
        r: owner
        for r in row.covers
        if (owner := state.regency_owner(r)) not in (None, row.code) and owner in defaults
    }
    taken = sorted(
        f"{r} ({owner})"
        for r in row.covers
        if (owner := state.regency_owner(r)) not in (None, row.code) and r not in released
    )
    if taken:
        problems.append(
            (
                "regency_codes",
                Text(
                    id=f"kabupaten/kota sudah dilayani cabang lain: {', '.join(taken)}",
                    en=f"regencies already served by another branch: {', '.join(taken)}",
                ),
            )
        )
    if problems:
        result.reject(number, problems)
        return
    assert row.parent_code is not None  # a branch without one has a shape problem
    if released:
        session.execute(
            delete(BranchRegency).where(BranchRegency.regency_code.in_(sorted(released)))
        )
        for regency, owner in released.items():
            name, region_code, covers = state.branches[owner]
            state.branches[owner] = (name, region_code, covers - {regency})
    if stored is None:
        session.execute(
            insert(Branch).values(code=row.code, name=row.name, region_code=row.parent_code)
        )
    else:
        session.execute(
            update(Branch)
            .where(Branch.code == row.code)
            .values(name=row.name, region_code=row.parent_code)
        )
        session.execute(delete(BranchRegency).where(BranchRegency.branch_code == row.code))
    session.execute(
        insert(BranchRegency),
        [{"regency_code": r, "branch_code": row.code} for r in sorted(row.covers)],
    )
    state.branches[row.code] = (row.name, row.parent_code, row.covers)
    result.accepted += 1


def _default_codes() -> frozenset[str]:
    from cakupan.regions.reference import default_branch_codes  # the reference imports us

    return default_branch_codes()


def _repeated_in_file(code: str, first_row: int) -> Text:
    return Text(
        id=f"kode {code} sudah ada di baris {first_row} berkas ini dengan isi berbeda",
        en=f"code {code} already appears in row {first_row} of this file with other values",
    )
