"""The monthly close on SQLite and PostgreSQL: hand-computed snapshots and transitions for every
status and kind, year boundaries, re-acquisition, reversals before and after the month end,
idempotent re-runs, the CLI contract, and a randomized cross-check against ``status_of``."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cakupan.audit import AuditEntry
from cakupan.auth import Actor
from cakupan.dates import JAKARTA, FixedClock, Month
from cakupan.db import transaction
from cakupan.errors import CakupanError
from cakupan.registry import (
    RegistrationRow,
    StatusView,
    post_payment,
    register_participants,
    reverse_payment,
    status_of,
)
from cakupan.registry.close import close_month, month_close_result
from cakupan.registry.close_models import MonthClose, StatusSnapshot, StatusTransition
from cakupan.registry.models import Participant
from tests.conftest import CliResult

ACTOR = Actor.system("test-close")
FLOOR = 16_800  # JKK+JKM at base Rp 1.000.000 before PP 50/2025 (all months used here)


def nik(serial: int, born: str = "010190") -> str:
    """A valid NIK of district 16.71.01 (Palembang) with the given serial."""
    return f"167101{born}{serial:04d}"


A, B, C, D, E, F, G = (nik(i) for i in range(1, 8))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2027, 6, 30, 12, 0, tzinfo=JAKARTA))


def register(session: Session, clock: FixedClock, who: dict[str, str]) -> None:
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
        for i, (n, day) in enumerate(who.items(), start=1)
    ]
    result = register_participants(session, ACTOR, rows, clock=clock)
    assert result.rejected == 0, result.as_json()


def pay(session: Session, clock: FixedClock, who: str, months: int, paid_on: str, ref: str) -> None:
    post_payment(
        session,
        ACTOR,
        nik=who,
        amount=FLOOR * months,
        paid_on=paid_on,
        reference=ref,
        channel="bank",
        clock=clock,
    )


def reverse(session: Session, clock: FixedClock, ref: str, on: str) -> None:
    reverse_payment(
        session, ACTOR, ref, reason="dana kembali", reversed_on=date.fromisoformat(on), clock=clock
    )


@pytest.fixture
def ledger(engine: Engine, clock: FixedClock) -> Engine:
    """Seven participants whose lifecycles cover every status and transition (see each comment)."""
    with transaction(engine) as session:
        register(
            session,
            clock,
            {
                A: "2025-03-05",  # pays March only: new, arrears, closed
                B: "2025-03-20",  # never pays: pending, void from June
                C: "2025-01-10",  # pays January, closed from May, pays again in August
                D: "2025-05-02",  # pays May on 2 June (after the May month end)
                E: "2025-04-01",  # pays April and May; May reversed on 10 June
                F: "2025-04-01",  # pays April, reversed on 20 April (before the month end)
                G: "2025-11-03",  # prepays Nov, Dec and Jan 2026 (year boundary)
            },
        )
        pay(session, clock, A, 1, "2025-03-10", "A1")
        pay(session, clock, C, 1, "2025-01-15", "C1")
        pay(session, clock, C, 1, "2025-08-05", "C2")  # closed since May: episode 2
        pay(session, clock, D, 1, "2025-06-02", "D1")
        pay(session, clock, E, 1, "2025-04-01", "E1")
        pay(session, clock, E, 1, "2025-05-03", "E2")
        reverse(session, clock, "E2", "2025-06-10")
        pay(session, clock, F, 1, "2025-04-02", "F1")
        reverse(session, clock, "F1", "2025-04-20")
        pay(session, clock, G, 3, "2025-11-05", "G1")
    return engine


def close(engine: Engine, month: str) -> dict[str, object]:
    with transaction(engine) as session:
        return close_month(session, ACTOR, Month.parse(month)).as_json()


def snapshot(engine: Engine, month: str) -> dict[str, tuple[str, int, str | None, int]]:
    """``{nik: (status, episode, paid_through, months_paid)}`` of a closed month."""
    with transaction(engine) as session:
        rows = session.execute(
            select(
                Participant.nik,
                StatusSnapshot.status,
                StatusSnapshot.episode_no,
                StatusSnapshot.paid_through_month,
                StatusSnapshot.months_paid,
            )
            .join(Participant, Participant.id == StatusSnapshot.participant_id)
            .where(StatusSnapshot.month == Month.parse(month))
        ).all()
    return {n: (s, e, None if m is None else str(m), p) for n, s, e, m, p in rows}


def transitions(engine: Engine, month: str) -> dict[str, str]:
    """``{nik: kind}`` of the transitions of the episode in force at the month end (the closure
    of a replaced episode, recorded against the old episode, is in ``all_transitions``)."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Participant.nik, StatusTransition.kind)
            .join(Participant, Participant.id == StatusTransition.participant_id)
            .join(
                StatusSnapshot,
                (StatusSnapshot.month == StatusTransition.month)
                & (StatusSnapshot.participant_id == StatusTransition.participant_id)
                & (StatusSnapshot.membership_id == StatusTransition.membership_id),
            )
            .where(StatusTransition.month == Month.parse(month))
        ).all()
    assert len(rows) == len({n for n, _ in rows}), "at most one transition per in-force episode"
    return dict(rows)


