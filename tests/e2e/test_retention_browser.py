"""The retention workbench in Chromium: an ARK on a 390x844 phone goes from the due list to a
recorded promise to pay, and the row comes back at the top on its follow-up day (the server's
clock is a FixedClock advanced by the test); the same page at 1366x900 (issue 15). Runs on
SQLite and PostgreSQL (the ``engine`` fixture) with the dashboard's hand-built ledger."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import uvicorn
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine

from cakupan.dates import JAKARTA, FixedClock
from cakupan.web import create_app
from tests.e2e.conftest import _free_port
from tests.integration.test_dashboard import N1, PASSWORD, build_ledger


@dataclass
class ClockedServer:
    url: str
    clock: FixedClock


@pytest.fixture
def clocked_server(engine: Engine) -> Iterator[ClockedServer]:
    """The app on the hand-built ledger, its clock at 15 July 2025 10:00 WIB."""
    build_ledger(engine)
    clock = FixedClock(datetime(2025, 7, 15, 10, 0, tzinfo=JAKARTA))
    app = create_app(engine, secret_key=secrets.token_urlsafe(32), clock=clock)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="retention-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield ClockedServer(f"http://127.0.0.1:{port}", clock)
    server.should_exit = True
    thread.join(timeout=10)


def _page(browser: Browser, server: ClockedServer, width: int, height: int) -> Page:
    context = browser.new_context(
        base_url=server.url, locale="id-ID", viewport={"width": width, "height": height}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", "ark.plg")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/")
    return page


def _no_horizontal_scroll(page: Page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"page is {scroll}px wide on a {width}px screen"


def test_ark_promise_to_pay_comes_back_on_its_follow_up_day(
    browser: Browser, clocked_server: ClockedServer
) -> None:
    page = _page(browser, clocked_server, 390, 844)
    page.click("[data-testid=nav-retention]")
    page.wait_for_url("**/retensi")
    card = page.locator(f"[data-testid=retention-row][data-nik='{N1}']")
    assert card.count() == 1
    assert page.locator("[data-testid=retention-row]").count() == 1  # N1 (N3 is void)
    _no_horizontal_scroll(page, 390)
    call = card.locator("[data-testid=call]")
    assert call.get_attribute("href") == "tel:081234567891"
    whatsapp = card.locator("[data-testid=whatsapp]").get_attribute("href") or ""
    assert whatsapp.startswith("https://wa.me/6281234567891?text=Halo%20Satu")
    box = card.bounding_box()
    assert box is not None
    assert box["width"] <= 390
    # record "janji bayar" for 20 July from the form beside the card
    card.locator("[data-testid=outcome]").select_option("promised_to_pay")
    card.locator("[data-testid=promised-on]").fill("2025-07-20")
    card.locator("[data-testid=save-outcome]").click()
    page.wait_for_selector("[data-testid=saved]")
    assert page.locator("[data-testid=retention-row]").count() == 0
    assert page.locator("[data-testid=empty]").is_visible()
    # 19 July: still waiting; 20 July: back at the top, marked for follow-up today
    clocked_server.clock.advance(timedelta(days=4))
    page.goto("/retensi?list=due")
    assert page.locator("[data-testid=retention-row]").count() == 0
    clocked_server.clock.advance(timedelta(days=1))
    page.goto("/retensi?list=due")
    first = page.locator("[data-testid=retention-row]").first
    assert first.get_attribute("data-nik") == N1
    assert first.locator("[data-testid=follow-up-due]").is_visible()
    assert "Janji bayar" in (first.locator("[data-testid=last-contact]").text_content() or "")
    _no_horizontal_scroll(page, 390)
    page.context.close()


def test_workbench_on_a_desktop(browser: Browser, clocked_server: ClockedServer) -> None:
    page = _page(browser, clocked_server, 1366, 900)
    page.goto("/retensi?list=arrears")
    # the ARK's accounts are N1 and N3: nobody of theirs in arrears on 15 July
    assert page.locator("[data-testid=empty]").is_visible()
    page.goto("/retensi?list=due")
    assert page.locator("[data-testid=retention-row]").count() == 1
    _no_horizontal_scroll(page, 1366)
    page.context.close()
