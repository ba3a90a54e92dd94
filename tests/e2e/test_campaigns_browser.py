"""Campaign pages in a real browser: the funnel comparison chart (vendored ECharts), the
prospect worklist on a phone, where an agent records a contact, and the planner and calendar
(plan a campaign and see it, a bad plan shows per-field errors and saves nothing, out-of-scope
users do not see it)."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cakupan import campaigns
from cakupan.auth import Actor, Role
from cakupan.campaigns.models import Campaign, Prospect
from cakupan.campaigns.planner import PlanForm, plan_campaign
from cakupan.dates import SystemClock
from cakupan.db import transaction
from cakupan.partners.actions import NewPartner, create_partner
from cakupan.partners.models import Partner
from tests.clock_support import TEST_NOW
from tests.e2e.charts import LAYOUT
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
    layout = page.evaluate(LAYOUT, "funnel-chart")  # the legend clear of the top axis label
    assert layout["legend"]["bottom"] + 8 <= layout["grid"]["top"], layout
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


def _plan_dates() -> tuple[date, date]:
    start = TEST_NOW.date() + timedelta(days=7)
    return start, start + timedelta(days=2)


def test_kabid_plans_a_campaign_and_sees_it_on_the_calendar(page: Page, sign_in: SignIn) -> None:
    code = f"E2E-PLAN-{secrets.token_hex(3)}"
    start, end = _plan_dates()
    sign_in(page, Role.KABID)
    page.get_by_test_id("nav-calendar").click()
    page.get_by_test_id("plan-new").click()
    page.get_by_test_id("plan-code").fill(code)
    page.get_by_test_id("plan-name").fill("Sosialisasi Pasar Kemuning")
    page.get_by_test_id("plan-objective").fill("Daftarkan pedagang pasar")
    page.get_by_test_id("plan-type").select_option("sosialisasi_offline")
    page.get_by_test_id("plan-start").fill(start.isoformat())
    page.get_by_test_id("plan-end").fill(end.isoformat())
    page.get_by_test_id("plan-budget").fill("2.500.000")
    page.get_by_test_id("plan-segments").locator("input[value=market-traders]").check()
    page.get_by_test_id("plan-areas").fill("16.71.01")
    page.get_by_test_id("plan-stories").fill("Ibu Sari menerima manfaat JKM")
    page.get_by_test_id("plan-submit").click()
    expect(page.get_by_test_id("planned")).to_contain_text(code)
    expect(page.get_by_test_id(f"chip-{code}").first).to_be_visible()
    expect(page.get_by_test_id(f"status-{code}").first).to_have_text("Direncanakan")
    page.get_by_test_id(f"chip-{code}").first.click()
    expect(page.get_by_test_id("plan-budget-shown")).to_have_text("Rp 2.500.000")
    expect(page.get_by_test_id("plan-form")).to_be_visible()  # still planned: editable


def test_bad_plan_shows_field_errors_and_saves_nothing(
    page: Page, sign_in: SignIn, live_server: LiveServer
) -> None:
    code = f"E2E-BAD-{secrets.token_hex(3)}"
    start, end = _plan_dates()
    sign_in(page, Role.KABID)
    page.goto("/campaigns/new")
    page.get_by_test_id("plan-code").fill(code)
    page.get_by_test_id("plan-name").fill("Rencana salah")
    page.get_by_test_id("plan-type").select_option("advertising")  # without a medium
    page.get_by_test_id("plan-start").fill(end.isoformat())
    page.get_by_test_id("plan-end").fill(start.isoformat())  # before the start
    page.get_by_test_id("plan-budget").fill("dua juta")
    page.get_by_test_id("plan-areas").fill("18.71.01")  # Bandar Lampung: not this branch's
    page.get_by_test_id("plan-submit").click()
    expect(page.get_by_test_id("problems")).to_contain_text("Rencana kampanye tidak valid")
    expect(page.get_by_test_id("error-budget")).to_contain_text("bilangan bulat")
    expect(page.get_by_test_id("error-end_on")).to_be_visible()
    expect(page.get_by_test_id("error-medium")).to_be_visible()
    expect(page.get_by_test_id("error-segments")).to_be_visible()
    expect(page.get_by_test_id("error-areas")).to_contain_text("di luar wilayah kerja Anda")
    expect(page.get_by_test_id("plan-budget")).to_have_value("dua juta")
    with transaction(live_server.engine) as session:
        assert session.get(Campaign, code) is None


def test_out_of_scope_users_do_not_see_a_planned_campaign(
    page: Page, sign_in: SignIn, live_server: LiveServer
) -> None:
    code = f"E2E-SCOPE-{secrets.token_hex(3)}"
    start, end = _plan_dates()
    kabid = Actor(name="e2e.kabid", role=Role.KABID, branch_code="PLG")
    form = PlanForm(code=code, name="Rencana PLG", objective="Uji lingkup", type="event",
                    start_on=start.isoformat(), end_on=end.isoformat(), budget="1000000",
                    segments=["market-traders"], areas="16.71.01", branch_code="PLG")  # fmt: skip
    with transaction(live_server.engine) as session:
        plan_campaign(session, kabid, form)
    month = f"/campaigns/calendar?month={start:%Y-%m}"
    sign_in(page, Role.AR)  # branch BDL
    page.goto(month)
    expect(page.get_by_test_id("calendar-grid")).to_be_visible()
    expect(page.get_by_test_id(f"chip-{code}")).to_have_count(0)
    page.goto(f"/campaigns/{code}/plan")
    expect(page.get_by_test_id("error-status")).to_have_text("404")
    page.get_by_test_id("logout").click()
    sign_in(page, Role.REGIONAL)  # SUMBAGSEL: PLG is one of its branches
    page.goto(month)
    expect(page.get_by_test_id(f"chip-{code}").first).to_be_visible()
