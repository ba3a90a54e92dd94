"""Pure rules of the partners area."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cakupan.dates import Month
from cakupan.partners.rules import (
    code_problem,
    idle_months,
    kind_problem,
    next_evaluation_due,
    parent_problem,
    parse_rate_percent,
    rate_text,
    termination_standing,
    transition_problem,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3", Decimal(3)), ("2.5", Decimal("2.5")), ("2,5", Decimal("2.5")), ("5%", Decimal(5))],
)
def test_parse_rate_percent(text: str, expected: Decimal) -> None:
    assert parse_rate_percent(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "-1", "101", "NaN", "Infinity"])
def test_parse_rate_percent_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="percentage"):
        parse_rate_percent(text)


def test_rate_text_is_canonical() -> None:
    assert [rate_text(Decimal(v)) for v in ("2.50", "3", "3.0", "100", "0.125")] == [
        "2.5",
        "3",
        "3",
        "100",
        "0.125",
    ]


def test_codes_and_kinds() -> None:
    assert code_problem("PLG-W1.P_1") is None
    assert code_problem("") is not None
    assert code_problem("has space") is not None
    assert code_problem("x" * 41) is not None
    assert kind_problem("brilink") is None
    assert kind_problem("BRILINK") is not None


def test_hierarchy() -> None:
    assert parent_problem("perisai", "W1", "wadah") is None
    assert parent_problem("perisai", None, None) is not None  # a Perisai belongs to a Wadah
    assert parent_problem("perisai", "K1", "korporasi") is not None
    assert parent_problem("pos_kc", "R1", "pos_regional") is None
    assert parent_problem("pos_kc", None, None) is None
    assert parent_problem("agen46", "K1", "korporasi") is None
    assert parent_problem("wadah", "W0", "wadah") is not None


def test_lifecycle_transitions() -> None:
    assert transition_problem("recruited", "trained") is None
    assert transition_problem("trained", "active") is None
    assert transition_problem("active", "suspended") is None
    assert transition_problem("suspended", "active") is None
    assert transition_problem("recruited", "active") is not None
    assert transition_problem("terminated", "active") is not None
    assert transition_problem("active", "terminated") is None


def test_idle_months_counts_whole_months_after_last_activity() -> None:
    march = Month(2026, 3)
    assert idle_months(Month(2026, 3), Month(2025, 1), march) == 0
    assert idle_months(Month(2026, 2), Month(2025, 1), march) == 1
    assert idle_months(Month(2026, 1), Month(2025, 1), march) == 2
    assert idle_months(Month(2025, 12), Month(2025, 1), march) == 3
    # never active: counted from the month the agent started
    assert idle_months(None, Month(2026, 3), march) == 1
    assert idle_months(None, Month(2026, 1), march) == 3
    # started after its last recorded activity (re-activated): from the start
    assert idle_months(Month(2024, 5), Month(2026, 2), march) == 2
    assert idle_months(None, Month(2026, 5), march) == 0


def test_termination_standing() -> None:
    assert [termination_standing(i, 2, 3) for i in range(5)] == [
        None,
        None,
        "at_risk",
        "due",
        "due",
    ]


def test_next_evaluation_due() -> None:
    assert next_evaluation_due(None, date(2026, 1, 10)) == date(2026, 7, 10)
    assert next_evaluation_due(date(2026, 8, 31), date(2025, 1, 1)) == date(2027, 2, 28)
