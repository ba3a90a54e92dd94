"""Issue 19, defect 4 on SQLite and PostgreSQL: a participant closed by the system on the 1st and
re-acquired in the same month counts in both ``closed_by_system`` and ``reacquired``; the status
on a date before the registration says the NIK was not registered yet."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
from sqlalchemy import Engine, func, select

from cakupan.auth import Actor
from cakupan.dates import JAKARTA, FixedClock, Month
from cakupan.db import transaction
from cakupan.errors import CakupanError, ErrorKind
from cakupan.registry import RegistrationRow, post_payment, register_participants, status_of
from cakupan.registry.close import close_month
from cakupan.registry.close_models import StatusTransition
from cakupan.registry.models import Membership, Participant
from tests.conftest import CliResult

ACTOR = Actor.system("test-close")
FLOOR = 16_800  # JKK+JKM at the floor, 2025 (before PP 50/2025)
C = "1671010101900001"  # pays January 2025, closed from 1 May, pays again on 10 May
K = "1671010101900002"  # pays January 2025 only: closed in May, nothing else
R = "1671010101900003"  # registered on 20 May 2025


@pytest.fixture
def ledger(engine: Engine) -> Engine:
    clock = FixedClock(datetime(2027, 6, 30, 12, 0, tzinfo=JAKARTA))
    with transaction(engine) as session:
        rows = [
            RegistrationRow(
                row=i,
                nik=n,
                name=f"Peserta {i}",
                phone="081234567890",
                occupation="farmer",
                reported_income=1_000_000,
                programs="JKK+JKM",
                registered_on=day,
                district_code="16.71.01",
            )
            for i, (n, day) in enumerate(
                {C: "2025-01-10", K: "2025-01-10", R: "2025-05-20"}.items(), start=1
            )
        ]
        assert register_participants(session, ACTOR, rows, clock=clock).rejected == 0
        for nik, paid_on, ref in ((C, "2025-01-15", "C1"), (K, "2025-01-15", "K1")):
            post_payment(
                session, ACTOR, nik=nik, amount=FLOOR, paid_on=paid_on, reference=ref,
                channel="bank", clock=clock,
            )  # fmt: skip
        post_payment(
            session, ACTOR, nik=C, amount=FLOOR, paid_on="2025-05-10", reference="C2",
            channel="bank", clock=clock,
        )  # fmt: skip
    return engine


def test_closed_on_the_first_and_reacquired_in_the_same_month_counts_both(ledger: Engine) -> None:
    with transaction(ledger) as session:
        result = close_month(session, ACTOR, Month(2025, 5)).as_json()
        rows = session.execute(
            select(Participant.nik, StatusTransition.kind, Membership.episode_no)
            .join(Participant, Participant.id == StatusTransition.participant_id)
            .join(Membership, Membership.id == StatusTransition.membership_id)
            .where(StatusTransition.month == Month(2025, 5))
            .order_by(Participant.nik, StatusTransition.kind)
        ).all()
    assert [tuple(r) for r in rows] == [
        (C, "closed_by_system", 1),  # the old episode closed on 1 May...
        (C, "reacquired", 2),  # ...and the new one opened on 10 May
        (K, "closed_by_system", 1),
    ]
    assert result["transitions"] == {
        "new": 0,
        "lapsed_to_arrears": 0,
        "closed_by_system": 2,
        "reacquired": 1,
        "voided": 0,
    }
    assert result["statuses"] == {"pending": 1, "active": 1, "arrears": 0, "closed": 1, "void": 0}
    with transaction(ledger) as session:  # a re-run gives the same counts
        assert close_month(session, ACTOR, Month(2025, 5)).as_json() == result


def test_status_before_the_registration_says_not_registered_yet(
    ledger: Engine, cli: Callable[..., CliResult]
) -> None:
    with transaction(ledger) as session:
        with pytest.raises(CakupanError) as caught:
            status_of(session, R, date(2025, 5, 19))  # same month, the day before
        assert caught.value.kind is ErrorKind.NOT_FOUND
        assert "2025-05-20" in str(caught.value)
        assert status_of(session, R, date(2025, 5, 20)).as_json()["status"] == "pending"
        with pytest.raises(CakupanError):
            status_of(session, R, date(2025, 4, 30))
        # an episode opened by a payment counts from that payment's date
        assert status_of(session, C, date(2025, 5, 9)).as_json()["status"] == "closed"
        assert status_of(session, C, date(2025, 5, 10)).as_json()["episode"] == 2
    out = cli("--lang", "en", "status", R, "--as-of", "2025-05-01", "--json")
    assert out.exit_code == 1
    assert "not registered yet" in out.stderr
    assert "pending" not in out.stdout + out.stderr


def test_the_dashboard_counts_the_closure_of_a_reacquired_participant(ledger: Engine) -> None:
    """The old episode's closure is in the dashboard's ``closed_by_system`` (with its own
    dimensions) although the month-end snapshot holds the new episode only."""
    from cakupan.dashboard.models import GRAIN_BRANCH, GRAIN_FULL, KpiMonthly
    from cakupan.dashboard.queries import Filters, summary

    with transaction(ledger) as session:
        close_month(session, ACTOR, Month(2025, 5))
        for grain in (GRAIN_BRANCH, GRAIN_FULL):
            figures = session.execute(
                select(
                    func.sum(KpiMonthly.closed_by_system), func.sum(KpiMonthly.reacquired)
                ).where(KpiMonthly.month == Month(2025, 5), KpiMonthly.grain == grain)
            ).one()
            assert tuple(figures) == (2, 1), grain
        may = Filters(first=Month(2025, 5), last=Month(2025, 5))
        cards = summary(session, Actor.system("test-close"), may)
        # the members of the month are still those of the snapshot: C once, K once, R once
        members = session.scalar(
            select(func.sum(KpiMonthly.active + KpiMonthly.arrears + KpiMonthly.pending
                            + KpiMonthly.closed))
            .where(KpiMonthly.month == Month(2025, 5), KpiMonthly.grain == GRAIN_BRANCH)
        )  # fmt: skip
    assert (cards.closed_by_system, cards.reacquired) == (2, 1)
    assert members == 3
