"""The weekly review on the web (issue 17): open this week's review, note problems, solutions
and decisions, raise follow-up actions with owners and due dates, close a carried-over action;
each through the targets area's actions (audited), redirect after POST, errors named and
nothing written, other branches refused. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cakupan.audit import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.dates import JAKARTA, FixedClock
from cakupan.db import transaction
from cakupan.targets import actions
from cakupan.targets.models import ReviewAction, ReviewNote
from cakupan.users import create_user
from cakupan.web import create_app

PASSWORD = "kopi-tubruk-2026"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
CLOCK = FixedClock(datetime(2026, 12, 3, 10, 0, tzinfo=JAKARTA))  # Thursday


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    system = Actor.system("test")
    with transaction(engine) as session:
        for username, branch in (("kabid.plg", "PLG"), ("kabid.bdl", "BDL")):
            create_user(
                session,
                system,
                username=username,
                role=Role.KABID.value,
                full_name=username,
                password=PASSWORD,
                branch_code=branch,
            )
        review = actions.open_review(session, system, "PLG", date(2026, 11, 23), date(2026, 11, 27))
        actions.raise_action(
            session, system, review.id, "Surat ke paguyuban", "ARK01", date(2026, 11, 27)
        )
    with TestClient(
        create_app(engine, secret_key="test", clock=CLOCK), raise_server_exceptions=False
    ) as c:
        yield c


def _login(client: TestClient, username: str) -> str:
    client.cookies.clear()
    token = _CSRF_RE.search(client.get("/login").text)
    assert token
    signed = client.post(
        "/login",
        data={"csrf_token": token.group(1), "username": username, "password": PASSWORD},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    page = _CSRF_RE.search(client.get("/reviews").text)
    assert page
    return page.group(1)


def _count(engine: Engine, model: type) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_weekly_review_forms(client: TestClient, engine: Engine) -> None:
    csrf = _login(client, "kabid.plg")
    assert 'data-testid="open-review"' in client.get("/reviews").text
    opened = client.post("/reviews", data={"csrf_token": csrf}, follow_redirects=False)
    assert opened.status_code == 303
    url = opened.headers["location"]
    review_id = int(url.rsplit("/", 1)[1])
    page = client.get(url).text
    assert "30 November 2026" in page  # the week of 3 December
    carried = re.search(r'data-testid="action-(\d+)"', page)
    assert carried  # last week's open action is carried over
    assert "Lanjutan" in page

    note = client.post(
        f"/reviews/{review_id}/notes",
        data={"csrf_token": csrf, "kind": "problem", "text": "Pedagang pasar menunggak"},
        follow_redirects=False,
    )
    assert note.status_code == 303
    bad = client.post(
        f"/reviews/{review_id}/actions",
        data={"csrf_token": csrf, "description": "Telepon", "owner": "ar.demo", "due_on": "besok"},
    )
    assert bad.status_code == 422
    assert 'data-testid="problems"' in bad.text
    assert "due_on" in bad.text
    assert _count(engine, ReviewAction) == 1  # nothing written
    raised = client.post(
        f"/reviews/{review_id}/actions",
        data={
            "csrf_token": csrf,
            "description": "Telepon peserta menunggak",
            "owner": "ar.demo",
            "due_on": "2026-12-10",
        },
        follow_redirects=False,
    )
    assert raised.status_code == 303
    closed = client.post(
        f"/reviews/{review_id}/actions/{carried.group(1)}/close",
        data={"csrf_token": csrf, "resolution": "Surat terkirim"},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    page = client.get(url).text
    assert "Pedagang pasar menunggak" in page
    assert "Telepon peserta menunggak" in page
    assert "10 Desember 2026" in page
    status = re.search(rf'data-testid="action-status-{carried.group(1)}">([^<]+)<', page)
    assert status
    assert status.group(1) == "Ditutup"
    assert _count(engine, ReviewNote) == 1
    with transaction(engine) as session:
        audited = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.actor == "kabid.plg", AuditEntry.action.like("reviews.%"))
        )
    assert audited is not None
    assert audited >= 4  # open, note, action, close

    csrf = _login(client, "kabid.bdl")
    other = client.post(
        f"/reviews/{review_id}/notes",
        data={"csrf_token": csrf, "kind": "problem", "text": "bukan kantor saya"},
        follow_redirects=False,
    )
    assert other.status_code == 403
    assert "Pedagang pasar menunggak" not in other.text  # the refusal shows nothing of it
    assert _count(engine, ReviewNote) == 1


def test_field_log_from_a_phone(client: TestClient, engine: Engine) -> None:
    from cakupan.targets.models import ExecutionEntry

    csrf = _login(client, "kabid.plg")
    page = client.get("/field-log").text
    assert 'data-testid="field-log-form"' in page
    bad = client.post("/field-log", data={"csrf_token": csrf, "kind": "visit", "quantity": "dua"})
    assert bad.status_code == 422
    assert _count(engine, ExecutionEntry) == 0
    logged = client.post(
        "/field-log",
        data={
            "csrf_token": csrf,
            "kind": "registration",
            "quantity": "1",
            "nik": "1671010101990001",
            "note": "Pasar Kemuning",
        },
        follow_redirects=False,
    )
    assert logged.status_code == 303
    page = client.get(logged.headers["location"]).text
    row = page[page.index('data-testid="log-row"') :]
    row = row[: row.index("</tr>")]
    assert "Pendaftaran" in row
    assert "1671********0001" in row  # masked
    assert "belum terdaftar" in row  # not in the ledger (yet)
    assert "3 Desember 2026" in row
    csrf = _login(client, "kabid.bdl")
    other = client.post(
        "/field-log",
        data={"csrf_token": csrf, "office": "PLG", "kind": "visit", "quantity": "1"},
    )
    assert other.status_code == 403
    assert _count(engine, ExecutionEntry) == 1
