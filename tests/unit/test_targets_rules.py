"""Pure rules of targets and the performance cycle."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cakupan.dates import Month
from cakupan.targets import rules
from cakupan.targets.rules import Period, SourcedValue


def test_parse_period_forms() -> None:
    assert rules.parse_period(2022, "") == Period(2022, Month(2022, 1), Month(2022, 12))
    assert rules.parse_period(2022, "Q3") == Period(2022, Month(2022, 7), Month(2022, 9))
    assert rules.parse_period(2022, "3") == Period(2022, Month(2022, 3), Month(2022, 3))
    assert rules.parse_period(2022, "2022-05") == Period(2022, Month(2022, 5), Month(2022, 5))
    jan_jul = rules.parse_period(2022, "2022-01..2022-07")
    assert (jan_jul.first, jan_jul.last) == (Month(2022, 1), Month(2022, 7))
    assert jan_jul.label == "2022-01..2022-07"
    assert rules.parse_period(2022, "q2").label == "2022-Q2"
    assert Period.whole_year(2020).label == "2020"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2021-05", "not inside the year 2022"),
        ("2022-07..2022-01", "ends before it starts"),
        ("Q5", "expected empty"),
        ("13", "expected empty"),
    ],
)
def test_parse_period_rejects(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        rules.parse_period(2022, text)


def test_parse_row_reports_every_field() -> None:
    problems = rules.parse_figure_row(
        7,
        {
            "office_code": "p",
            "year": "20x0",
            "segment": "BPJS",
            "metric": "members",
            "target": "1.000",
            "realization": "",
            "source": "",
        },
    )
    assert isinstance(problems, list)
    assert [p.field for p in problems] == [
        "office_code",
        "year",
        "segment",
        "metric",
        "target",
        "source",
    ]
    assert all(p.row == 7 for p in problems)
    assert "'1.000'" in problems[4].message.en


def test_parse_row_needs_a_figure() -> None:
    problems = rules.parse_figure_row(
        2,
        {
            "office_code": "PLG",
            "year": "2020",
            "segment": "BPU",
            "metric": "new_participants",
            "target": "",
            "realization": "",
            "source": "x",
        },
    )
    assert isinstance(problems, list)
    assert [p.field for p in problems] == ["target"]


def test_parse_row_normalises() -> None:
    row = rules.parse_figure_row(
        2,
        {
            "office_code": "plg",
            "year": "2020",
            "segment": "bpu",
            "metric": "New_Participants",
            "target": "33350",
            "realization": "",
            "source": " text ",
            "period": "Q1",
        },
    )
    assert isinstance(row, rules.FigureRow)
    assert (row.office_code, row.segment, row.metric, row.source) == (
        "PLG",
        "BPU",
        "new_participants",
        "text",
    )
    assert row.figures() == [("target", 33350)]
    assert row.period.label == "2020-Q1"


def test_resolve_agreement_and_conflict() -> None:
    agreed = rules.resolve([SourcedValue(20651, "text"), SourcedValue(20651, "table")])
    assert agreed.value == 20651
    assert not agreed.is_conflict
    disagree = rules.resolve([SourcedValue(42869, "table"), SourcedValue(42859, "text")])
    assert disagree.value is None
    assert [(v.value, v.source) for v in disagree.conflict] == [(42859, "text"), (42869, "table")]
    assert rules.resolve([]).value is None


def test_achievement_half_up() -> None:
    assert rules.achievement_percent(20651, 33350) == 61.9
    assert rules.achievement_percent(29774, 30552) == 97.5  # 97.4535 -> 97.5 (the paper says 97.4)
    assert rules.achievement_percent(200006, 145069) == 137.9  # the paper says 102%
    assert rules.achievement_percent(1, 0) is None
    assert rules.achievement_percent(None, 10) is None
    assert rules.achievement_percent(1, 2000) == 0.1  # 0.05 -> 0.1 half up


def test_check_split_difference() -> None:
    check = rules.check_split("staff", {"ARK01": 1000, "AR02": 1500}, 3000)
    assert check.parts_total == 2500
    assert check.difference == 500
    assert not check.balanced
    assert rules.check_split("staff", {"A": 3000}, 3000).balanced
    assert rules.check_split("district", {"A": 1}, None).difference is None
    assert rules.check_split("partner", {"A": 4000}, 3000).difference == -1000


@given(
    st.dictionaries(st.text(min_size=1, max_size=5), st.integers(0, 10**9), max_size=8),
    st.integers(0, 10**10),
)
def test_split_difference_closes_the_sum(parts: dict[str, int], whole: int) -> None:
    check = rules.check_split("staff", parts, whole)
    assert check.parts_total + (check.difference or 0) == whole


def test_trend_change() -> None:
    points = rules.trend([(2017, 30552, 29774), (2016, 12685, 2150), (2018, 36910, None)])
    assert [p.year for p in points] == [2016, 2017, 2018]
    assert points[0].realization_change_percent is None
    assert points[1].realization_change_percent == 1284.8  # (29774 - 2150) / 2150
    assert points[1].achievement_percent == 97.5
    assert points[2].realization_change_percent is None


def test_projection_linear_run_rate() -> None:
    p = rules.project_year_end("new_participants", [100, 200, 300])
    assert (p.method, p.year_to_date, p.projected) == ("linear_run_rate", 600, 2400)


def test_projection_seasonal() -> None:
    prior = {2024: [10] * 6 + [30] * 6, 2025: [20] * 6 + [40] * 6}
    p = rules.project_year_end("contributions", [50] * 6, prior)
    assert p.method == "seasonal_run_rate"
    assert p.seasonal_share_percent == 30.0  # (60 + 120) / (240 + 360)
    assert p.projected == 1000  # 300 / 0.3
    assert p.prior_years_used == (2024, 2025)


def test_projection_ignores_incomplete_prior_years() -> None:
    # 2025: the ledger went live in July (January empty); 2024: not a whole year of figures
    p = rules.project_year_end("new_participants", [5, 5], {2025: [0] * 6 + [9] * 6, 2024: [1] * 5})
    assert p.method == "linear_run_rate"
    assert p.projected == 60


def test_projection_stock_carries_forward() -> None:
    p = rules.project_year_end("active_participants", [900, 950, 940])
    assert (p.method, p.projected) == ("carry_forward", 940)


def test_carry_over() -> None:
    w1, w2, w3 = date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)
    assert rules.carried_over(w1, None, w1) == "raised"
    assert rules.carried_over(w1, None, w3) == "carried"
    assert rules.carried_over(w1, w2, w2) == "closed_here"
    assert rules.carried_over(w1, w2, w3) == "not_shown"
    assert rules.carried_over(w2, None, w1) == "not_shown"


def test_week_start_and_prorate() -> None:
    assert rules.week_start(date(2026, 11, 26)) == date(2026, 11, 23)
    assert rules.week_start(date(2026, 11, 23)) == date(2026, 11, 23)
    assert rules.prorate(3650, 7, 365) == 70
    assert rules.prorate(1, 1, 2) == 1  # half up


def test_stated_percentages() -> None:
    assert rules.stated_matches("97.4", 29774, 30552)  # 97.45: truncated by the source
    assert rules.stated_matches("116", 42859, 36910)  # 116.12
    assert not rules.stated_matches("102", 200006, 145069)  # 137.87
    assert not rules.stated_matches("43.5", 94433, 225952)  # 41.79
    assert rules.stated_matches("43.5", 98433, 225952)  # 43.56
    assert not rules.stated_matches("10", 1, 0)
    row = rules.parse_figure_row(
        2,
        {
            "office_code": "PLG",
            "year": "2017",
            "segment": "JAKON",
            "metric": "new_participants",
            "target": "",
            "realization": "",
            "source": "s",
            "achievement_percent": "102 %",
        },
    )
    assert isinstance(row, rules.FigureRow)
    assert (row.stated_percent, row.figures()) == ("102", [])
    bad = rules.parse_figure_row(
        2,
        {
            "office_code": "PLG",
            "year": "2017",
            "segment": "JAKON",
            "metric": "new_participants",
            "target": "1",
            "realization": "",
            "source": "s",
            "achievement_percent": "lots",
        },
    )
    assert isinstance(bad, list)
    assert [p.field for p in bad] == ["achievement_percent"]


def test_office_permission() -> None:
    allowed = rules.office_permission
    assert allowed("head_office", None, None, "PLG", "SUMBAGSEL", "targets")
    assert allowed("auditor", None, None, "PLG", "SUMBAGSEL", "read")
    assert not allowed("auditor", None, None, "PLG", "SUMBAGSEL", "review")
    assert allowed("regional", None, "SUMBAGSEL", "PLG", "SUMBAGSEL", "targets")
    assert not allowed("regional", None, "SUMBAGSEL", "PLG", "SUMBAGSEL", "review")
    assert allowed("regional", None, "SUMBAGSEL", "SUMBAGSEL", None, "review")
    assert not allowed("regional", None, "SUMBAGSEL", "MDN", "JATIM", "read")
    assert allowed("kabid", "PLG", None, "PLG", "SUMBAGSEL", "targets")
    assert not allowed("kabid", "PLG", None, "BDL", "SUMBAGSEL", "read")
    assert allowed("ark", "PLG", None, "PLG", "SUMBAGSEL", "cycle")
    assert not allowed("ark", "PLG", None, "PLG", "SUMBAGSEL", "targets")
    assert not allowed("kabid", None, None, "PLG", "SUMBAGSEL", "read")  # no scope code
    assert not allowed("partner", None, None, "PLG", "SUMBAGSEL", "read")


def test_parse_parts_as_typed() -> None:
    """Split parts as people type them (CLI ``--part`` and the page's lines): ``1.200`` is 1200,
    blank lines are skipped, a bad item or a repeated code is named, not dropped."""
    parts, problems = rules.parse_parts(
        ["ARK01=1.200", "", " KOP-A = 300 ", "ARK01=5", "X=-1", "=4"]
    )
    assert parts == {"ARK01": 1200, "KOP-A": 300}
    assert [p.record for p in problems] == ["ARK01=5", "X=-1", "=4"]
    assert all(p.field == "part" for p in problems)
