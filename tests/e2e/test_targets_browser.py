"""The branch's targets, work plans, pickers and list downloads in a real browser (issue 17): the
kabid sets, splits (a partner picked by name) and imports targets; a regional office picks one
of its branches; branch staff plan a week on a phone, pick the district by name and record what
an activity achieved; statements are filtered by a partner picked by name; the campaign list and
the prospect worklist download as XLSX. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from cakupan.auth import Actor, Role
from cakupan.dates import SystemClock
from cakupan.db import transaction
from cakupan.partners.actions import NewPartner, create_partner
from cakupan.partners.models import Partner
from tests.e2e.conftest import LiveServer, SignIn
from tests.e2e.test_campaigns_browser import campaign_data  # noqa: F401  (fixture)
from tests.e2e.test_incentives_browser import statements  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e

ACTOR = Actor.system("e2e")
YEAR = 2029  # a year no other browser test writes targets for


def _in_indonesian(page: Page) -> None:
    """Switch the signed-in user back to Indonesian when an earlier test left them in English
    (the choice is the user's, kept across sign-ins)."""
    if page.locator("html").get_attribute("lang") == "en":
        page.get_by_test_id("lang-switch").click()
        expect(page.locator("html")).to_have_attribute("lang", "id")


@pytest.fixture
def split_partner(live_server: LiveServer) -> str:
    """A partner of branch PLG to split a target to (created once per database)."""
    with transaction(live_server.engine) as session:
        if session.get(Partner, "E2E-TGT") is None:
            create_partner(
                session,
                ACTOR,
                SystemClock(),
                NewPartner("E2E-TGT", "Koperasi Target Pasar", "korporasi", "PLG"),
            )
    return "E2E-TGT"


def test_kabid_sets_splits_and_imports_targets(
    page: Page, sign_in: SignIn, split_partner: str, tmp_path: Path
) -> None:
    sign_in(page, Role.KABID)
    _in_indonesian(page)
    page.click("[data-testid=nav-targets]")
    expect(page.get_by_test_id("office-fixed")).to_contain_text("Palembang")
    expect(page.get_by_test_id("office-picker")).to_have_count(0)  # one office: no picker
    page.goto(f"/targets?year={YEAR}")

    page.get_by_text("Tetapkan satu angka").click()
    page.get_by_test_id("set-metric").select_option("new_participants")
    page.get_by_test_id("set-value").fill("banyak")
    page.get_by_test_id("set-source").fill("SK Kacab 2029")
    page.get_by_test_id("set-submit").click()
    expect(page.get_by_test_id("problems")).to_contain_text("banyak")
    expect(page.get_by_test_id("set-value")).to_have_value("banyak")  # kept as typed
    page.get_by_test_id("set-value").fill("12.000")
    page.get_by_test_id("set-submit").click()
    expect(page.get_by_test_id("done")).to_be_visible()
    assert "done=set" in page.url  # redirected after POST: a refresh submits nothing
    expect(page.get_by_test_id("row-BPU-new_participants")).to_contain_text("12.000")

    page.get_by_text("Bagi target ke staf").click()
    page.get_by_test_id("split-metric").select_option("new_participants")
    page.get_by_test_id("split-kind").select_option("partner")
    page.get_by_test_id("split-partner-picker").select_option(
        label="Koperasi Target Pasar (E2E-TGT)"
    )
    parts = page.get_by_test_id("split-parts")
    expect(parts).to_have_value("E2E-TGT=")
    parts.press("End")
    parts.type("7.000")
    page.get_by_test_id("split-submit").click()
    expect(page.get_by_test_id("splits-table")).to_contain_text("E2E-TGT: 7.000")
    expect(page.get_by_test_id("splits-table")).to_contain_text("Mitra")

    upload = tmp_path / "target-2029.csv"
    upload.write_text(
        "office_code,year,segment,metric,target,realization,source\n"
        f"PLG,{YEAR},PU,new_participants,500,,Rencana Kanwil {YEAR}\n",
        encoding="utf-8",
    )
    page.get_by_text("Impor target dan realisasi").click()
    page.get_by_test_id("import-file").set_input_files(str(upload))
    page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("import-summary")).to_contain_text("target-2029.csv")
    expect(page.get_by_test_id("accepted")).to_have_text("1")
    expect(page.get_by_test_id("row-PU-new_participants")).to_contain_text("500")

    page.goto(f"/targets?year={YEAR}")
    page.get_by_test_id("lang-switch").click()
    expect(page.locator("h1")).to_contain_text("Targets vs realization")
    expect(page.get_by_test_id("targets-forms")).to_contain_text("Set targets")
    page.get_by_test_id("lang-switch").click()  # back to Indonesian for the other tests
    expect(page.locator("h1")).to_contain_text("Target vs realisasi")


