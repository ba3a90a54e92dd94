"""Reminders on SQLite and PostgreSQL with an injected clock: May 2027 simulated day by day
through the worker's jobs (the right reminders on the right days with the exact amounts, none
in quiet hours, none after payment or opt-out, never twice), the plan/send CLI contract,
forward-only delivery status, retries and the job record."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import Engine, func, select

from cakupan.auth import Actor
from cakupan.dates import JAKARTA, FixedClock
from cakupan.db import transaction
from cakupan.registry import RegistrationRow, post_payment, register_participants
from cakupan.reminders import actions
from cakupan.reminders.delivery import deliver_due
from cakupan.reminders.gateway import FakeGateway
from cakupan.reminders.models import Reminder
from cakupan.scheduling import JobContext
from cakupan.scheduling.jobs import run_named
from cakupan.scheduling.models import JobRun
from tests.conftest import CliResult

ACTOR = Actor.system("test-reminders")
MONTH_2027 = 16_800  # JKK+JKM at base Rp 1.000.000 (PP 50/2025's halving ended 2026-12)


def nik(serial: int) -> str:
    return f"167101010190{serial:04d}"


A, B, C, D, E, F, G = (nik(i) for i in range(1, 8))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=JAKARTA)


def register(engine: Engine, clock: FixedClock, who: str, day: date, **extra: str) -> None:
    clock.at = at(day, 9)
    row = RegistrationRow(
        row=1,
        nik=who,
        name=f"Siti {who[-2:]}",
        phone=f"0812000000{who[-2:]}",
        occupation="farmer",
        reported_income=1_000_000,
        programs="JKK+JKM",
        registered_on=day,
        district_code="16.71.01",
        **extra,  # type: ignore[arg-type]
    )
    with transaction(engine) as session:
        result = register_participants(session, ACTOR, [row], clock=clock, issue_codes=True)
    assert result.rejected == 0, result.as_json()


def pay(engine: Engine, clock: FixedClock, who: str, months: int, day: date, ref: str) -> None:
    clock.at = at(day, 10)
    with transaction(engine) as session:
        post_payment(
            session,
            ACTOR,
            nik=who,
            amount=MONTH_2027 * months,
            paid_on=day.isoformat(),
            reference=ref,
            channel="bank",
            clock=clock,
        )


def make_clock() -> FixedClock:
    return FixedClock(at(date(2027, 1, 5), 9))


def seed_people(engine: Engine, clock: FixedClock) -> None:
    """A: paid through April, pays May on the 12th. B: paid through March (arrears month 2 in
    May). C: paid through April, opts out on the 11th. D: registers on 3 May, pays nothing.
    E: paid January only (closed from 1 May). F: registered 3 May, paid by the regency (APBD).
    G: like A but asked for SMS."""
    register(engine, clock, E, date(2027, 1, 5))
    pay(engine, clock, E, 1, date(2027, 1, 6), "e-1")
    for who in (A, B, C, G):
        register(engine, clock, who, date(2027, 3, 5))
    for who in (A, C, G):
        pay(engine, clock, who, 2, date(2027, 3, 6), f"{who}-1")
    pay(engine, clock, B, 1, date(2027, 3, 6), "b-1")
    register(engine, clock, D, date(2027, 5, 3))
    register(engine, clock, F, date(2027, 5, 3), funding="apbd")
    with transaction(engine) as session:
        actions.record_consent(session, ACTOR, clock, G, channel="sms", source="form")


@pytest.fixture
def clock() -> FixedClock:
    return make_clock()


@pytest.fixture
def people(engine: Engine, clock: FixedClock) -> None:
    seed_people(engine, clock)


def simulate_may(
    engine: Engine, clock: FixedClock, gateway: FakeGateway
) -> dict[date, list[Reminder]]:
    """Every day of May 2027: the reminders job at 06:00 (and once more at 06:30: nothing
    twice), the outbox at 07:00 (quiet), 08:00 and 19:59, the day's events at 10:00-11:00."""
    sent_on: dict[date, list[Reminder]] = {}
    ctx = JobContext(engine=engine, clock=clock, gateway=gateway)
    day = date(2027, 5, 1)
    while day.month == 5:
        clock.at = at(day, 6)
        assert run_named(ctx, "reminders").outcome == "ok"
        clock.at = at(day, 6, 30)
        assert run_named(ctx, "reminders").outcome == "done-before"
        clock.at = at(day, 7)
        assert run_named(ctx, "outbox").outcome == "idle"  # quiet hours: nothing goes out
        clock.at = at(day, 8)
        run_named(ctx, "outbox")
        if day == date(2027, 5, 11):
            with transaction(engine) as session:
                actions.opt_out(session, ACTOR, clock, C, source="staff")
        if day == date(2027, 5, 12):
            pay(engine, clock, A, 1, day, "a-may")
        clock.at = at(day, 19, 59)
        run_named(ctx, "outbox")
        day += timedelta(days=1)
    with transaction(engine) as session:
        for reminder in session.scalars(select(Reminder).where(Reminder.status == "sent")):
            assert reminder.sent_at is not None
            sent_on.setdefault(reminder.sent_at.date(), []).append(reminder)
    return sent_on


