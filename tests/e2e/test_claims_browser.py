"""Claims in a real browser: PAP takes a JKM claim in through the intake form, uploads the
heir's documents and verifies it; the kabid approves it; a wrong document is refused on the
page and nothing is stored."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from cakupan.auth import Actor, Role
from cakupan.contributions import load_policy_book
from cakupan.dates import JAKARTA, FixedClock, Month
from cakupan.db import transaction
from cakupan.registry import RegistrationRow, post_payment, register_participant
from cakupan.registry.models import Participant
from tests.e2e.conftest import LiveServer, SignIn

pytestmark = pytest.mark.e2e

ACTOR = Actor.system("e2e")
NIK = "1671010101910007"  # Palembang 16.71.01 (branch PLG), born 1991-01-01
HEIR = "1671015205850002"


@pytest.fixture
def covered_participant(live_server: LiveServer) -> str:
    """A participant of branch PLG registered 2026-01-10 with 2026-01..03 paid on that day."""
    clock = FixedClock(datetime(2026, 1, 10, 10, 0, tzinfo=JAKARTA))
    with transaction(live_server.engine) as session:
        if session.scalar(select(Participant.id).where(Participant.nik == NIK)) is None:
            row = RegistrationRow(
                row=1, nik=NIK, name="Pak Darmo", phone="0812-1111-2222", occupation="farmer",
                reported_income=1_000_000, programs="JKK+JKM", registered_on="2026-01-10",
                district_code="16.71.01",
            )  # fmt: skip
            register_participant(session, ACTOR, row, clock=clock)
            book = load_policy_book(session)
            amount = sum(
                book.monthly_total(income=1_000_000, programs="JKK+JKM", month=Month(2026, m))
                for m in (1, 2, 3)
            )
            post_payment(
                session, ACTOR, nik=NIK, amount=amount, paid_on="2026-01-10",
                reference="E2E-CLAIM-1", channel="bank", clock=clock,
            )  # fmt: skip
    return NIK


def test_intake_documents_and_approval(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    sign_in: SignIn,
    covered_participant: str,
    tmp_path: Path,
) -> None:
    sign_in(page, Role.PAP)
    page.get_by_test_id("nav-claims").click()
    page.get_by_test_id("claim-new").click()
    form = page.get_by_test_id("claim-form")
    form.locator("select[name=claim_type]").select_option("jkm")
    form.locator("input[name=nik]").fill(covered_participant)
    form.locator("input[name=event_date]").fill("2026-03-20")
    form.locator("input[name=claimant_name]").fill("Bu Darmo")
    form.locator("input[name=claimant_nik]").fill(HEIR)
    form.locator("select[name=relation]").select_option("parent_in_law")
    form.locator("input[name=bank_name]").fill("BRI")
    form.locator("input[name=bank_account]").fill("0123 4567 8901")
    form.locator("input[name=bank_account_holder]").fill("Bu Darmo")
    page.get_by_test_id("claim-submit").click()
    expect(page.get_by_test_id("claim-state")).to_have_text("Diajukan")
    expect(page.get_by_test_id("claim-amount")).to_have_text("Rp 10.000.000")
    claim_url = page.url

    bad = tmp_path / "ktp.pdf"
    bad.write_bytes(b"GIF89a this is no pdf")
    page.get_by_test_id("file-ktp").set_input_files(str(bad))
    page.get_by_test_id("upload-ktp").click()
    expect(page.get_by_test_id("problems")).to_contain_text("Masukan tidak valid")
    expect(page.get_by_test_id("doc-ktp")).to_contain_text("belum ada")

    good = tmp_path / "dokumen.pdf"
    good.write_bytes(b"%PDF-1.4\n% dokumen klaim\n")
    for kind in ("death_certificate", "heir_letter", "ktp", "family_card", "membership_card",
                 "bank_book"):  # fmt: skip
        page.get_by_test_id(f"file-{kind}").set_input_files(str(good))
        page.get_by_test_id(f"upload-{kind}").click()
        expect(page.get_by_test_id(f"doc-{kind}")).to_contain_text("SHA-256")
    expect(page.get_by_test_id("to-approved")).to_have_count(0)
    page.get_by_test_id("to-verified").click()
    expect(page.get_by_test_id("claim-state")).to_have_text("Diverifikasi")

    kabid = browser.new_context(base_url=live_server.url, locale="id-ID")
    kabid.set_default_timeout(10_000)
    other = sign_in(kabid.new_page(), Role.KABID)
    other.goto(claim_url)
    other.get_by_test_id("to-approved").click()
    expect(other.get_by_test_id("claim-state")).to_have_text("Disetujui")
    expect(other.get_by_test_id("steps")).to_contain_text("verified → approved")
    kabid.close()
