"""Issue 19, item 5 on SQLite and PostgreSQL: every one of the 514 regencies is served by a
branch under the regional office of its province (the 10 shipped branches as they were, a
documented default branch for every other regency); ``cakupan offices import`` takes a regency
over from a default branch; a participant registered in Jakarta gets a branch."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cakupan import regions
from cakupan.auth import Actor
from cakupan.dates import JAKARTA, FixedClock
from cakupan.regions.models import Branch, BranchRegency, Regency, RegionProvince
from cakupan.regions.reference import DEFAULT_BRANCHES_CSV, OFFICES_CSV
from cakupan.registry import RegistrationRow, register_participant
from tests.conftest import CliResult

Cli = Callable[..., CliResult]
AREA_REGENCIES = (
    Path(__file__).resolve().parents[2] / "src/cakupan/regions/data/idn-area-data/regencies.csv"
)


def test_every_regency_is_served_by_a_branch_of_its_provinces_region(session: Session) -> None:
    regencies = dict(session.execute(select(Regency.code, Regency.province_code)).all())
    with AREA_REGENCIES.open(encoding="utf-8") as handle:
        assert set(regencies) == {row["code"] for row in csv.DictReader(handle)}
    assert len(regencies) == 514
    served = dict(
        session.execute(select(BranchRegency.regency_code, BranchRegency.branch_code)).all()
    )
    assert set(served) == set(regencies)  # all 514, each by exactly one branch (primary key)
    branch_region = dict(session.execute(select(Branch.code, Branch.region_code)).all())
    province_region = dict(
        session.execute(select(RegionProvince.province_code, RegionProvince.region_code)).all()
    )
    for regency, province in regencies.items():
        assert branch_region[served[regency]] == province_region[province], regency
    # the ten shipped branches keep their codes and coverage; every other regency has a default
    with OFFICES_CSV.open(encoding="utf-8") as handle:
        shipped = {row["code"]: set(row["regency_codes"].split()) for row in csv.DictReader(handle)}
    assert len(shipped) == 10
    for code, covers in shipped.items():
        assert regions.branch_regencies(session, code) == covers
    with DEFAULT_BRANCHES_CSV.open(encoding="utf-8") as handle:
        defaults = list(csv.DictReader(handle))
    assert len(defaults) == 514 - sum(len(c) for c in shipped.values()) == 491
    assert regions.branch_for_regency(session, "31.74") == "D3174"
    assert regions.region_of_branch(session, "D3174") == "DKI"
    assert session.get(Branch, "D3174").name == "Cabang bawaan Kota Administrasi Jakarta Selatan"  # type: ignore[union-attr]


def test_a_participant_registered_in_jakarta_gets_a_branch(session: Session) -> None:
    clock = FixedClock(datetime(2026, 11, 30, 12, 0, tzinfo=JAKARTA))
    row = RegistrationRow(
        row=1,
        nik="3174010101900001",  # Jakarta Selatan 31.74.01, born 1990-01-01
        name="Budi Jakarta",
        phone="081234567890",
        occupation="street_vendor",
        reported_income=2_000_000,
        programs="JKK+JKM",
        registered_on="2026-11-03",
    )
    registration = register_participant(session, Actor.system("test"), row, clock=clock)
    assert registration.branch_code == "D3174"


def test_an_import_takes_regencies_over_from_default_branches(
    cli: Cli, tmp_path: Path, session: Session
) -> None:
    path = tmp_path / "offices.csv"
    path.write_text(
        "kind,code,name,parent_code,province_codes,regency_codes\n"
        "branch,JKTSEL,Jakarta Selatan,DKI,,31.74 31.71\n",
        encoding="utf-8",
    )
    result = cli("offices", "import", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["accepted"] == 1
    assert regions.branch_for_regency(session, "31.74") == "JKTSEL"
    assert regions.branch_for_regency(session, "31.71") == "JKTSEL"
    assert regions.branch_regencies(session, "D3174") == set()  # left empty, kept (history)
    # a regency of a real branch is still refused
    other = tmp_path / "other.csv"
    other.write_text(
        "kind,code,name,parent_code,province_codes,regency_codes\n"
        "branch,JKTX,Jakarta X,DKI,,31.74\n",
        encoding="utf-8",
    )
    refused = json.loads(cli("offices", "import", str(other), "--json").stdout)
    assert refused["rejected"] == 1
    assert "31.74 (JKTSEL)" in refused["errors"][0]["message"]
