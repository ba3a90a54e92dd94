"""Resolving a conflict between sources on the web (issue 17): the head chooses which figure
counts (with a reason, audited); both figures stay visible; the Palembang 2017-18 trend, empty
while the 2018 realization was in conflict, then has its achievement. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cakupan.audit import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.dates import JAKARTA, FixedClock
from cakupan.db import make_session_factory, transaction
from cakupan.targets import actions, queries
from cakupan.targets.examples import EXAMPLE_FILES
from cakupan.users import create_user
from cakupan.web import create_app

PASSWORD = "kopi-tubruk-2026"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    system = Actor.system("test")
    with transaction(engine) as session:
        for username, role in (("kabid.plg", Role.KABID), ("ark.plg", Role.ARK)):
            create_user(
                session,
                system,
                username=username,
                role=role.value,
                full_name=username,
                password=PASSWORD,
                branch_code="PLG",
            )
    actions.import_figures(engine, system, EXAMPLE_FILES[0])
    clock = FixedClock(datetime(2026, 12, 3, 10, 0, tzinfo=JAKARTA))
    with TestClient(
        create_app(engine, secret_key="test", clock=clock), raise_server_exceptions=False
    ) as c:
        yield c


def _login(client: TestClient, username: str) -> str:
    client.cookies.clear()
    token = _CSRF_RE.search(client.get("/login").text)
    assert token
    client.post(
        "/login",
        data={"csrf_token": token.group(1), "username": username, "password": PASSWORD},
        follow_redirects=False,
    )
    page = _CSRF_RE.search(client.get("/targets?office=PLG&year=2018").text)
    assert page
    return page.group(1)


def _trend_2018(engine: Engine) -> tuple[int | None, float | None]:
    with make_session_factory(engine)() as session:
        rows = {
            r.point.year: r.point for r in queries.trend(session, "PLG", "BPU", "new_participants")
        }
    return rows[2018].realization, rows[2018].achievement_percent


def test_choose_the_figure_that_counts(client: TestClient, engine: Engine) -> None:
    assert _trend_2018(engine) == (None, None)  # in conflict: the trend has a gap
    with make_session_factory(engine)() as session:
        row = queries.report(session, "PLG", 2018, segment="BPU", metric="new_participants")[0]
    sources = {v.source: v.value for v in row.realization.conflict}
    assert len(sources) == 2
    chosen = next(source for source, value in sources.items() if value == 42_859)

    csrf = _login(client, "ark.plg")  # may read, may not set targets: no form, refused
    page = client.get("/targets?office=PLG&year=2018").text
    assert 'data-testid="choose-BPU-new_participants-realization"' not in page
    form = {
        "csrf_token": csrf,
        "office": "PLG",
        "year": "2018",
        "segment": "BPU",
        "metric": "new_participants",
        "kind": "realization",
        "source": chosen,
        "reason": "Angka laporan tahunan cabang",
    }
    assert client.post("/targets/choose", data=form, follow_redirects=False).status_code == 403

    csrf = _login(client, "kabid.plg")
    page = client.get("/targets?office=PLG&year=2018").text
    assert 'data-testid="choose-BPU-new_participants-realization"' in page
    missing = client.post("/targets/choose", data={**form, "csrf_token": csrf, "reason": " "})
    assert missing.status_code == 422
    assert _trend_2018(engine) == (None, None)  # nothing written
    done = client.post("/targets/choose", data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    conflict = page[page.index('data-testid="conflict-BPU-new_participants-realization"') :]
    conflict = conflict[: conflict.index("</div>")]
    assert "42.859" in conflict
    assert "42.869" in conflict  # both figures stay visible
    assert f"dipakai: {chosen}" in conflict.replace("&amp;", "&")
    realization, achievement = _trend_2018(engine)
    assert realization == 42_859
    assert achievement is not None
    with transaction(engine) as session:
        audited = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "targets.figure.choose", AuditEntry.actor == "kabid.plg")
        )
    assert audited == 1
