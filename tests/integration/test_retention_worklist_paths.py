"""The worklist's two read paths agree (issue 15, performance): as of a date after which the
ledger holds nothing (the usual "today"), the worklist reads the episodes' paid-through
projection by index; as of an earlier date it totals the payments made by then, narrowed to the
caller's scope first. Same rows, same order, same figures, on SQLite and PostgreSQL. The policy
book is cached per process and rebuilt when the policies change."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import Engine, select

from cakupan.auth import Actor, Role
from cakupan.contributions.models import ContributionPolicy
from cakupan.dates import JAKARTA, FixedClock, Month
from cakupan.db import transaction
from cakupan.registry.models import Participant
from cakupan.retention.queries import (
    WorklistFilters,
    cached_policy_book,
    ledger_settled_by,
    worklist,
)
from cakupan.retention.rules import LISTS
from cakupan.synthetic.seed import seed

AS_OF = date(2026, 10, 31)
CLOCK = FixedClock(datetime(2026, 11, 2, 9, 0, tzinfo=JAKARTA))


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(
        engine,
        participants=300,
        seed_value=15,
        as_of=AS_OF,
        start=date(2026, 1, 1),
        clock=CLOCK,
        close=False,
    )
    return engine


def test_projection_and_ledger_paths_agree(seeded: Engine) -> None:
    with transaction(seeded) as session:
        assert ledger_settled_by(session, AS_OF)
        assert not ledger_settled_by(session, date(2026, 10, 10))
        branch = session.scalar(select(Participant.branch_code).limit(1))
        actors = [
            Actor.system("paths"),
            Actor(name="kabid.paths", role=Role.KABID, branch_code=branch),
        ]
        totals = 0
        for actor in actors:
            for name in LISTS:
                for filters in (WorklistFilters(), WorklistFilters(risk_band=None, branch=branch)):
                    fast = worklist(session, actor, name, AS_OF, filters, projection=True)
                    slow = worklist(session, actor, name, AS_OF, filters, projection=False)
                    assert fast == slow, (actor.name, name)
                    default = worklist(session, actor, name, AS_OF, filters)
                    assert default == fast
                    totals += fast["total"]
        # every list of the seeded data has rows: the comparison compared something
        system = actors[0]
        assert all(worklist(session, system, name, AS_OF)["total"] > 0 for name in LISTS)
        assert totals > 0


def test_policy_book_is_cached_until_the_policies_change(seeded: Engine) -> None:
    with transaction(seeded) as session:
        first = cached_policy_book(session)
        assert cached_policy_book(session) is first
    with transaction(seeded) as session:
        latest = session.scalars(
            select(ContributionPolicy).order_by(ContributionPolicy.id.desc()).limit(1)
        ).one()
        session.add(
            ContributionPolicy(
                code=latest.code,
                version=latest.version + 100,
                kind=latest.kind,
                program=latest.program,
                sector=latest.sector,
                funding=latest.funding,
                valid_from=Month(2030, 1),
                valid_to=None,
                percent=latest.percent,
                amount=latest.amount,
                source="test: a reference reload",
                title=latest.title,
            )
        )
    with transaction(seeded) as session:
        again = cached_policy_book(session)
        assert again is not first
        assert cached_policy_book(session) is again
