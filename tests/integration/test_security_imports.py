"""Issue 21, item 7: an XLSX number in an identifier column (NIK, phone, reference, any code)
is refused for its row with "format the column as text", never converted: Excel keeps 15
significant digits, so a NIK typed as a number became another registered person's NIK and the
payment was posted to them. SQLite and PostgreSQL, through the CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import Engine, select

from cakupan.db import transaction
from cakupan.imports import identifier_column, open_records
from cakupan.registry.models import Payment
from tests.integration.test_ledger_imports import FLOOR, Cli, count, nik, run


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_numeric_identifier_cells_are_refused_never_converted(
    cli: Cli, tmp_path: Path, engine: Engine
) -> None:
    header = ["nik", "name", "phone", "occupation", "reported_income", "programs", "registered_on"]
    person = ["market_trader", 1_000_000, "JKK+JKM", date(2025, 3, 1)]
    people = _xlsx(
        tmp_path / "people.xlsx",
        [
            header,
            [nik(10), "Dewi", "081211110000", *person],
            [nik(11), "Wati", "081211112222", *person],
            [int(nik(12)), "Joko", "081233334444", *person],
            [nik(13), "Sri", 81233334444, *person],
        ],
    )
    code, body = run(cli, "participants", "import", str(people), "--partial")
    assert (code, body["accepted"], body["rejected"]) == (1, 2, 2)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(3, "nik"), (4, "phone")]
    assert "format the column nik as Text" in body["errors"][0]["message"]

    # Excel keeps 15 significant digits of nik(11) typed as a number (1.67101010190001E+15):
    # the cell holds nik(10), another registered participant, who was paid before the fix.
    rounded = float(f"{int(nik(11)):.14e}")
    pays = _xlsx(
        tmp_path / "pays.xlsx",
        [
            ["reference", "nik", "amount", "paid_on", "channel"],
            ["XLS-R1", rounded, FLOOR, date(2025, 3, 3), "pos"],
            [20250303, nik(11), FLOOR, date(2025, 3, 3), "pos"],
            ["XLS-R3", nik(11), FLOOR, date(2025, 3, 3), "pos"],
        ],
    )
    code, body = run(cli, "payments", "import", str(pays), "--partial")
    assert (code, body["accepted"], body["rejected"]) == (1, 1, 2)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(1, "nik"), (2, "reference")]
    assert count(engine, Payment) == 1
    with transaction(engine) as session:
        assert session.scalars(select(Payment.reference)).all() == ["XLS-R3"]

    # All-or-nothing (the default) posts nothing.
    code, body = run(cli, "payments", "import", str(pays))
    assert (code, body["accepted"], body["rejected"]) == (1, 0, 2)


def test_every_importer_sees_numeric_identifiers(tmp_path: Path) -> None:
    """The check lives in the one reader (``cakupan.imports``), so every importer (offices,
    partners, targets, campaigns, prospects) refuses such rows through ``shape_problems``."""
    path = _xlsx(
        tmp_path / "partners.xlsx",
        [
            ["code", "name", "branch_code", "commission_rate", "valid_from"],
            ["W1", "Wadah", 1601, 2.5, date(2024, 1, 1)],
            [1234, "Angka", "PLG", 2, date(2024, 1, 1)],
            ["W2", "Teks", "PLG", 2.5, date(2024, 1, 1)],
        ],
    )
    with open_records(path, required=("code", "name"), allow_unknown=True) as records:
        found = [(r.row, [field for field, _ in r.shape_problems()]) for r in records]
    assert found == [(1, ["branch_code"]), (2, ["code"]), (3, [])]


def test_identifier_columns() -> None:
    for column in ("nik", "NIK", "phone", "reference", "partner_code", "kode_penetapan", "code"):
        assert identifier_column(column), column
    for column in ("amount", "reported_income", "paid_on", "commission_rate", "year", "name"):
        assert not identifier_column(column), column
