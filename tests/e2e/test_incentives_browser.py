"""Incentive statements in a real browser: the kabid approves a statement of its branch; a
partner sees its own statement only and cannot approve it; a second partner cannot see the
first's. The statements come from the real monthly run over a small ledger (July 2024)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cakupan.auth import Actor, Role
from cakupan.dates import Month, SystemClock
from cakupan.db import transaction
from cakupan.incentives.actions import run_period
from cakupan.incentives.models import IncentiveStatement
from cakupan.partners.actions import import_partners
from cakupan.users import create_user
from cakupan.users.models import User
from tests.e2e.conftest import PASSWORD, LiveServer, SignIn
from tests.integration.test_incentives_run import NO_JHT, Ledger

pytestmark = pytest.mark.e2e

ACTOR = Actor.system("e2e")
PERIOD = Month(2024, 7)
NETWORK = """code,name,kind,parent_code,branch_code,scheme,commission_rate,valid_from,valid_to
E2E-KOPA,Koperasi Anggrek,korporasi,,PLG,korporasi-2024,2.5,2024-01-01,
E2E-KOPB,Koperasi Bakung,korporasi,,PLG,korporasi-2024,5,2024-01-01,
"""
PARTNER_USERS = {"e2e.mitra-a": "E2E-KOPA", "e2e.mitra-b": "E2E-KOPB"}


class _Ledger(Ledger):
    """NIKs of their own (born 2 February 1985) so that other browser tests' NIKs never clash."""

    def nik(self) -> str:
        self.serial += 1
        return f"167101020285{self.serial:04d}"


@dataclass(frozen=True)
class Statements:
    a: int  # E2E-KOPA: 36,300 x 2.5% = 907.5 -> Rp 908
    b: int  # E2E-KOPB: 36,300 x 5% = 1,815


@pytest.fixture
def statements(live_server: LiveServer, tmp_path: Path) -> Statements:
    """Two korporasi partners in PLG, each with a participant paying one month in July 2024, the
    period run, and a partner user for each. Idempotent across the tests of a session."""
    engine = live_server.engine
    with transaction(engine) as session:
        done = session.scalar(select(User.id).where(User.username == "e2e.mitra-a"))
    if done is None:
        path = tmp_path / "network.csv"
        path.write_text(NETWORK, encoding="utf-8")
        result = import_partners(engine, ACTOR, SystemClock(), path)
        assert result.rejected == 0, result.as_json()
        ledger = _Ledger(engine)
        for code, reference in (("E2E-KOPA", "E2E-A-1"), ("E2E-KOPB", "E2E-B-1")):
            nik = ledger.register("2024-07-02", NO_JHT, partner=code, income=3_000_000)
            ledger.pay(nik, 36_300, "2024-07-05", reference)
        with transaction(engine) as session:
            run_period(session, ACTOR, SystemClock(), PERIOD)
            for username, code in PARTNER_USERS.items():
                create_user(
                    session,
                    ACTOR,
                    username=username,
                    role=Role.PARTNER.value,
                    full_name=username,
                    password=PASSWORD,
                    partner_code=code,
                )
    with transaction(engine) as session:
        ids = {
            row.partner_code: row.id
            for row in session.scalars(
                select(IncentiveStatement).where(IncentiveStatement.period == PERIOD)
            )
        }
    return Statements(ids["E2E-KOPA"], ids["E2E-KOPB"])


def _sign_in_as(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/")


def test_partner_sees_only_its_own_statement_and_cannot_approve(
    page: Page, statements: Statements
) -> None:
    _sign_in_as(page, "e2e.mitra-a")
    page.click("[data-testid=nav-incentives]")
    expect(page.locator("h1")).to_have_text("Laporan insentif mitra")
    table = page.get_by_test_id("statements-table")
    expect(table.get_by_test_id("statement-E2E-KOPA-2024-07")).to_be_visible()
    expect(table.get_by_test_id("statement-E2E-KOPB-2024-07")).to_have_count(0)
    table.get_by_test_id("statement-E2E-KOPA-2024-07").get_by_role("link").first.click()
    expect(page.get_by_test_id("statement-total")).to_have_text("Rp 908")
    expect(page.get_by_test_id("line-commission")).to_contain_text("Komisi iuran")
    expect(page.get_by_test_id("action-approved")).to_have_count(0)
    expect(page.get_by_test_id("action-disputed")).to_be_visible()
    # The other partner's statement does not exist for this partner, by link or by download.
    response = page.goto(f"/incentives/statements/{statements.b}")
    assert response is not None
    assert response.status == 404
    response = page.goto(f"/incentives/statements/{statements.b}/export.pdf")
    assert response is not None
    assert response.status == 404


def test_second_partner_cannot_see_the_first_partners_statement(
    page: Page, statements: Statements
) -> None:
    _sign_in_as(page, "e2e.mitra-b")
    page.goto("/incentives/statements?period=2024-07")
    table = page.get_by_test_id("statements-table")
    expect(table.get_by_test_id("statement-E2E-KOPB-2024-07")).to_be_visible()
    expect(table.get_by_test_id("statement-E2E-KOPA-2024-07")).to_have_count(0)
    response = page.goto(f"/incentives/statements/{statements.a}")
    assert response is not None
    assert response.status == 404


def test_kabid_approves_then_marks_paid_in_both_languages(
    page: Page, sign_in: SignIn, statements: Statements
) -> None:
    sign_in(page, Role.KABID)
    page.goto("/incentives/statements?period=2024-07&scheme=korporasi-2024")
    row = page.get_by_test_id("statement-E2E-KOPB-2024-07")
    expect(row.get_by_test_id("status")).to_have_text("Draf")
    row.get_by_role("link").first.click()
    expect(page.get_by_test_id("statement-total")).to_have_text("Rp 1.815")
    page.get_by_test_id("action-approved").click()
    expect(page.get_by_test_id("statement-status")).to_have_text("Disetujui")
    expect(page.get_by_test_id("done")).to_be_visible()
    expect(page.get_by_test_id("statement-changed-by")).to_contain_text("e2e.kabid")
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("statement-status")).to_have_text("Approved")
    page.get_by_test_id("action-paid").click()
    expect(page.get_by_test_id("statement-status")).to_have_text("Paid")
    expect(page.get_by_test_id("statement-actions")).to_have_count(0)
    page.goto("/incentives/statements?period=2024-07&status=paid")
    expect(page.get_by_test_id("statement-E2E-KOPB-2024-07")).to_be_visible()
    expect(page.get_by_test_id("statement-E2E-KOPA-2024-07")).to_have_count(0)
    with page.expect_download() as download:
        page.goto(f"/incentives/statements/{statements.b}")
        page.get_by_test_id("export-xlsx").click()
    assert download.value.suggested_filename == "insentif-E2E-KOPB-2024-07-korporasi-2024.xlsx"
