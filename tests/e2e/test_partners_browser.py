"""The agent lifecycle and agency applications in a real browser (issue 17): the kabid sees the
branch's agents with their idle months and standing, suspends (a reason is required, as on the
command line), reinstates and terminates one; a partner sees only its own agents and may change
nothing; an application gets its documents, is reviewed and approved only once the required
documents are there, and the approval creates the partner with its agreement."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cakupan.audit.models import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.dates import SystemClock
from cakupan.db import transaction
from cakupan.partners.actions import NewPartner, add_agreement, create_partner
from cakupan.partners.models import Agreement, Partner
from cakupan.users import create_user
from tests.e2e.conftest import PASSWORD, LiveServer, SignIn

pytestmark = pytest.mark.e2e

ACTOR = Actor.system("e2e-partners")
PARTNER_USER = "e2e.mitra.wadah"


@pytest.fixture
def agents_data(live_server: LiveServer) -> None:
    """Two Wadah of Palembang: WDH-LC with agents PRS-LC1 (active since June 2026 under
    perisai-2022, never any activity) and PRS-LC2 (recruited), and WDH-LX with PRS-LX1; a
    partner user for WDH-LC. Idempotent."""
    clock = SystemClock()
    with transaction(live_server.engine) as session:
        if session.get(Partner, "WDH-LC") is not None:
            return
        for code, name, kind, branch, parent in (
            ("WDH-LC", "Wadah Pedagang Lorong", "wadah", "PLG", None),
            ("PRS-LC1", "Sari Perisai", "perisai", None, "WDH-LC"),
            ("PRS-LC2", "Tono Perisai", "perisai", None, "WDH-LC"),
            ("WDH-LX", "Wadah Nelayan", "wadah", "PLG", None),
            ("PRS-LX1", "Yanto Perisai", "perisai", None, "WDH-LX"),
        ):
            status = "recruited" if code == "PRS-LC2" else "active"
            create_partner(
                session, ACTOR, clock, NewPartner(code, name, kind, branch, parent), status=status
            )
        session.get(Partner, "PRS-LC1").activated_on = date(2026, 6, 1)  # type: ignore[union-attr]
        add_agreement(
            session,
            ACTOR,
            clock,
            "PRS-LC1",
            scheme_name="perisai-2022",
            valid_from=date(2026, 6, 1),
        )
        create_user(
            session,
            Actor.system("e2e"),
            username=PARTNER_USER,
            role="partner",
            full_name="Uji Wadah",
            partner_code="WDH-LC",
            password=PASSWORD,
        )


def _sign_in_as(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/")


@pytest.mark.usefixtures("agents_data")
def test_kabid_suspends_reinstates_and_terminates_an_agent(
    page: Page, sign_in: SignIn, live_server: LiveServer
) -> None:
    sign_in(page, Role.KABID)
    page.get_by_test_id("nav-agents").click()
    row = page.locator("[data-testid=agent-row][data-code=PRS-LC1]")
    # Active since June, no activity: June..November are six idle months; perisai-2022 ends an
    # agent after three (domain.md section 5.6), so it is due for termination.
    expect(row.get_by_test_id("agent-idle")).to_contain_text("6")
    expect(row.get_by_test_id("agent-standing")).to_have_text("Jatuh tempo diakhiri")
    expect(page.locator("[data-testid=agent-row][data-code=PRS-LC2]")).to_contain_text("Direkrut")
    row.get_by_role("link", name="Sari Perisai").click()
    expect(page.get_by_test_id("status")).to_have_text("Aktif")

    # The same rule as `cakupan partners agents suspend`: a reason is required.
    page.get_by_test_id("to-suspended").click()
    expect(page.get_by_test_id("problems")).to_contain_text("alasan wajib diisi")
    expect(page.get_by_test_id("status")).to_have_text("Aktif")

    page.get_by_test_id("reason-suspended").fill("tidak hadir rapat bulanan")
    page.get_by_test_id("to-suspended").click()
    expect(page).to_have_url(re.compile(r"/agents/PRS-LC1\?done=suspended$"))
    expect(page.get_by_test_id("status")).to_contain_text("Dibekukan")
    expect(page.get_by_test_id("status-reason")).to_have_text("tidak hadir rapat bulanan")

    page.get_by_test_id("to-active").click()  # reinstate
    expect(page.get_by_test_id("status")).to_have_text("Aktif")

    page.get_by_test_id("reason-terminated").fill("tiga bulan tanpa aktivitas")
    page.get_by_test_id("to-terminated").click()
    expect(page.get_by_test_id("status")).to_contain_text("Diakhiri")
    expect(page.locator("[data-testid^=status-form-]")).to_have_count(0)  # final

    with transaction(live_server.engine) as session:
        steps = session.execute(
            select(AuditEntry.action, AuditEntry.actor)
            .where(AuditEntry.entity_id == "PRS-LC1", AuditEntry.action.like("partners.partner.%"))
            .order_by(AuditEntry.id)
        ).all()
    assert [tuple(step) for step in steps[-3:]] == [
        ("partners.partner.suspended", "e2e.kabid"),
        ("partners.partner.active", "e2e.kabid"),
        ("partners.partner.terminated", "e2e.kabid"),
    ]

    # English switch: the same page in English.
    page.goto("/agents/PRS-LC1")
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("status")).to_contain_text("Terminated")
    expect(page.get_by_test_id("agent-name")).to_contain_text("Sari Perisai")
    page.get_by_test_id("lang-switch").click()  # back to Indonesian for the other tests
    expect(page.get_by_test_id("status")).to_contain_text("Diakhiri")


@pytest.mark.usefixtures("agents_data")
def test_partner_sees_only_its_own_agents_and_changes_nothing(page: Page) -> None:
    _sign_in_as(page, PARTNER_USER)
    page.goto("/agents")
    codes = page.get_by_test_id("agent-row").evaluate_all(
        "rows => rows.map(r => r.dataset.code).sort()"
    )
    assert codes == ["PRS-LC1", "PRS-LC2"]
    expect(page.get_by_test_id("recruit-link")).to_have_count(0)
    page.goto("/agents/PRS-LC2")
    expect(page.get_by_test_id("status")).to_have_text("Direkrut")
    expect(page.locator("[data-testid^=status-form-]")).to_have_count(0)
    # Another Wadah's agent does not exist for this partner.
    response = page.goto("/agents/PRS-LX1")
    assert response is not None
    assert response.status == 404
    # A forged form is refused (the page's CSRF token, a role that may not).
    page.goto("/agents/PRS-LC2")
    status = page.evaluate(
        """async () => {
            const token = document.querySelector("input[name=csrf_token]").value;
            const body = new URLSearchParams({to: "trained", csrf_token: token});
            const r = await fetch("/agents/PRS-LC2/status", {method: "POST", body});
            return r.status;
        }"""
    )
    assert status == 403
    page.reload()
    expect(page.get_by_test_id("status")).to_have_text("Direkrut")


@pytest.mark.usefixtures("agents_data")
def test_kabid_recruits_an_agent_and_records_training(page: Page, sign_in: SignIn) -> None:
    sign_in(page, Role.KABID)
    page.goto("/agents")
    page.get_by_test_id("recruit-link").click()
    form = page.get_by_test_id("recruit-form")
    form.locator("input[name=code]").fill("PRS-LC3")
    form.locator("input[name=name]").fill("Wati Perisai")
    form.locator("select[name=kind]").select_option("perisai")
    page.get_by_test_id("recruit-submit").click()
    # A Perisai needs a Wadah as its parent (the action's rule, named on the form).
    expect(page.get_by_test_id("problems")).to_contain_text("perisai harus berada di bawah induk")
    page.locator("select[name=parent_code]").select_option("WDH-LC")
    page.get_by_test_id("recruit-submit").click()
    expect(page).to_have_url(re.compile(r"/agents/PRS-LC3\?done=recruited$"))
    expect(page.get_by_test_id("status")).to_have_text("Direkrut")
    page.get_by_test_id("to-trained").click()
    expect(page.get_by_test_id("status")).to_have_text("Dilatih")


@pytest.mark.usefixtures("agents_data")
def test_application_needs_its_documents_before_approval(
    page: Page, sign_in: SignIn, live_server: LiveServer, tmp_path: Path
) -> None:
    sign_in(page, Role.KABID)
    page.goto("/partners/applications")
    page.get_by_test_id("new-application").click()
    form = page.get_by_test_id("application-form")
    form.locator("input[name=code]").fill("KOP-LC")
    form.locator("input[name=name]").fill("Koperasi Pasar Cinde")
    form.locator("select[name=kind]").select_option("wadah")
    form.locator("select[name=scheme]").select_option("komunitas-2024")
    form.locator("input[name=valid_from]").fill("2026-12-01")
    page.get_by_test_id("application-submit").click()
    expect(page).to_have_url(re.compile(r"/partners/applications/\d+$"))
    expect(page.get_by_test_id("application-status")).to_have_text("Diajukan")

    def attach(kind: str, content: str) -> None:
        path = tmp_path / f"{kind}.pdf"
        path.write_text(content)
        page.get_by_test_id("document-kind").select_option(kind)
        page.get_by_test_id("document-file").set_input_files(str(path))
        page.get_by_test_id("document-submit").click()
        expect(page.get_by_test_id("done")).to_be_visible()

    attach("legal", "akta pendirian koperasi")
    page.get_by_test_id("review-submit").click()
    expect(page.get_by_test_id("application-status")).to_have_text("Ditinjau")
    page.get_by_test_id("approve-submit").click()
    expect(page.get_by_test_id("problems")).to_contain_text(
        "dokumen wajib belum dilampirkan: Profil ekosistem, Analisis potensi"
    )
    expect(page.get_by_test_id("application-status")).to_have_text("Ditinjau")
    attach("ecosystem_profile", "profil ekosistem pasar")
    attach("potential_analysis", "analisis potensi 400 pedagang")
    expect(page.get_by_test_id("document-row")).to_have_count(3)
    page.get_by_test_id("approve-submit").click()
    expect(page.get_by_test_id("application-status")).to_have_text("Disetujui")
    page.get_by_test_id("partner-link").click()
    expect(page.get_by_test_id("partner-name")).to_contain_text("Koperasi Pasar Cinde")

    with transaction(live_server.engine) as session:
        created = session.get(Partner, "KOP-LC")
        assert created is not None
        assert created.branch_code == "PLG"
        schemes = session.scalars(
            select(Agreement.scheme_name).where(Agreement.partner_code == "KOP-LC")
        ).all()
    assert schemes == ["komunitas-2024"]


@pytest.mark.usefixtures("agents_data")
def test_applications_are_not_for_partners(page: Page) -> None:
    _sign_in_as(page, PARTNER_USER)
    response = page.goto("/partners/applications")
    assert response is not None
    assert response.status == 403


def test_status_change_outside_lifecycle_is_refused_like_the_cli(
    page: Page, sign_in: SignIn, live_server: LiveServer
) -> None:
    """A recruited agent cannot be suspended: the form is not offered, and a posted one gets
    the action's message (the same as the command line's)."""
    with transaction(live_server.engine) as session:
        if session.get(Partner, "PRS-LC9") is None:
            if session.get(Partner, "WDH-L9") is None:
                create_partner(
                    session,
                    ACTOR,
                    SystemClock(),
                    NewPartner("WDH-L9", "Wadah Sembilan", "wadah", "PLG"),
                )
            create_partner(
                session,
                ACTOR,
                SystemClock(),
                NewPartner("PRS-LC9", "Agen Sembilan", "perisai", None, "WDH-L9"),
                status="recruited",
            )
    sign_in(page, Role.KABID)
    page.goto("/agents/PRS-LC9")
    expect(page.get_by_test_id("to-suspended")).to_have_count(0)
    page.evaluate(
        """() => {
            const f = document.querySelector("[data-testid=status-form-trained]");
            f.querySelector("input[name=to]").value = "suspended";
            const r = document.createElement("input"); r.name = "reason"; r.value = "uji";
            f.appendChild(r); f.submit();
        }"""
    )
    expect(page.get_by_test_id("problems")).to_contain_text(
        "status tidak dapat berubah dari Direkrut ke Dibekukan"
    )
    expect(page.get_by_test_id("status")).to_have_text("Direkrut")
