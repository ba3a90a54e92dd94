"""The dashboard in a real browser: each role sees its own figures, a filter (htmx) changes
them, a figure opens the records behind it (masked), an on-site registration shows its kode
penetapan, and an import with a bad row shows the row's error and posts nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from cakupan.auth import Actor, Role
from cakupan.dates import Month, SystemClock
from cakupan.db import transaction
from cakupan.partners.actions import NewPartner, create_partner
from cakupan.partners.models import Partner
from cakupan.registry import RegistrationRow, post_payment, register_participants
from cakupan.registry.close import close_month
from cakupan.registry.models import Participant
from tests.e2e.conftest import LiveServer, SignIn

pytestmark = pytest.mark.e2e

ACTOR = Actor.system("e2e-dashboard")
MONTH = 8_400  # JKK+JKM at base Rp 1.000.000 in 2026-04..2026-12 (PP 50/2025)
E1, E2, E3 = "1671010101910001", "1671010101910002", "1671010101910003"
E4 = "1871010101910004"


@pytest.fixture
def dashboard_data(live_server: LiveServer) -> None:
    """Three Palembang participants (partner BRI-PLG, agent PRS-007 of WDH-01, the branch) and
    one in Bandar Lampung, June-October 2026, each month closed. Idempotent."""
    engine = live_server.engine
    clock = SystemClock()
    with transaction(engine) as session:
        if session.get(Participant, 1) is not None and session.scalar(
            select(func.count()).select_from(Participant).where(Participant.nik == E1)
        ):
            return
        for code, name, kind, branch, parent in (
            ("BRI-PLG", "BRILink Palembang", "brilink", "PLG", None),
            ("WDH-01", "Wadah", "wadah", "PLG", None),
            ("PRS-007", "Agen", "perisai", None, "WDH-01"),
            ("BRI-BDL", "BRILink Bandar Lampung", "brilink", "BDL", None),
        ):
            if session.get(Partner, code) is None:
                create_partner(session, ACTOR, clock, NewPartner(code, name, kind, branch, parent))
        rows = [
            (E1, "Ani Petani", "farmer", "2026-06-03", "16.71.01", "partner", "BRI-PLG", None),
            (
                E2,
                "Budi Pedagang",
                "street_vendor",
                "2026-06-10",
                "16.71.01",
                "agent",
                None,
                "PRS-007",
            ),
            (E3, "Citra Petani", "farmer", "2026-07-01", "16.71.01", "branch", None, None),
            (E4, "Dedi Lampung", "farmer", "2026-06-15", "18.71.01", "partner", "BRI-BDL", None),
        ]
        result = register_participants(
            session,
            ACTOR,
            [
                RegistrationRow(
                    row=i,
                    nik=nik,
                    name=name,
                    phone=f"0812345670{i:02d}",
                    occupation=occupation,
                    reported_income=1_000_000,
                    programs="JKK+JKM",
                    registered_on=day,
                    district_code=district,
                    channel=channel,
                    partner_code=partner,
                    agent_code=agent,
                )
                for i, (nik, name, occupation, day, district, channel, partner, agent) in enumerate(
                    rows, start=1
                )
            ],
            clock=clock,
        )
        assert result.rejected == 0, result.as_json()
        for nik, months, day, ref in (
            (E1, 3, "2026-06-04", "E2E-D1"),
            (E2, 1, "2026-06-11", "E2E-D2"),
            (E3, 4, "2026-07-02", "E2E-D3"),
            (E4, 1, "2026-06-16", "E2E-D4"),
        ):
            post_payment(
                session,
                ACTOR,
                nik=nik,
                amount=MONTH * months,
                paid_on=day,
                reference=ref,
                channel="bank",
                clock=clock,
            )
    for month in ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10"):
        with transaction(engine) as session:
            close_month(session, ACTOR, Month.parse(month), clock=clock)


@pytest.mark.parametrize(
    ("role", "registrations", "contributions"),
    [
        (Role.HEAD_OFFICE, "4", "Rp 75.600"),
        (Role.REGIONAL, "4", "Rp 75.600"),
        (Role.KABID, "3", "Rp 67.200"),
        (Role.AR, "1", "Rp 8.400"),
        (Role.PARTNER, "1", "Rp 25.200"),
        (Role.AGENT, "1", "Rp 8.400"),
    ],
)
def test_each_role_sees_its_figures(
    page: Page,
    sign_in: SignIn,
    dashboard_data: None,
    role: Role,
    registrations: str,
    contributions: str,
) -> None:
    del dashboard_data
    sign_in(page, role)
    page.goto("/dashboard")
    expect(page.get_by_test_id("kpi-registrations").locator(".value")).to_have_text(registrations)
    expect(page.get_by_test_id("kpi-contributions").locator(".value")).to_have_text(contributions)
    expect(page.get_by_test_id("kpi-benefits")).to_contain_text("belum ada klaim dibayar")
    expect(page.locator("#trend-chart")).to_have_attribute("data-chart-ready", "1")
    # the cohort heatmap (its colour scale draws on a canvas layer of its own)
    expect(page.locator("#cohort-chart")).to_have_attribute("data-chart-ready", "1")
    assert page.locator("#cohort-chart canvas").count() >= 1


def test_filter_then_drill_down_to_masked_records(
    page: Page, sign_in: SignIn, dashboard_data: None
) -> None:
    del dashboard_data
    sign_in(page, Role.KABID)
    page.goto("/dashboard")
    expect(page.get_by_test_id("kpi-registrations").locator(".value")).to_have_text("3")
    page.get_by_test_id("filter-occupation").select_option("farmer")
    page.get_by_test_id("filter-apply").click()
    expect(page.get_by_test_id("kpi-registrations").locator(".value")).to_have_text("2")
    expect(page).to_have_url(re.compile(r"occupation=farmer"))
    expect(page.locator("#trend-chart")).to_have_attribute("data-chart-ready", "1")
    page.get_by_test_id("kpi-active").click()
    expect(page.get_by_test_id("records-total")).to_contain_text("1")
    rows = page.get_by_test_id("record-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Citra Petani")
    expect(rows.first).to_contain_text("1671********0003")


def test_partner_league_shows_own_rank_and_anonymous_peers(
    page: Page, sign_in: SignIn, dashboard_data: None
) -> None:
    del dashboard_data
    sign_in(page, Role.PARTNER)
    page.goto("/dashboard/league")
    expect(page.get_by_test_id("own-rank")).to_be_visible()
    table = page.get_by_test_id("league")
    expect(table).to_contain_text("BRILink Palembang")
    expect(table).to_contain_text("Mitra A")
    expect(table).not_to_contain_text("BRILink Bandar Lampung")


def test_on_site_registration_shows_the_payment_code(page: Page, sign_in: SignIn) -> None:
    sign_in(page, Role.ARK)
    page.goto("/participants/new")
    form = page.get_by_test_id("registration-form")
    form.locator("input[name=nik]").fill("1671010101920001")
    form.locator("input[name=name]").fill("Eka Nelayan")
    form.locator("input[name=phone]").fill("081234567001")
    form.locator("select[name=occupation]").select_option("farmer")
    form.locator("input[name=reported_income]").fill("abc")
    form.locator("input[name=district_code]").fill("16.71.01")
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("error-reported_income")).to_be_visible()
    page.locator("input[name=reported_income]").fill("1000000")
    page.locator("input[name=months_to_pay]").fill("2")
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("code")).not_to_be_empty()
    # Two months at base Rp 1.000.000 from today (the server's clock is the system's): each
    # Rp 8.400 inside the PP 50/2025 discount (2026-04..2026-12), else Rp 16.800; the slip shows
    # the month-by-month amounts when they differ. Redirect after POST: the slip has its own URL.
    expect(page).to_have_url(re.compile(r"/participants/\d+/slip$"))
    amount = page.get_by_test_id("amount").inner_text()
    assert amount in {"Rp 16.800", "Rp 25.200", "Rp 33.600"}
    if amount == "Rp 25.200":
        expect(page.get_by_test_id("breakdown")).to_be_visible()


def test_import_with_a_bad_row_shows_it_and_posts_nothing(
    page: Page, sign_in: SignIn, live_server: LiveServer, tmp_path: Path
) -> None:
    path = tmp_path / "peserta-e2e.csv"
    path.write_text(
        "nik,name,phone,occupation,reported_income,programs,registered_on,district_code\n"
        "1671010101930001,Fajar Baik,081234567101,farmer,1000000,JKK+JKM,2026-11-02,16.71.01\n"
        "1671010101930002,Gita Salah,081234567102,farmer,1000000,JKK+JKM+XYZ,2026-11-02,16.71.01\n",
        encoding="utf-8",
    )
    sign_in(page, Role.PAP)
    page.goto("/imports")
    page.get_by_test_id("import-file").set_input_files(str(path))
    page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("rejected")).to_have_text("1")
    expect(page.get_by_test_id("nothing-posted")).to_be_visible()
    errors = page.get_by_test_id("import-error-row")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("programs")
    with transaction(live_server.engine) as session:
        assert not session.scalar(
            select(func.count())
            .select_from(Participant)
            .where(Participant.nik.like("16710101019300%"))
        )