def all_transitions(engine: Engine, month: str) -> dict[str, tuple[str, ...]]:
    """``{nik: kinds}`` of every transition of the month, kinds sorted."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Participant.nik, StatusTransition.kind)
            .join(Participant, Participant.id == StatusTransition.participant_id)
            .where(StatusTransition.month == Month.parse(month))
            .order_by(Participant.nik, StatusTransition.kind)
        ).all()
    out: dict[str, tuple[str, ...]] = {}
    for who, kind in rows:
        out[who] = (*out.get(who, ()), kind)
    return out


def test_march_new_and_pending(ledger: Engine) -> None:
    result = close(ledger, "2025-03")
    assert snapshot(ledger, "2025-03") == {
        A: ("active", 1, "2025-03", 1),
        B: ("pending", 1, None, 0),
        C: ("arrears", 1, "2025-01", 1),
    }
    assert transitions(ledger, "2025-03") == {A: "new"}
    assert result == {
        "month": "2025-03",
        "participants": 3,
        "statuses": {"pending": 1, "active": 1, "arrears": 1, "closed": 0, "void": 0},
        "transitions": {
            "new": 1,
            "lapsed_to_arrears": 0,
            "closed_by_system": 0,
            "reacquired": 0,
            "voided": 0,
        },
    }


def test_january_to_may_of_a_one_month_payer(ledger: Engine) -> None:
    expected = {
        "2025-01": (("active", 1, "2025-01", 1), "new"),
        "2025-02": (("arrears", 1, "2025-01", 1), "lapsed_to_arrears"),
        "2025-03": (("arrears", 1, "2025-01", 1), None),
        "2025-04": (("arrears", 1, "2025-01", 1), None),
        "2025-05": (("closed", 1, "2025-01", 1), "closed_by_system"),  # M + 4
        "2025-06": (("closed", 1, "2025-01", 1), None),
        "2025-07": (("closed", 1, "2025-01", 1), None),
        "2025-08": (("active", 2, "2025-08", 1), "reacquired"),  # D-4: a new episode
        "2025-09": (("arrears", 2, "2025-08", 1), "lapsed_to_arrears"),
    }
    for month, (state, kind) in expected.items():
        close(ledger, month)
        assert snapshot(ledger, month)[C] == state, month
        assert transitions(ledger, month).get(C) == kind, month


def test_void_and_the_month_it_happens(ledger: Engine) -> None:
    for month in ("2025-05", "2025-06", "2025-07"):
        close(ledger, month)
    assert snapshot(ledger, "2025-05")[B] == ("pending", 1, None, 0)
    assert snapshot(ledger, "2025-06")[B] == ("void", 1, None, 0)  # registered March: R + 3
    assert transitions(ledger, "2025-06")[B] == "voided"
    assert snapshot(ledger, "2025-07")[B] == ("void", 1, None, 0)
    assert B not in transitions(ledger, "2025-07")
    # F's only payment was reversed in April (before the month end): pending, then void in July
    assert snapshot(ledger, "2025-05")[F] == ("pending", 1, None, 0)
    assert F not in transitions(ledger, "2025-05")
    assert snapshot(ledger, "2025-07")[F] == ("void", 1, None, 0)
    assert transitions(ledger, "2025-07")[F] == "voided"


def test_payment_after_the_month_end_counts_from_its_own_month(ledger: Engine) -> None:
    close(ledger, "2025-05")
    close(ledger, "2025-06")
    assert snapshot(ledger, "2025-05")[D] == ("pending", 1, None, 0)
    assert D not in transitions(ledger, "2025-05")
    assert snapshot(ledger, "2025-06")[D] == ("arrears", 1, "2025-05", 1)
    assert transitions(ledger, "2025-06")[D] == "new"


def test_reversal_after_the_month_end_does_not_change_that_month(ledger: Engine) -> None:
    for month in ("2025-04", "2025-05", "2025-06"):
        close(ledger, month)
    assert snapshot(ledger, "2025-04")[E] == ("active", 1, "2025-04", 1)
    assert transitions(ledger, "2025-04")[E] == "new"
    assert snapshot(ledger, "2025-05")[E] == ("active", 1, "2025-05", 2)  # E2 reversed in June
    assert E not in transitions(ledger, "2025-05")
    assert snapshot(ledger, "2025-06")[E] == ("arrears", 1, "2025-04", 1)
    assert transitions(ledger, "2025-06")[E] == "lapsed_to_arrears"
    # F paid and was reversed within April: nothing counted, no transition
    assert snapshot(ledger, "2025-04")[F] == ("pending", 1, None, 0)
    assert F not in transitions(ledger, "2025-04")


def test_year_boundary_with_a_three_month_prepayment(ledger: Engine) -> None:
    expected = {
        "2025-11": (("active", 1, "2026-01", 3), "new"),
        "2025-12": (("active", 1, "2026-01", 3), None),
        "2026-01": (("active", 1, "2026-01", 3), None),
        "2026-02": (("arrears", 1, "2026-01", 3), "lapsed_to_arrears"),
        "2026-04": (("arrears", 1, "2026-01", 3), None),
        "2026-05": (("closed", 1, "2026-01", 3), "closed_by_system"),
    }
    for month, (state, kind) in expected.items():
        close(ledger, month)
        assert snapshot(ledger, month)[G] == state, month
        assert transitions(ledger, month).get(G) == kind, month
    close(ledger, "2025-10")
    assert G not in snapshot(ledger, "2025-10")  # not registered yet


def test_rerun_is_idempotent_and_audited(ledger: Engine) -> None:
    first = close(ledger, "2025-06")
    rows = snapshot(ledger, "2025-06")
    kinds = transitions(ledger, "2025-06")
    second = close(ledger, "2025-06")
    assert second == first
    assert snapshot(ledger, "2025-06") == rows
    assert transitions(ledger, "2025-06") == kinds
    with transaction(ledger) as session:
        audits = session.execute(
            select(AuditEntry.action, AuditEntry.before, AuditEntry.after)
            .where(AuditEntry.entity_type == "month_close", AuditEntry.entity_id == "2025-06")
            .order_by(AuditEntry.id)
        ).all()
        assert [a.action for a in audits] == [
            "registry.close_month",
            "registry.close_month_rerun",
        ]
        assert audits[0].before is None
        assert audits[1].before == audits[0].after == audits[1].after
        assert session.execute(select(func.count()).select_from(MonthClose)).scalar_one() == 1
        recorded = month_close_result(session, Month(2025, 6))
        assert recorded is not None
        assert recorded.as_json() == first
        assert month_close_result(session, Month(2025, 7)) is None


def test_rerun_after_a_late_reversal_replaces_the_month(ledger: Engine, clock: FixedClock) -> None:
    close(ledger, "2025-11")
    assert snapshot(ledger, "2025-11")[G] == ("active", 1, "2026-01", 3)
    with transaction(ledger) as session:
        reverse(session, clock, "G1", "2025-11-20")
    result = close(ledger, "2025-11")
    assert snapshot(ledger, "2025-11")[G] == ("pending", 1, None, 0)
    assert G not in transitions(ledger, "2025-11")
    assert result["transitions"]["new"] == 0  # type: ignore[index]


def test_closing_out_of_order_gives_the_same_rows(ledger: Engine) -> None:
    close(ledger, "2025-09")
    later_first = snapshot(ledger, "2025-09"), transitions(ledger, "2025-09")
    for month in ("2025-07", "2025-08", "2025-09"):
        close(ledger, month)
    assert (snapshot(ledger, "2025-09"), transitions(ledger, "2025-09")) == later_first


def test_every_snapshot_row_equals_status_of(ledger: Engine) -> None:
    for month in Month(2025, 1), Month(2025, 6), Month(2025, 8), Month(2026, 5):
        close(ledger, str(month))
        rows = snapshot(ledger, str(month))
        with transaction(ledger) as session:
            for n, (state, episode, through, paid) in rows.items():
                view = status_of(session, n, month.last_day)
                assert (str(view.status), view.episode, view.months_paid_in_episode) == (
                    state,
                    episode,
                    paid,
                )
                assert (None if view.paid_through is None else str(view.paid_through)) == through


def test_cli_contract(ledger: Engine, cli: Callable[..., CliResult]) -> None:
    result = cli("close", "--month", "2025-06", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "month": "2025-06",
        # A arrears (M=Mar), B void, C closed, D arrears (new), E arrears, F pending
        "participants": 6,
        "statuses": {"pending": 1, "active": 0, "arrears": 3, "closed": 1, "void": 1},
        "transitions": {
            "new": 1,
            "lapsed_to_arrears": 1,
            "closed_by_system": 0,
            "reacquired": 0,
            "voided": 1,
        },
    }
    human = cli("close", "--month", "2025-06")
    assert human.exit_code == 0, human.stderr
    assert "2025-06" in human.stdout
    assert "arrears" in human.stdout
    assert cli("close", "--month", "0001-01", "--json").exit_code == 2
    bad = cli("close", "--month", "2025-13", "--json")
    assert bad.exit_code == 2
    assert "YYYY-MM" in bad.stderr
    assert bad.stdout == ""


def test_closing_an_empty_ledger(engine: Engine) -> None:
    result = close(engine, "2025-01")
    assert result["participants"] == 0
    assert set(result["statuses"].values()) == {0}  # type: ignore[union-attr]


# -- randomized cross-check ---------------------------------------------------------------------


def _expected_transition(before: StatusView | None, after: StatusView) -> str | None:
    """docs/lifecycle.md's definitions, written over two ``status_of`` answers."""
    paying = {"active", "arrears"}
    same = before is not None and before.episode == after.episode
    was = str(before.status) if before is not None else None
    now = str(after.status)
    if now in paying and not (same and was in paying):
        return "new" if after.episode == 1 else "reacquired"
    if now == "arrears" and same and was == "active":
        return "lapsed_to_arrears"
    if now == "closed" and same and was in paying:
        return "closed_by_system"
    if now == "void" and not (same and was == "void"):
        return "voided"
    return None


