"""Pure rules of the campaigns area: contact keys, the segment rule language, prospect stages,
costs and the targeting score."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cakupan.campaigns.rules import (
    FactorWeights,
    ProspectStage,
    TargetingInput,
    area_level,
    cost_per,
    name_key,
    parse_segment_rule,
    phone_key,
    prospect_stage,
    score_targets,
)

WEIGHTS = FactorWeights(
    gap=Decimal("0.4"),
    conversion=Decimal("0.2"),
    retention=Decimal("0.25"),
    partner_presence=Decimal("0.15"),
    partner_saturation=5,
    source="test",
    version="t",
)


@pytest.mark.parametrize(
    "phone",
    ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "812 3456 7890", "+62 0812 3456 7890",
     "(0812) 3456.7890"],
)  # fmt: skip
def test_phone_forms_share_one_key(phone: str) -> None:
    assert phone_key(phone) == "6281234567890"


def test_short_or_empty_phone_has_no_key() -> None:
    assert phone_key("0812") is None
    assert phone_key("") is None
    assert phone_key(None) is None


@pytest.mark.parametrize(
    "name",
    ["Budi Santoso", "  BUDI   santoso ", "Bapak Budi Santoso", "Bpk. Budi Santoso",
     "H. Budi Santoso, S.Pd.", "Dr. budi  Santoso", "Budi Santoso, S.E."],
)  # fmt: skip
def test_name_variants_share_one_key(name: str) -> None:
    assert name_key(name) == "budi santoso"


def test_a_title_alone_is_still_a_name() -> None:
    assert name_key("Ibu") == "ibu"
    assert name_key("Siti Nurhaliza") != name_key("Siti Aminah")
    assert name_key("Zulkarnaén") == "zulkarnaen"


def test_area_levels() -> None:
    assert area_level("18") == "province"
    assert area_level("18.71") == "regency"
    assert area_level("18.71.01") == "district"
    assert area_level("18.71.01.1001") == "village"
    assert area_level("18.7") is None
    assert area_level("1871") is None


def test_segment_rule_round_trips() -> None:
    raw = {
        "all": [
            {"field": "occupation_group", "op": "in", "value": ["agriculture"]},
            {"field": "age", "op": "between", "value": [18, None]},
            {"field": "area", "op": "in", "value": ["18", "16.71.01"]},
        ],
        "any": [{"field": "sex", "op": "in", "value": ["F"]}],
    }
    rule, problems = parse_segment_rule(raw)
    assert problems == []
    assert rule is not None
    assert rule.as_json() == raw
    assert rule.areas() == ("18", "16.71.01")


def test_segment_rule_problems_are_named() -> None:
    rule, problems = parse_segment_rule(
        {
            "all": [
                {"field": "religion", "op": "in", "value": ["x"]},
                {"field": "age", "op": "in", "value": [1]},
                {"field": "age", "op": "between", "value": [40, 18]},
                {"field": "area", "op": "in", "value": ["18.7"]},
                {"field": "sex", "op": "in", "value": ["X"]},
                "__import__('os')",
            ],
            "extra": 1,
        }
    )
    assert rule is None
    assert [path for path, _ in problems] == [
        "rule",
        "rule.all[0].field",
        "rule.all[1].op",
        "rule.all[2].value",
        "rule.all[3].value",
        "rule.all[4].value",
        "rule.all[5]",
    ]
    assert parse_segment_rule({"all": []})[0] is None
    assert parse_segment_rule("occupation == 'farmer'")[0] is None


def test_prospect_stage_order() -> None:
    assert prospect_stage([], registered=False, months_paid_in_episode=0) is ProspectStage.PROSPECT
    assert (
        prospect_stage(["unreachable"], registered=False, months_paid_in_episode=0)
        is ProspectStage.PROSPECT
    )
    assert (
        prospect_stage(["unreachable", "refused"], registered=False, months_paid_in_episode=0)
        is ProspectStage.CONTACTED
    )
    assert (
        prospect_stage(["contacted", "interested"], registered=False, months_paid_in_episode=0)
        is ProspectStage.INTERESTED
    )
    assert prospect_stage([], registered=True, months_paid_in_episode=0) is ProspectStage.REGISTERED
    assert (
        prospect_stage([], registered=True, months_paid_in_episode=2) is ProspectStage.PAID_MONTH_1
    )
    assert (
        prospect_stage([], registered=True, months_paid_in_episode=5)
        is ProspectStage.RETAINED_MONTH_3
    )
    assert (
        prospect_stage([], registered=True, months_paid_in_episode=12)
        is ProspectStage.RETAINED_MONTH_6
    )


def test_cost_per_rounds_half_up_and_is_none_for_zero() -> None:
    assert cost_per(1_000_000, 3) == 333_333
    assert cost_per(5, 2) == 3
    assert cost_per(1_000_000, 0) is None


def test_score_is_the_sum_of_contributions_and_ranked() -> None:
    inputs = [
        TargetingInput("b", "18.01", 100, Fraction(1, 10), Fraction(1, 2), 5),
        TargetingInput("a", "18.02", 50, None, None, 10),
        TargetingInput("a", "18.03", 50, None, None, 10),
    ]
    ranked = score_targets(inputs, WEIGHTS)
    assert [(s.segment, s.area) for s in ranked] == [("b", "18.01"), ("a", "18.02"), ("a", "18.03")]
    top = ranked[0]
    assert top.contributions == {
        "gap": Decimal("0.4000"),
        "conversion": Decimal("0.0200"),
        "retention": Decimal("0.1250"),
        "partner_presence": Decimal("0.1500"),
    }
    assert top.score == Decimal("0.6950")
    assert ranked[1].score == Decimal("0.3500")  # half the gap, no history, partners capped at 5


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=-10, max_value=10**7),
            st.integers(min_value=0, max_value=1000),
            st.integers(min_value=1, max_value=1000),
            st.integers(min_value=0, max_value=50),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_contributions_always_sum_to_the_score(values: list[tuple[int, int, int, int]]) -> None:
    inputs = [
        TargetingInput(f"s{i}", "18", gap, Fraction(min(a, b), b), Fraction(a % (b + 1), b + 1), p)
        for i, (gap, a, b, p) in enumerate(values)
    ]
    ranked = score_targets(inputs, WEIGHTS)
    assert ranked == score_targets(list(reversed(inputs)), WEIGHTS)
    for scored in ranked:
        assert scored.score == sum(scored.contributions.values(), Decimal(0))
        assert Decimal(0) <= scored.score <= Decimal("1.0000")


def test_every_stored_phone_form_has_the_key() -> None:
    from cakupan.campaigns.rules import stored_phone_forms

    forms = stored_phone_forms("6281234567890")
    assert "081234567890" in forms
    assert "+6281234567890" in forms
    assert {phone_key(form) for form in forms} == {"6281234567890"}


def test_campaign_status_boundaries() -> None:
    from datetime import date

    from cakupan.campaigns.rules import campaign_status

    start, end = date(2028, 1, 10), date(2028, 1, 12)
    assert campaign_status(start, end, date(2028, 1, 9)) == "planned"
    assert campaign_status(start, end, start) == "running"
    assert campaign_status(start, end, end) == "running"
    assert campaign_status(start, end, date(2028, 1, 13)) == "finished"


def test_month_weeks_cover_the_month_monday_first() -> None:
    from datetime import date

    from cakupan.campaigns.planner import month_weeks
    from cakupan.dates import Month

    weeks = month_weeks(Month(2026, 2))  # 1 Feb 2026 is a Sunday
    assert weeks[0][0] == date(2026, 1, 26)
    assert weeks[-1][-1] == date(2026, 3, 1)
    assert all(len(w) == 7 and w[0].weekday() == 0 for w in weeks)
    assert len(weeks) == 5
