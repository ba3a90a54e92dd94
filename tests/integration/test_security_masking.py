"""Issue 21, item 1: no full NIK in any API answer unless the role may see it, and every
unmasking audited. Every GET route of ``/api/v1`` (and the partner API's NIK lookups) is called
with a token of every role over the incentive-statement site (a participant registered by agent
P1 under W1, a corporate participant of K1, statements run for January 2025), on SQLite and
PostgreSQL; each answer is searched for any 16-digit number."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cakupan.audit import AuditEntry
from cakupan.auth import Role
from cakupan.dates import FixedClock
from cakupan.db import transaction
from cakupan.regions.models import Branch
from cakupan.registry.models import Participant
from cakupan.users import create_user, issue_token
from cakupan.web import create_app
from tests.integration.test_incentives_web import ACTOR, NOW, PASSWORD, Site
from tests.integration.test_incentives_web import site as site

SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")
#: Roles that may see NIKs in clear (access.UNMASKED_EVERYWHERE; pap in its own branch).
MAY_UNMASK = {Role.ADMIN, Role.AUDITOR, Role.PAP}


def _roles(region: str) -> dict[str, tuple[Role, dict[str, str]]]:
    return {
        "t.admin": (Role.ADMIN, {}),
        "t.head": (Role.HEAD_OFFICE, {}),
        "t.auditor": (Role.AUDITOR, {}),
        "t.regional": (Role.REGIONAL, {"region_code": region}),
        "t.kabid": (Role.KABID, {"branch_code": "PLG"}),
        "t.ark": (Role.ARK, {"branch_code": "PLG"}),
        "t.ar": (Role.AR, {"branch_code": "PLG"}),  # no account assigned to it
        "t.pap": (Role.PAP, {"branch_code": "PLG"}),
        "t.partner": (Role.PARTNER, {"partner_code": "W1"}),
        "t.agent": (Role.AGENT, {"partner_code": "W1", "agent_code": "P1"}),
        "t.korporasi": (Role.PARTNER, {"partner_code": "K1"}),
    }


def _tokens(site: Site) -> dict[str, tuple[Role, str]]:
    out = {}
    with transaction(site.engine) as session:
        region = session.scalar(select(Branch.region_code).where(Branch.code == "PLG"))
        assert region
        for username, (role, scope) in _roles(region).items():
            user = create_user(
                session,
                ACTOR,
                username=username,
                role=role.value,
                full_name=username,
                password=PASSWORD,
                **scope,
            )
            out[username] = (role, issue_token(session, ACTOR, user.user.id, "test").plain)
    return out


def _path_values(site: Site) -> dict[str, str]:
    with transaction(site.engine) as session:
        participant = session.scalar(select(Participant.id).where(Participant.nik == site.nik))
    return {
        "statement_id": str(site.ids["P1"]),
        "code": "P1",
        "participant_id": str(participant),
        "subscription_id": "1",
        "claim_id": "1",
        "kind": "ktp",
        "offer_code": "NO-SUCH-OFFER",
    }


#: Query values that the GET routes may require (unused ones are ignored by the routes).
QUERY = {"period": "2025-01", "date": "2025-01-10", "month": "2025-01", "year": "2025"}


def _requests(app: Any, site: Site) -> list[tuple[str, str, dict[str, Any] | None]]:
    values = _path_values(site)
    out: list[tuple[str, str, dict[str, Any] | None]] = []
    for route_path, operations in app.openapi()["paths"].items():
        if not route_path.startswith("/api/v1") or "get" not in operations:
            continue
        path = route_path
        for name in re.findall(r"{(\w+)}", path):
            path = path.replace("{" + name + "}", values[name])
        out.append(("GET", path, None))
    out.append(("POST", "/api/v1/participants/status", {"nik": site.nik}))
    body = {
        "nik": site.nik,
        "reported_income": 1_000_000,
        "programs": "JKK+JKM",
        "months": 1,
    }
    out.append(("POST", "/api/v1/registrations/quote", body))
    return out


def _unmask_rows(site: Site) -> int:
    with transaction(site.engine) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "personal_data.unmask")
            )
            or 0
        )


def test_no_api_route_shows_a_full_nik_to_a_role_that_may_not_see_it(site: Site) -> None:
    tokens = _tokens(site)
    app = create_app(site.engine, secret_key="test", clock=FixedClock(NOW))
    leaks: list[str] = []
    unaudited: list[str] = []
    seen_clear: set[str] = set()
    answered: dict[str, set[int]] = {}
    with TestClient(app, raise_server_exceptions=False) as client:
        requests = _requests(app, site)
        assert len(requests) >= 25  # every GET route of the API, not a hand-picked few
        for username, (role, token) in tokens.items():
            headers = {"Authorization": f"Bearer {token}"}
            for method, path, body in requests:
                before = _unmask_rows(site)
                if method == "GET":
                    response = client.get(path, params=QUERY, headers=headers)
                else:
                    response = client.post(path, json=body, headers=headers)
                assert response.status_code < 500, (username, path, response.text[:300])
                answered.setdefault(path, set()).add(response.status_code)
                found = SIXTEEN_DIGITS.findall(response.text)
                if not found:
                    continue
                if role not in MAY_UNMASK:
                    leaks.append(f"{username} {method} {path}: {sorted(set(found))}")
                elif _unmask_rows(site) == before:
                    unaudited.append(f"{username} {method} {path}")
                else:
                    seen_clear.add(username)
    assert leaks == []
    assert unaudited == []
    # The statement routes really answered with lines (and admins see them in clear, audited).
    statement = f"/api/v1/incentives/statements/{site.ids['P1']}"
    assert 200 in answered[statement]
    assert "t.admin" in seen_clear


@pytest.mark.parametrize("username", ["t.partner", "t.agent", "t.kabid", "t.ar", "t.head"])
def test_statement_lines_are_masked_for_the_partner_api_and_branch_roles(
    site: Site,
    username: str,
) -> None:
    tokens = _tokens(site)
    app = create_app(site.engine, secret_key="test", clock=FixedClock(NOW))
    headers = {"Authorization": f"Bearer {tokens[username][1]}"}
    with TestClient(app, raise_server_exceptions=False) as client:
        listed = client.get("/api/v1/incentives/statements?period=2025-01", headers=headers)
        one = client.get(f"/api/v1/incentives/statements/{site.ids['P1']}", headers=headers)
    assert listed.status_code == 200
    niks = [
        line["nik"]
        for statement in listed.json()["statements"]
        if statement["partner_code"] == "P1"
        for line in statement["lines"]
    ]
    masked = site.nik[:4] + "********" + site.nik[-4:]
    assert niks
    assert set(niks) == {masked}
    if one.status_code == 200:
        assert {line["nik"] for line in one.json()["lines"]} == {masked}