def test_may_day_by_day(engine: Engine, clock: FixedClock, people: None) -> None:
    gateway = FakeGateway()
    sent_on = simulate_may(engine, clock, gateway)
    with transaction(engine) as session:
        nik_of = dict(session.execute(select(Reminder.id, Reminder.participant_id)).all())
        from cakupan.registry.models import Participant

        niks = dict(session.execute(select(Participant.id, Participant.nik)).all())
    got = {
        day: sorted((niks[nik_of[r.id]], r.kind, r.channel, str(r.month), r.amount) for r in items)
        for day, items in sent_on.items()
    }
    assert got == {
        date(2027, 5, 2): [(E, "reacquire", "whatsapp", "2027-05", MONTH_2027)],
        date(2027, 5, 4): [(D, "unpaid_code", "whatsapp", "2027-05", MONTH_2027)],
        date(2027, 5, 6): [(D, "unpaid_code", "whatsapp", "2027-05", MONTH_2027)],
        date(2027, 5, 9): [(D, "unpaid_code", "whatsapp", "2027-05", MONTH_2027)],
        date(2027, 5, 10): sorted(
            [
                (A, "due_before", "whatsapp", "2027-05", MONTH_2027),
                (C, "due_before", "whatsapp", "2027-05", MONTH_2027),
                (D, "due_before", "whatsapp", "2027-05", MONTH_2027),
                (G, "due_before", "sms", "2027-05", MONTH_2027),
            ]
        ),
        # A paid on the 12th, C opted out on the 11th.
        date(2027, 5, 14): sorted(
            [
                (D, "due_before", "whatsapp", "2027-05", MONTH_2027),
                (G, "due_before", "sms", "2027-05", MONTH_2027),
            ]
        ),
        # B is 2 months behind (April, May); G is 1 month behind (May).
        date(2027, 5, 20): sorted(
            [
                (B, "arrears", "whatsapp", "2027-04", 2 * MONTH_2027),
                (G, "arrears", "sms", "2027-05", MONTH_2027),
            ]
        ),
    }
    # Every message went out inside 08:00-20:00 WIB, once per reference.
    for items in sent_on.values():
        for reminder in items:
            assert reminder.sent_at is not None
            assert 8 <= reminder.sent_at.astimezone(JAKARTA).hour < 20
    assert len(gateway.sent) == sum(len(v) for v in sent_on.values())
    # The texts: exact amount, months, kode penetapan, closing date, ways to pay.
    bodies = {m.reference: m.body for m in gateway.sent.values()}
    arrears_b = next(r for r in sent_on[date(2027, 5, 20)] if r.amount == 2 * MONTH_2027)
    assert "Rp 33.600" in bodies[str(arrears_b.id)]
    assert "April 2027 - Mei 2027" in bodies[str(arrears_b.id)]
    assert "1 Juli 2027" in bodies[str(arrears_b.id)]
    code_msg = sent_on[date(2027, 5, 4)][0]
    assert code_msg.payment_code
    assert code_msg.payment_code in bodies[str(code_msg.id)]
    assert "BRILink" in bodies[str(code_msg.id)]
    # The phone number never appears in a body (it goes to the gateway's "to" only).
    assert all("0812000000" not in body for body in bodies.values())


def test_plan_and_send_cli(
    cli: Callable[..., CliResult], engine: Engine, clock: FixedClock, people: None
) -> None:
    result = cli("reminders", "plan", "--on", "2027-05-10", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["on"] == "2027-05-10"
    assert document["reminders"] == sorted(
        [
            {
                "nik": n,
                "kind": "due_before",
                "channel": ch,
                "amount": MONTH_2027,
                "month": "2027-05",
                "send_after": "2027-05-10T08:00:00+07:00",
            }
            for n, ch in ((A, "whatsapp"), (C, "whatsapp"), (D, "whatsapp"), (G, "sms"))
        ],
        key=lambda r: r["nik"],
    )
    # plan writes nothing; send queues; twice queues nothing more.
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Reminder)) == 0
    first = cli("reminders", "send", "--on", "2027-05-10", "--json")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["queued"] == 4
    second = cli("reminders", "send", "--on", "2027-05-10", "--json")
    assert json.loads(second.stdout)["queued"] == 0
    assert (
        json.loads(cli("reminders", "plan", "--on", "2027-05-10", "--json").stdout)["reminders"]
        == []
    )
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Reminder)) == 4
    # opt-out: queued messages cancelled; unknown NIK exits 1; a bad date exits 2.
    assert cli("reminders", "opt-out", A).exit_code == 0
    with transaction(engine) as session:
        statuses = dict(session.execute(select(Reminder.dedupe_key, Reminder.status)).all())
    assert sorted(statuses.values()) == ["cancelled", "queued", "queued", "queued"]
    assert cli("reminders", "opt-out", nik(99)).exit_code == 1
    bad = cli("reminders", "plan", "--on", "2027-02-30")
    assert bad.exit_code == 2
    assert "2027-02-30" in bad.stderr


