"""Pure rules of areas and office rows."""

from __future__ import annotations

import pytest

from cakupan.regions.rules import (
    OfficeRow,
    district_of,
    parse_office_row,
    province_of,
    regency_of,
    split_codes,
)


def test_parents_of_codes() -> None:
    assert regency_of("16.71") == "16.71"
    assert regency_of("16.71.01") == "16.71"
    assert regency_of("16.71.01.1001") == "16.71"
    assert district_of("16.71.01.1001") == "16.71.01"
    assert province_of("16.71.01.1001") == "16"
    for bad in ("16", "1671", "16.7", "16.71x"):
        with pytest.raises(ValueError, match="expected"):
            regency_of(bad)
    with pytest.raises(ValueError, match="expected"):
        district_of("16.71")


def test_split_codes_accepts_common_separators() -> None:
    assert split_codes(" 16.71; 16.06,16.10 |16.02  ") == ["16.71", "16.06", "16.10", "16.02"]
    assert split_codes("") == []


def test_a_branch_row() -> None:
    row, problems = parse_office_row(
        {
            "kind": "Cabang",
            "code": "lht",
            "name": " Lahat  Kota ",
            "parent_code": "sumbagsel",
            "regency_codes": "16.04 16.11",
        }
    )
    assert problems == []
    assert row == OfficeRow(
        "branch", "LHT", "Lahat Kota", "SUMBAGSEL", frozenset({"16.04", "16.11"})
    )


def test_a_region_row() -> None:
    row, problems = parse_office_row(
        {"kind": "kanwil", "code": "SUMBAR", "name": "Sumatera Barat", "province_codes": "13"}
    )
    assert problems == []
    assert row == OfficeRow("region", "SUMBAR", "Sumatera Barat", None, frozenset({"13"}))


def test_every_shape_problem_is_reported() -> None:
    row, problems = parse_office_row(
        {
            "kind": "region",
            "code": "1A",
            "name": "",
            "parent_code": "X",
            "province_codes": "16 016 16",
            "regency_codes": "16.71",
        }
    )
    assert row is not None
    assert row.covers == frozenset({"16"})  # only well-formed codes are kept
    assert [field for field, _ in problems] == [
        "code",
        "name",
        "parent_code",
        "regency_codes",
        "province_codes",
        "province_codes",
    ]
    messages = [message.en for _, message in problems]
    assert "got '1A'" in messages[0]
    assert "province codes must look like 16, got 016" in messages[4]
    assert "repeated province codes: 16" in messages[5]


def test_a_branch_needs_a_parent_and_regencies() -> None:
    row, problems = parse_office_row({"kind": "branch", "code": "ABC", "name": "Abc"})
    assert row is not None
    assert [field for field, _ in problems] == ["parent_code", "regency_codes"]
    assert "got nothing" in problems[1][1].en


def test_unknown_kind_gives_no_row() -> None:
    row, problems = parse_office_row({"kind": "kantor", "code": "ABC", "name": "Abc"})
    assert row is None
    assert problems[0][0] == "kind"
    assert "'kantor'" in problems[0][1].en
