"""NIK validation (pure): every error code, several at once, partial information, the women's day
offset, the century edge, and round-trips of generated NIKs."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cakupan.regions.reference import AREA_DATA_DIR
from cakupan.registry.nik import (
    BIRTH_DATE_INVALID,
    DISTRICT_UNKNOWN,
    ERROR_CODES,
    LENGTH,
    NOT_DIGITS,
    SERIAL_ZERO,
    check_nik,
    compose_nik,
)

TODAY = date(2026, 11, 26)
# Every district of the shipped reference data (read from the vendored CSV: no database here).
with (AREA_DATA_DIR / "districts.csv").open(encoding="utf-8") as _handle:
    REAL_DISTRICTS = frozenset(row["code"] for row in csv.DictReader(_handle))
# A few real district codes (Kota Palembang, Kota Madiun, Kota Semarang, Aceh Selatan).
DISTRICTS = frozenset({"16.71.01", "35.77.03", "33.74.10", "11.01.01"})


def check(nik: str, today: date = TODAY):  # type: ignore[no-untyped-def]
    return check_nik(nik, known_districts=DISTRICTS, today=today)


def test_a_valid_man() -> None:
    result = check("1671011205900001")
    assert result.valid
    assert result.errors == []
    assert (result.district_code, result.birth_date, result.sex) == (
        "16.71.01",
        date(1990, 5, 12),
        "M",
    )
    assert result.as_json() == {
        "nik": "1671011205900001",
        "valid": True,
        "errors": [],
        "district_code": "16.71.01",
        "birth_date": "1990-05-12",
        "sex": "M",
    }


def test_a_valid_woman_has_forty_added_to_the_day() -> None:
    result = check("1671015205900001")
    assert result.valid
    assert (result.birth_date, result.sex) == (date(1990, 5, 12), "F")
    assert check("1671014101000001").birth_date == date(2000, 1, 1)
    assert check("1671017112990001").birth_date == date(1999, 12, 31)


@pytest.mark.parametrize(
    ("day_part", "sex"),
    [("01", "M"), ("31", "M"), ("41", "F"), ("71", "F")],
)
def test_day_range_edges_are_valid(day_part: str, sex: str) -> None:
    result = check(f"167101{day_part}0190" + "0001")
    assert result.valid, result.errors
    assert result.sex == sex


@pytest.mark.parametrize(
    ("day_part", "sex"), [("00", None), ("32", None), ("40", None), ("72", None)]
)
def test_impossible_day_parts(day_part: str, sex: str | None) -> None:
    result = check(f"167101{day_part}01900001")
    assert result.codes == [BIRTH_DATE_INVALID]
    assert (result.sex, result.birth_date) == (sex, None)
    assert result.district_code == "16.71.01"  # still known


def test_surrounding_whitespace_is_ignored() -> None:
    assert check("  1671011205900001\n").nik == "1671011205900001"


@pytest.mark.parametrize(
    ("nik", "codes"),
    [
        ("167101120590001", [LENGTH]),
        ("16710112059000011", [LENGTH]),
        ("", [LENGTH]),
        ("16710112O5900001", [NOT_DIGITS]),  # a letter O
        ("1671-01-1205900001", [NOT_DIGITS, LENGTH]),  # wrong length too: nothing else read
        ("1671011205900000", [SERIAL_ZERO]),
        ("1671991205900001", [DISTRICT_UNKNOWN]),
        ("1671013104900001", [BIRTH_DATE_INVALID]),  # 31 April
        ("1671011213900001", [BIRTH_DATE_INVALID]),  # month 13
        ("1671011200900001", [BIRTH_DATE_INVALID]),  # month 00
    ],
)
def test_each_error_code(nik: str, codes: list[str]) -> None:
    result = check(nik)
    assert not result.valid
    assert result.codes == codes
    assert all(problem.message.id and problem.message.en for problem in result.errors)


def test_every_error_code_is_exercised() -> None:
    assert set(ERROR_CODES) == {
        NOT_DIGITS,
        LENGTH,
        DISTRICT_UNKNOWN,
        BIRTH_DATE_INVALID,
        SERIAL_ZERO,
    }


def test_every_problem_is_reported_together() -> None:
    result = check("9999993104900000")
    assert result.codes == [DISTRICT_UNKNOWN, BIRTH_DATE_INVALID, SERIAL_ZERO]
    # the day part is a man's day, so the sex is known although the date is not
    assert (result.district_code, result.birth_date, result.sex) == (None, None, "M")
    assert "99.99.99" in result.errors[0].message.en
    assert "31" in result.errors[1].message.en


def test_letters_in_one_part_leave_the_others_readable() -> None:
    result = check("16710152059x0000")
    assert result.codes == [NOT_DIGITS, SERIAL_ZERO]
    assert result.district_code == "16.71.01"
    assert (result.birth_date, result.sex) == (None, None)
    assert "'x'" in result.errors[0].message.en
    assert "position 12" in result.errors[0].message.en


def test_messages_name_the_part_and_what_came() -> None:
    result = check("1671011213900001")
    assert result.errors[0].message.en == (
        "birth date 121390 (digits 7-12, DDMMYY) is not valid: month 13 must be 01-12"
    )
    assert result.errors[0].message.id.startswith("tanggal lahir 121390")
    assert result.sex == "M"


def test_29_february() -> None:
    assert check("1671012902000001").birth_date == date(2000, 2, 29)
    assert check("1671016902960001").birth_date == date(1996, 2, 29)
    assert check("1671012902250001").codes == [BIRTH_DATE_INVALID]  # 2025 and 1925: no 29 Feb
    # In 2024 before 29 February, "290224" is 29 February 1924 (2024's is still to come).
    assert check("1671012902240001", today=date(2024, 2, 28)).birth_date == date(1924, 2, 29)
    assert check("1671012902240001", today=date(2024, 2, 29)).birth_date == date(2024, 2, 29)
    # In 2150, "290200" cannot be 2100 (not a leap year): 29 February 2000.
    assert check("1671012902000001", today=date(2150, 1, 1)).birth_date == date(2000, 2, 29)


def test_century_edge_today_versus_tomorrow() -> None:
    # Born on today's day and month of a year ending like this one: today, not 100 years ago.
    assert check("1671012611260001").birth_date == date(2026, 11, 26)
    # Yesterday's date: yesterday.
    assert check("1671012511260001").birth_date == date(2026, 11, 25)
    # Tomorrow's date cannot be a birth date yet: 100 years earlier.
    assert check("1671012711260001").birth_date == date(1926, 11, 27)
    # Two-digit years after this one are last century.
    assert check("1671011201270001").birth_date == date(1927, 1, 12)
    assert check("1671011201000001").birth_date == date(2000, 1, 12)


def test_compose_rejects_impossible_parts() -> None:
    with pytest.raises(ValueError, match="serial"):
        compose_nik("16.71.01", date(1990, 1, 1), "M", 0)
    with pytest.raises(ValueError, match="district"):
        compose_nik("16.71", date(1990, 1, 1), "M", 1)


@given(
    district=st.sampled_from(sorted(REAL_DISTRICTS)),
    born=st.dates(min_value=TODAY - timedelta(days=36524), max_value=TODAY),
    sex=st.sampled_from(["M", "F"]),
    serial=st.integers(min_value=1, max_value=9999),
)
def test_any_valid_nik_round_trips(district: str, born: date, sex: str, serial: int) -> None:
    """Any NIK built from a real district, a birth date within the last 100 years, a sex and a
    serial is valid and gives back exactly those parts."""
    nik = compose_nik(district, born, sex, serial)  # type: ignore[arg-type]
    result = check_nik(nik, known_districts=REAL_DISTRICTS, today=TODAY)
    assert result.valid, result.errors
    assert (result.district_code, result.birth_date, result.sex) == (district, born, sex)


@given(nik=st.text(alphabet="0123456789abc -", max_size=20), today=st.dates())
def test_never_crashes_and_valid_means_no_errors(nik: str, today: date) -> None:
    result = check_nik(nik, known_districts=DISTRICTS, today=today)
    assert result.valid == (result.errors == [])
    assert set(result.codes) <= set(ERROR_CODES)
    if result.birth_date is not None:
        assert result.birth_date <= today
        assert result.sex is not None
    if result.valid:
        assert result.district_code in DISTRICTS
