"""Read side of areas and offices. Offices and areas are organisation-wide reference data: every
role may read them, so these functions take no actor."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from cakupan.regions.models import (
    Branch,
    BranchRegency,
    District,
    OfficeRegion,
    Province,
    Regency,
    RegionProvince,
    Village,
)
from cakupan.regions.rules import DISTRICT_RE, PROVINCE_RE, REGENCY_RE, VILLAGE_RE, regency_of

AreaLevel = Literal["province", "regency", "district", "village"]


@dataclass(frozen=True)
class BranchInfo:
    """A branch office with the regencies it serves."""

    code: str
    name: str
    region_code: str
    regency_codes: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "region_code": self.region_code,
            "regency_codes": list(self.regency_codes),
        }


@dataclass(frozen=True)
class RegionInfo:
    """A regional office with its provinces and branches."""

    code: str
    name: str
    province_codes: tuple[str, ...]
    branches: tuple[BranchInfo, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "province_codes": list(self.province_codes),
            "branches": [b.as_json() for b in self.branches],
        }


@dataclass(frozen=True)
class AreaInfo:
    """One area of any level, with its parents' codes and the branch serving it (if any)."""

    code: str
    level: AreaLevel
    name: str
    parent_code: str | None
    branch_code: str | None
    region_code: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "level": self.level,
            "name": self.name,
            "parent_code": self.parent_code,
            "branch_code": self.branch_code,
            "region_code": self.region_code,
        }


def district_codes(session: Session) -> frozenset[str]:
    """Every known district (kecamatan) code, ``PP.RR.DD`` (for NIK checks of many rows)."""
    return frozenset(session.execute(select(District.code)).scalars())


def district_exists(session: Session, code: str) -> bool:
    """Whether ``code`` (``PP.RR.DD``) is a known district."""
    return bool(session.execute(select(exists().where(District.code == code))).scalar())


def regency_exists(session: Session, code: str) -> bool:
    """Whether ``code`` (``PP.RR``) is a known regency or city."""
    return bool(session.execute(select(exists().where(Regency.code == code))).scalar())


def village_exists(session: Session, code: str) -> bool:
    """Whether ``code`` (``PP.RR.DD.VVVV``) is a known village."""
    return bool(session.execute(select(exists().where(Village.code == code))).scalar())


def branch_for_regency(session: Session, regency_code: str) -> str | None:
    """The code of the branch serving a regency, or None when no branch serves it."""
    return session.execute(
        select(BranchRegency.branch_code).where(BranchRegency.regency_code == regency_code)
    ).scalar_one_or_none()


def branch_for_area(session: Session, code: str) -> str | None:
    """The branch serving the regency of a regency, district or village code (None if none or
    if ``code`` is not such a code)."""
    try:
        regency = regency_of(code)
    except ValueError:
        return None
    return branch_for_regency(session, regency)


def region_of_branch(session: Session, branch_code: str) -> str | None:
    """The regional office of a branch, or None for an unknown branch."""
    return session.execute(
        select(Branch.region_code).where(Branch.code == branch_code)
    ).scalar_one_or_none()


def branch_regencies(session: Session, branch_code: str) -> frozenset[str]:
    """The regency codes a branch serves (empty for an unknown branch)."""
    return frozenset(
        session.execute(
            select(BranchRegency.regency_code).where(BranchRegency.branch_code == branch_code)
        ).scalars()
    )


def regency_branches(session: Session) -> dict[str, str]:
    """Every served regency with its branch code (one query; for mapping many rows at once)."""
    rows = session.execute(select(BranchRegency.regency_code, BranchRegency.branch_code)).all()
    return {regency: branch_code for regency, branch_code in rows}  # noqa: C416 (Row pairs)


def branch_district_codes(session: Session, branch_code: str) -> list[str]:
    """The district codes inside the regencies a branch serves, sorted (e.g. to place demo
    participants, or to plan sosialisasi per kecamatan)."""
    return list(
        session.execute(
            select(District.code)
            .join(BranchRegency, BranchRegency.regency_code == District.regency_code)
            .where(BranchRegency.branch_code == branch_code)
            .order_by(District.code)
        ).scalars()
    )


def branches_of_region(session: Session, region_code: str) -> list[str]:
    """The branch codes under a regional office, sorted."""
    return list(
        session.execute(
            select(Branch.code).where(Branch.region_code == region_code).order_by(Branch.code)
        ).scalars()
    )


def branch(session: Session, code: str) -> BranchInfo | None:
    """One branch with its regencies, or None."""
    row = session.execute(
        select(Branch.name, Branch.region_code).where(Branch.code == code)
    ).one_or_none()
    if row is None:
        return None
    return BranchInfo(
        code, row.name, row.region_code, tuple(sorted(branch_regencies(session, code)))
    )