def test_regional_office_picks_one_of_its_branches(page: Page, sign_in: SignIn) -> None:
    sign_in(page, Role.REGIONAL)
    _in_indonesian(page)
    page.goto(f"/targets?year={YEAR}")
    picker = page.get_by_test_id("office-picker")
    values = picker.locator("option").evaluate_all("(options) => options.map((o) => o.value)")
    assert "SUMBAGSEL" in values
    assert "PLG" in values
    assert "MDN" not in values  # another region's branch
    assert "NATIONAL" not in values
    picker.select_option(label="Palembang (PLG)")
    page.get_by_test_id("targets-filters").get_by_role("button", name="Tampilkan").click()
    expect(page).to_have_url(re.compile(r"office=PLG"))
    expect(page.locator("h1")).to_contain_text("PLG")
    expect(page.get_by_test_id("row-BPU-new_participants")).to_be_visible()


def test_staff_plan_a_week_on_a_phone(page: Page, sign_in: SignIn) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, Role.ARK)
    _in_indonesian(page)
    page.goto("/plans")
    page.get_by_test_id("plan-kind").select_option("week")
    page.get_by_test_id("plan-start").fill("2026-11-30")
    page.get_by_test_id("plan-title").fill("Sosialisasi pasar Kemuning")
    page.get_by_test_id("plan-submit").click()
    expect(page).to_have_url(re.compile(r"/plans/\d+$"))
    expect(page.get_by_test_id("plan-period")).to_contain_text("30 Nov")

    page.get_by_test_id("activity-name").fill("sosialisasi")
    district = page.get_by_test_id("activity-district")
    district.type("kemuning")
    expect(page.locator("#district-options option").first).to_have_attribute(
        "value", re.compile(r"Kemuning")
    )
    district.fill("Kemuning, Kota Palembang (16.71.09)")
    page.get_by_test_id("activity-prospects").fill("pedagang pasar")
    page.get_by_test_id("activity-assignee").fill("ARK01")
    page.get_by_test_id("activity-date").fill("2026-12-02")
    page.get_by_test_id("activity-expected").fill("25")
    page.get_by_test_id("activity-submit").click()
    expect(page.get_by_test_id("done")).to_contain_text("Kegiatan ditambahkan")
    row = page.locator("[data-testid^=activity-]").filter(has_text="pedagang pasar").first
    expect(row).to_contain_text("16.71.09")
    expect(row).to_contain_text("25")

    row.get_by_text("Catat hasil").click()
    log = row.locator("form")
    log.locator("select[name=kind]").select_option("registration")
    log.locator("input[name=quantity]").fill("3")
    log.get_by_role("button", name="Catat").click()
    expect(page.get_by_test_id("done")).to_contain_text("Hasil kegiatan tercatat")
    expect(page.locator("[data-testid^=registered-]").first).to_have_text("3")

    row = page.locator("[data-testid^=activity-]").filter(has_text="pedagang pasar").first
    row.get_by_text("Ubah", exact=True).click()
    row.locator("[data-testid^=edit-expected-]").fill("30")
    row.locator("[data-testid^=edit-submit-]").click()
    expect(page.get_by_test_id("done")).to_contain_text("Kegiatan diubah")
    expect(
        page.locator("[data-testid^=activity-]").filter(has_text="pedagang pasar").first
    ).to_contain_text("30")
    expect(page.locator("[data-testid^=registered-]").first).to_have_text("3")  # still linked
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1  # no sideways scrolling on a phone


@pytest.mark.usefixtures("statements")
def test_statements_filtered_by_a_partner_picked_by_name(page: Page, sign_in: SignIn) -> None:
    sign_in(page, Role.KABID)
    _in_indonesian(page)
    page.goto("/incentives/statements?period=2024-07")
    page.get_by_test_id("filter-partner").select_option(label="Koperasi Anggrek (E2E-KOPA)")
    page.get_by_test_id("filter-submit").click()
    expect(page).to_have_url(re.compile(r"partner=E2E-KOPA"))
    expect(page.get_by_test_id("statement-E2E-KOPA-2024-07")).to_be_visible()
    expect(page.get_by_test_id("statement-E2E-KOPB-2024-07")).to_have_count(0)


def _downloaded_rows(page: Page, test_id: str) -> list[tuple[object, ...]]:
    with page.expect_download() as download:
        page.get_by_test_id(test_id).click()
    assert download.value.suggested_filename.endswith(".xlsx")
    with download.value.path().open("rb") as handle:
        sheet = openpyxl.load_workbook(handle).active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.usefixtures("campaign_data")
def test_campaigns_and_prospects_download_as_xlsx(page: Page, sign_in: SignIn) -> None:
    sign_in(page, Role.KABID)
    _in_indonesian(page)
    page.goto("/campaigns")
    rows = _downloaded_rows(page, "campaigns-xlsx")
    assert rows[0][:3] == ("Kode", "Nama", "Jenis")
    radio = next(row for row in rows if row[0] == "E2E-RADIO")
    assert radio[2] == "Iklan"
    assert radio[7] == 5_000_000
    page.goto("/prospects?campaign=E2E-SOS")
    prospects = _downloaded_rows(page, "prospects-xlsx")
    assert prospects[0][0] == "Nama"
    sari = next(row for row in prospects if row[0] == "Ibu Sari Pedagang")
    assert sari[1] != "0812 7777 0001"  # not the kabid's prospect: masked, as on the page
    assert sari[4] == "PRS-007"
