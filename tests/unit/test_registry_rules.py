"""Pure registry rules: status (D-3), allocation (D-2, D-4), reversal order, identifiers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cakupan.dates import Month
from cakupan.registry.rules import (
    Allocation,
    EpisodeAction,
    EpisodeState,
    PaymentEntry,
    Refusal,
    RefusalReason,
    Status,
    age_on,
    allocate_payment,
    card_number,
    check_reversal,
    eligibility_problem,
    expected_amounts,
    kode_penetapan,
    luhn_valid,
    payment_code_valid_until,
    payment_fingerprint,
    project,
    status_on,
)

NOV = Month(2026, 11)


def flat(amount: int) -> object:
    return lambda _month: amount


def pp50(month: Month) -> int:
    """JKK+JKM at the floor: halved 2026-04..2026-12 for non-transport (Rp 8.400), else 16.800."""
    return 8_400 if Month(2026, 4) <= month <= Month(2026, 12) else 16_800


def episode(**changes: object) -> EpisodeState:
    base = EpisodeState(
        episode_no=1,
        start_month=NOV,
        registered_on=date(2026, 11, 3),
        paid_through=None,
        months_paid=0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# -- status (D-3) --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 30), Status.PENDING),
        (date(2027, 1, 31), Status.PENDING),  # end of the third month R+2
        (date(2027, 2, 1), Status.VOID),  # first day of R+3
    ],
)
def test_status_of_unpaid_registration(day: date, expected: Status) -> None:
    assert status_on(day, NOV, None) is expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 31), Status.ACTIVE),  # M
        (date(2027, 1, 1), Status.ARREARS),  # M+1
        (date(2027, 3, 31), Status.ARREARS),  # M+3
        (date(2027, 4, 1), Status.CLOSED),  # first day of M+4
    ],
)
def test_status_after_payment(day: date, expected: Status) -> None:
    assert status_on(day, NOV, Month(2026, 12)) is expected


# -- allocation (D-2, D-4) -----------------------------------------------------------------------


def test_new_member_pays_from_registration_month() -> None:
    result = allocate_payment(episode(), date(2026, 11, 5), 16_800, pp50)
    assert isinstance(result, Allocation)
    assert result.covered == [Month(2026, 11), Month(2026, 12)]
    assert result.amounts == (8_400, 8_400)
    assert result.action is EpisodeAction.CONTINUE


def test_amounts_across_the_pp50_window() -> None:
    # Dec 2026 is halved, Jan 2027 is not: 8.400 + 16.800
    state = episode(paid_through=NOV, months_paid=1)
    result = allocate_payment(state, date(2026, 12, 1), 25_200, pp50)
    assert isinstance(result, Allocation)
    assert result.covered == [Month(2026, 12), Month(2027, 1)]


def test_wrong_amount_lists_expected_amounts() -> None:
    result = allocate_payment(episode(), date(2026, 11, 5), 10_000, pp50)
    assert isinstance(result, Refusal)
    assert result.reason is RefusalReason.AMOUNT
    assert result.first_month == NOV
    assert result.expected[:3] == (8_400, 16_800, 33_600)
    assert len(result.expected) == 12


def test_more_than_twelve_months_is_refused() -> None:
    result = allocate_payment(episode(), date(2026, 11, 5), 13 * 1000, flat(1000))  # type: ignore[arg-type]
    assert isinstance(result, Refusal)
    assert result.expected[-1] == 12_000


def test_arrears_pay_oldest_month_first() -> None:
    state = episode(paid_through=NOV, months_paid=1)
    result = allocate_payment(state, date(2027, 2, 20), 16_800, flat(16_800))  # type: ignore[arg-type]
    assert isinstance(result, Allocation)
    assert result.first_month == Month(2026, 12)


def test_closed_participant_starts_a_new_episode_in_the_payment_month() -> None:
    state = episode(paid_through=NOV, months_paid=1)
    result = allocate_payment(state, date(2027, 3, 2), 16_800, flat(16_800))  # type: ignore[arg-type]
    assert isinstance(result, Allocation)
    assert result.action is EpisodeAction.NEW_EPISODE
    assert result.episode_no == 2
    assert result.first_month == result.start_month == Month(2027, 3)


def test_void_registration_cannot_be_paid() -> None:
    result = allocate_payment(episode(), date(2027, 2, 1), 16_800, flat(16_800))  # type: ignore[arg-type]
    assert isinstance(result, Refusal)
    assert result.reason is RefusalReason.VOID


def test_emptied_reacquisition_episode_is_reused_from_the_payment_month() -> None:
    state = episode(episode_no=2, reacquisition=True)
    result = allocate_payment(state, date(2027, 6, 9), 16_800, flat(16_800))  # type: ignore[arg-type]
    assert isinstance(result, Allocation)
    assert result.action is EpisodeAction.REUSE_EPISODE
    assert result.episode_no == 2
    assert result.first_month == result.start_month == Month(2027, 6)


def test_payment_before_registration_is_refused() -> None:
    result = allocate_payment(episode(), date(2026, 11, 2), 8_400, pp50)
    assert isinstance(result, Refusal)
    assert result.reason is RefusalReason.NOT_REGISTERED_YET


def test_expected_amounts_are_cumulative() -> None:
    assert expected_amounts(Month(2026, 12), pp50, 3) == (8_400, 25_200, 42_000)


# -- reversal ------------------------------------------------------------------------------------


def test_only_the_latest_payment_may_be_reversed() -> None:
    first = PaymentEntry(1, "A", NOV, 2)
    second = PaymentEntry(2, "B", Month(2027, 1), 1)
    third = PaymentEntry(3, "C", Month(2027, 2), 1)
    check = check_reversal(first, [first, second, third])
    assert not check.allowed
    assert check.reverse_first == ("C", "B")
    assert check_reversal(third, [first, second, third]).allowed
    reversed_third = replace(third, reversed=True)
    assert check_reversal(second, [first, second, reversed_third]).allowed
    assert check_reversal(reversed_third, [first, second, reversed_third]).already_reversed


def test_projection() -> None:
    proj = project([(NOV, 2, date(2026, 11, 5)), (Month(2027, 1), 3, date(2027, 1, 2))])
    assert proj.paid_through == Month(2027, 3)
    assert proj.months_paid == 5
    assert proj.first_paid_on == date(2026, 11, 5)
    assert proj.last_paid_on == date(2027, 1, 2)
    assert project([]).paid_through is None


# -- eligibility and identifiers -----------------------------------------------------------------


def test_age_and_eligibility() -> None:
    born = date(1961, 11, 27)
    assert age_on(born, date(2026, 11, 26)) == 64
    assert eligibility_problem(born, date(2026, 11, 26)) is None
    assert eligibility_problem(born, date(2026, 11, 27)) == 65


def test_identifiers_are_deterministic_and_check_digit_valid() -> None:
    code = kode_penetapan(date(2026, 11, 26), 17)
    assert code == kode_penetapan(date(2026, 11, 26), 17)
    assert code.startswith("KP261126000000017")
    assert len(code) == 18
    assert luhn_valid(code[2:])
    assert not luhn_valid(code[2:-1] + str((int(code[-1]) + 1) % 10))
    card = card_number(date(2026, 11, 5), 42)
    assert card.startswith("2600000042")
    assert len(card) == 11
    assert luhn_valid(card)
    assert payment_code_valid_until(date(2026, 11, 26)) == date(2026, 12, 3)


def test_fingerprint_changes_with_content() -> None:
    a = payment_fingerprint("3201010101900001", 8_400, date(2026, 11, 5), None, None)
    assert a == payment_fingerprint("3201010101900001", 8_400, date(2026, 11, 5), "", "")
    assert a != payment_fingerprint("3201010101900001", 8_401, date(2026, 11, 5), None, None)
    assert len(a) == 64


# -- properties ----------------------------------------------------------------------------------


@dataclass
class Ledger:
    """A tiny in-memory ledger driven only by the pure rules (the model of what the database does)."""

    episodes: list[EpisodeState]
    payments: list[tuple[int, int, Month, int, date, bool]] = field(default_factory=list)
    # (id, episode_no, first_month, months, paid_on, reversed)

    def current(self) -> EpisodeState:
        return self.episodes[-1]

    def covered(self, episode_no: int) -> list[Month]:
        return [
            first + i
            for (_, ep, first, months, _, rev) in self.payments
            if ep == episode_no and not rev
            for i in range(months)
        ]

    def refresh(self, episode_no: int) -> None:
        live = [
            (f, m, d) for (_, ep, f, m, d, rev) in self.payments if ep == episode_no and not rev
        ]
        proj = project(live)
        index = episode_no - 1
        self.episodes[index] = replace(
            self.episodes[index], paid_through=proj.paid_through, months_paid=proj.months_paid
        )

    def pay(self, paid_on: date, months: int, amount_for: object) -> Allocation | Refusal:
        current = self.current()
        total = sum(
            amount_for(m)  # type: ignore[operator]
            for m in _months_from(_first_month(current, paid_on), months)
        )
        result = allocate_payment(current, paid_on, total, amount_for)  # type: ignore[arg-type]
        if isinstance(result, Allocation):
            if result.action is EpisodeAction.NEW_EPISODE:
                self.episodes.append(
                    EpisodeState(
                        result.episode_no, result.start_month, paid_on, None, 0, reacquisition=True
                    )
                )
            elif result.action is EpisodeAction.REUSE_EPISODE:
                self.episodes[-1] = replace(
                    current, start_month=result.start_month, registered_on=paid_on
                )
            self.payments.append(
                (
                    len(self.payments) + 1,
                    result.episode_no,
                    result.first_month,
                    result.months,
                    paid_on,
                    False,
                )
            )
            self.refresh(result.episode_no)
        return result

    def reverse_latest(self) -> bool:
        live = [p for p in self.payments if not p[5] and p[1] == self.current().episode_no]
        if not live:
            return False
        entries = [PaymentEntry(p[0], str(p[0]), p[2], p[3]) for p in live]
        latest = max(entries, key=lambda e: e.payment_id)
        assert check_reversal(latest, entries).allowed
        index = latest.payment_id - 1
        pid, ep, first, months, paid_on, _ = self.payments[index]
        self.payments[index] = (pid, ep, first, months, paid_on, True)
        self.refresh(ep)
        return True


def _first_month(state: EpisodeState, paid_on: date) -> Month:
    status = state.status_on(paid_on)
    if status is Status.PENDING:
        return state.start_month
    if status in (Status.ACTIVE, Status.ARREARS):
        assert state.paid_through is not None
        return state.paid_through + 1
    return Month.of(paid_on)


def _months_from(first: Month, count: int) -> list[Month]:
    return [first + i for i in range(count)]


operations = st.lists(
    st.tuples(
        st.sampled_from(["pay", "pay", "pay", "reverse"]),
        st.integers(min_value=0, max_value=150),  # days since the previous operation
        st.integers(min_value=1, max_value=12),  # months to pay
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(operations)
def test_no_month_is_covered_twice_and_coverage_is_contiguous(
    ops: list[tuple[str, int, int]],
) -> None:
    ledger = Ledger([episode(registered_on=date(2026, 11, 1))])
    day = date(2026, 11, 1)
    for kind, gap, months in ops:
        day += timedelta(days=gap)
        if kind == "pay":
            ledger.pay(day, months, pp50)
        else:
            ledger.reverse_latest()
    for state in ledger.episodes:
        covered = ledger.covered(state.episode_no)
        assert len(covered) == len(set(covered)), "a month is covered twice"
        if covered:
            ordered = sorted(covered)
            assert ordered == _months_from(ordered[0], len(ordered)), "coverage has a gap"
            assert ordered[0] == state.start_month
            assert state.paid_through == ordered[-1]
            assert state.months_paid == len(ordered)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(1, 12)), min_size=1, max_size=10),
    st.integers(1, 12),
)
def test_reversal_then_repost_restores_the_same_coverage(
    payments: list[tuple[int, int]], last_months: int
) -> None:
    ledger = Ledger([episode(registered_on=date(2026, 11, 1))])
    day = date(2026, 11, 1)
    for gap, months in payments:
        day += timedelta(days=gap)
        ledger.pay(day, months, pp50)
    day += timedelta(days=1)
    if not isinstance(ledger.pay(day, last_months, pp50), Allocation):
        return
    before = {s.episode_no: sorted(ledger.covered(s.episode_no)) for s in ledger.episodes}
    before_states = list(ledger.episodes)
    assert ledger.reverse_latest()
    result = ledger.pay(day, last_months, pp50)
    assert isinstance(result, Allocation)
    after = {s.episode_no: sorted(ledger.covered(s.episode_no)) for s in ledger.episodes}
    assert after == before
    assert [(s.paid_through, s.months_paid) for s in ledger.episodes] == [
        (s.paid_through, s.months_paid) for s in before_states
    ]