def list_offices(session: Session) -> list[RegionInfo]:
    """Every regional office with its provinces and branches (three queries), sorted by code."""
    provinces: dict[str, list[str]] = {}
    for region, province in session.execute(
        select(RegionProvince.region_code, RegionProvince.province_code).order_by(
            RegionProvince.province_code
        )
    ):
        provinces.setdefault(region, []).append(province)
    regencies: dict[str, list[str]] = {}
    for branch_code, regency in session.execute(
        select(BranchRegency.branch_code, BranchRegency.regency_code).order_by(
            BranchRegency.regency_code
        )
    ):
        regencies.setdefault(branch_code, []).append(regency)
    branches: dict[str, list[BranchInfo]] = {}
    for code, name, region in session.execute(
        select(Branch.code, Branch.name, Branch.region_code).order_by(Branch.code)
    ):
        branches.setdefault(region, []).append(
            BranchInfo(code, name, region, tuple(regencies.get(code, ())))
        )
    return [
        RegionInfo(code, name, tuple(provinces.get(code, ())), tuple(branches.get(code, ())))
        for code, name in session.execute(
            select(OfficeRegion.code, OfficeRegion.name).order_by(OfficeRegion.code)
        )
    ]


def area(session: Session, code: str) -> AreaInfo | None:
    """Look up an area of any level by its code (``16``, ``16.71``, ``16.71.01``,
    ``16.71.01.1001``); None when unknown or malformed."""
    code = code.strip()
    found: tuple[str, str | None] | None = None
    level: AreaLevel
    if PROVINCE_RE.match(code):
        level = "province"
        name = session.execute(select(Province.name).where(Province.code == code)).scalar()
        found = None if name is None else (name, None)
    elif REGENCY_RE.match(code):
        level = "regency"
        row = session.execute(
            select(Regency.name, Regency.province_code).where(Regency.code == code)
        ).one_or_none()
        found = None if row is None else (row[0], row[1])
    elif DISTRICT_RE.match(code):
        level = "district"
        row = session.execute(
            select(District.name, District.regency_code).where(District.code == code)
        ).one_or_none()
        found = None if row is None else (row[0], row[1])
    elif VILLAGE_RE.match(code):
        level = "village"
        row = session.execute(
            select(Village.name, Village.district_code).where(Village.code == code)
        ).one_or_none()
        found = None if row is None else (row[0], row[1])
    else:
        return None
    if found is None:
        return None
    branch_code = None if level == "province" else branch_for_area(session, code)
    if branch_code is not None:
        region_code = region_of_branch(session, branch_code)
    else:
        region_code = session.execute(
            select(RegionProvince.region_code).where(RegionProvince.province_code == code[:2])
        ).scalar_one_or_none()
    return AreaInfo(code, level, found[0], found[1], branch_code, region_code)


_AREA_CODE = re.compile(r"\b(\d{2}\.\d{2}\.\d{2}(?:\.\d{4})?)\b")


def search_areas(
    session: Session,
    text: str,
    *,
    level: str = "district",
    within: str | None = None,
    limit: int = 15,
) -> list[tuple[str, str]]:
    """Districts (or villages, within a district when ``within`` is given) whose name contains
    ``text`` (case-insensitive), as ``(code, "Name, Regency")`` pairs for a picker; a code
    typed whole finds that area. Villages show their district."""
    from cakupan.regions.models import District, Regency, Village

    needle = text.strip()
    if len(needle) < 2:
        return []
    pattern = f"%{needle.lower()}%"
    if level == "village":
        query = (
            select(Village.code, Village.name, District.name)
            .join(District, District.code == Village.district_code)
            .where(func.lower(Village.name).like(pattern) | (Village.code == needle))
        )
        if within:
            query = query.where(Village.district_code == within)
        rows = session.execute(query.order_by(Village.name, Village.code).limit(limit)).all()
    else:
        query = (
            select(District.code, District.name, Regency.name)
            .join(Regency, Regency.code == District.regency_code)
            .where(func.lower(District.name).like(pattern) | (District.code == needle))
        )
        rows = session.execute(query.order_by(District.name, District.code).limit(limit)).all()
    return [(code, f"{name.title()}, {parent.title()}") for code, name, parent in rows]


def resolve_area(
    session: Session, text: str, *, level: str = "district", within: str | None = None
) -> str | None:
    """The code of the area a picker's text names: a code in it (``Kemuning, Kota Palembang
    (16.71.01)`` or ``16.71.01``), else the one area of exactly that name (None when there is
    none or several; the caller names the field)."""
    value = text.strip()
    if not value:
        return None
    found = _AREA_CODE.search(value)
    if found:
        return found.group(1)
    typed = " ".join(value.lower().split())
    name = typed.split(",")[0].strip()
    candidates = search_areas(session, name, level=level, within=within, limit=50)
    whole = [code for code, label in candidates if label.lower() == typed]
    if len(whole) == 1:
        return whole[0]
    named = [code for code, label in candidates if label.split(",")[0].strip().lower() == name]
    return named[0] if len(named) == 1 else None
