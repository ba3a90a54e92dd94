"""Bundling offers in a real browser (issue 19, item 6): the partner's page shows its offer with
the per-offer report, and the dashboard's offer filter (htmx) changes the figures to the offer's
episodes only."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from cakupan.auth import Actor, Role
from cakupan.bundling import OfferSpec, add_offer, enrol
from cakupan.db import transaction
from tests.e2e.conftest import LiveServer, SignIn
from tests.e2e.test_dashboard_browser import E1, dashboard_data

pytestmark = pytest.mark.e2e
__all__ = ["dashboard_data"]

ACTOR = Actor.system("e2e-bundling")
OFFER = OfferSpec(
    code="E2E-EWALLET",
    partner_code="BRI-PLG",
    product="ewallet",
    name="Dompet BRILink + BPU",
    coverage="requires",
    payer="participant",
    valid_from=date(2026, 6, 1),
    area_codes=("16",),
    source="Perjanjian sintetis (uji)",
)


@pytest.fixture
def offer_data(live_server: LiveServer, dashboard_data: None) -> None:
    """BRI-PLG's e-wallet offer with Ani Petani (registered through BRI-PLG, June 2026, three
    months paid) enrolled. Idempotent (the same offer and enrolment again change nothing)."""
    del dashboard_data
    with transaction(live_server.engine) as session:
        add_offer(session, ACTOR, OFFER)
        enrol(session, ACTOR, E1, OFFER.code)


def test_the_partner_page_shows_its_offer_and_report(
    page: Page, sign_in: SignIn, offer_data: None
) -> None:
    del offer_data
    sign_in(page, Role.PARTNER)
    page.goto("/partners/BRI-PLG/detail")
    offer = page.get_by_test_id(f"offer-{OFFER.code}")
    expect(offer).to_contain_text("Dompet BRILink + BPU")
    expect(offer).to_contain_text("Dompet elektronik")
    # one registration through the offer; three months paid: retention at month 3 is 1/1
    expect(offer.get_by_test_id("offer-registrations")).to_contain_text("1")
    expect(offer.get_by_test_id("offer-retention-3")).to_contain_text("(1/1)")


def test_the_dashboard_filter_by_offer_changes_the_figures(
    page: Page, sign_in: SignIn, offer_data: None
) -> None:
    del offer_data
    sign_in(page, Role.HEAD_OFFICE)
    page.goto("/dashboard")
    expect(page.get_by_test_id("kpi-registrations").locator(".value")).to_have_text("4")
    expect(page.get_by_test_id("kpi-contributions").locator(".value")).to_have_text("Rp 75.600")
    page.get_by_test_id("filter-offer").select_option(OFFER.code)
    page.get_by_test_id("filter-apply").click()
    expect(page).to_have_url(re.compile(rf"offer={OFFER.code}"))
    expect(page.get_by_test_id("kpi-registrations").locator(".value")).to_have_text("1")
    expect(page.get_by_test_id("kpi-contributions").locator(".value")).to_have_text("Rp 25.200")
    expect(page.locator("#trend-chart")).to_have_attribute("data-chart-ready", "1")
