"""Claims rules without a database: benefit amounts, the 3-month JKM rule, JHT returns, the
checklist, the workflow and the 7-working-day JKK deadline on the Indonesian calendar."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cakupan.claims.rules import (
    Cause,
    ClaimState,
    ClaimType,
    DocumentKind,
    JhtReason,
    LedgerFacts,
    Relation,
    WorkingCalendar,
    check_transition,
    claimant_problem,
    jht_balance,
    membership_months,
    quote_claim,
    required_documents,
    service_level,
    shipped_benefit_book,
    sniff_content_type,
)
from cakupan.dates import Month
from cakupan.registry.rules import Status

BOOK = shipped_benefit_book()
NIK = "1671010101900001"


def facts(status: Status = Status.ACTIVE, start: str = "2026-01", **values: object) -> LedgerFacts:
    base: dict[str, object] = {
        "status": status,
        "start_month": Month.parse(start),
        "paid_through": Month.parse("2026-06"),
        "base_income": 1_000_000,
        "band_policy": "pp44-2015/bands@1",
        "has_jht": False,
    }
    base.update(values)
    return LedgerFacts(**base)  # type: ignore[arg-type]


def jkm(event: date, ledger: LedgerFacts | None) -> tuple[bool, int | None]:
    quote = quote_claim(
        claim_type=ClaimType.JKM, nik=NIK, event_date=event, cause=None, facts=ledger, book=BOOK
    )
    return quote.eligible, quote.amount


def test_membership_months_counts_from_the_first_day_of_the_start_month() -> None:
    start = Month.parse("2026-01")
    assert membership_months(start, date(2026, 3, 31)) == 2
    assert membership_months(start, date(2026, 4, 1)) == 3
    assert membership_months(Month.parse("2025-11"), date(2026, 1, 31)) == 2
    assert membership_months(Month.parse("2025-11"), date(2026, 2, 1)) == 3


def test_jkm_pays_10_million_under_3_months_and_42_million_from_3_months() -> None:
    assert jkm(date(2026, 1, 1), facts()) == (True, 10_000_000)
    assert jkm(date(2026, 3, 31), facts()) == (True, 10_000_000)
    assert jkm(date(2026, 4, 1), facts()) == (True, 42_000_000)
    # Across a year end: start 2025-11, three months complete on 2026-02-01.
    assert jkm(date(2026, 1, 31), facts(start="2025-11")) == (True, 10_000_000)
    assert jkm(date(2026, 2, 1), facts(start="2025-11")) == (True, 42_000_000)


def test_jkm_and_jkk_need_a_covered_month() -> None:
    for status in (Status.ARREARS, Status.CLOSED, Status.PENDING, Status.VOID):
        eligible, amount = jkm(date(2026, 7, 1), facts(status=status))
        assert (eligible, amount) == (False, None)
    quote = quote_claim(
        claim_type=ClaimType.JKK,
        nik=NIK,
        event_date=date(2026, 7, 1),
        cause=Cause.DEATH,
        facts=facts(status=Status.ARREARS),
        book=BOOK,
    )
    assert not quote.eligible
    assert "2026-07" in quote.reasons[-1].render("en")
    assert "paid through 2026-06" in quote.reasons[-1].render("en")


def test_unregistered_is_not_eligible_with_its_reason() -> None:
    quote = quote_claim(
        claim_type=ClaimType.JKK, nik=NIK, event_date=date(2026, 1, 5), cause=None, facts=None,
        book=BOOK,
    )  # fmt: skip
    assert (quote.eligible, quote.amount) == (False, None)
    assert quote.as_json()["reasons"] == [f"NIK {NIK} tidak terdaftar"]


def test_jkk_death_is_48_times_the_base_income_and_an_accident_has_no_fixed_amount() -> None:
    death = quote_claim(
        claim_type=ClaimType.JKK, nik=NIK, event_date=date(2026, 5, 2), cause=Cause.DEATH,
        facts=facts(base_income=2_950_000), book=BOOK,
    )  # fmt: skip
    assert (death.eligible, death.amount) == (True, 141_600_000)
    assert any(s.startswith("pp82-2019/jkk-death") for s in death.sources)
    assert "pp44-2015/bands@1" in death.sources
    accident = quote_claim(
        claim_type=ClaimType.JKK, nik=NIK, event_date=date(2026, 5, 2), cause=Cause.ACCIDENT,
        facts=facts(), book=BOOK,
    )  # fmt: skip
    assert (accident.eligible, accident.amount) == (True, None)


def test_jht_balance_is_contributions_plus_simple_monthly_returns() -> None:
    rates = BOOK.rates("jht_return_rate")
    months = [(Month.parse(m), 20_000) for m in ("2026-01", "2026-02", "2026-03")]
    # Held Feb-May, Mar-May, Apr-May before 2026-06: 9 month-contributions x 20,000 x 5.5% / 12.
    assert jht_balance(months, Month.parse("2026-06"), rates) == (60_000, 825)
    assert jht_balance(months, Month.parse("2026-02"), rates) == (60_000, 0)
    quote = quote_claim(
        claim_type=ClaimType.JHT, nik=NIK, event_date=date(2026, 6, 15), cause=None,
        facts=facts(status=Status.CLOSED, jht_contributions=tuple(months)), book=BOOK,
    )  # fmt: skip
    assert (quote.eligible, quote.amount) == (True, 60_825)
    assert any("ASUMSI" in s for s in quote.sources)
    empty = quote_claim(
        claim_type=ClaimType.JHT, nik=NIK, event_date=date(2026, 6, 15), cause=None,
        facts=facts(), book=BOOK,
    )  # fmt: skip
    assert (empty.eligible, empty.amount) == (False, None)


def test_checklists_name_the_heirs_documents() -> None:
    spouse = required_documents(ClaimType.JKM, Cause.DEATH, None, Relation.SPOUSE)
    assert spouse == (
        DocumentKind.DEATH_CERTIFICATE,
        DocumentKind.HEIR_LETTER,
        DocumentKind.KTP,
        DocumentKind.FAMILY_CARD,
        DocumentKind.MEMBERSHIP_CARD,
        DocumentKind.MARRIAGE_BOOK,
        DocumentKind.BANK_BOOK,
    )
    child = required_documents(ClaimType.JKM, Cause.DEATH, None, Relation.CHILD)
    assert DocumentKind.MARRIAGE_BOOK not in child
    jkk = required_documents(ClaimType.JKK, Cause.ACCIDENT, None, Relation.SELF)
    assert jkk == (
        DocumentKind.JKK_FORM,
        DocumentKind.ACCIDENT_CHRONOLOGY,
        DocumentKind.KTP,
        DocumentKind.MEMBERSHIP_CARD,
        DocumentKind.BANK_BOOK,
    )
    jht_death = required_documents(ClaimType.JHT, None, JhtReason.DEATH, Relation.CHILD)
    assert DocumentKind.HEIR_LETTER in jht_death


def test_claimant_fits_the_claim() -> None:
    assert claimant_problem(ClaimType.JKM, Cause.DEATH, None, Relation.SELF) is not None
    assert claimant_problem(ClaimType.JKM, Cause.DEATH, None, Relation.CHILD) is None
    assert claimant_problem(ClaimType.JKK, Cause.ACCIDENT, None, Relation.SPOUSE) is not None
    assert claimant_problem(ClaimType.JHT, None, JhtReason.RETIREMENT_AGE, Relation.SELF) is None


def test_content_type_comes_from_the_first_bytes() -> None:
    assert sniff_content_type(b"%PDF-1.7\n...") == "application/pdf"
    assert sniff_content_type(b"\xff\xd8\xff\xe0JFIF") == "image/jpeg"
    assert sniff_content_type(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniff_content_type(b"MZ\x90\x00 an exe named .pdf") is None
    assert sniff_content_type(b"") is None


@pytest.mark.parametrize(
    ("state", "to", "role", "ok"),
    [
        (ClaimState.SUBMITTED, ClaimState.VERIFIED, "pap", True),
        (ClaimState.SUBMITTED, ClaimState.VERIFIED, "kabid", False),
        (ClaimState.VERIFIED, ClaimState.APPROVED, "kabid", True),
        (ClaimState.VERIFIED, ClaimState.APPROVED, "pap", False),
        (ClaimState.VERIFIED, ClaimState.APPROVED, "partner", False),
        (ClaimState.SUBMITTED, ClaimState.APPROVED, "kabid", False),
        (ClaimState.APPROVED, ClaimState.PAID, "pap", True),
        (ClaimState.PAID, ClaimState.REJECTED, "admin", False),
        (ClaimState.VERIFIED, ClaimState.REJECTED, "kabid", True),
        (ClaimState.VERIFIED, ClaimState.APPROVED, "system", True),
    ],
)
def test_workflow_steps_and_roles(state: ClaimState, to: ClaimState, role: str, ok: bool) -> None:
    assert (check_transition(state, to, role) is None) is ok


CALENDAR = WorkingCalendar()


def test_jkk_deadline_across_lebaran_2026() -> None:
    # Approved Tue 2026-03-17. Off: 18 (cuti bersama Nyepi), 19 (Nyepi), 20 (cuti bersama Idul
    # Fitri), 21-22 (Idul Fitri, weekend), 23-24 (cuti bersama). Working: 25, 26, 27, 30, 31,
    # Apr 1, Apr 2 -> the 7th working day is 2026-04-02 (Good Friday Apr 3 comes after).
    assert CALENDAR.add_working_days(date(2026, 3, 17), 7) == date(2026, 4, 2)
    level = service_level(
        approved_on=date(2026, 3, 17), paid_on=date(2026, 4, 2), today=date(2026, 4, 10),
        calendar=CALENDAR, days=7,
    )  # fmt: skip
    assert (level.deadline, level.on_time) == (date(2026, 4, 2), True)
    late = service_level(
        approved_on=date(2026, 3, 17), paid_on=date(2026, 4, 6), today=date(2026, 4, 10),
        calendar=CALENDAR, days=7,
    )  # fmt: skip
    assert late.on_time is False


def test_jkk_deadline_across_the_2026_year_end_and_an_added_day_off() -> None:
    # Approved Tue 2026-12-22: 23 (1), 24 cuti bersama, 25 Christmas, 28 (2), 29 (3), 30 (4),
    # 31 (5), 2027-01-01 New Year, 4 (6), 5 Isra Mi'raj, 6 (7).
    assert CALENDAR.add_working_days(date(2026, 12, 22), 7) == date(2027, 1, 6)
    agency = WorkingCalendar(extra_days_off=frozenset({date(2026, 12, 31)}))
    assert agency.add_working_days(date(2026, 12, 22), 7) == date(2027, 1, 7)


def test_unpaid_claims_are_at_risk_near_the_deadline() -> None:
    def left(today: date) -> tuple[int | None, bool]:
        level = service_level(
            approved_on=date(2026, 3, 17), paid_on=None, today=today, calendar=CALENDAR, days=7
        )
        return level.working_days_left, level.at_risk

    assert left(date(2026, 3, 17)) == (7, False)
    assert left(date(2026, 3, 27)) == (4, False)
    assert left(date(2026, 3, 31)) == (2, True)
    assert left(date(2026, 4, 6)) == (-1, True)


@given(
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 20)),
    days=st.integers(min_value=1, max_value=15),
)
@settings(max_examples=200, deadline=None)
def test_the_deadline_is_a_working_day_exactly_n_working_days_later(start: date, days: int) -> None:
    deadline = CALENDAR.add_working_days(start, days)
    assert CALENDAR.is_working_day(deadline)
    assert CALENDAR.working_days_between(start, deadline) == days
    assert CALENDAR.working_days_between(deadline, start) == -days
    # No working day is skipped: the day before the deadline leaves one fewer.
    assert CALENDAR.working_days_between(start, deadline - timedelta(days=1)) == days - 1


@given(
    amounts=st.lists(st.integers(min_value=0, max_value=500_000), min_size=0, max_size=24),
    gap=st.integers(min_value=0, max_value=36),
)
def test_jht_balance_never_loses_contributions_and_grows_with_time(
    amounts: list[int], gap: int
) -> None:
    rates = BOOK.rates("jht_return_rate")
    months = [(Month.parse("2024-01") + i, amount) for i, amount in enumerate(amounts)]
    event = Month.parse("2024-01") + len(amounts) + gap
    paid, returns = jht_balance(months, event, rates)
    assert paid == sum(amounts)
    assert returns >= 0
    later_paid, later_returns = jht_balance(months, event + 1, rates)
    assert (later_paid, later_returns >= returns) == (paid, True)
