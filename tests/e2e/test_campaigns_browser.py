"""Campaign pages in a real browser: the funnel comparison chart (vendored ECharts) and the
prospect worklist on a phone, where an agent records a contact."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cakupan import campaigns
from cakupan.auth import Actor, Role
from cakupan.campaigns.models import Prospect
from cakupan.dates import SystemClock
from cakupan.db import transaction
from cakupan.partners.actions import NewPartner, create_partner
from cakupan.partners.models import Partner
from tests.e2e.conftest import LiveServer, SignIn

pytestmark = pytest.mark.e2e

ACTOR = Actor.system("e2e")


@pytest.fixture
def campaign_data(live_server: LiveServer, tmp_path: Path) -> int:
    """A campaign with a prospect list, one prospect assigned to the agent PRS-007 (created under
    WDH-01 in branch PLG when missing). Idempotent across tests: a re-import gives duplicates.
    Returns the assigned prospect's id."""
    engine = live_server.engine
    with transaction(engine) as session:
        if session.get(Partner, "WDH-01") is None:
            create_partner(
                session, ACTOR, SystemClock(), NewPartner("WDH-01", "Wadah", "wadah", "PLG")
            )
        if session.get(Partner, "PRS-007") is None:
            create_partner(
                session,
                ACTOR,
                SystemClock(),
                NewPartner("PRS-007", "Agen", "perisai", None, "WDH-01"),
            )
    path = tmp_path / "c.csv"
    path.write_text(
        "code,name,objective,type,medium,start_on,end_on,budget,reached,interested,segments,areas\n"
        "E2E-SOS,Sosialisasi pasar,Register traders,sosialisasi_offline,,2026-01-05,2026-01-05,"
        "2000000,80,20,market-traders,16.71.01\n"
        "E2E-RADIO,Iklan radio,Awareness,advertising,radio,2026-01-01,2026-01-31,5000000,400,15,"
        "market-traders,16.71\n",
        encoding="utf-8",
    )
    campaigns.import_campaigns(engine, ACTOR, path)
    prospects = tmp_path / "p.csv"
    prospects.write_text(
        "name,phone,district_code\nIbu Sari Pedagang,0812 7777 0001,16.71.01\n", encoding="utf-8"
    )
    campaigns.import_prospects(engine, ACTOR, prospects, campaign_code="E2E-SOS")
    with transaction(engine) as session:
        prospect_id = session.scalar(
            select(Prospect.id).where(Prospect.name == "Ibu Sari Pedagang")
        )
        assert prospect_id is not None
        campaigns.assign_prospects(
            session, ACTOR, to="PRS-007", kind="agent", ids=[prospect_id], only_unassigned=False
        )
    return prospect_id


def test_funnel_chart_renders(page: Page, sign_in: SignIn, campaign_data: int) -> None:
    del campaign_data
    sign_in(page, Role.HEAD_OFFICE)
    page.get_by_role("link", name="Kampanye").click()
    expect(page.locator("#funnel-chart")).to_have_attribute("data-chart-ready", "1")
    expect(page.locator("#funnel-chart canvas")).to_have_count(1)
    expect(page.get_by_test_id("funnel-E2E-RADIO")).to_contain_text("Rp 5.000.000")
    page.get_by_test_id("by-channel").click()
    expect(page.get_by_test_id("funnel-advertising:radio")).to_be_visible()


def test_agent_records_a_contact_on_a_phone(
    page: Page, sign_in: SignIn, campaign_data: int
) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, Role.AGENT)
    page.get_by_role("link", name="Prospek").click()
    card = page.get_by_test_id(f"prospect-{campaign_data}")
    expect(card).to_contain_text("Ibu Sari Pedagang")
    expect(card.get_by_test_id("phone")).to_have_attribute("href", "tel:0812 7777 0001")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    card.locator("select[name=outcome]").select_option("refused")
    card.locator("select[name=reason]").select_option("bad_luck_belief")
    card.get_by_test_id("record-contact").click()
    expect(page.get_by_test_id(f"prospect-{campaign_data}")).to_contain_text("Menolak")
    assert page.get_by_role("link", name="Kampanye").count() == 0
