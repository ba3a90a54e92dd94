"""Reminders where people work (issue 16), on SQLite and PostgreSQL: a participant's history
(``reminders history``, ``participants show --json``) with each reminder's status and the first
payment after it, the retention worklists' "reminded N days ago, not paid" and opt-out, and
messages that name the officer who follows the participant up with their work phone, or the
participant's agent."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cakupan.auth import Actor
from cakupan.dates import FixedClock
from cakupan.db import transaction
from cakupan.registry.models import Participant
from cakupan.reminders import actions
from cakupan.reminders.delivery import deliver_due
from cakupan.reminders.gateway import FakeGateway
from cakupan.reminders.models import Reminder
from cakupan.retention.actions import assign_owner
from cakupan.users import create_user, issue_token, update_user
from cakupan.web import create_app
from tests.conftest import CliResult
from tests.integration.test_reminders import (
    ACTOR,
    MONTH_2027,
    B,
    C,
    D,
    G,
    at,
    clock,
    pay,
    people,
)

__all__ = ["clock", "people"]  # the fixtures of test_reminders, used here

MAY_20, MAY_22 = date(2027, 5, 20), date(2027, 5, 22)


def _send(engine: Engine, clock: FixedClock, day: date) -> FakeGateway:
    """Queue ``day``'s reminders at 06:00 and send them at 09:00."""
    clock.at = at(day, 6)
    with transaction(engine) as session:
        actions.queue_reminders(session, ACTOR, clock, day)
    clock.at = at(day, 9)
    gateway = FakeGateway()
    deliver_due(engine, clock, gateway, rate_per_second=0)
    return gateway


def test_history_and_worklist_show_reminders_and_their_outcome(
    cli: Callable[..., CliResult], engine: Engine, clock: FixedClock, people: None
) -> None:
    _send(engine, clock, MAY_20)  # B: arrears (April-May); A, C, G: arrears (May)
    history = cli("reminders", "history", B, "--as-of", "2027-05-22", "--json")
    assert history.exit_code == 0, history.stderr
    found = json.loads(history.stdout)
    assert [
        (r["planned_for"], r["kind"], r["channel"], r["amount"], r["status"], r["paid_on"])
        for r in found["reminders"]
    ] == [("2027-05-20", "arrears", "whatsapp", 2 * MONTH_2027, "sent", None)]
    assert found["preference"]["opted_out_at"] is None

    # On the arrears list two days later: reminded 2 days ago on WhatsApp, not paid.
    listed = cli("retention", "worklist", "--list", "arrears", "--as-of", "2027-05-22", "--json")
    assert listed.exit_code == 0, listed.stderr
    rows = {row["nik"]: row for row in json.loads(listed.stdout)["rows"]}
    assert rows[B]["last_reminder"] == {
        "kind": "arrears",
        "channel": "whatsapp",
        "status": "sent",
        "sent_on": "2027-05-20",
        "days_ago": 2,
    }
    assert rows[B]["reminders_opted_out"] is False
    text = cli("retention", "worklist", "--list", "arrears", "--as-of", "2027-05-22")
    assert (
        "reminded 2 days ago (whatsapp)" in text.stdout or "diingatkan 2 hari lalu" in text.stdout
    )

    # C (reminded on the 20th, one month behind) opts out (staff): the due list says so.
    clock.at = at(MAY_22, 9)
    assert cli("reminders", "opt-out", C).exit_code == 0
    due = json.loads(
        cli("retention", "worklist", "--list", "due", "--as-of", "2027-05-22", "--json").stdout
    )
    due_rows = {row["nik"]: row for row in due["rows"]}
    assert due_rows[C]["reminders_opted_out"] is True
    assert due_rows[C]["last_reminder"]["sent_on"] == "2027-05-20"
    assert B not in due_rows
    assert due_rows[G]["last_reminder"]["channel"] == "sms"  # G's arrears reminder of the 20th

    # B pays on the 23rd: the history shows the payment after the reminder.
    pay(engine, clock, B, 2, date(2027, 5, 23), "b-may")
    shown = json.loads(cli("participants", "show", B, "--as-of", "2027-05-24", "--json").stdout)
    assert [(r["kind"], r["paid_on"]) for r in shown["reminders"]["reminders"]] == [
        ("arrears", "2027-05-23")
    ]
    # Before the reminder's day the history is empty (as of a date).
    early = json.loads(cli("reminders", "history", B, "--as-of", "2027-05-19", "--json").stdout)
    assert early["reminders"] == []
    assert cli("reminders", "history", "1671010101909999").exit_code == 1


def test_message_names_the_officer_with_work_phone(
    cli: Callable[..., CliResult], engine: Engine, clock: FixedClock, people: None
) -> None:
    with transaction(engine) as session:
        branch = session.scalar(select(Participant.branch_code).where(Participant.nik == D))
        officer = create_user(
            session,
            Actor.system("test"),
            username="ark.rina",
            role="ark",
            full_name="Rina Marlina",
            branch_code=branch,
            password="kopi-tubruk-2026",
        ).user
        update_user(session, Actor.system("test"), officer.id, work_phone="0811-7000-123")
        assign_owner(session, Actor.system("test"), "ark.rina", [D], clock=clock)
    # A bad number is refused with the field named; '' clears (and is then set again).
    bad = cli("users", "set-phone", "ark.rina", "12ab")
    assert bad.exit_code == 2
    assert "work_phone" in bad.stderr
    shown = json.loads(cli("users", "set-phone", "ark.rina", "0811 7000 123", "--json").stdout)
    assert shown["work_phone"] == "08117000123"

    gateway = _send(engine, clock, date(2027, 5, 10))
    with transaction(engine) as session:
        ids = dict(session.execute(select(Participant.nik, Participant.id)).all())
        bodies = dict(session.execute(select(Reminder.participant_id, Reminder.body)).all())
    assert (
        "Hubungi petugas BPJS Ketenagakerjaan Anda, Rina Marlina (08117000123)." in bodies[ids[D]]
    )
    # Others have no officer and no agent: no contact line.
    assert "Hubungi" not in bodies[ids[G]]
    assert len(gateway.sent) == len(bodies)


def test_api_gives_the_history_within_scope(
    engine: Engine, clock: FixedClock, people: None
) -> None:
    _send(engine, clock, MAY_20)
    with transaction(engine) as session:
        pid, branch = session.execute(
            select(Participant.id, Participant.branch_code).where(Participant.nik == B)
        ).one()
        tokens = {}
        for username, scope in (("kabid.here", branch), ("kabid.elsewhere", "BDL")):
            user = create_user(
                session,
                Actor.system("test"),
                username=username,
                role="kabid",
                branch_code=scope,
                password="kopi-tubruk-2026",
            ).user
            tokens[username] = issue_token(session, Actor.system("test"), user.id, "t").plain
    app = create_app(engine, secret_key="test-secret", clock=FixedClock(at(MAY_22, 10)))
    with TestClient(app, raise_server_exceptions=False) as client:
        mine = client.get(
            f"/api/v1/dashboard/reminders/{pid}",
            headers={"Authorization": f"Bearer {tokens['kabid.here']}"},
        )
        other = client.get(
            f"/api/v1/dashboard/reminders/{pid}",
            headers={"Authorization": f"Bearer {tokens['kabid.elsewhere']}"},
        )
    assert mine.status_code == 200, mine.text
    assert [(r["kind"], r["status"], r["amount"]) for r in mine.json()["reminders"]] == [
        ("arrears", "sent", 2 * MONTH_2027)
    ]
    assert other.status_code == 404
