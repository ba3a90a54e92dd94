"""The contribution calculator over the shipped policies and over hand-made ones (pure)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cakupan.contributions import (
    Funding,
    PolicyBook,
    Program,
    ProgramSet,
    Sector,
    parse_programs,
    shipped_policy_book,
)
from cakupan.contributions.policy_file import read_policy_document, shipped_policies
from cakupan.contributions.rules import (
    PolicyKind,
    PolicyRecord,
    find_ambiguities,
    parse_funding,
    parse_income,
    parse_month,
    parse_sector,
    record_from_mapping,
)
from cakupan.dates import Month
from cakupan.errors import CakupanError

BOOK = shipped_policy_book()
TWO, THREE = ProgramSet.JKK_JKM, ProgramSet.JKK_JKM_JHT


def amounts(quote: Any) -> dict[str, int]:
    return {line.program.value: line.amount for line in quote.lines}


# --- the shipped data -------------------------------------------------------------------------


def test_shipped_band_table_has_33_bands_as_in_the_regulation() -> None:
    table = BOOK.band_table(Month(2020, 1))
    assert len(table.lowers) == 33
    assert table.lowers[:3] == (0, 1_100_000, 1_300_000)
    assert table.bases[:3] == (1_000_000, 1_200_000, 1_400_000)
    assert table.bases[8:11] == (2_600_000, 2_950_000, 3_450_000)
    assert table.bases[19:22] == (7_950_000, 8_700_000, 9_700_000)
    assert table.bases[-2:] == (19_700_000, 20_700_000)
    assert table.record.source == "PP 44/2015 Lampiran II"


def test_every_shipped_record_names_its_source() -> None:
    records = shipped_policies()
    assert {r.code for r in records} >= {"pp44-2015/bands", "pp50-2025/jkk-other"}
    assert all(r.source.startswith(("PP 44/2015", "PP 50/2025")) for r in records)


# --- band edges (half-open intervals) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("income", "base"),
    [
        (0, 1_000_000),
        (1_099_999, 1_000_000),
        (1_100_000, 1_200_000),
        (1_299_999, 1_200_000),
        (1_300_000, 1_400_000),
        (2_699_999, 2_600_000),
        (2_700_000, 2_950_000),
        (3_199_999, 2_950_000),
        (3_200_000, 3_450_000),
        (8_199_999, 7_950_000),
        (8_200_000, 8_700_000),
        (9_199_999, 8_700_000),
        (20_199_999, 19_700_000),
        (20_200_000, 20_700_000),
        (500_000_000, 20_700_000),
    ],
)
def test_band_edges(income: int, base: int) -> None:
    quote = BOOK.quote(income=income, programs=THREE, month=Month(2025, 6))
    assert quote.base_income == base
    assert amounts(quote) == {"JKK": base // 100, "JKM": 6_800, "JHT": base * 2 // 100}
    assert quote.total == base // 100 + 6_800 + base * 2 // 100


def test_floor_before_the_discount() -> None:
    two = BOOK.quote(income=0, programs=TWO, month=Month(2025, 12))
    three = BOOK.quote(income=0, programs=THREE, month=Month(2025, 12))
    assert (two.total, three.total) == (16_800, 36_800)
    assert [line.program for line in two.lines] == [Program.JKK, Program.JKM]


def test_november_2026_floor_is_halved_but_not_jht() -> None:
    two = BOOK.quote(income=900_000, programs=TWO, month=Month(2026, 11))
    three = BOOK.quote(income=900_000, programs=THREE, month=Month(2026, 11))
    assert two.total == 8_400
    assert amounts(three) == {"JKK": 5_000, "JKM": 3_400, "JHT": 20_000}
    assert three.total == 28_400


def test_halving_per_line_from_the_brief() -> None:
    quote = BOOK.quote(income=1_200_000, programs=THREE, month=Month(2026, 11))
    assert amounts(quote) == {"JKK": 6_000, "JKM": 3_400, "JHT": 24_000}
    assert quote.as_dict() == {
        "month": "2026-11",
        "base_income": 1_200_000,
        "lines": [
            {
                "program": "JKK",
                "amount": 6_000,
                "policies": ["pp44-2015/bands", "pp44-2015/jkk", "pp50-2025/jkk-other"],
            },
            {
                "program": "JKM",
                "amount": 3_400,
                "policies": ["pp44-2015/jkm", "pp50-2025/jkm-other"],
            },
            {"program": "JHT", "amount": 24_000, "policies": ["pp44-2015/bands", "pp44-2015/jht"]},
        ],
        "total": 33_400,
    }


# --- discount windows -------------------------------------------------------------------------

FULL_FLOOR, HALF_FLOOR = 16_800, 8_400


@pytest.mark.parametrize(
    ("month", "sector", "expected"),
    [
        ("2025-12", Sector.TRANSPORT, FULL_FLOOR),
        ("2026-01", Sector.TRANSPORT, HALF_FLOOR),
        ("2026-03", Sector.TRANSPORT, HALF_FLOOR),
        ("2026-04", Sector.TRANSPORT, HALF_FLOOR),
        ("2026-12", Sector.TRANSPORT, HALF_FLOOR),
        ("2027-01", Sector.TRANSPORT, HALF_FLOOR),
        ("2027-03", Sector.TRANSPORT, HALF_FLOOR),
        ("2027-04", Sector.TRANSPORT, FULL_FLOOR),
        ("2025-12", Sector.OTHER, FULL_FLOOR),
        ("2026-01", Sector.OTHER, FULL_FLOOR),
        ("2026-03", Sector.OTHER, FULL_FLOOR),
        ("2026-04", Sector.OTHER, HALF_FLOOR),
        ("2026-12", Sector.OTHER, HALF_FLOOR),
        ("2027-01", Sector.OTHER, FULL_FLOOR),
        ("2027-03", Sector.OTHER, FULL_FLOOR),
        ("2027-04", Sector.OTHER, FULL_FLOOR),
    ],
)
def test_discount_windows_by_sector(month: str, sector: Sector, expected: int) -> None:
    total = BOOK.monthly_total(
        income=1_000_000, programs=TWO, month=Month.parse(month), sector=sector
    )
    assert total == expected


@pytest.mark.parametrize("funding", [Funding.APBN, Funding.APBD])
@pytest.mark.parametrize(
    ("month", "sector"), [("2026-02", Sector.TRANSPORT), ("2026-11", Sector.OTHER)]
)
def test_state_funded_participants_are_not_discounted(
    funding: Funding, month: str, sector: Sector
) -> None:
    quote = BOOK.quote(
        income=3_000_000, programs=THREE, month=Month.parse(month), sector=sector, funding=funding
    )
    assert amounts(quote) == {"JKK": 29_500, "JKM": 6_800, "JHT": 59_000}
    assert all("pp50" not in ref for line in quote.lines for ref in line.policies)
    self_paid = BOOK.quote(
        income=3_000_000, programs=THREE, month=Month.parse(month), sector=sector
    )
    assert amounts(self_paid) == {"JKK": 14_750, "JKM": 3_400, "JHT": 59_000}


# --- rounding: exact full line, discount factor, half up once per line ------------------------


def _book(*extra: dict[str, Any]) -> PolicyBook:
    text = "\n".join(_toml(entry) for entry in extra)
    return PolicyBook.from_records(read_policy_document(text.encode(), name="test.toml"))


def _toml(entry: dict[str, Any]) -> str:
    lines = ["[[policy]]"]
    for key, value in entry.items():
        if isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        else:
            lines.append(f"{key} = {value!r}".replace("(", "[").replace(")", "]"))
    return "\n".join(lines) + "\n"


ODD_BOOK = _book(
    {
        "code": "test/bands",
        "kind": "bands",
        "valid_from": "2030-01",
        "source": "test",
        "bands": [[0, 1_000_100], [2_000_000, 1_000_300]],
    },
    {
        "code": "test/jkk",
        "kind": "rate",
        "program": "JKK",
        "percent": "1",
        "valid_from": "2030-01",
        "source": "t",
    },
    {
        "code": "test/jkm",
        "kind": "flat",
        "program": "JKM",
        "amount": 6_801,
        "valid_from": "2030-01",
        "source": "t",
    },
    {
        "code": "test/jht",
        "kind": "rate",
        "program": "JHT",
        "percent": "0.05",
        "valid_from": "2030-01",
        "source": "t",
    },
    {
        "code": "test/half-jkk",
        "kind": "discount",
        "program": "JKK",
        "percent": "50",
        "valid_from": "2030-01",
        "source": "t",
    },
    {
        "code": "test/half-jkm",
        "kind": "discount",
        "program": "JKM",
        "percent": "50",
        "valid_from": "2030-01",
        "source": "t",
    },
)


def test_half_rupiah_rounds_up_once_per_line() -> None:
    quote = ODD_BOOK.quote(income=10, programs=THREE, month=Month(2030, 1))
    # JKK: 1% of 1,000,100 = 10,001 -> halved 5,000.5 -> 5,001; JKM 6,801 -> 3,400.5 -> 3,401;
    # JHT: 0.05% of 1,000,100 = 500.05 -> 500.
    assert amounts(quote) == {"JKK": 5_001, "JKM": 3_401, "JHT": 500}
    assert quote.total == 8_902


def test_discount_applies_to_the_exact_line_not_a_rounded_one() -> None:
    # 1% of 1,000,300 = 10,003 exactly; halved 5,001.5 -> 5,002 (rounding first would give the same
    # here), while 0.05% of 1,000,300 = 500.15 stays 500: one rounding per line.
    quote = ODD_BOOK.quote(income=2_000_000, programs=THREE, month=Month(2030, 1))
    assert amounts(quote) == {"JKK": 5_002, "JKM": 3_401, "JHT": 500}


def test_rounding_order_full_then_discount_then_half_up() -> None:
    book = _book(
        {
            "code": "b",
            "kind": "bands",
            "valid_from": "2030-01",
            "source": "t",
            "bands": [[0, 1_000_050]],
        },
        {
            "code": "jkk",
            "kind": "rate",
            "program": "JKK",
            "percent": "1",
            "valid_from": "2030-01",
            "source": "t",
        },
        {
            "code": "jkm",
            "kind": "flat",
            "program": "JKM",
            "amount": 0,
            "valid_from": "2030-01",
            "source": "t",
        },
        {
            "code": "d",
            "kind": "discount",
            "program": "JKK",
            "percent": "50",
            "valid_from": "2030-01",
            "source": "t",
        },
    )
    # Full line 10,000.5 exactly; halved 5,000.25 -> 5,000. Rounding the full line first
    # (10,001) and then halving (5,000.5 -> 5,001) would overcharge by one rupiah.
    assert book.monthly_total(income=0, programs=TWO, month=Month(2030, 1)) == 5_000


# --- property: never decreasing with income ---------------------------------------------------

MONTHS = st.builds(Month.from_index, st.integers(Month(2015, 7).index, Month(2030, 12).index))


@settings(max_examples=300, deadline=None)
@given(
    month=MONTHS,
    programs=st.sampled_from(list(ProgramSet)),
    sector=st.sampled_from(list(Sector)),
    funding=st.sampled_from(list(Funding)),
    low=st.integers(0, 30_000_000),
    step=st.integers(0, 30_000_000),
)
def test_total_never_decreases_as_income_rises(
    month: Month, programs: ProgramSet, sector: Sector, funding: Funding, low: int, step: int
) -> None:
    args = {"programs": programs, "month": month, "sector": sector, "funding": funding}
    lower = BOOK.quote(income=low, **args)
    higher = BOOK.quote(income=low + step, **args)
    assert higher.total >= lower.total
    assert higher.base_income >= lower.base_income
    assert lower.total == sum(line.amount for line in lower.lines)


@settings(max_examples=100, deadline=None)
@given(month=MONTHS, income=st.integers(0, 40_000_000), sector=st.sampled_from(list(Sector)))
def test_fast_path_equals_quote_and_jht_adds_on_top(
    month: Month, income: int, sector: Sector
) -> None:
    two = BOOK.quote(income=income, programs=TWO, month=month, sector=sector)
    three = BOOK.monthly_total(income=income, programs="JKK+JKM+JHT", month=month, sector=sector)
    assert BOOK.monthly_total(income=income, programs=TWO, month=month, sector=sector) == two.total
    assert three == two.total + two.base_income * 2 // 100


def test_fast_path_accepts_database_strings() -> None:
    total = BOOK.monthly_total(
        income=1_500_000,
        programs="JKK+JKM",
        month=Month(2026, 2),
        sector="transport",
        funding="self",
    )
    assert total == 8_000 + 3_400


# --- parsing user input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("JKK,JKM", TWO),
        ("JKK+JKM", TWO),
        ("jkm, jkk", TWO),
        ("JKK JKM", TWO),
        ("JKK,JKM,JHT", THREE),
        ("JHT+JKK+JKM", THREE),
    ],
)
def test_parse_programs(text: str, expected: ProgramSet) -> None:
    assert parse_programs(text) is expected
    assert expected.programs[:2] == (Program.JKK, Program.JKM)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("JKK,XYZ", "XYZ"),
        ("JKK", "JKK+JKM"),
        ("JKM,JHT", "JKK+JKM"),
        ("JKK,JHT", "JKK+JKM"),
        ("JKK,JKM,JKM", "repeated"),
        ("", "required"),
    ],
)
def test_parse_programs_refuses(text: str, fragment: str) -> None:
    with pytest.raises(CakupanError) as caught:
        parse_programs(text)
    assert caught.value.problems[0].field == "programs"
    assert fragment in caught.value.render("en")


@pytest.mark.parametrize("text", ["abc", "-5", "1.5", "1.500.000", "1,5", "", " ", "1e6"])
def test_parse_income_refuses(text: str) -> None:
    with pytest.raises(CakupanError) as caught:
        parse_income(text)
    problem = caught.value.problems[0]
    assert problem.field == "income"
    assert "expected a whole number of rupiah" in problem.message.render("en")


def test_parse_small_values() -> None:
    assert parse_income(" 1500000 ") == 1_500_000
    assert parse_month("2026-01") == Month(2026, 1)
    assert parse_sector("Transport") is Sector.TRANSPORT
    assert parse_funding("APBD") is Funding.APBD
    for parse, field_name, bad in (
        (parse_month, "month", "2026-1"),
        (parse_sector, "sector", "farm"),
        (parse_funding, "funding", "bank"),
    ):
        with pytest.raises(CakupanError) as caught:
            parse(bad)  # type: ignore[operator]
        assert caught.value.problems[0].field == field_name


def test_negative_income_and_uncovered_month_are_refused_by_the_book() -> None:
    with pytest.raises(CakupanError) as caught:
        BOOK.monthly_total(income=-1, programs=TWO, month=Month(2026, 1))
    assert caught.value.problems[0].field == "income"
    with pytest.raises(CakupanError) as caught:
        BOOK.quote(income=1, programs=TWO, month=Month(2015, 6))
    assert caught.value.problems[0].field == "month"
    assert "2015-06" in caught.value.render("en")


# --- records and resolution -------------------------------------------------------------------

BASE = {"valid_from": "2030-01", "source": "t"}


def test_record_validation_lists_every_problem() -> None:
    with pytest.raises(CakupanError) as caught:
        record_from_mapping(
            {
                "code": "Bad Code",
                "kind": "rate",
                "percent": "abc",
                "valid_from": "2030-13",
                "colour": 1,
            },
            label="policy 1",
        )
    fields = {p.field for p in caught.value.problems}
    assert fields == {"code", "percent", "valid_from", "source", "program", "colour"}
    assert all(p.record == "policy 1" for p in caught.value.problems)


def test_band_table_must_start_at_zero_and_not_fall() -> None:
    with pytest.raises(CakupanError) as caught:
        record_from_mapping(
            {"code": "b", "kind": "bands", **BASE, "bands": [[10, 5], [20, 4], [20, 6]]}, label="b"
        )
    messages = caught.value.render("en")
    assert "start at 0" in messages
    assert "must not decrease" in messages
    assert "must increase" in messages


def test_percent_is_exact() -> None:
    record = record_from_mapping(
        {"code": "r", "kind": "rate", "program": "jkk", "percent": 0.24, **BASE}, label="r"
    )
    assert record.percent == Decimal("0.24")
    assert record.kind is PolicyKind.RATE
    assert record.program is Program.JKK


def _rec(**values: Any) -> PolicyRecord:
    return record_from_mapping({**BASE, **values}, label=str(values.get("code")))


def test_later_policy_wins_for_its_months_only_and_highest_version_counts() -> None:
    base = list(shipped_policies())
    raised = _rec(
        code="pp99-2031/jkm",
        kind="flat",
        program="JKM",
        amount=10_000,
        valid_from="2031-01",
        valid_to="2031-06",
    )
    book = PolicyBook.from_records([*base, raised])
    month = Month(2031, 3)
    assert amounts(book.quote(income=0, programs=TWO, month=month))["JKM"] == 10_000
    assert amounts(book.quote(income=0, programs=TWO, month=Month(2031, 7)))["JKM"] == 6_800
    assert amounts(book.quote(income=0, programs=TWO, month=Month(2030, 12)))["JKM"] == 6_800
    corrected = _rec(
        code="pp99-2031/jkm",
        version=2,
        kind="flat",
        program="JKM",
        amount=9_000,
        valid_from="2031-01",
        valid_to="2031-06",
    )
    book = PolicyBook.from_records([*base, raised, corrected])
    line = book.quote(income=0, programs=TWO, month=month).lines[1]
    assert (line.amount, line.policies) == (9_000, ("pp99-2031/jkm@2",))


def test_more_specific_scope_wins_on_the_same_start() -> None:
    general = _rec(code="d/all", kind="discount", program="JKK", percent="10")
    transport = _rec(
        code="d/transport", kind="discount", program="JKK", sector="transport", percent="20"
    )
    assert find_ambiguities([general, transport]) == []
    book = PolicyBook.from_records([*shipped_policies(), general, transport])
    base_jkk = 10_000
    other = amounts(book.quote(income=0, programs=TWO, month=Month(2030, 1)))
    moving = amounts(book.quote(income=0, programs=TWO, month=Month(2030, 1), sector="transport"))
    assert (other["JKK"], moving["JKK"]) == (base_jkk * 90 // 100, base_jkk * 80 // 100)


def test_competing_records_are_reported() -> None:
    first = _rec(code="d/a", kind="discount", program="JKK", sector="transport", percent="10")
    second = _rec(code="d/b", kind="discount", program="JKK", funding="self", percent="20")
    problems = find_ambiguities([first, second])
    assert [(p.record, p.field) for p in problems] == [("d/b", "valid_from")]
    assert "d/a" in problems[0].message.render("en")
