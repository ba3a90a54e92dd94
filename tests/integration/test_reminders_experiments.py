"""Experiments, pages and provider callbacks on SQLite and PostgreSQL: the plan leaves the
holdout out, the report counts each arm's outcomes from the ledger and concludes nothing before
an outcome's final date; the jobs and experiment pages by role; status callbacks and STOP
replies authenticated by the shared key."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cakupan.auth import Role
from cakupan.dates import FixedClock
from cakupan.db import transaction
from cakupan.registry.models import Participant
from cakupan.reminders import actions
from cakupan.reminders.experiments import create_experiment, experiment_report
from cakupan.reminders.models import Reminder, ReminderPreference
from cakupan.reminders.planning import plan_day
from cakupan.reminders.rules import arm_for
from cakupan.scheduling import JobContext
from cakupan.scheduling.jobs import run_named
from cakupan.settings import get_settings
from cakupan.web import create_app
from tests.conftest import CliResult
from tests.integration.test_reminders import ACTOR, A, C, D, G, at, make_clock, pay, seed_people
from tests.integration.test_web import PASSWORD, SCOPES, login, username_for
from tests.users_support import create_role_users


@pytest.fixture
def clock() -> FixedClock:
    return make_clock()


@pytest.fixture
def people(engine: Engine, clock: FixedClock) -> None:
    seed_people(engine, clock)


def _experiment(engine: Engine, clock: FixedClock, *, synthetic: bool = False) -> int:
    clock.at = at(date(2027, 5, 1), 0, 30)
    assert run_named(JobContext(engine=engine, clock=clock), "close", "2027-04").outcome == "ok"
    with transaction(engine) as session:
        experiment = create_experiment(
            session,
            ACTOR,
            clock,
            name="wa-vs-none",
            description="WhatsApp 5 and 1 days before vs no reminder",
            arms=[{"name": "wa", "channel": "whatsapp"}],
            holdout_share=0.2,
            starts_on=date(2027, 5, 1),
            ends_on=date(2027, 5, 15),
            synthetic=synthetic,
        )
        return experiment.id


def test_plan_leaves_the_holdout_out_and_report_waits_for_final_dates(
    engine: Engine, clock: FixedClock, people: None
) -> None:
    experiment_id = _experiment(engine, clock)
    with transaction(engine) as session:
        ids = dict(session.execute(select(Participant.nik, Participant.id)).all())
        planned = {r.nik: r.arm for r in plan_day(session, date(2027, 5, 10))}
    # Every participant due that day is assigned (D too, though not in the report's
    # population: not paid through April); the holdout gets nothing.
    expected = {n for n in (A, C, D, G) if arm_for(ids[n], experiment_id, ["wa"], 0.2) != "holdout"}
    assert set(planned) == expected
    assert set(planned.values()) <= {"wa"}
    pay(engine, clock, A, 1, date(2027, 5, 12), "a-may")
    clock.at = at(date(2027, 5, 20), 9)
    with transaction(engine) as session:
        report = experiment_report(session, experiment_id, clock)
    assert sum(arm["n"] for arm in report["arms"]) == 3  # A, C, G were due in May
    arm_of_a = arm_for(ids[A], experiment_id, ["wa"], 0.2)
    by_arm = {arm["arm"]: arm for arm in report["arms"]}
    paid = by_arm[arm_of_a]["outcomes"]["paid_by_15"]
    assert paid["successes"] == 1
    assert paid["final"] is True
    assert paid["ci"] is not None
    month_end = by_arm["wa"]["outcomes"]["paid_by_month_end"]
    assert month_end["final"] is False
    assert month_end["ci"] is None
    assert month_end["difference"] is None
    assert month_end["verdict_en"].startswith("Not final")
    assert month_end["final_on"] == "2027-06-01"
    assert report["sample_ratio"]["planned"] == {"holdout": 0.2, "wa": 0.8}


def test_experiment_validation_and_cli(
    cli: Callable[..., CliResult], engine: Engine, clock: FixedClock
) -> None:
    bad = cli(
        "experiments",
        "create",
        "--name",
        "x",
        "--arms",
        "a:pigeon",
        "--from",
        "2027-05-01",
        "--to",
        "2027-04-01",
        "--holdout",
        "0.5",
    )
    assert bad.exit_code == 2
    for field in ("arms", "holdout", "ends_on"):
        assert field in bad.stderr
    made = cli(
        "experiments",
        "create",
        "--name",
        "wa-5-vs-1",
        "--arms",
        "wa5:whatsapp:5;wa1:whatsapp:1",
        "--from",
        "2027-05-01",
        "--to",
        "2027-05-31",
        "--json",
    )
    assert made.exit_code == 0, made.stderr
    experiment_id = json.loads(made.stdout)["id"]
    report = json.loads(cli("experiments", "report", str(experiment_id), "--json").stdout)
    assert [arm["arm"] for arm in report["arms"]] == ["holdout", "wa5", "wa1"]
    assert cli("experiments", "report", "999", "--json").exit_code == 1


@pytest.fixture
def web(engine: Engine, clock: FixedClock) -> Iterator[TestClient]:
    create_role_users(engine, SCOPES, username_for=username_for, password=PASSWORD)
    with TestClient(
        create_app(engine, secret_key="test-secret", clock=clock), raise_server_exceptions=False
    ) as client:
        yield client


def test_pages_by_role(engine: Engine, clock: FixedClock, people: None, web: TestClient) -> None:
    experiment_id = _experiment(engine, clock, synthetic=True)
    login(web, username_for(Role.ADMIN))
    jobs = web.get("/admin/jobs")
    assert jobs.status_code == 200
    assert "2027-04" in jobs.text
    page = web.get(f"/experiments/{experiment_id}")
    assert page.status_code == 200
    assert "SINTETIS" in page.text
    assert "wa-vs-none" in web.get("/experiments").text
    # The dashboard says when its figures were computed (the worker's close at 00:30).
    dashboard = web.get("/dashboard")
    assert 'data-testid="figures-as-of"' in dashboard.text
    assert "00:30" in dashboard.text
    web.post("/logout", data={}, follow_redirects=False)
    web.cookies.clear()
    login(web, username_for(Role.PARTNER))
    assert web.get("/admin/jobs").status_code == 403
    assert web.get("/experiments").status_code == 403


def test_provider_callbacks(
    engine: Engine,
    clock: FixedClock,
    people: None,
    web: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "/api/reminders/status"
    assert web.post(url, json={"provider_id": "x", "status": "read"}).status_code == 404
    monkeypatch.setenv("CAKUPAN_REMINDER_CALLBACK_KEY", "provider-secret")
    get_settings.cache_clear()
    try:
        with transaction(engine) as session:
            actions.queue_reminders(session, ACTOR, clock, date(2027, 5, 10))
            reminder = session.scalars(select(Reminder).order_by(Reminder.id)).first()
            assert reminder is not None
            reminder.status, reminder.provider_id = "sent", "p-1"
        key = {"X-Cakupan-Gateway-Key": "provider-secret"}
        assert web.post(url, json={"provider_id": "p-1", "status": "read"}).status_code == 401
        assert web.post(url, json={"provider_id": "p-1", "status": "read"}, headers=key).json() == {
            "changed": True
        }
        late = web.post(url, json={"provider_id": "p-1", "status": "delivered"}, headers=key)
        assert late.json() == {"changed": False}
        with transaction(engine) as session:
            phone = session.scalar(select(Participant.phone).where(Participant.nik == C))
            c_id = session.scalar(select(Participant.id).where(Participant.nik == C))
        reply = web.post(
            "/api/reminders/inbound", json={"sender": phone, "text": " stop "}, headers=key
        )
        assert reply.json() == {"opted_out": 1}
        with transaction(engine) as session:
            preference = session.get(ReminderPreference, c_id)
            assert preference is not None
            assert preference.opted_out_source == "reply"
            queued_c = session.scalars(
                select(Reminder.status).where(Reminder.participant_id == c_id)
            ).all()
        assert queued_c == ["cancelled"]
    finally:
        get_settings.cache_clear()


def test_demo_ships_one_finished_synthetic_experiment(cli: Callable[..., CliResult]) -> None:
    assert cli("demo", "--no-serve", "--participants", "400", "--seed", "3").exit_code == 0
    listed = json.loads(cli("experiments", "list", "--json").stdout)
    assert [(e["synthetic"], e["arms"]) for e in listed] == [(True, ["wa-5-hari", "wa-1-hari"])]
    report = json.loads(cli("experiments", "report", str(listed[0]["id"]), "--json").stdout)
    assert report["synthetic"] is True
    assert sum(arm["n"] for arm in report["arms"]) > 0
    for arm in report["arms"]:
        for outcome in arm["outcomes"].values():
            assert outcome["final"] is True
    assert cli("demo", "--no-serve", "--participants", "400", "--seed", "3").exit_code == 0
    assert len(json.loads(cli("experiments", "list", "--json").stdout)) == 1
