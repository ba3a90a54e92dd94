"""Browser-test harness: the real app served by uvicorn in a background thread on a free loopback
port, driven by Playwright through Debian's Chromium (``/usr/bin/chromium``; nothing downloads a
browser). One browser and one server per test session; each test gets a fresh browser context.

Every test runs on SQLite (a copy of the migrated template from ``tests/conftest.py``) and on a
fresh PostgreSQL database (``CREATE DATABASE ... TEMPLATE``); ``CAKUPAN_E2E_ENGINES=sqlite``
limits the run to one engine.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from sqlalchemy import Engine, update

from cakupan.auth import Role
from cakupan.db import make_engine
from cakupan.users.credentials import set_hash_parameters
from cakupan.users.models import User
from cakupan.web import create_app
from tests.clock_support import TestClock
from tests.conftest import Templates, _pg_admin_execute, _pg_url_for, _postgres_unavailable
from tests.users_support import create_role_users

CHROMIUM = Path(os.environ.get("CAKUPAN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "kopi-tubruk-2026"
#: Where a failing browser test leaves a full-page screenshot of every open page (gitignored).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"

#: One user per role, with the scope each role needs (two regions/branches/partners appear).
ROLE_SCOPES: dict[Role, dict[str, str]] = {
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
    return f"e2e.{role.value}"


#: Engines the browser tests run on (every test once per engine; one server per engine).
E2E_ENGINES = tuple(os.environ.get("CAKUPAN_E2E_ENGINES", "sqlite,postgresql").split(","))


@pytest.fixture(scope="session", params=E2E_ENGINES)
def e2e_engine(
    request: pytest.FixtureRequest, _templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A fresh migrated database for the browser tests, on each engine in turn."""
    if request.param == "postgresql" and _templates.pg_database is None:
        _postgres_unavailable(_templates)
    restore = set_hash_parameters(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        if request.param == "postgresql":
            name = f"{_templates.pg_database}_e2e_{secrets.token_hex(3)}"
            _pg_admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{_templates.pg_database}"')
            engine = make_engine(_pg_url_for(name))
            try:
                yield engine
            finally:
                engine.dispose()
                _pg_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            path = tmp_path_factory.mktemp("e2e") / "cakupan.db"
            shutil.copyfile(_templates.sqlite_path, path)
            engine = make_engine(f"sqlite:///{path}")
            try:
                yield engine
            finally:
                engine.dispose()
    finally:
        restore()


@pytest.fixture(scope="session")
def e2e_users(e2e_engine: Engine) -> dict[Role, str]:
    """One signed-up user per role (usernames by role); the password is :data:`PASSWORD`."""
    create_role_users(
        e2e_engine,
        ROLE_SCOPES,
        username_for=username_for,
        password=PASSWORD,
        full_name_prefix="Uji",
        by="e2e",
    )
    return {role: username_for(role) for role in ROLE_SCOPES}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    url: str
    engine: Engine


@pytest.fixture(scope="session")
def live_server(
    e2e_engine: Engine, e2e_users: dict[Role, str], suite_clock: TestClock
) -> Iterator[LiveServer]:
    """The app served by uvicorn in a background thread; stopped at the end of the session. It
    runs on the suite's clock (each test starts at ``TEST_NOW``; ``test_clock`` moves it), never
    on the machine's date."""
    del e2e_users
    port = _free_port()
    app = create_app(e2e_engine, secret_key=secrets.token_urlsafe(32), clock=suite_clock)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", e2e_engine)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """One Chromium for the whole session."""
    chromium = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield chromium
    chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed browser test gets a screenshot of every page still open, named in its report."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when != "call" or not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    open_browser = funcargs.get("browser")
    pages = [p for c in open_browser.contexts for p in c.pages] if open_browser else []
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[-150:]
    saved = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for number, open_page in enumerate(pages):
        target = SCREENSHOTS / f"{stem}-{number}.png"
        with contextlib.suppress(Exception):  # a page that crashed cannot be drawn
            open_page.screenshot(path=str(target), full_page=True)
            saved.append(f"{target} ({open_page.url})")
    if saved:
        report.sections.append(("screenshots", "\n".join(saved)))


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies) pointing at the live server. Every test user
    starts in Indonesian: a test that switches a user to English must not change the next test's
    words (the users live as long as the session)."""
    with live_server.engine.begin() as conn:
        conn.execute(update(User).where(User.username.like("e2e.%")).values(lang="id"))
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


SignIn = Callable[[Page, Role], Page]


@pytest.fixture
def sign_in() -> SignIn:
    """Sign a page in as the test user of a role through the login form."""

    def run(page: Page, role: Role) -> Page:
        page.goto("/login")
        page.fill("input[name=username]", username_for(role))
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_url("**/")
        return page

    return run