def test_status_moves_forward_only_and_retries(
    engine: Engine, clock: FixedClock, people: None
) -> None:
    with transaction(engine) as session:
        actions.queue_reminders(session, ACTOR, clock, date(2027, 5, 10))
    gateway = FakeGateway(fail_next=1)
    clock.at = at(date(2027, 5, 10), 9)
    first = deliver_due(engine, clock, gateway, rate_per_second=0)
    assert (first.sent, first.retried) == (3, 1)
    clock.at = at(date(2027, 5, 10), 9, 4)  # back-off 5 minutes: not yet
    assert deliver_due(engine, clock, gateway, rate_per_second=0).sent == 0
    clock.at = at(date(2027, 5, 10), 9, 5)
    assert deliver_due(engine, clock, gateway, rate_per_second=0).sent == 1
    provider_id = next(iter(gateway.sent.values())).provider_id
    when = at(date(2027, 5, 10), 9, 6)
    with transaction(engine) as session:
        assert actions.record_status(session, provider_id, "read", when)
        assert not actions.record_status(session, provider_id, "delivered", when)  # late, ignored
        assert not actions.record_status(session, provider_id, "failed", when)
        status = session.scalar(select(Reminder.status).where(Reminder.provider_id == provider_id))
    assert status == "read"


def test_attempts_are_bounded(engine: Engine, clock: FixedClock, people: None) -> None:
    with transaction(engine) as session:
        actions.queue_reminders(session, ACTOR, clock, date(2027, 5, 2))  # E's invitation
    gateway = FakeGateway(fail_next=10)
    for minutes in (0, 5, 25, 105, 500):
        clock.at = at(date(2027, 5, 2), 9) + timedelta(minutes=minutes)
        deliver_due(engine, clock, gateway, rate_per_second=0)
    with transaction(engine) as session:
        reminder = session.scalars(select(Reminder)).one()
    assert (reminder.status, reminder.attempts, reminder.finished_reason) == (
        "failed",
        3,
        "attempts",
    )
    assert gateway.fail_next == 7


def test_jobs_record_and_cli(
    cli: Callable[..., CliResult], engine: Engine, clock: FixedClock
) -> None:
    ctx = JobContext(engine=engine, clock=clock, gateway=FakeGateway())
    clock.at = at(date(2027, 6, 1), 0, 30)
    assert run_named(ctx, "close").outcome == "ok"
    assert run_named(ctx, "close").outcome == "done-before"
    report = run_named(ctx, "incentives")
    assert (report.outcome, report.period) == ("ok", "2027-05")
    with transaction(engine) as session:
        runs = session.execute(
            select(JobRun.job, JobRun.period, JobRun.outcome).order_by(JobRun.id)
        ).all()
    assert [tuple(r) for r in runs] == [("close", "2027-05", "ok"), ("incentives", "2027-05", "ok")]
    listed = json.loads(cli("jobs", "list", "--json").stdout)
    by_name = {job["name"]: job for job in listed["jobs"]}
    assert by_name["close"]["last_run"]["period"] == "2027-05"
    assert by_name["refresh"]["last_run"] is None
    assert cli("jobs", "run", "nope").exit_code == 2
    bad = cli("jobs", "run", "close", "--period", "2027-13")
    assert bad.exit_code == 2
    assert "YYYY-MM" in bad.stderr
    assert cli("jobs", "run", "outbox", "--period", "2027-05").exit_code == 2
    again = json.loads(cli("jobs", "run", "close", "--period", "2027-05", "--json").stdout)
    assert again["outcome"] == "done-before"


def test_queued_reminder_is_cancelled_when_paid_before_it_goes_out(
    engine: Engine, clock: FixedClock, people: None
) -> None:
    clock.at = at(date(2027, 5, 10), 6)
    with transaction(engine) as session:
        assert actions.queue_reminders(session, ACTOR, clock, date(2027, 5, 10))["queued"] == 4
    pay(engine, clock, A, 1, date(2027, 5, 10), "a-early")  # at 10:00, before the outbox runs
    gateway = FakeGateway()
    result = deliver_due(engine, clock, gateway, rate_per_second=0)
    assert (result.sent, result.cancelled) == (3, 1)
    with transaction(engine) as session:
        from cakupan.registry.models import Participant

        a_id = session.scalar(select(Participant.id).where(Participant.nik == A))
        row = session.execute(
            select(Reminder.status, Reminder.finished_reason).where(Reminder.participant_id == a_id)
        ).one()
    assert tuple(row) == ("cancelled", "paid")
    # Two days later the stale rest would be cancelled, never sent late.
    with transaction(engine) as session:
        actions.queue_reminders(session, ACTOR, clock, date(2027, 5, 14))
    clock.at = at(date(2027, 5, 16), 9)
    late = deliver_due(engine, clock, FakeGateway(), rate_per_second=0)
    assert (late.sent, late.cancelled) == (0, 3)  # C, D and G of the 14th
