"""Work plans on the web (issue 17), through HTTP on SQLite and PostgreSQL: create a week's plan,
add an activity with the district picked by name, record what it achieved; the same actions as
`cakupan plans` (audited), redirect after POST, errors named with nothing written, other branches
refused."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cakupan.audit import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.dates import JAKARTA, FixedClock
from cakupan.db import transaction
from cakupan.targets.models import ExecutionEntry, PerformancePlan, PlanActivity
from cakupan.users import create_user
from cakupan.web import create_app
from tests.conftest import CliResult

PASSWORD = "kopi-tubruk-2026"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
CLOCK = FixedClock(datetime(2026, 12, 3, 10, 0, tzinfo=JAKARTA))  # Thursday


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with transaction(engine) as session:
        for username, role, branch in (
            ("ark.plg", Role.ARK, "PLG"),
            ("kabid.bdl", Role.KABID, "BDL"),
            ("auditor", Role.AUDITOR, None),
        ):
            create_user(
                session,
                Actor.system("test"),
                username=username,
                role=role.value,
                full_name=username,
                password=PASSWORD,
                branch_code=branch,
            )
    with TestClient(
        create_app(engine, secret_key="test", clock=CLOCK), raise_server_exceptions=False
    ) as c:
        yield c


def _login(client: TestClient, username: str) -> str:
    client.cookies.clear()
    match = _CSRF_RE.search(client.get("/login").text)
    assert match
    response = client.post(
        "/login",
        data={"csrf_token": match.group(1), "username": username, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303
    token = _CSRF_RE.search(client.get("/plans").text)
    assert token
    return token.group(1)


def _count(engine: Engine, model: type) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_plan_activity_and_result(client: TestClient, engine: Engine) -> None:
    csrf = _login(client, "ark.plg")
    tuesday = client.post(
        "/plans",
        data={"csrf_token": csrf, "kind": "week", "start": "2026-12-01", "title": "Pasar"},
    )
    assert tuesday.status_code == 422
    assert "Senin" in tuesday.text  # a weekly plan starts on a Monday
    assert _count(engine, PerformancePlan) == 0
    created = client.post(
        "/plans",
        data={
            "csrf_token": csrf,
            "kind": "week",
            "start": "2026-11-30",
            "title": "Sosialisasi pasar",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    url = created.headers["location"]
    plan_id = int(url.rsplit("/", 1)[1])
    activity = {
        "csrf_token": csrf,
        "activity": "sosialisasi",
        "district_code": "Kemuning, Kota Palembang (16.71.09)",
        "prospects": "pedagang pasar",
        "segment": "BPU",
        "assignee_kind": "staff",
        "assignee_code": "ARK01",
        "scheduled_on": "2026-12-02",
        "expected_registrations": "25",
        "expected_contributions": "Rp 420.000",
    }
    unknown = client.post(f"/plans/{plan_id}/activities", data={**activity, "district_code": "x"})
    assert unknown.status_code == 422
    assert "district" in unknown.text
    outside = client.post(
        f"/plans/{plan_id}/activities", data={**activity, "scheduled_on": "2026-12-09"}
    )
    assert outside.status_code == 422
    assert "scheduled_on" in outside.text
    assert _count(engine, PlanActivity) == 0
    added = client.post(f"/plans/{plan_id}/activities", data=activity, follow_redirects=False)
    assert added.status_code == 303
    with transaction(engine) as session:
        row = session.scalars(select(PlanActivity)).one()
        activity_id = row.id
        assert (row.district_code, row.expected_contributions) == ("16.71.09", 420_000)
    logged = client.post(
        f"/plans/{plan_id}/activities/{activity_id}/log",
        data={"csrf_token": csrf, "kind": "registration", "quantity": "3"},
        follow_redirects=False,
    )
    assert logged.status_code == 303
    with transaction(engine) as session:
        entry = session.scalars(select(ExecutionEntry)).one()
        assert (entry.activity_id, entry.done_on, entry.assignee_code, entry.quantity) == (
            activity_id,
            date(2026, 12, 3),  # today by default
            "ARK01",
            3,
        )
        actions = set(
            session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "ark.plg"))
        )
    assert {"plans.create", "plans.activity.add", "plans.execution.log"} <= actions
    out_of_week = client.post(
        f"/plans/{plan_id}/activities/{activity_id}",
        data={**activity, "scheduled_on": "2026-12-09", "expected_registrations": "30"},
    )
    assert out_of_week.status_code == 422
    assert 'value="30"' in out_of_week.text  # the edit form keeps what was typed
    edited = client.post(
        f"/plans/{plan_id}/activities/{activity_id}",
        data={**activity, "district_code": "16.71.01", "expected_registrations": "30"},
        follow_redirects=False,
    )
    assert edited.status_code == 303
    with transaction(engine) as session:
        row = session.scalars(select(PlanActivity)).one()
        assert (row.district_code, row.expected_registrations) == ("16.71.01", 30)
        change = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "plans.activity.update")
        ).one()
        assert change.before == {"district_code": "16.71.09", "expected_registrations": 25}
    page = client.get(url).text
    assert 'data-testid="registered-' in page
    cell = page[page.index(f'data-testid="registered-{activity_id}"') :]
    assert cell[cell.index(">") + 1 : cell.index("<")] == "3"
    assert "30 November 2026" in page
    listing = client.get("/plans").text
    assert "Sosialisasi pasar" in listing


def test_plans_are_scoped(client: TestClient, engine: Engine) -> None:
    csrf = _login(client, "ark.plg")
    created = client.post(
        "/plans",
        data={"csrf_token": csrf, "kind": "month", "start": "2026-12-01", "title": "Desember"},
        follow_redirects=False,
    )
    url = created.headers["location"]
    csrf = _login(client, "kabid.bdl")
    assert client.get(url).status_code == 403
    assert client.get("/plans?office=PLG").status_code == 403
    refused = client.post(f"{url}/activities", data={"csrf_token": csrf, "activity": "kunjungan"})
    assert refused.status_code == 403
    _login(client, "auditor")
    read = client.get(url)
    assert read.status_code == 200  # the auditor reads every office, plans nothing
    assert 'data-testid="activity-form"' not in read.text
    assert _count(engine, PlanActivity) == 0


def test_cli_edit_activity(cli: Callable[..., CliResult]) -> None:
    """`cakupan plans edit-activity` changes only the options given, with the same checks."""
    plan = json.loads(
        cli(
            "plans", "create", "--office", "PLG", "--start", "2026-11-30", "--title", "x", "--json"
        ).stdout
    )
    added = cli(
        "plans",
        "add-activity",
        str(plan["id"]),
        "--activity",
        "kunjungan",
        "--district",
        "16.71.02",
        "--prospects",
        "nelayan",
        "--assignee",
        "partner:BRI01",
        "--json",
    )
    activity_id = json.loads(added.stdout)["id"]
    late = cli("plans", "edit-activity", str(activity_id), "--on", "2026-12-09")
    assert late.exit_code == 2
    assert "scheduled_on" in late.stderr
    changed = cli(
        "plans", "edit-activity", str(activity_id), "--expected-registrations", "12", "--json"
    )
    assert changed.exit_code == 0, changed.stderr
    shown = json.loads(cli("plans", "show", str(plan["id"]), "--json").stdout)
    (row,) = shown["activities"]
    assert (row["expected_registrations"], row["district_code"], row["assignee_code"]) == (
        12,
        "16.71.02",
        "BRI01",
    )
    assert cli("plans", "edit-activity", "999999", "--activity", "x").exit_code == 1
