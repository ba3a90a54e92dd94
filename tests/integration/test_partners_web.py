"""The agents and agency-application pages through HTTP, on SQLite and PostgreSQL: scoping by
role and branch (a partner sees only its own agents, another branch's agent does not exist),
roles that may not write are refused before anything is tried, every write is the CLI's action
with its audit row, and an error leaves nothing written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cakupan.audit.models import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.dates import SystemClock
from cakupan.db import transaction
from cakupan.partners.actions import NewPartner, add_agreement, create_partner
from cakupan.partners.models import Partner, PartnerApplication
from cakupan.users import create_user
from cakupan.web import create_app

PASSWORD = "kopi-tubruk-2026"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
USERS = {
    "kabid.plg": (Role.KABID, {"branch_code": "PLG"}),
    "kabid.bdl": (Role.KABID, {"branch_code": "BDL"}),
    "pap.plg": (Role.PAP, {"branch_code": "PLG"}),
    "mitra.wdh": (Role.PARTNER, {"partner_code": "WDH-A"}),
    "agen.a1": (Role.AGENT, {"partner_code": "WDH-A", "agent_code": "PRS-A1"}),
}


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    system = Actor.system("test")
    clock = SystemClock()
    with transaction(engine) as session:
        for code, name, kind, branch, parent in (
            ("WDH-A", "Wadah A", "wadah", "PLG", None),
            ("PRS-A1", "Agen A1", "perisai", None, "WDH-A"),
            ("PRS-A2", "Agen A2", "perisai", None, "WDH-A"),
            ("WDH-B", "Wadah B", "wadah", "PLG", None),
            ("PRS-B1", "Agen B1", "perisai", None, "WDH-B"),
            ("WDH-L", "Wadah Lampung", "wadah", "BDL", None),
            ("PRS-L1", "Agen Lampung", "perisai", None, "WDH-L"),
        ):
            create_partner(session, system, clock, NewPartner(code, name, kind, branch, parent))
        row = session.get(Partner, "PRS-A1")
        assert row is not None
        row.activated_on = date(2026, 9, 1)
        add_agreement(
            session,
            system,
            clock,
            "PRS-A1",
            scheme_name="perisai-2022",
            valid_from=date(2026, 9, 1),
        )
        for username, (role, scope) in USERS.items():
            create_user(
                session,
                system,
                username=username,
                role=role.value,
                full_name=username,
                password=PASSWORD,
                **scope,
            )
    with TestClient(create_app(engine, secret_key="test"), raise_server_exceptions=False) as c:
        yield c


def _login(client: TestClient, username: str) -> str:
    match = _CSRF_RE.search(client.get("/login").text)
    assert match
    response = client.post(
        "/login",
        data={
            "csrf_token": match.group(1),
            "username": username,
            "password": PASSWORD,
            "next": "/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    token = _CSRF_RE.search(client.get("/").text)
    assert token
    return token.group(1)


def _codes(html: str) -> list[str]:
    return sorted(re.findall(r'data-testid="agent-row" data-code="([^"]+)"', html))


@pytest.mark.parametrize(
    ("username", "codes"),
    [
        ("kabid.plg", ["PRS-A1", "PRS-A2", "PRS-B1"]),
        ("kabid.bdl", ["PRS-L1"]),
        ("mitra.wdh", ["PRS-A1", "PRS-A2"]),
        ("agen.a1", ["PRS-A1"]),
    ],
)
def test_agents_list_is_scoped(client: TestClient, username: str, codes: list[str]) -> None:
    _login(client, username)
    page = client.get("/agents")
    assert page.status_code == 200
    assert _codes(page.text) == codes


def test_idle_months_and_standing(client: TestClient) -> None:
    """PRS-A1: active since September 2026 under perisai-2022, no activity: September..November
    are three idle months (the clock is 26 November), the scheme's limit: due."""
    _login(client, "kabid.plg")
    html = client.get("/agents/PRS-A1").text
    idle = html[html.index('data-testid="idle-months"') :]
    idle = idle[: idle.index("</dd>")]
    assert ">3" in idle
    assert "Jatuh tempo diakhiri" in idle


