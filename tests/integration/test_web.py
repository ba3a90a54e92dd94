"""The web application through HTTP (Starlette's TestClient), on SQLite and PostgreSQL: sign-in,
sessions, CSRF, API tokens, role gating, language, errors, local assets."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cakupan.audit import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.db import transaction
from cakupan.users import issue_token
from cakupan.web import create_app
from tests.users_support import create_role_users

PASSWORD = "kopi-tubruk-2026"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
SCOPES: dict[Role, dict[str, str]] = {
    Role.ADMIN: {},
    Role.HEAD_OFFICE: {},
    Role.AUDITOR: {},
    Role.REGIONAL: {"region_code": "SUMBAGSEL"},
    Role.KABID: {"branch_code": "PLG"},
    Role.ARK: {"branch_code": "PLG"},
    Role.AR: {"branch_code": "BDL"},
    Role.PAP: {"branch_code": "PLG"},
    Role.PARTNER: {"partner_code": "BRI-PLG"},
    Role.AGENT: {"partner_code": "WDH-01", "agent_code": "PRS-007"},
}


def username_for(role: Role) -> str:
    return f"u.{role.value}"


@pytest.fixture
def users(engine: Engine) -> Engine:
    create_role_users(engine, SCOPES, username_for=username_for, password=PASSWORD)
    return engine


@pytest.fixture
def client(users: Engine) -> Iterator[TestClient]:
    with TestClient(
        create_app(users, secret_key="test-secret"), raise_server_exceptions=False
    ) as test_client:
        yield test_client


def csrf_of(client: TestClient, path: str = "/login") -> str:
    match = _CSRF_RE.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD, next_url: str = "/") -> None:
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_of(client),
            "username": username,
            "password": password,
            "next": next_url,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == next_url


Login = Callable[[Role], TestClient]


@pytest.fixture
def as_role(client: TestClient) -> Login:
    def sign_in(role: Role) -> TestClient:
        login(client, username_for(role))
        return client

    return sign_in


def test_unauthenticated_page_redirects_to_login(client: TestClient) -> None:
    response = client.get("/audit?page=2", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/audit%3Fpage%3D2"


def test_login_sets_a_hardened_cookie_and_lands_home(client: TestClient) -> None:
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={"csrf_token": token, "username": "U.KABID", "password": PASSWORD, "next": "/account"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/account"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    page = client.get("/")
    assert "Kepala Bidang Kepesertaan" in page.text
    assert "PLG" in page.text


def test_wrong_password_shows_indonesian_error_and_is_audited(
    client: TestClient, users: Engine
) -> None:
    response = client.post(
        "/login",
        data={"csrf_token": csrf_of(client), "username": "u.kabid", "password": "salah-sandi-123"},
    )
    assert response.status_code == 401
    assert "Nama pengguna atau kata sandi salah" in response.text
    with transaction(users) as session:
        failed = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.login_failed")
        ).all()
    assert [e.entity_id for e in failed] == ["u.kabid"]


def test_open_redirect_is_refused(client: TestClient) -> None:
    login(client, "u.admin", next_url="/")
    response = client.get("/login?next=//evil.example/x", follow_redirects=False)
    assert response.headers["location"] == "/"


@pytest.mark.parametrize("role", list(SCOPES))
def test_every_role_lands_on_its_scope(as_role: Login, role: Role) -> None:
    page = as_role(role).get("/")
    assert page.status_code == 200
    for code in SCOPES[role].values():
        assert code in page.text
    assert f"Tester {role.value}" in page.text


def test_forged_post_without_csrf_is_refused(as_role: Login) -> None:
    client = as_role(Role.ADMIN)
    response = client.post("/users", data={"username": "forged", "role": "auditor"})
    assert response.status_code == 403
    assert "CSRF" in response.text
    wrong = client.post(
        "/users", data={"username": "forged", "role": "auditor", "csrf_token": "x" * 43}
    )
    assert wrong.status_code == 403
    assert "forged" not in client.get("/users").text


def test_login_post_without_csrf_is_refused(client: TestClient) -> None:
    response = client.post("/login", data={"username": "u.admin", "password": PASSWORD})
    assert response.status_code == 403


def test_admin_creates_a_user_and_the_password_is_shown_once(as_role: Login, users: Engine) -> None:
    client = as_role(Role.ADMIN)
    token = csrf_of(client, "/users")
    response = client.post(
        "/users",
        data={
            "csrf_token": token,
            "username": "sari",
            "full_name": "Sari",
            "role": "pap",
            "branch_code": "PLG",
        },
    )
    assert response.status_code == 200
    secret = re.search(r'data-testid="secret">([^<]+)<', response.text)
    assert secret is not None
    assert len(secret.group(1)) == 16
    bad = client.post("/users", data={"csrf_token": token, "username": "tono", "role": "kabid"})
    assert bad.status_code == 422
    assert "branch_code" in bad.text
    with transaction(users) as session:
        created = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "user.create", AuditEntry.actor == "u.admin"
            )
        ).all()
    assert len(created) == 1


@pytest.mark.parametrize("role", [r for r in SCOPES if r is not Role.ADMIN])
def test_users_admin_is_for_admin_only(as_role: Login, role: Role) -> None:
    assert as_role(role).get("/users").status_code == 403


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.AUDITOR, 200), (Role.ADMIN, 200), (Role.PARTNER, 403), (Role.KABID, 403)],
)
def test_audit_log_access(as_role: Login, role: Role, status: int) -> None:
    response = as_role(role).get("/audit?action=user.")
    assert response.status_code == status
    if status == 200:
        assert "user.create" in response.text
        assert "user.login" in response.text


def test_audit_log_filters_and_pages(as_role: Login) -> None:
    client = as_role(Role.AUDITOR)
    only_logins = client.get("/audit?action=user.login&who=u.auditor")
    assert only_logins.text.count("<code>user.login</code>") == 1
    assert "user.create" not in only_logins.text.split("audit-table")[1]
    bad_date = client.get("/audit?from=2026-13-01")
    assert "YYYY-MM-DD" in bad_date.text
    page_two = client.get("/audit?page=2")
    assert page_two.status_code == 200


def test_api_token_and_session(client: TestClient, users: Engine) -> None:
    anonymous = client.get("/api/v1/me")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.json()["code"] == "unauthenticated"
    assert anonymous.headers["www-authenticate"] == "Bearer"
    with transaction(users) as session:
        from cakupan.users import user_by_username

        plain = issue_token(
            session, Actor.system("test"), user_by_username(session, "u.partner").id, "bank"
        ).plain
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert me.status_code == 200
    assert me.json()["partner_code"] == "BRI-PLG"
    assert "password_hash" not in me.json()
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer ckp_nope"})
    assert bad.status_code == 401


def test_request_id_and_security_headers(client: TestClient) -> None:
    response = client.get("/login", headers={"X-Request-ID": "trace-12345678"})
    assert response.headers["x-request-id"] == "trace-12345678"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    generated = client.get("/login", headers={"X-Request-ID": "<bad>"})
    assert re.fullmatch(r"[0-9a-f]{16}", generated.headers["x-request-id"])


def test_not_found_page_has_no_stack_trace(as_role: Login) -> None:
    client = as_role(Role.ADMIN)
    page = client.get("/users/999999")
    assert page.status_code == 404
    assert "Traceback" not in page.text
    assert "tidak ditemukan" in page.text
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404
    assert api.json()["status"] == 404


def test_language_switch_is_remembered_for_the_user(client: TestClient) -> None:
    login(client, "u.kabid")
    token = csrf_of(client, "/")
    switched = client.post("/lang", data={"csrf_token": token, "to": "en", "next": "/"})
    assert "Welcome" in switched.text
    assert "Head of membership" in switched.text
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    client.cookies.clear()
    login(client, "u.kabid")
    assert "Welcome" in client.get("/").text


def test_logout_ends_the_session(as_role: Login) -> None:
    client = as_role(Role.AR)
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    assert client.get("/", follow_redirects=False).status_code == 303


def test_password_change_ends_other_sessions(users: Engine) -> None:
    app = create_app(users, secret_key="test-secret")
    with TestClient(app) as first, TestClient(app) as second:
        login(first, "u.ark")
        login(second, "u.ark")
        response = first.post(
            "/account/password",
            data={
                "csrf_token": csrf_of(first, "/account"),
                "current_password": PASSWORD,
                "new_password": "teh-manis-2027",
                "confirm_password": "teh-manis-2027",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert first.get("/", follow_redirects=False).status_code == 200
        assert second.get("/", follow_redirects=False).status_code == 303


_ASSET_RE = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.mark.parametrize("path", ["/login", "/", "/account", "/users", "/audit"])
def test_pages_reference_only_local_assets(as_role: Login, path: str) -> None:
    client = as_role(Role.ADMIN)
    page = client.get(path)
    assert page.status_code == 200
    references = _ASSET_RE.findall(page.text)
    assert references
    for reference in references:
        assert reference.startswith("/"), reference
        assert not reference.startswith("//"), reference
    for asset in (r for r in references if r.startswith("/static/")):
        assert client.get(asset).status_code == 200, asset


def test_home_loads_vendored_echarts_and_htmx(as_role: Login) -> None:
    page = as_role(Role.AUDITOR).get("/").text
    assert "/static/vendor/echarts/echarts.min.js" in page
    assert "/static/vendor/htmx/htmx.min.js" in page
    assert 'id="activity-data"' in page


def test_pages_show_indonesian_dates_from_the_app_clock(users: Engine) -> None:
    from datetime import datetime

    from cakupan.dates import JAKARTA, FixedClock

    clock = FixedClock(datetime(2026, 8, 17, 14, 5, tzinfo=JAKARTA))
    with TestClient(create_app(users, secret_key="test-secret", clock=clock)) as client:
        login(client, "u.agent")
        account = client.get("/account").text
        assert "17 Agustus 2026 14:05 WIB" in account
        home = client.get("/").text
        assert '"17/8"' in home  # the chart's last day is the clock's day
        token = csrf_of(client, "/")
        client.post("/lang", data={"csrf_token": token, "to": "en", "next": "/account"})
        assert "17 August 2026 14:05 WIB" in client.get("/account").text


def test_unexpected_error_page_has_request_id_and_logs_no_nik(
    users: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(users, secret_key="test-secret")

    @app.get("/boom/{nik}")
    def boom(nik: str) -> None:  # a route of this test that fails with a NIK in its message
        raise RuntimeError(f"lookup failed for {nik}")

    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level("ERROR"):
        page = client.get("/boom/3577123456780001", headers={"X-Request-ID": "req-boom-0001"})
        api = client.get("/api/v1/me", headers={"Authorization": "Bearer " + "ckp_" + "0" * 8})
    assert page.status_code == 500
    assert "req-boom-0001" in page.text
    assert "Traceback" not in page.text
    assert "3577123456780001" not in page.text
    assert api.status_code == 401
    logged = caplog.text  # what the handler wrote: masked after formatting (issue 21)
    assert "req-boom-0001" in logged
    assert "3577********0001" in logged
    assert "3577123456780001" not in logged
