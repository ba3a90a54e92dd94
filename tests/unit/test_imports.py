"""The shared file-reading machinery of every import (pure: files only, no database)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from cakupan.errors import CakupanError
from cakupan.i18n import t
from cakupan.imports import (
    MAX_LISTED_ERRORS,
    ImportResult,
    Record,
    in_batches,
    open_records,
)


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _read(path: Path, **kwargs: object) -> list[Record]:
    with open_records(path, **kwargs) as records:  # type: ignore[arg-type]
        return list(records)


def _unusable(path: Path, **kwargs: object) -> CakupanError:
    with pytest.raises(CakupanError) as caught:
        _read(path, **kwargs)
    assert caught.value.kind.exit_code == 2
    return caught.value


def test_csv_rows_are_numbered_as_data_rows(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", "Code , name\n A1 , Satu \n\nB2,Dua\n")
    records = _read(path, required=("code", "name"))
    assert [(r.row, r["code"], r["name"]) for r in records] == [(1, "A1", "Satu"), (3, "B2", "Dua")]


def test_csv_with_bom_and_semicolons(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", "\ufeffcode;name\nA1;Satu, Dua\n".encode())
    records = _read(path, required=("code", "name"))
    assert records[0].values == {"code": "A1", "name": "Satu, Dua"}


def test_short_rows_get_empty_cells_and_long_rows_report_extra(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", "code,name,note\nA1\nB2,Dua,x,extra1,,extra2\n")
    first, second = _read(path, required=("code", "name"), optional=("note",))
    assert first.values == {"code": "A1", "name": "", "note": ""}
    assert first.shape_problems() == []
    assert second.extra == ("extra1", "extra2")
    [(field, message)] = second.shape_problems()
    assert field == "row"
    assert "2 more cells" in message.en


def test_missing_file(tmp_path: Path) -> None:
    error = _unusable(tmp_path / "nope.csv", required=("code",))
    assert error.code == "import.file_missing"


def test_wrong_suffix(tmp_path: Path) -> None:
    error = _unusable(_write(tmp_path, "a.txt", "code\n"), required=("code",))
    assert error.code == "import.file_type"
    assert ".txt" in error.render("en")


def test_missing_and_unknown_columns_are_named(tmp_path: Path) -> None:
    error = _unusable(_write(tmp_path, "a.csv", "code,nama\nA,B\n"), required=("code", "name"))
    assert error.code == "import.header"
    rendered = error.render("en")
    assert "required columns missing: name" in rendered
    assert "unknown columns: nama" in rendered
    assert "found code, nama" in rendered


def test_unknown_columns_allowed_when_asked(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", "code,extra\nA,B\n")
    assert _read(path, required=("code",), allow_unknown=True)[0]["extra"] == "B"


def test_repeated_column(tmp_path: Path) -> None:
    error = _unusable(_write(tmp_path, "a.csv", "code,code\nA,B\n"), required=("code",))
    assert "repeated columns: code" in error.render("en")


def test_empty_file(tmp_path: Path) -> None:
    error = _unusable(_write(tmp_path, "a.csv", ""), required=("code",))
    assert error.code == "import.header"


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", "code,name\nA,ok\nB,Caf\xe9\n".encode("latin-1"))
    error = _unusable(path, required=("code", "name"))
    assert error.code == "import.encoding"
    assert "line 3" in error.render("en")


def test_xlsx_cells_become_text(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Code", "Amount", "Day", None])
    sheet.append(["A1", 36800.0, datetime(2026, 11, 2)])
    sheet.append([None, None, None])
    sheet.append(["B2", 12.5, date(2026, 1, 31)])
    workbook.save(path)
    records = _read(path, required=("code", "amount", "day"))
    assert [(r.row, r.values) for r in records] == [
        (1, {"code": "A1", "amount": "36800", "day": "2026-11-02"}),
        (3, {"code": "B2", "amount": "12.5", "day": "2026-01-31"}),
    ]


def test_broken_xlsx(tmp_path: Path) -> None:
    error = _unusable(_write(tmp_path, "a.xlsx", b"not a zip"), required=("code",))
    assert error.code == "import.file_type"


def test_source_identity_is_hashed(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", "code\nA\n")
    with open_records(path, required=("code",)) as records:
        assert records.source.name == "a.csv"
        assert records.source.size == 7
        assert records.source.sha256 == hashlib.sha256(b"code\nA\n").hexdigest()


def test_result_counts_rows_once_and_lists_every_problem() -> None:
    result = ImportResult(accepted=3, duplicates=1)
    result.reject(5, [("nik", t("salah", "wrong")), ("name", t("kosong", "empty"))])
    assert result.rejected == 1
    assert result.exit_code == 1
    assert result.as_json("en") == {
        "accepted": 3,
        "duplicates": 1,
        "rejected": 1,
        "errors": [
            {"row": 5, "field": "nik", "message": "wrong"},
            {"row": 5, "field": "name", "message": "empty"},
        ],
    }
    assert "baris 5, nik: salah" in result.render("id")
    assert ImportResult(accepted=1).exit_code == 0


def test_result_lists_a_bounded_number_of_errors() -> None:
    result = ImportResult()
    for row in range(MAX_LISTED_ERRORS + 10):
        result.reject(row + 2, [("code", t("x", "x"))])
    assert result.rejected == MAX_LISTED_ERRORS + 10
    assert len(result.errors) == MAX_LISTED_ERRORS
    assert "only the first 1000 errors" in result.render("en")


def test_in_batches() -> None:
    assert list(in_batches(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(in_batches([], 3)) == []


def test_malformed_csv_line_makes_the_file_unusable(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", "code,name\nA,ok\nB," + "x" * 200_000 + "\n")
    error = _unusable(path, required=("code", "name"))
    assert error.code == "import.malformed"
    assert "line 3" in error.render("en")


def test_cells_are_the_records_as_tuples(tmp_path: Path) -> None:
    """The dict-free view of a file (the payments import's hot path) gives exactly the rows of
    iterating its records: numbering, trimming, blank rows, short and long rows, a column the
    file does not have."""
    content = (
        "code ; name ;note\n A1 ; Alpha ; x \n\n ; ; \nB2;Beta\nC3;Gamma;n;extra;;more\nD4;Delta;\n"
    )
    path = _write(tmp_path, "things.csv", content)
    wanted = ("name", "code", "missing", "note")
    records = _read(path, required=("code", "name"), optional=("note",))
    expected = [(r.row, tuple(r.values.get(c, "") for c in wanted), r.extra) for r in records]
    with open_records(path, required=("code", "name"), optional=("note",)) as opened:
        cells = list(opened.cells(wanted))
    assert cells == expected
    assert cells == [
        (1, ("Alpha", "A1", "", "x"), ()),
        (4, ("Beta", "B2", "", ""), ()),
        (5, ("Gamma", "C3", "", "n"), ("extra", "more")),
        (6, ("Delta", "D4", "", ""), ()),
    ]
    with open_records(path, required=("code", "name"), optional=("note",)) as opened:
        assert list(opened.cells(("code",))) == [
            (1, ("A1",), ()),
            (4, ("B2",), ()),
            (5, ("C3",), ("extra", "more")),
            (6, ("D4",), ()),
        ]
