"""Pure incentive rules: milestones, thresholds, commission rounding, shares, overrides,
clawbacks. Exhaustive where the space is small; hypothesis where a property exists."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cakupan.incentives.definition import (
    AgreementParameters,
    ContributionShareRule,
    OverrideRule,
    Qualification,
    SchemeDefinition,
)
from cakupan.incentives.reference import shipped_schemes
from cakupan.incentives.rules import (
    Line,
    PaymentFact,
    clawback_line,
    commission_line,
    contribution_share_line,
    milestones_reached,
    override_line,
    payment_lines,
    qualifies,
    share_rate,
    threshold_line,
)

PRESETS = {s.name: s.definition for s in shipped_schemes()}


def fact(
    first_ordinal: int,
    months: int,
    amount_per_month: int = 16_800,
    programs: str = "JKK+JKM",
) -> PaymentFact:
    return PaymentFact(
        reference="R",
        nik="1671010101900001",
        amount=months * amount_per_month,
        first_ordinal=first_ordinal,
        month_amounts=(amount_per_month,) * months,
        programs=(programs,) * months,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("first", "months", "reached"),
    [
        (1, 1, [1]),
        (2, 1, []),
        (1, 6, [1, 3, 6]),
        (2, 2, [3]),
        (3, 4, [3, 6]),
        (4, 2, []),
        (6, 12, [6]),
        (7, 12, []),
    ],
)
def test_milestones_reached(first: int, months: int, reached: list[int]) -> None:
    assert milestones_reached(first, months, (1, 3, 6)) == reached


@given(st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=10))
def test_each_milestone_is_reached_exactly_once_per_episode(payments: list[int]) -> None:
    """Payments covering consecutive months reach every milestone within the months paid once."""
    reached: list[int] = []
    ordinal = 1
    for months in payments:
        reached += milestones_reached(ordinal, months, (1, 3, 6))
        ordinal += months
    assert reached == [n for n in (1, 3, 6) if n < ordinal]


def test_qualification_24_versus_25() -> None:
    rule = Qualification(min_registrations_in_month=25)
    assert [qualifies(n, rule) for n in (0, 24, 25, 26)] == [False, False, True, True]
    assert qualifies(0, None)


def test_komunitas_amounts_by_program_set() -> None:
    definition = PRESETS["komunitas-2024"]
    params = AgreementParameters()
    with_jht = payment_lines(
        fact(1, 6, 36_800, "JKK+JKM+JHT"), definition, params, registrar_qualified=True
    )
    without = payment_lines(fact(1, 6), definition, params, registrar_qualified=True)
    assert [(line.kind, line.amount) for line in with_jht] == [
        ("milestone_1", 4_000),
        ("milestone_3", 4_000),
        ("milestone_6", 7_000),
    ]
    assert [(line.kind, line.amount) for line in without] == [
        ("milestone_1", 2_500),
        ("milestone_3", 2_500),
        ("milestone_6", 5_000),
    ]


def test_program_set_of_the_milestone_month_counts() -> None:
    # JHT added from the 3rd month: milestone 1 at the 2-program amount, 3 and 6 with JHT.
    mixed = PaymentFact(
        "R", "N", 2 * 16_800 + 4 * 36_800, 1, (16_800,) * 2 + (36_800,) * 4,
        ("JKK+JKM",) * 2 + ("JKK+JKM+JHT",) * 4,
    )  # fmt: skip
    lines = payment_lines(
        mixed, PRESETS["komunitas-2024"], AgreementParameters(), registrar_qualified=True
    )
    assert [line.amount for line in lines] == [2_500, 4_000, 7_000]


def test_agen46_needs_the_qualification() -> None:
    definition = PRESETS["agen46-2024"]
    assert (
        payment_lines(fact(1, 1), definition, AgreementParameters(), registrar_qualified=False)
        == []
    )
    assert [
        line.amount
        for line in payment_lines(
            fact(1, 6), definition, AgreementParameters(), registrar_qualified=True
        )
    ] == [2_500, 2_500, 5_000]


@pytest.mark.parametrize(
    ("amount", "rate", "expected"),
    [
        (36_300, "2.5", 908),  # 907.5 rounds half up
        (72_600, "2.5", 1_815),
        (16_800, "3", 504),
        (18_800, "4.5", 846),
        (36_300, "3.5", 1_271),  # 1,270.5
        (1, "2.5", 0),  # 0.025
        (20, "2.5", 1),  # 0.5
        (36_300, "5", 1_815),
    ],
)
def test_commission_rounds_half_up_per_payment(amount: int, rate: str, expected: int) -> None:
    payment = PaymentFact("R", "N", amount, 1, (amount,), ("JKK+JKM",))
    assert commission_line(payment, Decimal(rate)).amount == expected


def test_commission_uses_the_agreement_rate() -> None:
    definition = PRESETS["korporasi-2024"]
    lines = payment_lines(
        fact(1, 1, 36_300),
        definition,
        AgreementParameters(commission_rate_percent=Decimal("2.5")),
        registrar_qualified=True,
    )
    assert lines == [Line("1671010101900001", "commission", 908, "R")]
    assert (
        payment_lines(fact(1, 1), definition, AgreementParameters(), registrar_qualified=True) == []
    )


def test_perisai_share_bands() -> None:
    rule = PRESETS["perisai-2022"].contribution_share
    assert rule is not None
    assert [share_rate(n, rule) for n in (1, 24, 25, 60, 61)] == [
        Decimal(15), Decimal(15), Decimal(5), Decimal(5), Decimal(0),
    ]  # fmt: skip
    assert contribution_share_line(fact(1, 1), rule) == Line(
        "1671010101900001", "contribution_share", 2_520, "R"
    )
    crossing = contribution_share_line(fact(24, 2), rule)
    assert crossing is not None
    assert crossing.amount == 2_520 + 840
    assert contribution_share_line(fact(61, 3), rule) is None


def test_share_is_rounded_once_per_payment() -> None:
    rule = ContributionShareRule.model_validate(
        {"bands": [{"from_month": 1, "to_month": 99, "rate_percent": "15"}]}
    )
    # 3 months of 8,403: 15% each = 1,260.45; per month rounding would give 3,780, exact 3,781.35
    payment = PaymentFact("R", "N", 25_209, 1, (8_403,) * 3, ("JKK+JKM",) * 3)
    line = contribution_share_line(payment, rule)
    assert line is not None
    assert line.amount == 3_781


def test_override_threshold_and_clawback() -> None:
    rule = OverrideRule(rate_percent=Decimal(10))
    assert override_line("Q1", 353_000, rule) == Line(None, "override", 35_300, "Q1")
    assert override_line("Q1", 6_045, rule) == Line(None, "override", 605, "Q1")  # 604.5
    assert override_line("Q1", -6_045, rule) == Line(None, "override", -605, "Q1")
    assert override_line("Q1", 0, rule) is None
    assert threshold_line(2, 3, 100_000, "x") is None
    assert threshold_line(3, 3, 100_000, "x") == Line(None, "threshold", 100_000, "x")
    assert threshold_line(30, None, 100_000, "x") is None
    assert threshold_line(30, 3, None, "x") is None
    earned = [Line("N", "milestone_3", 4_000, "R"), Line("N", "milestone_6", 7_000, "R")]
    assert clawback_line(earned, "R", "N") == Line("N", "clawback", -11_000, "R")
    assert clawback_line([], "R", "N") is None


@given(
    st.lists(st.integers(min_value=1, max_value=500_000), min_size=1, max_size=12),
    st.sampled_from(["2.5", "3", "3.75", "4.5", "5"]),
)
def test_clawback_exactly_cancels_what_a_payment_earned(months: list[int], rate: str) -> None:
    definition = SchemeDefinition.model_validate(
        {
            "applies_to": ["korporasi"],
            "milestones": PRESETS["komunitas-2024"].milestones.model_dump(mode="json"),  # type: ignore[union-attr]
            "commission": {"min_rate_percent": "2.5", "max_rate_percent": "5"},
            "contribution_share": PRESETS["perisai-2022"].contribution_share.model_dump(
                mode="json"
            ),  # type: ignore[union-attr]
        }
    )
    payment = PaymentFact("R", "N", sum(months), 1, tuple(months), ("JKK+JKM",) * len(months))
    earned = payment_lines(
        payment,
        definition,
        AgreementParameters(commission_rate_percent=Decimal(rate)),
        registrar_qualified=True,
    )
    clawback = clawback_line(earned, "R", "N")
    assert clawback is not None
    assert sum(line.amount for line in earned) + clawback.amount == 0
    assert all(line.amount >= 0 for line in earned)


def test_rank_contest_d6() -> None:
    from cakupan.incentives.rules import ContestEntry, rank_contest

    ranked = rank_contest(
        [
            ContestEntry("C", 5, 100),
            ContestEntry("A", 5, 300),
            ContestEntry("B", 7, 10),
            ContestEntry("D", 5, 100),
            ContestEntry("E", 0, 0),  # nothing: not ranked
            ContestEntry("F", 0, 50),
        ]
    )
    assert [(r.rank, r.entry.partner_code, r.tied) for r in ranked] == [
        (1, "B", False),
        (2, "A", False),
        (3, "C", True),
        (3, "D", True),
        (5, "F", False),
    ]


def test_contest_windows() -> None:
    from cakupan.dates import Month
    from cakupan.incentives.contests import contest_windows
    from cakupan.incentives.definition import ContestRule

    quarterly = ContestRule(
        name="q",
        period="quarter",
        scope="national",
        prize="x",
        ranking=["registrations_first_month_paid"],
    )
    windows = contest_windows(quarterly, Month(2025, 2), Month(2025, 7))
    assert [(w.name, str(w.first_day), str(w.last_day)) for w in windows] == [
        ("2025-Q1", "2025-02-01", "2025-03-31"),
        ("2025-Q2", "2025-04-01", "2025-06-30"),
        ("2025-Q3", "2025-07-01", "2025-07-31"),
    ]
    full = quarterly.model_copy(update={"period": "full_period"})
    assert [
        (str(w.first_day), str(w.last_day))
        for w in contest_windows(full, Month(2025, 2), Month(2025, 7))
    ] == [("2025-02-01", "2025-07-31")]
