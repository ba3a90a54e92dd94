"""Pure rules of the dashboard: rates, the early-warning rule (data), the league ranking on
retention rather than volume, and peers' anonymous names."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from cakupan.dashboard.rules import (
    LeagueEntry,
    Ratio,
    WarningRule,
    anonymous_name,
    drop_warning,
    load_warning_rules,
    rank_league,
    rule_in_force,
)

RULE = WarningRule(date(2020, 1, 1), "retention_m3", Decimal("5.0"), 3, 20, "test")


def test_ratio_percent_rounds_half_up_and_empty_base_has_none() -> None:
    assert Ratio(12, 23).percent == 52.2
    assert Ratio(1, 8).percent == 12.5
    assert Ratio(0, 0).percent is None
    assert (Ratio(1, 2) + Ratio(2, 3)).as_json() == {"part": 3, "base": 5, "percent": 60.0}


def test_drop_warning_fires_only_beyond_the_threshold() -> None:
    trailing = [Ratio(60, 100), Ratio(50, 100), Ratio(70, 100)]  # average 60.0
    warning = drop_warning(Ratio(50, 100), trailing, RULE)  # 10 points below
    assert warning is not None
    assert (warning.latest_percent, warning.trailing_percent, warning.drop_points) == (
        50.0,
        60.0,
        10.0,
    )
    assert drop_warning(Ratio(55, 100), trailing, RULE) is None  # exactly 5 points: no warning
    assert drop_warning(Ratio(54, 100), trailing, RULE) is not None


def test_drop_warning_needs_a_base_and_the_whole_history() -> None:
    trailing = [Ratio(60, 100), Ratio(60, 100), Ratio(60, 100)]
    assert drop_warning(Ratio(1, 19), trailing, RULE) is None  # base below min_base
    assert drop_warning(Ratio(10, 100), trailing[:2], RULE) is None  # too short a history
    assert drop_warning(Ratio(10, 100), [*trailing[:2], Ratio(0, 0)], RULE) is None


@given(
    latest=st.integers(0, 100),
    history=st.lists(st.integers(0, 100), min_size=3, max_size=3),
)
def test_drop_warning_matches_its_definition(latest: int, history: list[int]) -> None:
    warning = drop_warning(Ratio(latest, 100), [Ratio(h, 100) for h in history], RULE)
    average = Decimal(sum(history)) / 3
    assert (warning is not None) == (average - latest > 5)


def test_shipped_rules_are_dated_data_with_a_source() -> None:
    rules = load_warning_rules()
    assert {r.metric for r in rules} == {"retention_m3", "compliance"}
    assert all(r.source for r in rules)
    assert rule_in_force(rules, "compliance", date(2019, 12, 31)) is None
    newer = WarningRule(date(2026, 1, 1), "compliance", Decimal("3"), 3, 50, "newer")
    assert rule_in_force([*rules, newer], "compliance", date(2026, 6, 1)) == newer
    assert rule_in_force([*rules, newer], "compliance", date(2025, 6, 1)) != newer


def _entry(code: str, registrations: int, m6: Ratio, m3: Ratio, compliance: Ratio) -> LeagueEntry:
    return LeagueEntry(code, registrations, m3, m6, compliance, 0)


def test_league_ranks_on_retention_not_volume() -> None:
    big = _entry("BIG", 1000, Ratio(200, 1000), Ratio(400, 1000), Ratio(50, 100))
    small = _entry("SMALL", 50, Ratio(30, 50), Ratio(40, 50), Ratio(80, 100))
    tie = _entry("TIE", 60, Ratio(36, 60), Ratio(40, 60), Ratio(90, 100))  # m6 60% like SMALL
    none = _entry("NEW", 10, Ratio(0, 0), Ratio(0, 0), Ratio(0, 0))
    ranked = rank_league([big, none, small, tie])
    assert [(rank, e.partner_code) for rank, e in ranked] == [
        (1, "SMALL"),  # m6 60%, m3 80%
        (2, "TIE"),  # m6 60%, m3 66.7%
        (3, "BIG"),
        (4, "NEW"),  # no rates yet: last
    ]


def test_anonymous_names() -> None:
    assert [anonymous_name(i) for i in (0, 1, 25, 26, 27)] == [
        "Mitra A",
        "Mitra B",
        "Mitra Z",
        "Mitra AA",
        "Mitra AB",
    ]