def test_other_branch_or_partner_agent_is_not_found(client: TestClient) -> None:
    _login(client, "kabid.bdl")
    assert client.get("/agents/PRS-A1").status_code == 404
    client.cookies.clear()
    _login(client, "mitra.wdh")
    assert client.get("/agents/PRS-B1").status_code == 404
    assert client.get("/agents/PRS-A2").status_code == 200


def test_suspend_needs_a_reason_and_writes_through_the_action(
    client: TestClient, engine: Engine
) -> None:
    token = _login(client, "kabid.plg")
    refused = client.post(
        "/agents/PRS-A2/status", data={"csrf_token": token, "to": "suspended", "reason": " "}
    )
    assert refused.status_code == 422
    assert "alasan wajib diisi" in refused.text
    done = client.post(
        "/agents/PRS-A2/status",
        data={"csrf_token": token, "to": "suspended", "reason": "tidak aktif"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/agents/PRS-A2?done=suspended"
    with transaction(engine) as session:
        row = session.get(Partner, "PRS-A2")
        assert row is not None
        assert (row.status, row.status_reason) == ("suspended", "tidak aktif")
        audited = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.action == "partners.partner.suspended",
                AuditEntry.entity_id == "PRS-A2",
                AuditEntry.actor == "kabid.plg",
            )
        )
    assert audited == 1


@pytest.mark.parametrize("username", ["pap.plg", "mitra.wdh", "agen.a1"])
def test_roles_that_may_not_write_are_refused(
    client: TestClient, engine: Engine, username: str
) -> None:
    token = _login(client, username)
    response = client.post(
        "/agents/PRS-A1/status", data={"csrf_token": token, "to": "terminated", "reason": "x"}
    )
    assert response.status_code == 403
    with transaction(engine) as session:
        row = session.get(Partner, "PRS-A1")
        assert row is not None
        assert row.status == "active"


def test_kabid_may_not_recruit_into_another_branch(client: TestClient, engine: Engine) -> None:
    token = _login(client, "kabid.plg")
    response = client.post(
        "/agents",
        data={
            "csrf_token": token,
            "code": "PRS-L2",
            "name": "Agen Lain",
            "kind": "perisai",
            "parent_code": "WDH-L",
        },
    )
    assert response.status_code == 422
    assert "WDH-L di luar cakupan Anda" in response.text
    with transaction(engine) as session:
        assert session.get(Partner, "PRS-L2") is None


def test_applications_scoped_by_branch(client: TestClient, engine: Engine) -> None:
    token = _login(client, "kabid.plg")
    created = client.post(
        "/partners/applications",
        data={
            "csrf_token": token,
            "code": "KOP-X",
            "name": "Koperasi X",
            "kind": "wadah",
            "branch_code": "PLG",
            "scheme": "komunitas-2024",
            "valid_from": "2026-12-01",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    path = created.headers["location"]
    # Another branch's kabid neither lists nor opens it; a partner has no applications page.
    client.cookies.clear()
    _login(client, "kabid.bdl")
    assert "Koperasi X" not in client.get("/partners/applications").text
    assert client.get(path).status_code == 404
    client.cookies.clear()
    _login(client, "mitra.wdh")
    assert client.get("/partners/applications").status_code == 403
    # An application for another branch is refused for a branch's kabid (nothing written).
    client.cookies.clear()
    token = _login(client, "kabid.plg")
    other = client.post(
        "/partners/applications",
        data={
            "csrf_token": token,
            "code": "KOP-Y",
            "name": "Koperasi Y",
            "kind": "wadah",
            "branch_code": "BDL",
            "scheme": "komunitas-2024",
            "valid_from": "2026-12-01",
        },
    )
    assert other.status_code == 422
    with transaction(engine) as session:
        codes = session.scalars(select(PartnerApplication.code)).all()
    assert codes == ["KOP-X"]
