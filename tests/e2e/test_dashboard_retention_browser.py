"""The dashboard's retention panel in a real browser (issue 15): a kabid sees due -> paid by the
15th, arrears -> recovered and closed -> re-acquired per month for its branch, a filter changes
the figures, and a partner sees only its own participants' figures. The ledger is the
dashboard browser tests' (June-October 2026, every month closed): E1 (BRI-PLG, farmer) paid
June-August, E2 (agent PRS-007, street vendor) and E4 (Bandar Lampung) June only, E3 (branch,
farmer) July-October."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from cakupan.auth import Role
from tests.e2e.conftest import SignIn
from tests.e2e.test_dashboard_browser import dashboard_data  # noqa: F401 (the fixture)

pytestmark = pytest.mark.e2e


def test_kabid_reads_the_retention_panel_and_filters_it(
    page: Page,
    sign_in: SignIn,
    dashboard_data: None,  # noqa: F811
) -> None:
    del dashboard_data
    sign_in(page, Role.KABID)
    page.goto("/dashboard")
    panel = page.get_by_test_id("retention-panel")
    expect(panel).to_be_visible()
    # months with a closed month before them: July-October
    expect(panel.locator("tbody tr")).to_have_count(4)
    # July: E2 due (paid through June), not paid by the 15th; E4 is Bandar Lampung's
    expect(page.get_by_test_id("retention-2026-07-due")).to_contain_text("(0/1)")
    # September: E1 (paid through August) due
    expect(page.get_by_test_id("retention-2026-09-due")).to_contain_text("(0/1)")
    # October: E1 and E2 in arrears at the end of September; E2 closed on 1 October (D-4)
    expect(page.get_by_test_id("retention-2026-10-arrears")).to_contain_text("(0/2)")
    expect(page.get_by_test_id("retention-2026-10-closed")).to_contain_text("(0/1)")
    # the dashboard's filter applies to the panel too: farmers only (E2 is a street vendor)
    page.get_by_test_id("filter-occupation").select_option("farmer")
    page.get_by_test_id("filter-apply").click()
    expect(page.get_by_test_id("retention-2026-10-arrears")).to_contain_text("(0/1)")
    expect(page.get_by_test_id("retention-2026-10-closed")).to_contain_text("(0/0)")
    expect(page.get_by_test_id("retention-2026-07-due")).to_contain_text("(0/0)")


def test_partner_sees_its_own_retention_figures(
    page: Page,
    sign_in: SignIn,
    dashboard_data: None,  # noqa: F811
) -> None:
    del dashboard_data
    sign_in(page, Role.PARTNER)  # BRI-PLG: E1 only
    page.goto("/dashboard")
    expect(page.get_by_test_id("retention-2026-09-due")).to_contain_text("(0/1)")
    expect(page.get_by_test_id("retention-2026-10-arrears")).to_contain_text("(0/1)")
    expect(page.get_by_test_id("retention-2026-07-due")).to_contain_text("(0/0)")
    expect(page.get_by_test_id("retention-2026-10-closed")).to_contain_text("(0/0)")
