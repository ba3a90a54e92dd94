"""The weekly performance cycle through the CLI: plans, execution log, reviews with carried-over
actions, the week's assessment and the XLSX export, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cakupan.auth import Actor, Role
from cakupan.dates import Month
from cakupan.errors import CakupanError, ErrorKind
from cakupan.targets import actions
from cakupan.targets.rules import Period
from tests.conftest import CliResult
from tests.integration.test_targets_ledger import Ledger

Cli = Callable[..., CliResult]


def _ok(result: CliResult) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip().startswith("{") else None


def test_review_actions_carry_over_until_closed(cli: Cli, tmp_path: Path) -> None:
    r1 = _ok(
        cli(
            "reviews",
            "open",
            "--office",
            "PLG",
            "--week",
            "2026-11-04",
            "--held-on",
            "2026-11-06",
            "--json",
        )
    )
    assert r1["week_start"] == "2026-11-02"
    _ok(
        cli(
            "reviews",
            "note",
            str(r1["id"]),
            "--kind",
            "problem",
            "--text",
            "Peserta pasar Cinde menunggak setelah 3 bulan",
        )
    )
    _ok(
        cli(
            "reviews",
            "note",
            str(r1["id"]),
            "--kind",
            "solution",
            "--text",
            "Pengingat lewat ketua paguyuban",
        )
    )
    a1 = _ok(
        cli(
            "reviews",
            "action",
            str(r1["id"]),
            "--description",
            "Hubungi ketua paguyuban",
            "--owner",
            "ARK01",
            "--due",
            "2026-11-06",
            "--json",
        )
    )["id"]
    a2 = _ok(
        cli(
            "reviews",
            "action",
            str(r1["id"]),
            "--description",
            "Surat ke Dinas Perikanan",
            "--owner",
            "AR02",
            "--due",
            "2026-11-20",
            "--json",
        )
    )["id"]

    r2 = _ok(
        cli(
            "reviews",
            "open",
            "--office",
            "PLG",
            "--week",
            "2026-11-09",
            "--held-on",
            "2026-11-13",
            "--json",
        )
    )
    assert {(a["id"], a["status"]) for a in r2["actions"]} == {(a1, "carried"), (a2, "carried")}
    assert r2["notes"] == []  # notes belong to their own review
    _ok(
        cli(
            "reviews",
            "close-action",
            str(a1),
            "--review",
            str(r2["id"]),
            "--on",
            "2026-11-12",
            "--resolution",
            "Ketua paguyuban setuju mengumpulkan iuran",
        )
    )
    again = cli(
        "reviews", "close-action", str(a1), "--review", str(r2["id"]), "--resolution", "lagi"
    )
    assert again.exit_code == 1

    r2_after = _ok(cli("reviews", "show", str(r2["id"]), "--json"))
    assert {(a["id"], a["status"]) for a in r2_after["actions"]} == {
        (a1, "closed_here"),
        (a2, "carried"),
    }
    r3 = _ok(
        cli(
            "reviews",
            "open",
            "--office",
            "PLG",
            "--week",
            "2026-11-16",
            "--held-on",
            "2026-11-20",
            "--json",
        )
    )
    assert [(a["id"], a["status"], a["overdue"]) for a in r3["actions"]] == [(a2, "carried", False)]
    r4 = _ok(
        cli(
            "reviews",
            "open",
            "--office",
            "PLG",
            "--week",
            "2026-11-27",
            "--held-on",
            "2026-11-27",
            "--json",
        )
    )
    assert [(a["id"], a["status"], a["overdue"]) for a in r4["actions"]] == [(a2, "carried", True)]
    # the first review still shows what it raised, with a1 closed later
    r1_view = _ok(cli("reviews", "show", str(r1["id"]), "--json"))
    assert [(a["id"], a["status"]) for a in r1_view["actions"]] == [(a1, "raised"), (a2, "raised")]
    assert [n["kind"] for n in r1_view["notes"]] == ["problem", "solution"]
    # another office's review does not see PLG's actions
    other = _ok(
        cli(
            "reviews",
            "open",
            "--office",
            "BDL",
            "--week",
            "2026-11-27",
            "--held-on",
            "2026-11-27",
            "--json",
        )
    )
    assert other["actions"] == []
    # closing in a review of another office is refused
    wrong = cli(
        "reviews", "close-action", str(a2), "--review", str(other["id"]), "--resolution", "x"
    )
    assert wrong.exit_code == 2

    out = tmp_path / "review.xlsx"
    _ok(cli("reviews", "show", str(r4["id"]), "--xlsx", str(out)))
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Ringkasan", "Catatan", "Tindak Lanjut", "Penilaian"]
    summary = {row[0]: row[1] for row in book["Ringkasan"].iter_rows(values_only=True)}
    assert summary["Kantor"] == "PLG"
    assert summary["Minggu"] == "2026-11-23 s/d 2026-11-29"
    assert summary["Tindak lanjut terbuka"] == 1
    actions = list(book["Tindak Lanjut"].iter_rows(values_only=True))
    assert actions[0] == (
        "No",
        "Uraian",
        "Penanggung Jawab",
        "Tenggat",
        "Minggu Diangkat",
        "Status",
        "Terlambat",
        "Penyelesaian",
    )
    assert actions[1][1:3] == ("Surat ke Dinas Perikanan", "AR02")
    assert actions[1][3].date() == date(2026, 11, 20)
    assert actions[1][5:7] == ("Lanjutan", "Ya")

    r1_book = tmp_path / "r1.xlsx"
    _ok(cli("reviews", "show", str(r1["id"]), "--xlsx", str(r1_book)))
    notes = list(openpyxl.load_workbook(r1_book)["Catatan"].iter_rows(values_only=True))
    assert notes[1] == (1, "Masalah", "Peserta pasar Cinde menunggak setelah 3 bulan")
    assert notes[2][1] == "Solusi"


def test_plan_execution_and_assessment(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    _ok(
        cli(
            "targets",
            "set",
            "--office",
            "PLG",
            "--year",
            "2026",
            "--segment",
            "BPU",
            "--metric",
            "new_participants",
            "--target",
            "3650",
            "--source",
            "SK Kacab 2026",
        )
    )
    _ok(
        cli(
            "targets",
            "split",
            "--office",
            "PLG",
            "--year",
            "2026",
            "--segment",
            "BPU",
            "--metric",
            "new_participants",
            "--kind",
            "staff",
            "--part",
            "ARK01=1825",
        )
    )
    _ok(
        cli(
            "targets",
            "split",
            "--office",
            "PLG",
            "--year",
            "2026",
            "--segment",
            "BPU",
            "--metric",
            "new_participants",
            "--kind",
            "partner",
            "--part",
            "BRI01=365",
        )
    )

    wednesday = cli("plans", "create", "--office", "PLG", "--start", "2026-11-25", "--title", "x")
    assert wednesday.exit_code == 2
    assert "2026-11-25" in wednesday.stderr
    plan = _ok(
        cli(
            "plans",
            "create",
            "--office",
            "PLG",
            "--start",
            "2026-11-23",
            "--title",
            "Sosialisasi pasar Cinde",
            "--json",
        )
    )
    assert (plan["first_day"], plan["last_day"]) == ("2026-11-23", "2026-11-29")
    duplicate = cli("plans", "create", "--office", "PLG", "--start", "2026-11-23", "--title", "y")
    assert duplicate.exit_code == 1
    act1 = _ok(
        cli(
            "plans",
            "add-activity",
            str(plan["id"]),
            "--activity",
            "sosialisasi",
            "--district",
            "16.71.01",
            "--village",
            "16.71.01.1001",
            "--prospects",
            "pedagang pasar",
            "--assignee",
            "staff:ARK01",
            "--expected-registrations",
            "20",
            "--expected-contributions",
            "336000",
            "--json",
        )
    )["id"]
    _ok(
        cli(
            "plans",
            "add-activity",
            str(plan["id"]),
            "--activity",
            "kunjungan",
            "--district",
            "16.71.02",
            "--prospects",
            "nelayan",
            "--assignee",
            "partner:BRI01",
            "--expected-registrations",
            "10",
            "--on",
            "2026-11-25",
        )
    )
    outside = cli(
        "plans",
        "add-activity",
        str(plan["id"]),
        "--activity",
        "kunjungan",
        "--district",
        "16.71.02",
        "--prospects",
        "nelayan",
        "--assignee",
        "partner:BRI01",
        "--on",
        "2026-12-01",
    )
    assert outside.exit_code == 2
    bad_assignee = cli(
        "plans",
        "add-activity",
        str(plan["id"]),
        "--activity",
        "a",
        "--district",
        "d",
        "--prospects",
        "p",
        "--assignee",
        "boss:X",
    )
    assert bad_assignee.exit_code == 2
    month = _ok(
        cli(
            "plans",
            "create",
            "--office",
            "PLG",
            "--kind",
            "month",
            "--start",
            "2026-11-01",
            "--title",
            "November",
            "--json",
        )
    )
    _ok(
        cli(
            "plans",
            "add-activity",
            str(month["id"]),
            "--activity",
            "jemput bola",
            "--district",
            "16.71.03",
            "--prospects",
            "ojol",
            "--assignee",
            "agent:AG01",
            "--expected-registrations",
            "30",
        )
    )

    ledger = Ledger(engine)
    for agent, partner in ((None, "BRI01"), (None, "BRI01"), ("AG01", None)):
        person = ledger.participant("PLG", date(2026, 11, 24), partner=partner, agent=agent)
        membership = ledger.episode(
            person, 1, date(2026, 11, 24), Month(2026, 11), partner=partner, agent=agent
        )
        ledger.pay(membership, person, Month(2026, 11), 1, date(2026, 11, 24))
    nik_in_ledger = "1671010101900001"

    _ok(
        cli(
            "plans",
            "log",
            "--office",
            "PLG",
            "--on",
            "2026-11-24",
            "--assignee",
            "staff:ARK01",
            "--kind",
            "visit",
            "--quantity",
            "5",
            "--activity",
            str(act1),
        )
    )
    _ok(
        cli(
            "plans",
            "log",
            "--office",
            "PLG",
            "--on",
            "2026-11-24",
            "--assignee",
            "staff:ARK01",
            "--kind",
            "registration",
            "--nik",
            nik_in_ledger,
            "--activity",
            str(act1),
        )
    )
    _ok(
        cli(
            "plans",
            "log",
            "--office",
            "PLG",
            "--on",
            "2026-11-25",
            "--assignee",
            "staff:ARK01",
            "--kind",
            "registration",
            "--quantity",
            "2",
        )
    )
    _ok(
        cli(
            "plans",
            "log",
            "--office",
            "PLG",
            "--on",
            "2026-11-26",
            "--assignee",
            "partner:BRI01",
            "--kind",
            "registration",
            "--quantity",
            "4",
        )
    )
    _ok(
        cli(
            "plans",
            "log",
            "--office",
            "PLG",
            "--on",
            "2026-11-30",
            "--assignee",
            "staff:ARK01",
            "--kind",
            "registration",
            "--quantity",
            "9",
        )
    )  # next week: not in this assessment
    bad_nik = cli(
        "plans",
        "log",
        "--office",
        "PLG",
        "--on",
        "2026-11-24",
        "--assignee",
        "staff:ARK01",
        "--kind",
        "visit",
        "--nik",
        nik_in_ledger,
    )
    assert bad_nik.exit_code == 2

    shown = _ok(cli("plans", "show", str(plan["id"]), "--json"))
    first = shown["activities"][0]
    assert (first["prospects"], first["village_code"]) == ("pedagang pasar", "16.71.01.1001")
    assert first["done"] == {
        "visit": 5,
        "contact": 0,
        "letter": 0,
        "new_business": 0,
        "registration": 1,
    }

    log = _ok(
        cli(
            "plans",
            "executions",
            "--office",
            "PLG",
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-29",
            "--json",
        )
    )["entries"]
    linked = [e for e in log if e["nik"]]
    assert [(e["nik"], e["ledger_registered_on"]) for e in linked] == [
        (nik_in_ledger, "2026-11-24")
    ]

    review = _ok(
        cli(
            "reviews",
            "open",
            "--office",
            "PLG",
            "--week",
            "2026-11-23",
            "--held-on",
            "2026-11-27",
            "--json",
        )
    )
    lines = {(a["assignee_kind"], a["assignee_code"]): a for a in review["assessment"]}
    assert lines[("staff", "ARK01")] == {
        "assignee_kind": "staff",
        "assignee_code": "ARK01",
        "expected_registrations": 20,
        "logged_registrations": 3,
        "ledger_registrations": None,  # staff are not attributed in the ledger
        "realization": 3,
        "weekly_target": 35,  # 1825 * 7 / 365
        "vs_plan_percent": 15.0,
        "vs_target_percent": 8.6,
        "activities_done": 5,
    }
    bri = lines[("partner", "BRI01")]
    assert (bri["expected_registrations"], bri["logged_registrations"]) == (10, 4)
    assert (bri["ledger_registrations"], bri["realization"], bri["weekly_target"]) == (2, 2, 7)
    assert (bri["vs_plan_percent"], bri["vs_target_percent"]) == (20.0, 28.6)
    agent = lines[("agent", "AG01")]
    assert agent["expected_registrations"] == 7  # 30 over November, 7 of its 30 days
    assert (agent["ledger_registrations"], agent["weekly_target"]) == (1, None)

    out = tmp_path / "week.xlsx"
    _ok(cli("reviews", "show", str(review["id"]), "--xlsx", str(out)))
    rows = list(openpyxl.load_workbook(out)["Penilaian"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Jenis", "Kode", "Rencana Pendaftaran")
    assert ("Staf", "ARK01", 20, 3, None, 3, 35, 15.0, 8.6, 5) in rows


def test_actions_are_scoped_to_the_actors_office(session: Session, tmp_path: Path) -> None:
    key = actions.CellKey("PLG", Period.whole_year(2027), "BPU", "new_participants")
    kabid_bdl = Actor("kabid-bdl", Role.KABID, branch_code="BDL")
    with pytest.raises(CakupanError) as refused:
        actions.record_figure(session, kabid_bdl, key, "target", 100, "SK")
    assert refused.value.kind is ErrorKind.FORBIDDEN
    regional = Actor("kanwil", Role.REGIONAL, region_code="SUMBAGSEL")
    actions.record_figure(session, regional, key, "target", 100, "SK Kanwil")
    ark = Actor("ark01", Role.ARK, branch_code="PLG")
    with pytest.raises(CakupanError):
        actions.set_split(session, ark, key, "staff", {"ARK01": 100})
    entry = actions.log_execution(session, ark, "PLG", date(2027, 1, 4), "staff", "ARK01", "visit")
    assert entry.recorded_by == "ark01"
    with pytest.raises(CakupanError):
        actions.open_review(
            session, Actor("audit", Role.AUDITOR), "PLG", date(2027, 1, 4), date(2027, 1, 8)
        )
    path = tmp_path / "t.csv"
    path.write_text(
        "office_code,year,segment,metric,target,realization,source\n"
        "PLG,2027,PU,new_participants,10,,SK\n"
        "BDL,2027,PU,new_participants,10,,SK\n",
        encoding="utf-8",
    )
    session.commit()
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    kabid_plg = Actor("kabid-plg", Role.KABID, branch_code="PLG")
    result = actions.import_figures(engine, kabid_plg, path, partial=True)
    assert (result.accepted, result.rejected) == (1, 1)
    assert [(e.row, e.field) for e in result.errors] == [(2, "office_code")]
