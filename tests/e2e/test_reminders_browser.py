"""Reminders, experiments and jobs in a real browser (issue 16): a branch head (kabid) opens a
participant who was reminded, sees the reminder in their history and records that they want
no more reminders; head office opens the experiments list and one experiment's report; the
administrator sees the reminders job's recorded run. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cakupan.audit.models import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.dates import JAKARTA, FixedClock
from cakupan.db import transaction
from cakupan.registry import RegistrationRow, register_participants
from cakupan.registry.models import Participant
from cakupan.reminders.delivery import deliver_due
from cakupan.reminders.experiments import create_experiment
from cakupan.reminders.gateway import FakeGateway
from cakupan.reminders.models import Experiment, Reminder, ReminderPreference
from cakupan.scheduling import JobContext
from cakupan.scheduling.jobs import run_named
from tests.e2e.conftest import LiveServer, SignIn

pytestmark = pytest.mark.e2e

ACTOR = Actor.system("e2e-reminders")
NIK = "1671010303860001"  # born 3 March 1986: no other browser test uses it
EXPERIMENT = "E2E WhatsApp sebelum jatuh tempo"
TODAY = date(2026, 11, 26)  # the suite's clock (TEST_NOW)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=JAKARTA)


def _reminded_participant(server: LiveServer) -> int:
    """A participant registered on the 25th with a kode penetapan, reminded of it on the 26th
    by the worker's jobs (reminders at 06:00, outbox at 09:00); once per database."""
    engine = server.engine
    with transaction(engine) as session:
        found = session.scalar(select(Participant.id).where(Participant.nik == NIK))
    if found is not None:
        return found
    clock = FixedClock(_at(date(2026, 11, 25), 9))
    row = RegistrationRow(
        row=1,
        nik=NIK,
        name="Wulan Sari",
        phone="081277001234",
        occupation="farmer",
        reported_income=1_000_000,
        programs="JKK+JKM",
        registered_on=date(2026, 11, 25),
        district_code="16.71.01",
    )
    with transaction(engine) as session:
        result = register_participants(session, ACTOR, [row], clock=clock, issue_codes=True)
    assert result.rejected == 0, result.as_json()
    clock.at = _at(TODAY, 6)
    ctx = JobContext(engine=engine, clock=clock, gateway=FakeGateway())
    assert run_named(ctx, "reminders").outcome in ("ok", "done-before")
    clock.at = _at(TODAY, 9)
    deliver_due(engine, clock, FakeGateway(), rate_per_second=0)
    with transaction(engine) as session:
        pid = session.scalar(select(Participant.id).where(Participant.nik == NIK))
        assert pid is not None
        status = session.scalar(select(Reminder.status).where(Reminder.participant_id == pid))
    assert status == "sent"
    return pid


def test_kabid_sees_the_reminder_and_records_an_opt_out(
    page: Page, sign_in: SignIn, live_server: LiveServer
) -> None:
    pid = _reminded_participant(live_server)
    sign_in(page, Role.KABID)
    page.goto(f"/participants/{pid}")
    rows = page.locator("[data-testid=reminder-row]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Kode penetapan belum dibayar")
    expect(rows.first).to_contain_text("Terkirim")
    expect(rows.first).to_contain_text("Rp 8.400")  # Nov 2026: PP 50/2025's halved JKK+JKM
    expect(rows.first).to_contain_text("belum bayar")
    expect(page.get_by_test_id("reminder-preference")).to_contain_text("Menerima pengingat")
    page.get_by_test_id("reminders-opt-out-submit").click()
    page.wait_for_url(f"**/participants/{pid}?reminders=opted-out*")
    expect(page.get_by_test_id("reminders-saved")).to_be_visible()
    expect(page.get_by_test_id("reminder-preference")).to_contain_text(
        "Menolak pengingat sejak 26 November 2026 (dicatat petugas)"
    )
    # Now the form offers consent instead; the opt-out is stored and audited as the kabid.
    expect(page.get_by_test_id("reminders-consent")).to_be_visible()
    with transaction(live_server.engine) as session:
        pref = session.get(ReminderPreference, pid)
        assert pref is not None
        assert pref.opted_out_source == "staff"
        actors = session.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.action == "reminders.opt_out", AuditEntry.entity_id == str(pid)
            )
        ).all()
    assert actors == ["e2e.kabid"]


def test_head_office_reads_an_experiment_report(
    page: Page, sign_in: SignIn, live_server: LiveServer
) -> None:
    with transaction(live_server.engine) as session:
        experiment_id = session.scalar(select(Experiment.id).where(Experiment.name == EXPERIMENT))
        if experiment_id is None:
            experiment_id = create_experiment(
                session,
                ACTOR,
                FixedClock(_at(date(2026, 9, 30), 9)),
                name=EXPERIMENT,
                description="Dua lengan WhatsApp, holdout 10%",
                arms=[
                    {"name": "wa-5", "channel": "whatsapp", "due_before_days": [5]},
                    {"name": "wa-1", "channel": "whatsapp", "due_before_days": [1]},
                ],
                holdout_share=0.1,
                starts_on=date(2026, 10, 1),
                ends_on=date(2026, 10, 31),
            ).id
    sign_in(page, Role.HEAD_OFFICE)
    page.get_by_test_id("nav-experiments").click()
    page.wait_for_url("**/experiments")
    link = page.get_by_test_id("experiments-table").get_by_role("link", name=EXPERIMENT)
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url(f"**/experiments/{experiment_id}")
    expect(page.locator("h1")).to_contain_text(EXPERIMENT)
    table = page.get_by_test_id("experiment-table")
    for arm in ("wa-5", "wa-1", "holdout"):
        expect(table).to_contain_text(arm)
    expect(page.get_by_text("Horizon tetap")).to_be_visible()


def test_admin_sees_the_reminders_job_run(
    page: Page, sign_in: SignIn, live_server: LiveServer
) -> None:
    _reminded_participant(live_server)
    sign_in(page, Role.ADMIN)
    page.get_by_test_id("nav-jobs").click()
    page.wait_for_url("**/admin/jobs")
    expect(page.get_by_test_id("jobs-table")).to_contain_text("reminders")
    runs = page.get_by_test_id("job-runs-table").locator("tr", has_text="reminders")
    expect(runs.first).to_contain_text("2026-11-26")
    expect(runs.first).to_contain_text("ok")


def test_experiments_are_not_for_a_partner(
    page: Page, sign_in: SignIn, live_server: LiveServer
) -> None:
    sign_in(page, Role.PARTNER)
    expect(page.get_by_test_id("nav-experiments")).to_have_count(0)
    response = page.goto("/experiments")
    assert response is not None
    assert response.status == 403
