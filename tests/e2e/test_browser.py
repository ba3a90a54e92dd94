"""The web foundation in a real browser (Debian's Chromium through Playwright)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cakupan.audit import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.db import transaction
from cakupan.users import issue_token, user_by_username
from tests.e2e.conftest import PASSWORD, ROLE_SCOPES, LiveServer, SignIn, username_for

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("role", list(ROLE_SCOPES))
def test_every_role_signs_in_and_sees_its_scope(page: Page, sign_in: SignIn, role: Role) -> None:
    sign_in(page, role)
    expect(page.get_by_test_id("who")).to_have_text(username_for(role))
    scope = page.get_by_test_id("scope")
    for code in ROLE_SCOPES[role].values():
        expect(scope).to_contain_text(code)
    summary = page.get_by_test_id("scope-summary")
    if role in (Role.ADMIN, Role.HEAD_OFFICE, Role.AUDITOR):
        expect(summary).to_contain_text("seluruh Indonesia")
    elif role is Role.AGENT:
        expect(summary).to_contain_text("Anda daftarkan sendiri")
    else:
        expect(summary).to_contain_text(next(iter(ROLE_SCOPES[role].values())))


def test_wrong_password_shows_an_indonesian_error(page: Page) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username_for(Role.KABID))
    page.fill("input[name=password]", "bukan-sandinya-123")
    page.click("button[type=submit].primary")
    expect(page.get_by_test_id("login-error")).to_have_text("Nama pengguna atau kata sandi salah")
    expect(page.locator("input[name=username]")).to_have_value(username_for(Role.KABID))


def test_unauthenticated_page_redirects_to_login_and_back(page: Page) -> None:
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/login\?next=/account$"))
    page.fill("input[name=username]", username_for(Role.AR))
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("h1")).to_have_text("Akun saya")


def test_logout(page: Page, sign_in: SignIn) -> None:
    sign_in(page, Role.PAP)
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))


def test_api_needs_a_token(page: Page, live_server: LiveServer) -> None:
    anonymous = page.request.get("/api/v1/me")
    assert anonymous.status == 401
    assert anonymous.json()["code"] == "unauthenticated"
    with transaction(live_server.engine) as session:
        user = user_by_username(session, username_for(Role.PARTNER))
        plain = issue_token(session, Actor.system("e2e"), user.id, "e2e").plain
    me = page.request.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert me.status == 200
    assert me.json()["partner_code"] == "BRI-PLG"


def test_forged_post_without_csrf_is_refused(page: Page, sign_in: SignIn) -> None:
    sign_in(page, Role.ADMIN)
    # The browser sends the session cookie (same site) but the forged form has no CSRF token.
    status = page.evaluate(
        """async () => (await fetch('/users', {method: 'POST',
            headers: {'Content-Type': 'application/x-www-form-urlencoded'},
            body: 'username=forged.user&role=auditor'})).status"""
    )
    assert status == 403
    page.goto("/users")
    expect(page.get_by_test_id("users-table")).not_to_contain_text("forged.user")


def test_language_switch_to_english_is_remembered(page: Page, sign_in: SignIn) -> None:
    sign_in(page, Role.REGIONAL)
    expect(page.locator("h1")).to_contain_text("Selamat datang")
    page.get_by_test_id("lang-switch").click()
    expect(page.locator("h1")).to_contain_text("Welcome")
    expect(page.get_by_test_id("role")).to_have_text("Regional office")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/account")
    expect(page.locator("h1")).to_have_text("My account")
    page.get_by_test_id("lang-switch").click()  # back to Indonesian for the other tests
    expect(page.locator("h1")).to_have_text("Akun saya")


def test_users_admin_is_for_admin_only(page: Page, sign_in: SignIn) -> None:
    sign_in(page, Role.ADMIN)
    page.goto("/users")
    expect(page.get_by_test_id("users-table")).to_contain_text(username_for(Role.AGENT))
    form = page.get_by_test_id("create-user")
    form.locator("input[name=username]").fill("e2e.baru")
    form.locator("select[name=role]").select_option("kabid")
    form.locator("input[name=branch_code]").fill("BDL")
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("secret")).to_have_text(re.compile(r"^[A-Za-z0-9]{16}$"))
    page.get_by_test_id("logout").click()
    sign_in(page, Role.KABID)
    response = page.goto("/users")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_test_id("error-title")).to_contain_text("tidak tersedia")


def test_audit_log_for_auditor_and_not_for_partner(
    page: Page, sign_in: SignIn, live_server: LiveServer
) -> None:
    sign_in(page, Role.AUDITOR)
    page.goto("/audit?action=user.")
    table = page.get_by_test_id("audit-table")
    expect(table).to_contain_text("user.create")
    expect(table).to_contain_text("user.login")
    expect(table).to_contain_text(username_for(Role.AUDITOR))
    with transaction(live_server.engine) as session:
        logins = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "user.login", AuditEntry.actor == username_for(Role.AUDITOR)
            )
        ).all()
    assert logins
    page.get_by_test_id("logout").click()
    sign_in(page, Role.PARTNER)
    response = page.goto("/audit")
    assert response is not None
    assert response.status == 403


def test_home_chart_renders_with_vendored_echarts(page: Page, sign_in: SignIn) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    sign_in(page, Role.HEAD_OFFICE)
    expect(page.locator("#activity-chart")).to_have_attribute("data-chart-ready", "1")
    expect(page.locator("#activity-chart canvas")).to_have_count(1)
    assert requested
    assert all(url.startswith(page.url.split("/", 3)[0] + "//127.0.0.1") for url in requested)


def test_phone_layout_has_no_horizontal_scroll(page: Page, sign_in: SignIn) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, Role.AGENT)
    for path in ("/", "/account"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path


def test_htmx_requests_carry_the_csrf_token(page: Page, sign_in: SignIn) -> None:
    sign_in(page, Role.ARK)
    assert page.evaluate("typeof htmx") == "object"
    with page.expect_response("**/lang") as response_info:
        page.evaluate(
            "htmx.ajax('POST', '/lang', {source: document.body, values: {to: 'en', next: '/account'}})"
        )
    assert response_info.value.status in (200, 303)
    page.goto("/")
    expect(page.locator("h1")).to_contain_text("Welcome")
    page.get_by_test_id("lang-switch").click()
    expect(page.locator("h1")).to_contain_text("Selamat datang")
