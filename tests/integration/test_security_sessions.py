"""Issue 21, item 6: sign-out ends the session server-side: a copy of the cookie taken before
``POST /logout`` no longer signs anyone in (password change and deactivation already end every
session: tests/integration/test_web.py). SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cakupan.db import transaction
from cakupan.users.models import RevokedSession
from cakupan.web import create_app
from cakupan.web.app import SESSION_COOKIE
from tests.integration.test_web import csrf_of, login
from tests.integration.test_web import users as users


def test_a_copied_cookie_stops_working_after_logout(users: Engine) -> None:
    app = create_app(users, secret_key="test-secret")
    with TestClient(app) as browser, TestClient(app) as thief:
        login(browser, "u.kabid")
        copied = browser.cookies.get(SESSION_COOKIE)
        assert copied
        thief.cookies.set(SESSION_COOKIE, copied)
        assert thief.get("/", follow_redirects=False).status_code == 200  # the copy works...
        browser.post("/logout", data={"csrf_token": csrf_of(browser, "/")})
        assert browser.get("/", follow_redirects=False).status_code == 303
        assert thief.get("/", follow_redirects=False).status_code == 303  # ...until sign-out
        assert thief.get("/api/v1/me").status_code == 401
        # Signing in again makes a new session, which works.
        login(browser, "u.kabid")
        assert browser.get("/", follow_redirects=False).status_code == 200
    with transaction(users) as session:
        assert session.scalar(select(func.count()).select_from(RevokedSession)) == 1
