"""Every figure a dashboard chart links to holds as many records as the figure says (issue 17:
charts link to the records behind them), on seeded data, on SQLite and PostgreSQL: each month's
registrations and active participants of the trend, and each cell of the cohort heatmap (the
cohort's episodes still active at that month end), nationally and within a branch and a
partner's scope."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, select

from cakupan.auth import Actor, Role
from cakupan.dashboard import queries
from cakupan.dashboard.queries import Filters
from cakupan.dates import Month
from cakupan.db import make_session_factory
from cakupan.errors import CakupanError
from cakupan.partners.models import Partner
from cakupan.synthetic.seed import seed


def _all_rows(session: Any, actor: Actor, kpi: str, month: Month, **extra: Any) -> list[int]:
    """Every record of a drill-down, page after page (by key)."""
    ids: list[int] = []
    after = None
    while True:
        page = queries.drill_down(session, actor, kpi, month, Filters(), after=after, **extra)
        ids += [row["participant_id"] for row in page["rows"]]
        after = page["next_after"]
        if after is None:
            return ids


def test_each_chart_figure_equals_its_records(engine: Engine) -> None:
    seed(engine, participants=300, seed_value=5, as_of=date(2026, 10, 31))
    with make_session_factory(engine)() as session:
        partner = session.scalars(
            select(Partner).where(Partner.parent_code.is_(None)).order_by(Partner.code)
        ).first()
        assert partner is not None
        actors = [
            Actor("pusat", Role.HEAD_OFFICE),
            Actor("kabid", Role.KABID, branch_code=partner.branch_code),
            Actor("mitra", Role.PARTNER, partner_code=partner.code),
        ]
        checked = 0
        for actor in actors:
            trend = queries.trend(session, actor, Filters())
            for point in trend["months"]:
                month = Month.parse(point["month"])
                for kpi, figure in (
                    ("new_registrations", point["new_registrations"]),
                    ("active", point["active_participants"]),
                ):
                    listed = _all_rows(session, actor, kpi, month)
                    assert len(listed) == figure, (actor.role, kpi, month)
                    assert (
                        queries.drill_down(session, actor, kpi, month, Filters())["total"] == figure
                    )
                    checked += figure
            for cohort in queries.cohorts(session, actor, Filters())["cohorts"]:
                start = Month.parse(cohort["cohort"])
                for cell in cohort["curve"]:
                    month = start + cell["age"]
                    listed = _all_rows(session, actor, "retained", month, cohort=start)
                    assert len(listed) == cell["part"], (actor.role, start, cell)
                    assert len(set(listed)) == len(listed)
                    total = queries.drill_down(
                        session, actor, "retained", month, Filters(), cohort=start
                    )["total"]
                    assert total == cell["part"]
                    checked += cell["part"]
        session.rollback()
    assert checked > 1000  # the comparison covered real records, not empty lists


def test_a_cell_needs_its_cohort_and_a_month_within_a_year(engine: Engine) -> None:
    with make_session_factory(engine)() as session:
        actor = Actor("pusat", Role.HEAD_OFFICE)
        with pytest.raises(CakupanError) as missing:
            queries.drill_down(session, actor, "retained", Month(2026, 7), Filters())
        assert missing.value.problems[0].field == "cohort"
        with pytest.raises(CakupanError) as far:
            queries.drill_down(
                session, actor, "retained", Month(2026, 7), Filters(), cohort=Month(2025, 6)
            )
        assert far.value.problems[0].field == "month"
