"""Registry and ledger on SQLite and PostgreSQL: registration, payments (D-2), status (D-3),
re-acquisition (D-4), idempotency, reversals, changes, batches and the CLI contracts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cakupan.auth import Actor
from cakupan.dates import JAKARTA, FixedClock, Month
from cakupan.errors import CakupanError, ErrorKind
from cakupan.registry import (
    PaymentRow,
    RegistrationRow,
    change_participant,
    participant_detail,
    post_payment,
    post_payments,
    register_participant,
    register_participants,
    reverse_payment,
    status_of,
)
from cakupan.registry.models import CoveredMonth, Membership, Payment, PaymentCode
from cakupan.registry.rules import luhn_valid
from tests.conftest import CliResult

ACTOR = Actor.system("test")
BUDI = "1671010101900001"  # Palembang district 16.71.01, man born 1990-01-01
SITI = "1671015205850002"  # woman born 1985-05-12 (day + 40)
OLD = "1671010101600003"  # born 1960-01-01: 66 in 2026


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2027, 12, 31, 12, 0, tzinfo=JAKARTA))


def registration(nik: str = BUDI, **values: object) -> RegistrationRow:
    base: dict[str, object] = {
        "row": 1,
        "nik": nik,
        "name": "Budi Santoso",
        "phone": "0812-3456-7890",
        "occupation": "farmer",
        "reported_income": 1_000_000,
        "programs": "JKK+JKM",
        "registered_on": "2026-11-03",
        "district_code": "16.71.01",
    }
    base.update(values)
    return RegistrationRow(**base)  # type: ignore[arg-type]


def register(session: Session, clock: FixedClock, nik: str = BUDI, **values: object) -> None:
    register_participant(session, ACTOR, registration(nik, **values), clock=clock)


def pay(
    session: Session,
    clock: FixedClock,
    amount: int,
    paid_on: str,
    reference: str,
    nik: str = BUDI,
    channel: str = "bank",
) -> object:
    return post_payment(
        session,
        ACTOR,
        nik=nik,
        amount=amount,
        paid_on=paid_on,
        reference=reference,
        channel=channel,
        clock=clock,
    )


def status(session: Session, day: str, nik: str = BUDI) -> dict[str, object]:
    return status_of(session, nik, date.fromisoformat(day)).as_json()


# -- registration ------------------------------------------------------------------------------------


def test_registration_derives_identity_and_branch_and_issues_a_kode_penetapan(
    session: Session, clock: FixedClock
) -> None:
    result = register_participant(
        session, ACTOR, registration(SITI, name="Siti Aminah", months_to_pay=3), clock=clock
    )
    assert result.episode_no == 1
    assert result.branch_code == "PLG"
    code = result.payment_code
    assert code is not None
    # Nov and Dec 2026 halved by PP 50/2025 (8.400), Jan 2027 full (16.800)
    assert code.amount == 8_400 + 8_400 + 16_800
    assert code.first_month == Month(2026, 11)
    assert code.valid_until == date(2028, 1, 7)
    assert code.code.startswith("KP271231")
    assert luhn_valid(code.code[2:])
    detail = participant_detail(session, SITI, date(2026, 11, 30)).as_json()
    assert detail["participant"]["sex"] == "F"
    assert detail["participant"]["birth_date"] == "1985-05-12"
    assert detail["participant"]["phone"] == "081234567890"
    assert detail["participant"]["regency_code"] == "16.71"
    assert detail["status"]["status"] == "pending"
    assert detail["episodes"][0]["card_number"] is None  # issued only at the first payment


def test_invalid_registration_lists_every_problem(session: Session, clock: FixedClock) -> None:
    with pytest.raises(CakupanError) as caught:
        register_participant(
            session,
            ACTOR,
            registration(
                "9999993213000000",
                occupation="astronaut",
                phone="12",
                district_code="99.99.99",
                programs="JHT",
            ),
            clock=clock,
        )
    error = caught.value
    assert error.kind is ErrorKind.INVALID
    fields = [p.field for p in error.problems]
    assert fields.count("nik") >= 3  # unknown district, impossible date, serial 0000
    assert {"phone", "programs"} <= set(fields)
    # the lookups (occupation, district) are reported once the row's shape is right
    with pytest.raises(CakupanError) as caught:
        register_participant(
            session,
            ACTOR,
            registration(occupation="astronaut", district_code="99.99.99"),
            clock=clock,
        )
    fields = [p.field for p in caught.value.problems]
    assert set(fields) == {"occupation", "district_code"}


def test_age_65_or_over_is_refused(session: Session, clock: FixedClock) -> None:
    with pytest.raises(CakupanError) as caught:
        register(session, clock, OLD)
    assert caught.value.problems[0].field == "birth_date"
    assert "66" in caught.value.render("en")


def test_second_open_registration_is_refused_but_a_void_one_may_register_again(
    session: Session, clock: FixedClock
) -> None:
    register(session, clock)
    with pytest.raises(CakupanError) as caught:
        register(session, clock, registered_on="2027-01-31", name="Budi S")
    assert caught.value.kind is ErrorKind.CONFLICT
    assert "pending" in caught.value.render("en")
    # void from 2027-02-01 (R+3): registering again opens episode 2
    again = register_participant(
        session, ACTOR, registration(registered_on="2027-02-01", phone="081299998888"), clock=clock
    )
    assert again.episode_no == 2
    assert status(session, "2027-02-01") == {
        "nik": BUDI,
        "status": "pending",
        "episode": 2,
        "paid_through": None,
        "months_paid_in_episode": 0,
    }
    assert status(session, "2027-01-31")["episode"] == 1
    history = participant_detail(session, BUDI, date(2027, 2, 1)).history
    assert [(h["field"], h["old_value"], h["new_value"]) for h in history] == [
        ("phone", "081234567890", "081299998888"),
        ("registered_on", "2026-11-03", "2027-02-01"),
    ]


# -- payments and status ------------------------------------------------------------------------------


def test_exact_amounts_across_the_pp50_window_and_card_at_first_payment(
    session: Session, clock: FixedClock
) -> None:
    register(session, clock)
    with pytest.raises(CakupanError) as caught:
        pay(session, clock, 16_800 + 8_400 + 8_400 + 1, "2026-11-05", "B-0")
    message = caught.value.render("en")
    assert "expected Rp 8.400 (1 month), Rp 16.800 (2 months), Rp 33.600 (3 months)" in message
    assert "got Rp 33.601" in message
    posted = pay(session, clock, 33_600, "2026-11-05", "B-1")
    assert posted.as_json()["first_month"] == "2026-11"  # type: ignore[attr-defined]
    assert posted.as_json()["months"] == 3  # type: ignore[attr-defined]
    membership = session.execute(select(Membership)).scalar_one()
    assert membership.paid_through_month == Month(2027, 1)
    assert membership.months_paid == 3
    assert membership.first_paid_on == date(2026, 11, 5)
    assert membership.card_number is not None
    assert luhn_valid(membership.card_number)
    card = membership.card_number
    pay(session, clock, 16_800, "2027-01-20", "B-2")
    session.refresh(membership)
    assert membership.card_number == card  # issued once
    covered = session.execute(
        select(CoveredMonth.month, CoveredMonth.amount).order_by(CoveredMonth.month)
    ).all()
    assert [(str(m), a) for m, a in covered] == [
        ("2026-11", 8_400),
        ("2026-12", 8_400),
        ("2027-01", 16_800),
        ("2027-02", 16_800),
    ]
    code = session.execute(select(PaymentCode)).scalar_one()
    assert code.payment_id is None  # the code quoted 1 month (8.400); B-1 paid 3
    first = session.execute(select(Payment).where(Payment.reference == "B-1")).scalar_one()
    assert first.posted_at == clock.now()
    assert first.paid_on == date(2026, 11, 5)


def test_the_kode_penetapan_is_settled_by_the_payment_it_quotes(
    session: Session, clock: FixedClock
) -> None:
    register(session, clock, months_to_pay=2)
    pay(session, clock, 16_800, "2026-11-04", "B-1")
    code = session.execute(select(PaymentCode)).scalar_one()
    payment = session.execute(select(Payment)).scalar_one()
    assert code.payment_id == payment.id


def test_a_kode_penetapan_past_its_validity_is_not_settled(
    session: Session, clock: FixedClock
) -> None:
    register(session, clock, months_to_pay=2, registered_on=clock.now().date().isoformat())
    code = session.execute(select(PaymentCode)).scalar_one()
    late = code.valid_until + timedelta(days=1)
    clock.advance(timedelta(days=10))
    pay(session, clock, code.amount, late.isoformat(), "B-1")  # the code's months and amount, late
    session.refresh(code)
    assert code.payment_id is None
    payment = session.execute(select(Payment)).scalar_one()
    assert (payment.first_month, payment.months) == (code.first_month, code.months)


@pytest.mark.parametrize(
    ("day", "expected", "through"),
    [
        ("2026-11-04", "pending", None),  # before the payment date
        ("2026-11-05", "active", "2026-12"),
        ("2026-12-31", "active", "2026-12"),
        ("2027-01-01", "arrears", "2026-12"),
        ("2027-03-31", "arrears", "2026-12"),
        ("2027-04-01", "closed", "2026-12"),
    ],
)
def test_status_on_any_date(
    session: Session, clock: FixedClock, day: str, expected: str, through: str | None
) -> None:
    register(session, clock)
    pay(session, clock, 16_800, "2026-11-05", "B-1")
    view = status(session, day)
    assert view["status"] == expected
    assert view["paid_through"] == through


def test_arrears_pay_oldest_month_first(session: Session, clock: FixedClock) -> None:
    register(session, clock)
    pay(session, clock, 8_400, "2026-11-05", "B-1")  # Nov
    assert status(session, "2027-02-10")["status"] == "arrears"
    posted = pay(session, clock, 8_400 + 16_800, "2027-02-10", "B-2")  # Dec + Jan
    assert posted.as_json()["first_month"] == "2026-12"  # type: ignore[attr-defined]
    assert status(session, "2027-02-10") == {
        "nik": BUDI,
        "status": "arrears",
        "episode": 1,
        "paid_through": "2027-01",
        "months_paid_in_episode": 3,
    }


def test_closed_participant_paying_again_starts_a_new_episode(
    session: Session, clock: FixedClock
) -> None:
    register(session, clock)
    pay(session, clock, 8_400, "2026-11-05", "B-1")  # paid through Nov: closed from 2027-03-01
    assert status(session, "2027-03-01")["status"] == "closed"
    posted = pay(session, clock, 16_800, "2027-06-15", "B-2", channel="brilink")
    assert posted.as_json()["episode"] == 2  # type: ignore[attr-defined]
    assert posted.as_json()["first_month"] == "2027-06"  # old months never collected
    assert status(session, "2027-06-15") == {
        "nik": BUDI,
        "status": "active",
        "episode": 2,
        "paid_through": "2027-06",
        "months_paid_in_episode": 1,
    }
    assert status(session, "2027-05-31")["episode"] == 1
    episodes = session.execute(select(Membership).order_by(Membership.episode_no)).scalars().all()
    assert [e.episode_no for e in episodes] == [1, 2]
    assert episodes[1].start_month == Month(2027, 6)
    assert episodes[1].channel == "brilink"
    assert episodes[1].card_number not in (None, episodes[0].card_number)


def test_void_registration_cannot_be_paid(session: Session, clock: FixedClock) -> None:
    register(session, clock)
    assert status(session, "2027-01-31")["status"] == "pending"
    assert status(session, "2027-02-01")["status"] == "void"
    with pytest.raises(CakupanError) as caught:
        pay(session, clock, 16_800, "2027-02-01", "B-1")
    assert "register again" in caught.value.render("en")
    assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 0


def test_duplicate_and_conflicting_references(session: Session, clock: FixedClock) -> None:
    register(session, clock)
    first = pay(session, clock, 8_400, "2026-11-05", "B-1")
    again = pay(session, clock, 8_400, "2026-11-05", "B-1")
    assert again.as_json()["result"] == "duplicate"  # type: ignore[attr-defined]
    assert again.as_json()["payment_id"] == first.as_json()["payment_id"]  # type: ignore[attr-defined]
    with pytest.raises(CakupanError) as caught:
        pay(session, clock, 16_800, "2026-11-05", "B-1")
    assert caught.value.kind is ErrorKind.CONFLICT
    # the same reference on another channel is another payment
    pay(session, clock, 8_400, "2026-11-06", "B-1", channel="pos")
    assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 2
    assert status(session, "2026-12-01")["paid_through"] == "2026-12"


def test_reversal_is_last_in_first_out_and_repost_restores(
    session: Session, clock: FixedClock
) -> None:
    register(session, clock)
    pay(session, clock, 8_400, "2026-11-05", "B-1")
    pay(session, clock, 8_400, "2026-12-05", "B-2")
    pay(session, clock, 16_800, "2027-01-05", "B-3")
    with pytest.raises(CakupanError) as caught:
        reverse_payment(session, ACTOR, "B-1", reason="bounced", clock=clock)
    assert caught.value.kind is ErrorKind.CONFLICT
    assert "B-3, B-2" in caught.value.render("en")
    reversed_ = reverse_payment(
        session, ACTOR, "B-3", reason="bounced", reversed_on=date(2027, 1, 10), clock=clock
    )
    assert reversed_.paid_through == Month(2026, 12)
    assert reversed_.months_paid == 2
    # the reversal is dated: before it the month still counted
    assert status(session, "2027-01-09")["paid_through"] == "2027-01"
    assert status(session, "2027-01-10")["paid_through"] == "2026-12"
    assert status(session, "2027-01-10")["status"] == "arrears"
    with pytest.raises(CakupanError) as caught:
        reverse_payment(session, ACTOR, "B-3", reason="again", clock=clock)
    assert caught.value.kind is ErrorKind.CONFLICT
    pay(session, clock, 16_800, "2027-01-12", "B-3b")
    membership = session.execute(select(Membership)).scalar_one()
    assert (membership.paid_through_month, membership.months_paid) == (Month(2027, 1), 3)
    live = session.execute(
        select(func.count()).select_from(CoveredMonth).where(CoveredMonth.reversed.is_(False))
    ).scalar_one()
    assert live == 3
    assert session.execute(select(func.count()).select_from(CoveredMonth)).scalar_one() == 4


def test_reversing_a_reacquisition_leaves_the_episode_empty_and_reusable(
    session: Session, clock: FixedClock
) -> None:
    register(session, clock)
    pay(session, clock, 8_400, "2026-11-05", "B-1")
    pay(session, clock, 16_800, "2027-06-15", "B-2")  # episode 2 from 2027-06
    reverse_payment(
        session, ACTOR, "B-2", reason="wrong person", reversed_on=date(2027, 6, 20), clock=clock
    )
    assert status(session, "2027-06-19")["months_paid_in_episode"] == 1
    assert status(session, "2027-06-20") == {
        "nik": BUDI,
        "status": "pending",
        "episode": 2,
        "paid_through": None,
        "months_paid_in_episode": 0,
    }
    posted = pay(session, clock, 16_800, "2027-10-01", "B-3")
    assert posted.as_json()["episode"] == 2  # type: ignore[attr-defined]
    assert posted.as_json()["first_month"] == "2027-10"
    assert session.execute(select(func.count()).select_from(Membership)).scalar_one() == 2


def test_the_database_refuses_a_month_covered_twice(session: Session, clock: FixedClock) -> None:
    register(session, clock)
    pay(session, clock, 8_400, "2026-11-05", "B-1")
    payment = session.execute(select(Payment)).scalar_one()
    session.commit()
    session.execute(
        insert(Payment.__table__),
        {
            "id": payment.id + 1,
            "channel": "x",
            "reference": "y",
            "participant_id": payment.participant_id,
            "membership_id": payment.membership_id,
            "amount": 8_400,
            "paid_on": date(2026, 11, 6),
            "first_month": Month(2026, 11),
            "months": 1,
            "fingerprint": "z",
            "posted_at": clock.now(),
        },
    )
    twice = {
        "payment_id": payment.id + 1,
        "month": Month(2026, 11),
        "membership_id": payment.membership_id,
        "participant_id": payment.participant_id,
        "amount": 8_400,
    }
    with pytest.raises(IntegrityError):
        session.execute(insert(CoveredMonth.__table__), twice)
    session.rollback()


# -- changes ---------------------------------------------------------------------------------------------


def test_changes_keep_history_and_terms_apply_from_their_month(
    session: Session, clock: FixedClock
) -> None:
    register(session, clock)
    pay(session, clock, 8_400, "2026-11-05", "B-1")
    with pytest.raises(CakupanError) as caught:
        change_participant(
            session,
            ACTOR,
            BUDI,
            effective_month=Month(2026, 11),
            changes={"programs": "JKK+JKM+JHT"},
            clock=clock,
        )
    assert caught.value.kind is ErrorKind.CONFLICT
    changed = change_participant(
        session,
        ACTOR,
        BUDI,
        effective_month=Month(2027, 1),
        changes={"programs": "JKK,JKM,JHT", "phone": "081111111111"},
        clock=clock,
    )
    assert changed == {
        "programs": ("JKK+JKM", "JKK+JKM+JHT"),
        "phone": ("081234567890", "081111111111"),
    }
    # Dec 2026 keeps the old terms (8.400); Jan 2027 has JHT: 16.800 + 20.000
    with pytest.raises(CakupanError) as caught:
        pay(session, clock, 8_400 + 16_800, "2026-12-05", "B-2")
    assert "Rp 45.200 (2 months)" in caught.value.render("en")
    pay(session, clock, 8_400 + 36_800, "2026-12-05", "B-2")
    detail = participant_detail(session, BUDI, date(2027, 1, 1)).as_json()
    assert [t["effective_month"] for t in detail["terms"]] == ["2026-11", "2027-01"]
    assert detail["participant"]["programs"] == "JKK+JKM+JHT"
    assert {(h["field"], h["effective_month"]) for h in detail["history"]} == {
        ("programs", "2027-01"),
        ("phone", "2027-01"),
    }


# -- batches ---------------------------------------------------------------------------------------------


def _payment_rows() -> list[PaymentRow]:
    return [
        PaymentRow(1, "R-1", BUDI, "8400", "2026-11-05", "bank"),
        PaymentRow(2, "R-2", SITI, "8400", "2026-11-06", "bank"),
        PaymentRow(3, "R-3", BUDI, "8400", "2026-12-05", "bank"),
    ]


def test_batch_is_all_or_nothing_unless_partial(session: Session, clock: FixedClock) -> None:
    register(session, clock)
    register(session, clock, SITI, name="Siti")
    bad = [
        *_payment_rows(),
        PaymentRow(4, "R-4", BUDI, "12x", "2026-13-01", "bank"),
        PaymentRow(5, "R-5", "1671010101900009", "8400", "2026-11-05", "bank"),
    ]
    result = post_payments(session, ACTOR, bad, clock=clock)
    assert result.as_json() == {
        "accepted": 0,
        "duplicates": 0,
        "rejected": 2,
        "errors": [
            {"row": 4, "field": "amount", "message": result.errors[0].message.render()},
            {"row": 4, "field": "paid_on", "message": result.errors[1].message.render()},
            {"row": 5, "field": "nik", "message": result.errors[2].message.render()},
        ],
    }
    assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 0
    result = post_payments(session, ACTOR, bad, partial=True, clock=clock)
    assert (result.accepted, result.duplicates, result.rejected) == (3, 0, 2)
    again = post_payments(session, ACTOR, _payment_rows(), clock=clock)
    assert (again.accepted, again.duplicates, again.rejected) == (0, 3, 0)
    assert status(session, "2026-12-31")["paid_through"] == "2026-12"
    assert status(session, "2026-12-31", SITI)["paid_through"] == "2026-11"


def test_batch_uses_a_fixed_number_of_queries_per_chunk(
    engine: Engine, session: Session, clock: FixedClock
) -> None:
    for index in range(20):
        nik = f"16710101019{index:05d}"[:12] + f"{index + 1:04d}"
        register(session, clock, nik)
    rows = [
        PaymentRow(
            i + 1, f"Q-{i}", f"16710101019{i:05d}"[:12] + f"{i + 1:04d}", 8_400, "2026-11-05"
        )
        for i in range(20)
    ]
    session.commit()
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        result = post_payments(session, ACTOR, rows, clock=clock)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert result.accepted == 20
    # policies (2), write lock / savepoint, state (2), references (1), ids (2 on SQLite),
    # membership, payment, covered months, membership update, codes (1), audit, release
    assert len(statements) <= 14, "\n".join(statements)


def test_register_participants_batch(session: Session, clock: FixedClock) -> None:
    rows = [
        registration(row=1),
        registration(SITI, row=2, name="Siti"),
        registration(BUDI, row=3, name="Budi lagi"),
        registration(OLD, row=4),
    ]
    result = register_participants(session, ACTOR, rows, partial=True, clock=clock)
    assert (result.accepted, result.duplicates, result.rejected) == (2, 0, 2)
    assert [(e.row, e.field) for e in result.errors] == [(3, "nik"), (4, "birth_date")]
    again = register_participants(session, ACTOR, rows[:2], clock=clock)
    assert (again.accepted, again.duplicates, again.rejected) == (0, 2, 0)


# -- command line ------------------------------------------------------------------------------------------


def test_cli_contracts(cli: Callable[..., CliResult]) -> None:
    registered = cli(
        "participants",
        "register",
        "--nik",
        BUDI,
        "--name",
        "Budi Santoso",
        "--phone",
        "081234567890",
        "--occupation",
        "farmer",
        "--income",
        "1000000",
        "--registered-on",
        "2026-11-03",
        "--district",
        "16.71.01",
        "--months",
        "2",
        "--json",
    )
    assert registered.exit_code == 0, registered.stderr
    assert json.loads(registered.stdout)["payment_code"]["amount"] == 16_800
    posted = cli(
        "payments",
        "post",
        "--nik",
        BUDI,
        "--amount",
        "16800",
        "--paid-on",
        "2026-11-05",
        "--reference",
        "TRX-1",
        "--channel",
        "pos",
        "--json",
    )
    assert posted.exit_code == 0, posted.stderr
    assert json.loads(posted.stdout)["paid_through"] == "2026-12"
    other = cli(
        "payments",
        "post",
        "--nik",
        BUDI,
        "--amount",
        "16800",
        "--paid-on",
        "2026-11-06",
        "--reference",
        "TRX-1",
        "--channel",
        "bank",
    )
    assert other.exit_code == 0, other.stderr
    shown = cli("status", BUDI, "--as-of", "2026-12-15", "--json")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout) == {
        "nik": BUDI,
        "status": "active",
        "episode": 1,
        "paid_through": "2027-01",
        "months_paid_in_episode": 3,
    }
    unknown = cli("status", "1671010101909999", "--json")
    assert unknown.exit_code == 1
    assert "1671010101909999" in unknown.stderr
    assert unknown.stdout == ""
    ambiguous = cli("payments", "reverse", "TRX-1", "--reason", "test", "--json")
    assert ambiguous.exit_code == 2
    assert "--channel" in ambiguous.stderr
    reversed_ = cli(
        "payments", "reverse", "TRX-1", "--reason", "test", "--channel", "bank", "--json"
    )
    assert reversed_.exit_code == 0, reversed_.stderr
    assert json.loads(reversed_.stdout)["paid_through"] == "2026-12"
    detail = cli("participants", "show", BUDI, "--json")
    assert detail.exit_code == 0, detail.stderr
    assert [p["reversed_on"] is not None for p in json.loads(detail.stdout)["payments"]] == [
        False,
        True,
    ]
    wrong = cli(
        "payments", "post", "--nik", BUDI, "--amount", "1", "--paid-on", "2026-11-05",
        "--reference", "TRX-9",
    )  # fmt: skip
    assert wrong.exit_code == 2
    assert "Traceback" not in wrong.stderr


# -- concurrency -----------------------------------------------------------------------------------------


@pytest.mark.postgres_only
def test_concurrent_posters_lose_and_duplicate_nothing(engine: Engine, database_url: str) -> None:
    """8 workers post overlapping batches at once (PostgreSQL only: SQLite serialises writers)."""
    assert database_url.startswith("postgresql")
    import random
    import threading

    from cakupan.db import transaction

    clock = FixedClock(datetime(2026, 12, 31, 12, tzinfo=JAKARTA))
    niks = [f"16710101019{i:01d}" + f"{i + 1:04d}" for i in range(10)]
    niks += [f"1671010202{8 + i // 10:02d}{i % 10 + 1:04d}" for i in range(40)]
    with transaction(engine) as session:
        result = register_participants(
            session,
            ACTOR,
            [
                registration(nik, row=i + 1, registered_on="2026-04-01")
                for i, nik in enumerate(niks)
            ],
            clock=clock,
        )
        assert result.accepted == 50, result.as_json()
    # 8 payments of one month (Rp 8.400, Apr..Nov 2026 all halved) per participant
    rows = [
        PaymentRow(0, f"C-{i}-{k}", nik, "8400", "2026-04-10", "bank")
        for i, nik in enumerate(niks)
        for k in range(8)
    ]
    outcomes: list[tuple[int, int, int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(seed: int) -> None:
        picked = random.Random(seed).sample(rows, 250)
        numbered = [
            PaymentRow(n + 1, r.reference, r.nik, r.amount, r.paid_on, r.channel)
            for n, r in enumerate(picked)
        ]
        barrier.wait()
        try:
            with transaction(engine) as session:
                result = post_payments(session, ACTOR, numbered, clock=clock)
            outcomes.append((result.accepted, result.duplicates, result.rejected))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    posted_references = {
        r.reference for seed in range(8) for r in random.Random(seed).sample(rows, 250)
    }
    assert sum(o[0] for o in outcomes) == len(posted_references)
    assert sum(o[1] for o in outcomes) == 8 * 250 - len(posted_references)
    assert sum(o[2] for o in outcomes) == 0
    with transaction(engine) as session:
        assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == len(
            posted_references
        )
        # written with COPY: values read back exactly
        some = session.execute(select(Payment).limit(1)).scalar_one()
        assert (some.posted_at, some.paid_on, some.amount) == (
            clock.now(),
            date(2026, 4, 10),
            8_400,
        )
        for membership in session.execute(select(Membership)).scalars():
            months = sorted(
                m.index
                for m in session.execute(
                    select(CoveredMonth.month).where(CoveredMonth.membership_id == membership.id)
                ).scalars()
            )
            assert months == list(range(Month(2026, 4).index, Month(2026, 4).index + len(months)))
            assert membership.months_paid == len(months)


# -- hot paths and replays -----------------------------------------------------------------------------


def _count_statements(engine: Engine, run: Callable[[], object]) -> list[str]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return statements


def test_status_lookup_is_one_indexed_query(
    engine: Engine, session: Session, clock: FixedClock
) -> None:
    register(session, clock)
    pay(session, clock, 8_400, "2026-11-05", "B-1")
    session.commit()
    statements = _count_statements(engine, lambda: status_of(session, BUDI, date(2026, 11, 30)))
    assert len(statements) == 1, statements


def test_replaying_batches_gives_the_same_ledger(session: Session, clock: FixedClock) -> None:
    """Any sequence of batches posted twice leaves the ledger as after the first pass."""
    import random

    register(session, clock)
    register(session, clock, SITI, name="Siti")
    rng = random.Random(7)
    batches: list[list[PaymentRow]] = []
    for b in range(4):
        batch = []
        for n in range(rng.randint(1, 5)):
            nik = rng.choice([BUDI, SITI])
            months = rng.randint(1, 3)
            amount = rng.choice([8_400 * months, 12_345])  # some rows are refused (wrong amount)
            paid_on = rng.choice(["2026-11-20", "2026-12-20"])
            batch.append(PaymentRow(n + 1, f"RP-{b}-{n}", nik, str(amount), paid_on, "bank"))
        batches.append(batch)

    def ledger() -> list[tuple[object, ...]]:
        return [
            tuple(row)
            for row in session.execute(
                select(
                    Payment.reference,
                    Payment.first_month,
                    Payment.months,
                    Membership.episode_no,
                    Membership.paid_through_month,
                    Membership.months_paid,
                )
                .join(Membership, Membership.id == Payment.membership_id)
                .order_by(Payment.reference)
            )
        ]

    first = [post_payments(session, ACTOR, batch, partial=True, clock=clock) for batch in batches]
    after_first = ledger()
    assert sum(r.accepted for r in first) == len(after_first) > 0
    second = [post_payments(session, ACTOR, batch, partial=True, clock=clock) for batch in batches]
    assert ledger() == after_first
    assert sum(r.accepted for r in second) == 0
    assert sum(r.duplicates for r in second) == len(after_first)


def test_address_change_moves_the_branch_and_keeps_history(
    cli: Callable[..., CliResult], database_url: str
) -> None:
    from cakupan.db import make_engine, transaction

    engine = make_engine(database_url)
    clock = FixedClock(datetime(2027, 12, 31, 12, tzinfo=JAKARTA))
    with transaction(engine) as session:
        register(session, clock)
    engine.dispose()
    moved = cli(
        "participants", "change", BUDI, "--from", "2027-02", "--district", "18.71.01", "--json"
    )
    assert moved.exit_code == 0, moved.stderr
    assert json.loads(moved.stdout)["changed"] == {
        "district_code": {"old": "16.71.01", "new": "18.71.01"},
        "branch_code": {"old": "PLG", "new": "BDL"},
    }
    shown = json.loads(cli("participants", "show", BUDI, "--json").stdout)
    assert shown["participant"]["regency_code"] == "18.71"
    assert [(h["field"], h["effective_month"]) for h in shown["history"]] == [
        ("district_code", "2027-02"),
        ("branch_code", "2027-02"),
    ]
    unknown = cli("participants", "change", BUDI, "--from", "2027-02", "--district", "99.99.99")
    assert unknown.exit_code == 2
    assert "99.99.99" in unknown.stderr
