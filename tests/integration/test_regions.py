"""Areas and offices: shipped reference data, the read API, and ``cakupan offices import``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from cakupan import regions
from cakupan.audit import AuditEntry
from cakupan.bootstrap import load_reference_data
from cakupan.regions.models import Branch, District, Province, Regency, Village
from tests.conftest import CliResult

Cli = Callable[..., CliResult]


def _count(session: Session, model: type) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_every_shipped_area_is_loaded(session: Session) -> None:
    assert _count(session, Province) == 38
    assert _count(session, Regency) == 514
    assert _count(session, District) == 7277
    assert _count(session, Village) == 83763
    info = regions.area(session, "16.71.01.1001")
    assert info is not None
    assert (info.level, info.parent_code, info.branch_code, info.region_code) == (
        "village",
        "16.71.01",
        "PLG",
        "SUMBAGSEL",
    )


def test_reloading_reference_data_adds_nothing(engine: Engine) -> None:
    assert load_reference_data(engine, only_missing=False)["areas"] == 0
    assert load_reference_data(engine, only_missing=False)["offices"] == 0


def test_a_missing_village_is_added_back(engine: Engine, session: Session) -> None:
    with session.begin():
        session.execute(Village.__table__.delete().where(Village.code == "16.71.01.1001"))
    assert load_reference_data(engine) == {"areas": 1}
    assert regions.village_exists(session, "16.71.01.1001")


def test_shipped_offices(session: Session) -> None:
    offices = {region.code: region for region in regions.list_offices(session)}
    sumbagsel = offices["SUMBAGSEL"]
    assert sumbagsel.province_codes == ("15", "16", "17", "18", "19")
    palembang = next(b for b in sumbagsel.branches if b.code == "PLG")
    assert palembang.regency_codes == ("16.02", "16.06", "16.10", "16.71")
    assert regions.branch_for_regency(session, "18.71") == "BDL"
    assert regions.branch_regencies(session, "MDN") == {"35.19", "35.77"}
    assert regions.branch_regencies(session, "SMG") == {"33.74", "33.22"}
    assert regions.region_of_branch(session, "MDN") == "JATIM"
    assert regions.region_of_branch(session, "SMG") == "JATENGDIY"
    assert regions.region_of_branch(session, "XXX") is None
    assert regions.branch_for_regency(session, "16.01") == "D1601"  # a default branch (issue 19)
    assert regions.branch_for_area(session, "35.77.01") == "MDN"
    assert regions.branch_for_area(session, "35") is None
    # every province belongs to exactly one regional office
    covered = [p for region in offices.values() for p in region.province_codes]
    assert sorted(covered) == sorted(session.execute(select(Province.code)).scalars())


def test_existence_checks(session: Session) -> None:
    codes = regions.district_codes(session)
    assert len(codes) == 7277
    assert "16.71.01" in codes
    assert regions.district_exists(session, "16.71.01")
    assert not regions.district_exists(session, "16.71.99")
    assert regions.regency_exists(session, "35.19")
    assert not regions.village_exists(session, "16.71.01.9999")
    assert regions.regency_of("16.71.01.1001") == "16.71"
    assert regions.district_of("16.71.01.1001") == "16.71.01"
    assert regions.province_of("16.71") == "16"


OFFICES_HEADER = "kind,code,name,parent_code,province_codes,regency_codes\n"


def _file(tmp_path: Path, body: str, header: str = OFFICES_HEADER) -> str:
    path = tmp_path / "offices.csv"
    path.write_text(header + body, encoding="utf-8")
    return str(path)


def test_import_adds_a_region_and_branch_and_is_idempotent(
    cli: Cli, tmp_path: Path, session: Session
) -> None:
    # A new branch beside Palembang, and Palembang exactly as shipped (codes lower-case, ";").
    path = _file(
        tmp_path,
        "branch,LHT,Lahat,SUMBAGSEL,,16.04 16.11\nbranch,plg,Palembang,SUMBAGSEL,,16.71;16.06;16.10;16.02\n",
    )
    first = cli("offices", "import", path, "--json")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout) == {"accepted": 1, "duplicates": 1, "rejected": 0, "errors": []}
    again = cli("offices", "import", path, "--json")
    assert json.loads(again.stdout) == {"accepted": 0, "duplicates": 2, "rejected": 0, "errors": []}
    assert regions.branch_for_regency(session, "16.11") == "LHT"
    audits = (
        session.execute(
            select(AuditEntry).where(AuditEntry.action == "office.import").order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )
    assert len(audits) == 2
    assert audits[0].after is not None
    assert audits[0].after["file"] == "offices.csv"
    assert audits[0].after["accepted"] == 1
    assert len(audits[0].after["sha256"]) == 64


def test_import_is_all_or_nothing_and_names_rows_and_fields(
    cli: Cli, tmp_path: Path, session: Session
) -> None:
    path = _file(
        tmp_path,
        "branch,LHT,Lahat,SUMBAGSEL,,16.04\n"  # row 1: fine
        "branch,KRC,Kerinci,SUMBAGSEL,,15.01 16.71\n"  # row 2: 16.71 belongs to PLG
        "branch,MDO,Manado,SULUT,,71.71\n"  # row 3: no region SULUT
        "region,SUMBAGSEL2,Lain,,16,\n"  # row 4: province 16 taken by SUMBAGSEL
        "kantor,X1,,,,\n"  # row 5: bad kind and empty name
        "branch,x,,NOPE,,99.99 1671\n",  # row 6: shape and database problems together
    )
    result = cli("offices", "import", path, "--json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert (payload["accepted"], payload["duplicates"], payload["rejected"]) == (0, 0, 5)
    fields = [(e["row"], e["field"]) for e in payload["errors"]]
    assert fields == [
        (2, "regency_codes"),
        (3, "parent_code"),
        (4, "province_codes"),
        (5, "kind"),
        (5, "name"),
        (6, "code"),
        (6, "name"),
        (6, "regency_codes"),  # 1671 is not shaped like a regency code
        (6, "parent_code"),  # no region NOPE
        (6, "regency_codes"),  # 99.99 is no regency
    ]
    assert "16.71 (PLG)" in payload["errors"][0]["message"]
    assert session.get(Branch, "LHT") is None  # nothing written

    partial = cli("offices", "import", path, "--partial", "--json")
    assert partial.exit_code == 1
    assert json.loads(partial.stdout)["accepted"] == 1
    assert regions.branch_for_regency(session, "16.04") == "LHT"


def test_import_region_then_branch_in_any_order_and_update(
    cli: Cli, tmp_path: Path, session: Session
) -> None:
    path = _file(
        tmp_path,
        "branch,PDG,Padang,SUMBAR,,13.71\n"
        "region,SUMBAGTENG,Sumatera Bagian Tengah,,14 21,\n"
        "region,SUMBAR,Sumatera Barat,,13,\n",
    )
    result = cli("offices", "import", path, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["accepted"] == 3
    assert regions.region_of_branch(session, "PDG") == "SUMBAR"
    offices = {r.code: r for r in regions.list_offices(session)}
    assert offices["SUMBAGTENG"].province_codes == ("14", "21")

    renamed = _file(tmp_path, "branch,PDG,Padang Kota,SUMBAR,,13.71 13.06\n")
    assert json.loads(cli("offices", "import", renamed, "--json").stdout)["accepted"] == 1
    info = regions.branch(session, "PDG")
    assert info is not None
    assert (info.name, info.regency_codes) == ("Padang Kota", ("13.06", "13.71"))


def test_unusable_files_exit_2(cli: Cli, tmp_path: Path) -> None:
    missing = cli("offices", "import", str(tmp_path / "none.csv"), "--json")
    assert missing.exit_code == 2
    assert missing.stdout == ""
    assert "none.csv" in missing.stderr
    header = cli("offices", "import", _file(tmp_path, "x,y\n", header="kode,nama\n"), "--json")
    assert header.exit_code == 2
    assert "kind" in header.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes((OFFICES_HEADER + "branch,ABC,Caf\xe9,SUMBAGSEL,,16.04\n").encode("latin-1"))
    encoding = cli("--lang", "en", "offices", "import", str(latin))
    assert encoding.exit_code == 2
    assert "UTF-8" in encoding.stderr


def test_offices_list_and_area_show(cli: Cli) -> None:
    listed = cli("offices", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    payload = json.loads(listed.stdout)
    sumbagsel = next(r for r in payload if r["code"] == "SUMBAGSEL")
    assert {b["code"] for b in sumbagsel["branches"]} >= {"PLG", "BDL"}
    shown = cli("regions", "show", "35.77", "--json")
    assert json.loads(shown.stdout) == {
        "code": "35.77",
        "level": "regency",
        "name": "KOTA MADIUN",
        "parent_code": "35",
        "branch_code": "MDN",
        "region_code": "JATIM",
    }
    unknown = cli("regions", "show", "99.99")
    assert unknown.exit_code == 1


def test_moving_a_regency_between_branches_in_one_file(
    cli: Cli, tmp_path: Path, session: Session
) -> None:
    moved = _file(
        tmp_path,
        "branch,PLG,Palembang,SUMBAGSEL,,16.71 16.06 16.10\n"  # gives up 16.02
        "branch,KAG,Kayu Agung,SUMBAGSEL,,16.02\n",
    )
    result = cli("offices", "import", moved, "--json")
    assert json.loads(result.stdout) == {
        "accepted": 2,
        "duplicates": 0,
        "rejected": 0,
        "errors": [],
    }
    assert regions.branch_for_regency(session, "16.02") == "KAG"
    assert regions.branch_regencies(session, "PLG") == {"16.71", "16.06", "16.10"}

    wrong_order = _file(
        tmp_path,
        "branch,BTR,Baturaja,SUMBAGSEL,,16.01 16.06\n"  # 16.06 still PLG's at this row
        "branch,PLG,Palembang,SUMBAGSEL,,16.71 16.10\n",
    )
    refused = json.loads(cli("offices", "import", wrong_order, "--json").stdout)
    assert (refused["accepted"], refused["rejected"]) == (0, 1)
    assert refused["errors"][0]["row"] == 1


def test_import_xlsx(cli: Cli, tmp_path: Path, session: Session) -> None:
    import openpyxl

    path = tmp_path / "offices.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["kind", "code", "name", "parent_code", "regency_codes"])
    sheet.append(["branch", "LHT", "Lahat", "SUMBAGSEL", "16.04"])
    workbook.save(path)
    result = cli("offices", "import", str(path), "--json")
    assert json.loads(result.stdout)["accepted"] == 1, result.stdout + result.stderr
    assert regions.branch_for_regency(session, "16.04") == "LHT"


class _QueryCounter:
    def __init__(self, engine: Engine) -> None:
        self.count = 0
        self.engine = engine

    def __enter__(self) -> _QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args: object) -> None:
        self.count += 1


def test_bulk_reads_take_a_fixed_number_of_queries(engine: Engine, session: Session) -> None:
    session.execute(select(1))  # connection set-up outside the counted block
    with _QueryCounter(engine) as counter:
        codes = regions.district_codes(session)
        mapping = regions.regency_branches(session)
        offices = regions.list_offices(session)
    assert counter.count == 1 + 1 + 4
    assert len(codes) == 7277
    assert mapping["16.71"] == "PLG"
    assert mapping["35.19"] == "MDN"
    assert len(mapping) == sum(len(b.regency_codes) for r in offices for b in r.branches)


def test_branch_district_codes(session: Session) -> None:
    districts = regions.branch_district_codes(session, "MDN")
    assert districts == sorted(districts)
    assert {regions.regency_of(code) for code in districts} == {"35.19", "35.77"}
    assert "35.77.03" in districts
    assert regions.branch_district_codes(session, "NONE") == []
