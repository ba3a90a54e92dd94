"""Charts that open the records behind them (issue 17): a click on a month's bar or point of the
dashboard's trend, or on a cell of the cohort heatmap, opens the drill-down list with the same
filters, and the list holds exactly as many records as the figure clicked; on a phone the legends
keep clear of the plot and its axes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cakupan.auth import Role
from tests.e2e.charts import LAYOUT
from tests.e2e.conftest import SignIn
from tests.e2e.test_dashboard_browser import dashboard_data  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("dashboard_data")]

# The page coordinates of a data point of a chart, and the chart's data (from the page's own JSON).
_POINT = """([chartId, seriesIndex, point]) => {
    const el = document.getElementById(chartId);
    el.scrollIntoView({block: "center"});
    const chart = echarts.getInstanceByDom(el);
    const [x, y] = chart.convertToPixel({seriesIndex}, point);
    const box = el.getBoundingClientRect();
    return {x: box.left + x, y: box.top + y};
}"""


def _data(page: Page) -> dict[str, Any]:
    data: dict[str, Any] = page.evaluate(
        "JSON.parse(document.getElementById('dashboard-data').textContent)"
    )
    return data


def _point(page: Page, chart: str, series: int, point: list[Any]) -> dict[str, float]:
    found: dict[str, float] = page.evaluate(_POINT, [chart, series, point])
    return found


def _ready(page: Page) -> None:
    expect(page.locator("#trend-chart")).to_have_attribute("data-chart-ready", "1")
    expect(page.locator("#cohort-chart")).to_have_attribute("data-chart-ready", "1")


def _listed(page: Page) -> tuple[int, int]:
    """The list's total and its rows on this page (one page here: fewer than 50)."""
    total = int(page.get_by_test_id("records-total").inner_text().split(":")[1].split("·")[0])
    return total, page.get_by_test_id("record-row").count()


def test_a_registrations_bar_opens_its_records(page: Page, sign_in: SignIn) -> None:
    sign_in(page, Role.KABID)
    page.goto("/dashboard")
    _ready(page)
    data = _data(page)
    i = data["month_codes"].index("2026-06")
    figure = data["registrations"][i]
    assert figure == 2  # Ani and Budi registered in Palembang in June
    top = _point(page, "trend-chart", 0, [i, figure])
    base = _point(page, "trend-chart", 0, [i, 0])
    page.mouse.click(top["x"], (top["y"] + base["y"]) / 2)  # the middle of the bar
    expect(page).to_have_url(
        re.compile(r"/dashboard/records\?.*kpi=new_registrations&month=2026-06")
    )
    assert _listed(page) == (figure, figure)
    expect(page.get_by_test_id("records")).to_contain_text("Ani Petani")
    expect(page.get_by_test_id("records")).not_to_contain_text("Dedi Lampung")  # Bandar Lampung


def test_an_active_point_opens_its_records_with_the_filters(page: Page, sign_in: SignIn) -> None:
    sign_in(page, Role.KABID)
    page.goto("/dashboard?occupation=farmer")
    _ready(page)
    data = _data(page)
    i = data["month_codes"].index("2026-07")
    figure = data["active"][i]
    assert figure == 2  # Ani (paid through August) and Citra (through October), farmers
    point = _point(page, "trend-chart", 1, [i, figure])
    page.mouse.click(point["x"], point["y"])
    expect(page).to_have_url(re.compile(r"occupation=farmer.*kpi=active&month=2026-07"))
    assert _listed(page) == (figure, figure)


def test_a_cohort_cell_opens_the_episodes_still_active(page: Page, sign_in: SignIn) -> None:
    sign_in(page, Role.KABID)
    page.goto("/dashboard")
    _ready(page)
    data = _data(page)
    row = data["cohort_codes"].index("2026-06")
    cell = next(p for p in data["cohorts"][row]["data"] if p[0] == 1)
    part, base = cell[2], cell[3]
    # June's two Palembang registrations; at the end of July only Ani's months are paid.
    assert (part, base) == (1, 2)
    point = _point(page, "cohort-chart", 0, [1, row])
    page.mouse.click(point["x"], point["y"])
    expect(page).to_have_url(re.compile(r"kpi=retained&cohort=2026-06&month=2026-07"))
    expect(page.get_by_test_id("records-cohort")).to_contain_text("Jun 2026")
    assert _listed(page) == (part, part)
    expect(page.get_by_test_id("record-row")).to_contain_text("Ani Petani")


def test_a_partner_clicks_within_its_own_scope(page: Page, sign_in: SignIn) -> None:
    """The partner's chart and list are both its own: one June registration (Ani, BRI-PLG)."""
    sign_in(page, Role.PARTNER)
    page.goto("/dashboard")
    _ready(page)
    data = _data(page)
    i = data["month_codes"].index("2026-06")
    figure = data["registrations"][i]
    assert figure == 1
    top = _point(page, "trend-chart", 0, [i, figure])
    base = _point(page, "trend-chart", 0, [i, 0])
    page.mouse.click(top["x"], (top["y"] + base["y"]) / 2)
    expect(page).to_have_url(re.compile(r"kpi=new_registrations&month=2026-06"))
    assert _listed(page) == (1, 1)
    expect(page.get_by_test_id("record-row")).to_contain_text("Ani Petani")


@pytest.mark.parametrize("width", [390, 1366])
def test_legends_keep_clear_of_the_axes(page: Page, sign_in: SignIn, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, Role.KABID)
    page.goto("/dashboard")
    _ready(page)
    trend = page.evaluate(LAYOUT, "trend-chart")
    # The legend above the plot, with room for the top axis label (half a line above the grid).
    assert trend["legend"]["bottom"] + 8 <= trend["grid"]["top"], trend
    cohort = page.evaluate(LAYOUT, "cohort-chart")
    height = page.locator("#cohort-chart").bounding_box()
    assert height is not None
    # The colour scale below the plot, its month-of-age labels and the axis name (centred 24 px
    # below the plot).
    assert cohort["visualMap"]["top"] >= cohort["grid"]["bottom"] + 36, cohort
    assert cohort["visualMap"]["bottom"] <= height["height"], cohort
    # The colour is the cell's percent: Palembang's June cohort at age 0 is 100% (darkest).
    fill = page.evaluate(
        """() => {
            const chart = echarts.getInstanceByDom(document.getElementById("cohort-chart"));
            const data = chart.getModel().getSeriesByIndex(0).getData();
            for (let i = 0; i < data.count(); i++) {
                if (data.get("x", i) === 0 && data.get("y", i) === 0) {
                    return data.getItemVisual(i, "style").fill;
                }
            }
            return null;
        }"""
    )
    assert fill == "rgba(6,95,70,1)"  # #065f46, the top of the scale