def _expected_transitions(before: StatusView | None, after: StatusView) -> tuple[str, ...]:
    """Every kind of the month, sorted: the in-force episode's, plus ``closed_by_system`` when
    the episode in force at the end of the month before was paying and was replaced."""
    own = _expected_transition(before, after)
    replaced = (
        before is not None
        and before.episode != after.episode
        and str(before.status) in {"active", "arrears"}
    )
    return tuple(sorted([*([own] if own else []), *(["closed_by_system"] if replaced else [])]))


def _status_or_none(session: Session, who: str, day: date) -> StatusView | None:
    try:
        return status_of(session, who, day)
    except CakupanError:
        return None


def test_randomized_ledger_matches_status_of(engine: Engine, clock: FixedClock) -> None:
    """120 generated participants with monthly, late, multi-month, lapsing, re-acquiring and
    reversed payments: every snapshot row equals ``status_of`` on the month's last day and every
    transition equals the definition applied to ``status_of`` on the two month ends."""
    rnd = random.Random(20251)
    people = {
        nik(100 + i): date(2025, 1, 1) + timedelta(days=rnd.randrange(0, 180)) for i in range(120)
    }
    with transaction(engine) as session:
        register(session, clock, {n: d.isoformat() for n, d in people.items()})
        ref = 0
        for who, registered in people.items():
            day = registered + timedelta(days=rnd.randrange(0, 40))
            for _ in range(rnd.randrange(0, 8)):
                months = rnd.choice((1, 1, 1, 2, 3))
                ref += 1
                try:
                    pay(session, clock, who, months, day.isoformat(), f"R{ref}")
                except CakupanError:
                    pass  # void registrations and the like: the ledger refuses, as it should
                else:
                    if rnd.random() < 0.12:
                        reverse(
                            session,
                            clock,
                            f"R{ref}",
                            (day + timedelta(days=rnd.randrange(0, 45))).isoformat(),
                        )
                gap = rnd.choice((20, 30, 31, 45, 60, 150, 200))
                day += timedelta(days=gap)
                if day > date(2026, 2, 28):
                    break
    months = [Month(2025, 1) + i for i in range(15)]
    for month in months:
        close(engine, str(month))
    with transaction(engine) as session:
        for month in months:
            rows = snapshot(engine, str(month))
            kinds = all_transitions(engine, str(month))
            for who in people:
                view = _status_or_none(session, who, month.last_day)
                if view is None:
                    assert who not in rows
                    continue
                through = None if view.paid_through is None else str(view.paid_through)
                assert rows[who] == (
                    str(view.status),
                    view.episode,
                    through,
                    view.months_paid_in_episode,
                ), (who, month)
                before = _status_or_none(session, who, (month + -1).last_day)
                assert kinds.get(who, ()) == _expected_transitions(before, view), (who, month)
        statuses = {
            status for (status,) in session.execute(select(StatusSnapshot.status).distinct()).all()
        }
    assert statuses == {"pending", "active", "arrears", "closed", "void"}
