"""Targets vs realization through the CLI and the read side, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, func, select

from cakupan.audit import AuditEntry
from cakupan.db import transaction
from cakupan.targets.examples import EXAMPLE_FILES
from cakupan.targets.models import TargetFigure
from tests.conftest import CliResult

Cli = Callable[..., CliResult]
PALEMBANG = EXAMPLE_FILES[0]
TEXT = "001 Agustini & Putra 2022 (text)"
TABLE = "001 Agustini & Putra 2022 (Tabel 1)"
HEADER = "office_code,year,segment,metric,target,realization,source\n"


def _json(result: CliResult) -> Any:
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def _rows(cli: Cli, *args: str) -> dict[tuple[int, str, str], dict[str, Any]]:
    result = cli("targets", "report", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return {(r["year"], r["segment"], r["metric"]): r for r in _json(result)["rows"]}


def test_palembang_import_flags_conflicts(cli: Cli) -> None:
    first = cli("targets", "import", str(PALEMBANG), "--json")
    assert first.exit_code == 0, first.stderr
    assert _json(first) == {"accepted": 32, "duplicates": 0, "rejected": 0, "errors": []}

    report: dict[tuple[int, str, str], dict[str, Any]] = {}
    for year in range(2016, 2021):
        report |= _rows(cli, "--office", "PLG", "--year", str(year))

    bpu_2020 = report[(2020, "BPU", "new_participants")]
    assert bpu_2020 == {
        "office_code": "PLG",
        "year": 2020,
        "segment": "BPU",
        "metric": "new_participants",
        "target": 33350,
        "realization": 20651,
        "achievement_percent": 61.9,
        "realization_source": "reported",
        "conflicts": [],
    }
    conflicted = {key: row["conflicts"] for key, row in report.items() if row["conflicts"]}
    assert conflicted == {
        (2016, "PU", "new_participants"): [
            {
                "field": "realization",
                "values": [{"value": 94433, "source": TABLE}, {"value": 98433, "source": TEXT}],
            }
        ],
        (2017, "BPU", "new_participants"): [
            {
                "field": "realization",
                "values": [{"value": 29774, "source": TEXT}, {"value": 30562, "source": TABLE}],
            }
        ],
        (2018, "BPU", "new_participants"): [
            {
                "field": "realization",
                "values": [{"value": 42859, "source": TEXT}, {"value": 42869, "source": TABLE}],
            }
        ],
    }
    bpu_2018 = report[(2018, "BPU", "new_participants")]
    assert (bpu_2018["target"], bpu_2018["realization"], bpu_2018["achievement_percent"]) == (
        36910,
        None,
        None,
    )
    # where the sources agree the paper's achievement is reproduced (half up, one decimal)
    expected = {
        (2016, "BPU"): 16.9,
        (2019, "BPU"): 67.6,
        (2017, "PU"): 80.0,
        (2020, "PU"): 97.8,
        (2017, "JAKON"): 137.9,  # the paper states 102%
        (2020, "JAKON"): 302.4,
    }
    for (year, segment), percent in expected.items():
        assert report[(year, segment, "new_participants")]["achievement_percent"] == percent
    # Table 1 alone: a realization without a target
    jakon_2018 = report[(2018, "JAKON", "new_participants")]
    assert (jakon_2018["target"], jakon_2018["realization"]) == (None, 117344)
    assert jakon_2018["achievement_percent"] is None

    again = cli("targets", "import", str(PALEMBANG), "--json")
    assert again.exit_code == 0
    assert _json(again) == {"accepted": 0, "duplicates": 32, "rejected": 0, "errors": []}


def test_check_shows_stated_percentages_the_figures_do_not_give(cli: Cli) -> None:
    cli("targets", "load-examples")
    payload = _json(cli("targets", "check", "--office", "PLG", "--year", "2017", "--json"))
    rows = {(r["segment"], r["metric"]): r for r in payload["rows"]}
    assert set(rows) == {("BPU", "new_participants"), ("JAKON", "new_participants")}
    jakon = rows[("JAKON", "new_participants")]
    assert jakon["conflicts"] == []
    assert jakon["achievement_percent"] == 137.9
    assert {(s["stated_percent"], s["consistent"]) for s in jakon["stated_achievement"]} == {
        ("102", False),
        ("116", False),
    }
    bpu = rows[("BPU", "new_participants")]
    (stated,) = bpu["stated_achievement"]
    assert (stated["stated_percent"], stated["source"], stated["consistent"]) == (
        "97.4",
        TEXT,
        True,
    )
    # 97.4 (truncated by the paper) fits the text's realization, not Tabel 1's
    assert [
        (c["realization"]["source"], c["computed_percent"], c["consistent"])
        for c in stated["checks"]
    ] == [(TEXT, 97.5, True), (TABLE, 100.0, False)]
    # PU 2020: sources agree and both stated 97% fit: nothing to show
    quiet = _json(cli("targets", "check", "--office", "PLG", "--year", "2020", "--json"))
    assert quiet["rows"] == []
    everything = _json(
        cli("targets", "check", "--office", "PLG", "--year", "2020", "--all", "--json")
    )
    pu = next(r for r in everything["rows"] if r["segment"] == "PU")
    assert [s["consistent"] for s in pu["stated_achievement"]] == [True, True]


def test_report_filters_and_single_row(cli: Cli) -> None:
    assert cli("targets", "load-examples", "--json").exit_code == 0
    rows = _rows(cli, "--office", "PLG", "--year", "2017", "--segment", "JAKON")
    assert list(rows) == [(2017, "JAKON", "new_participants")]
    # both segment and metric: exactly one row even without figures
    empty = _rows(
        cli, "--office", "PLG", "--year", "2017", "--segment", "PU", "--metric", "contributions"
    )
    assert next(iter(empty.values()))["target"] is None
    madiun = _rows(cli, "--office", "MDN", "--year", "2019")
    assert madiun[(2019, "BPU", "active_participants")]["realization"] == 4766
    lampung = cli(
        "targets",
        "report",
        "--office",
        "BDL",
        "--year",
        "2022",
        "--period",
        "2022-01..2022-07",
        "--json",
    )
    assert _json(lampung)["rows"][0]["realization"] == 41856


def test_import_errors_all_or_nothing(cli: Cli, tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "targets.csv"
    path.write_text(
        HEADER
        + "PLG,2026,BPU,new_participants,5000,,SK 2026\n"
        + "PLG,2026,BPU,members,5000,,SK 2026\n"
        + "XXX,26,BPU,contributions,,abc,SK 2026\n",
        encoding="utf-8",
    )
    result = cli("targets", "import", str(path), "--json")
    assert result.exit_code == 1
    payload = _json(result)
    assert (payload["accepted"], payload["duplicates"], payload["rejected"]) == (0, 0, 2)
    assert [(e["row"], e["field"]) for e in payload["errors"]] == [
        (2, "metric"),
        (3, "year"),
        (3, "realization"),
    ]
    assert "'members'" in payload["errors"][0]["message"]
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(TargetFigure)) == 0
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "targets.import")
        ).one()
        assert audit.after is not None
        assert audit.after["rejected"] == 2
        assert audit.after["file"] == "targets.csv"

    partial = cli("targets", "import", str(path), "--partial", "--json")
    assert partial.exit_code == 1
    assert _json(partial)["accepted"] == 1
    rows = _rows(cli, "--office", "PLG", "--year", "2026", "--segment", "BPU")
    assert rows[(2026, "BPU", "new_participants")]["target"] == 5000


def test_unknown_office_and_same_source_correction(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        HEADER
        + "PLG,2026,PU,new_participants,100,,SK\n"
        + "PLG,2026,PU,new_participants,120,,SK\n"
        + "NOWHERE,2026,PU,new_participants,100,,SK\n",
        encoding="utf-8",
    )
    payload = _json(cli("targets", "import", str(path), "--json"))
    assert [(e["row"], e["field"]) for e in payload["errors"]] == [
        (2, "target"),
        (3, "office_code"),
    ]
    assert (
        "correction needs its own source name"
        in cli("--lang", "en", "targets", "import", str(path), "--json").stdout
    )


def test_unusable_file_exits_2(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("office,year\nPLG,2020\n", encoding="utf-8")
    result = cli("targets", "import", str(path), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "office_code" in result.stderr


def test_splits_that_do_not_sum_are_shown(cli: Cli) -> None:
    assert (
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
            "3000",
            "--source",
            "SK Kacab 2026",
        ).exit_code
        == 0
    )
    result = cli(
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
        "ARK01=1200",
        "--part",
        "AR02=1300",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
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
        "district",
        "--part",
        "16.71.01=1000",
        "--part",
        "16.71.02=2000",
    )
    cells = _json(cli("targets", "splits", "--office", "PLG", "--year", "2026", "--json"))
    splits = {s["part_kind"]: s for s in cells["cells"][0]["splits"]}
    assert splits["staff"]["parts_total"] == 2500
    assert splits["staff"]["difference"] == 500
    assert splits["staff"]["balanced"] is False
    assert splits["district"]["difference"] == 0
    assert splits["district"]["balanced"] is True
    bad = cli(
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
        "ARK01",
    )
    assert bad.exit_code == 2
    assert "CODE=VALUE" in bad.stderr or "KODE=NILAI" in bad.stderr


def test_report_xlsx_reads_back(cli: Cli, tmp_path: Path) -> None:
    cli("targets", "load-examples")
    cli(
        "targets",
        "set",
        "--office",
        "PLG",
        "--year",
        "2018",
        "--segment",
        "BPU",
        "--metric",
        "contributions",
        "--target",
        "1500000000",
        "--source",
        "SK",
    )
    out = tmp_path / "report.xlsx"
    result = cli("targets", "report", "--office", "PLG", "--year", "2018", "--xlsx", str(out))
    assert result.exit_code == 0, result.stderr
    sheet = openpyxl.load_workbook(out)["Target vs Realisasi"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:8] == (
        "Kantor",
        "Tahun",
        "Periode",
        "Segmen",
        "Indikator",
        "Target",
        "Realisasi",
        "Capaian (%)",
    )
    by_label = {(row[3], row[4]): row for row in values[1:]}
    bpu = by_label[("BPU", "Peserta baru")]
    assert bpu[5] == 36910
    assert bpu[6] is None
    assert bpu[9] == f"Realisasi: 42.859 ({TEXT}) / 42.869 ({TABLE})"
    contributions_row = next(i for i, row in enumerate(values, start=1) if row[4] == "Iuran (Rp)")
    assert sheet.cell(contributions_row, 6).value == 1500000000
    assert sheet.cell(contributions_row, 6).number_format == '"Rp" #,##0'
    pu = by_label[("PU", "Peserta baru")]
    assert (pu[5], pu[6], pu[7]) == (314445, 206100, 65.5)
    assert values[0][10] == "Capaian Menurut Sumber"
    assert pu[10] == f"65% ({TEXT}): cocok"


def test_trend(cli: Cli) -> None:
    cli("targets", "load-examples")
    payload = _json(cli("targets", "trend", "--office", "PLG", "--segment", "BPU", "--json"))
    years = {y["year"]: y for y in payload["years"]}
    assert sorted(years) == [2016, 2017, 2018, 2019, 2020]
    assert years[2017]["realization_conflict"] is True
    assert years[2020]["realization_change_percent"] == -47.9  # 20651 vs 39671
    assert years[2019]["realization_change_percent"] is None  # 2018 is in conflict
    assert years[2016]["achievement_percent"] == 16.9


@pytest.mark.parametrize(
    "bad", [("--segment", "BPJS"), ("--metric", "members"), ("--period", "Q5")]
)
def test_report_bad_option_exits_2(cli: Cli, bad: tuple[str, str]) -> None:
    result = cli("targets", "report", "--office", "PLG", "--year", "2020", *bad, "--json")
    assert result.exit_code == 2
    assert bad[1] in result.stderr


def test_record_figure_audited(cli: Cli, engine: Engine) -> None:
    args = (
        "targets",
        "set",
        "--office",
        "PLG",
        "--year",
        "2026",
        "--period",
        "Q1",
        "--segment",
        "BPU",
        "--metric",
        "active_participants",
        "--target",
        "900",
        "--source",
        "SK",
    )
    assert cli(*args).exit_code == 0
    assert cli(*args).exit_code == 0  # same figure again: nothing changes
    changed = cli(*args[:-4], "--target", "950", "--source", "SK")
    assert changed.exit_code == 1
    with transaction(engine) as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "targets.figure.record")
            )
            == 1
        )
    rows = _rows(cli, "--office", "PLG", "--year", "2026", "--period", "Q1")
    assert rows[(2026, "BPU", "active_participants")]["target"] == 900


def test_projection_from_reported_months(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "pu.csv"
    path.write_text(
        HEADER.strip() + ",period\n"
        "PLG,2026,PU,new_participants,240000,,SK 2026,\n"
        "PLG,2026,PU,new_participants,,15000,Laporan bulanan,1\n"
        "PLG,2026,PU,new_participants,,20000,Laporan bulanan,2\n"
        "PLG,2026,PU,new_participants,,25000,Laporan bulanan,2026-03\n",
        encoding="utf-8",
    )
    assert _json(cli("targets", "import", str(path), "--json"))["accepted"] == 4
    result = cli(
        "targets",
        "projection",
        "--office",
        "PLG",
        "--year",
        "2026",
        "--segment",
        "PU",
        "--metric",
        "new_participants",
        "--through",
        "2026-03",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    assert _json(result) == {
        "office_code": "PLG",
        "year": 2026,
        "segment": "PU",
        "metric": "new_participants",
        "through_month": "2026-03",
        "year_to_date": 60000,
        "projected_year_end": 240000,
        "target": 240000,
        "projected_achievement_percent": 100.0,
        "method": "linear_run_rate",
        "seasonal_share_percent": None,
        "prior_years_used": [],
    }
    missing = cli(
        "targets",
        "projection",
        "--office",
        "PLG",
        "--year",
        "2026",
        "--segment",
        "PU",
        "--metric",
        "new_participants",
        "--through",
        "2026-05",
        "--json",
    )
    assert missing.exit_code == 2
    assert "2026-04, 2026-05" in " ".join(missing.stderr.split())
    quarter = _rows(cli, "--office", "PLG", "--year", "2026", "--period", "2026-03")
    assert quarter[(2026, "PU", "new_participants")]["realization"] == 25000


def test_region_target_against_its_branches(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "region.csv"
    path.write_text(
        HEADER
        + "SUMBAGSEL,2027,BPU,new_participants,10000,,SK Kanwil\n"
        + "PLG,2027,BPU,new_participants,6000,,SK Kanwil\n"
        + "BDL,2027,BPU,new_participants,3000,,SK Kanwil\n"
        + "MDN,2027,BPU,new_participants,999,,SK Kanwil\n"  # another region: not a part
        + "NATIONAL,2027,BPU,new_participants,50000,,RKAT 2027\n",
        encoding="utf-8",
    )
    assert _json(cli("targets", "import", str(path), "--json"))["rejected"] == 0
    cells = _json(cli("targets", "splits", "--office", "SUMBAGSEL", "--year", "2027", "--json"))
    (branches,) = cells["cells"][0]["splits"]
    assert branches["part_kind"] == "branch"
    assert branches["parts"] == [{"code": "BDL", "target": 3000}, {"code": "PLG", "target": 6000}]
    assert (branches["parts_total"], branches["difference"]) == (9000, 1000)
    # a branch whose sources disagree: listed, not counted, no difference claimed
    conflicting = tmp_path / "conflict.csv"
    conflicting.write_text(
        HEADER
        + "MTR,2027,BPU,new_participants,800,,SK Kanwil\n"
        + "MTR,2027,BPU,new_participants,900,,SK Kacab MTR\n",
        encoding="utf-8",
    )
    cli("targets", "import", str(conflicting))
    cells = _json(cli("targets", "splits", "--office", "SUMBAGSEL", "--year", "2027", "--json"))
    (branches,) = cells["cells"][0]["splits"]
    assert (branches["unresolved_parts"], branches["difference"]) == (["MTR"], None)
    national = _json(cli("targets", "splits", "--office", "NATIONAL", "--year", "2027", "--json"))
    (regions,) = national["cells"][0]["splits"]
    assert regions["part_kind"] == "region"
    assert regions["parts"] == [{"code": "SUMBAGSEL", "target": 10000}]
    assert regions["difference"] == 40000


def test_xlsx_import(cli: Cli, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["office_code", "year", "segment", "metric", "target", "realization", "source"])
    sheet.append(["PLG", 2026, "BPU", "contributions", 1_500_000_000, None, "SK Kacab 2026"])
    sheet.append(["PLG", 2026, "PU", "new_participants", 240000, 61000.0, "Laporan"])
    path = tmp_path / "targets.xlsx"
    book.save(path)
    assert _json(cli("targets", "import", str(path), "--json")) == {
        "accepted": 2,
        "duplicates": 0,
        "rejected": 0,
        "errors": [],
    }
    rows = _rows(cli, "--office", "PLG", "--year", "2026", "--segment", "PU")
    assert rows[(2026, "PU", "new_participants")]["achievement_percent"] == 25.4


def test_report_unknown_office_exits_2(cli: Cli) -> None:
    result = cli("targets", "report", "--office", "PLGG", "--year", "2020", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "PLGG" in result.stderr
