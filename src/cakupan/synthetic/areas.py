"""The demo's other areas, so that every page has something to show (issue 17): incentive
statements of the latest closed months, two campaigns of the Palembang branch with a prospect
list (some of whom registered and paid: the funnel), a weekly review with notes and follow-up
actions, and account assignments for the demo account representatives.

Every write goes through the owning area's actions (audited); running it again adds nothing."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from cakupan.auth import Actor
from cakupan.dates import Clock, Month
from cakupan.db import make_session_factory, transaction

#: The branch the demo's campaigns and review belong to (the demo users' branch).
BRANCH = "PLG"


def seed_demo_areas(
    engine: Engine, clock: Clock, *, officers: dict[str, str] | None = None
) -> dict[str, int]:
    """Seed the areas beyond the ledger (idempotent). ``officers`` maps ``ar``/``ark`` usernames
    to assign accounts to (their branch's participants by district). Returns what was added."""
    actor = Actor.system("demo")
    added = {"statements": 0, "campaigns": 0, "prospects": 0, "reviews": 0, "assignments": 0}
    added["statements"] = _statements(engine, actor, clock)
    campaigns, prospects = _campaigns(engine, actor, clock)
    added["campaigns"], added["prospects"] = campaigns, prospects
    added["reviews"] = _review(engine, actor, clock)
    added["assignments"] = _assignments(engine, actor, clock, officers or {})
    return added


def _latest_closed(engine: Engine) -> Month | None:
    from cakupan.dashboard.queries import latest_closed_month

    with make_session_factory(engine)() as session:
        return latest_closed_month(session)


def _statements(engine: Engine, actor: Actor, clock: Clock) -> int:
    """Incentive runs of the two latest closed months (drafts for the head of membership)."""
    from cakupan.incentives.actions import run_period
    from cakupan.incentives.models import IncentiveStatement

    latest = _latest_closed(engine)
    if latest is None:
        return 0
    with make_session_factory(engine)() as session:
        if session.scalar(select(func.count()).select_from(IncentiveStatement)):
            return 0
    added = 0
    for period in (latest + -1, latest):
        with transaction(engine) as session:
            result = run_period(session, actor, clock, period)
            added += len(result.as_json().get("statements", []))
    return added


def _participants(engine: Engine, limit: int) -> list[Any]:
    from cakupan.registry.models import Participant

    with make_session_factory(engine)() as session:
        return list(
            session.execute(
                select(
                    Participant.nik,
                    Participant.name,
                    Participant.district_code,
                    Participant.registered_on,
                )
                .where(Participant.branch_code == BRANCH)
                .order_by(Participant.registered_on.desc(), Participant.id)
                .limit(limit)
            ).all()
        )


def _campaigns(engine: Engine, actor: Actor, clock: Clock) -> tuple[int, int]:
    """Two campaigns of the branch over its latest registrations' districts, and a prospect
    list of one of them: registered participants (listed before they registered) and people
    not registered yet, some of them contacted."""
    from cakupan.campaigns.actions import import_campaigns
    from cakupan.campaigns.models import Campaign, Prospect
    from cakupan.campaigns.prospects import import_prospects, record_contact

    with make_session_factory(engine)() as session:
        if session.scalar(select(func.count()).select_from(Campaign)):
            return 0, 0
    people = _participants(engine, 30)
    if not people:
        return 0, 0
    first_day = min(p.registered_on for p in people) - timedelta(days=10)
    last_day = first_day + timedelta(days=2)
    districts = sorted({p.district_code for p in people if p.district_code})[:3]
    areas = ";".join(districts)
    with tempfile.TemporaryDirectory() as folder:
        campaigns = Path(folder) / "campaigns.csv"
        campaigns.write_text(
            "code,name,objective,type,medium,start_on,end_on,budget,actual_cost,reached,"
            "interested,segments,areas,window_days\n"
            f"DEMO-SOS-1,Sosialisasi pasar tradisional,Pedagang pasar terdaftar,"
            f"sosialisasi_offline,,{first_day},{last_day},5000000,4750000,400,60,market-traders,{areas},45\n"
            f"DEMO-DM-2,Telemarketing paguyuban ojol,Pengemudi daring terdaftar,"
            f"direct_marketing,,{first_day},{last_day + timedelta(days=5)},1500000,,,,ojol-drivers,{areas},30\n",
            encoding="utf-8",
        )
        result = import_campaigns(engine, actor, campaigns, clock=clock)
        if result.rejected:
            return 0, 0
        lines = ["nik,name,phone,district_code,listed_on"]
        for person in people[:12]:
            lines.append(f"{person.nik},{person.name},,{person.district_code or ''},{first_day}")
        for i in range(8):
            lines.append(f",Calon peserta {i + 1},0812{i:08d},{districts[0]},{first_day}")
        prospects = Path(folder) / "prospects.csv"
        prospects.write_text("\n".join(lines) + "\n", encoding="utf-8")
        listed = import_prospects(
            engine, actor, prospects, campaign_code="DEMO-DM-2", partial=True, clock=clock
        )
    with transaction(engine) as session:
        ids = list(session.scalars(select(Prospect.id).order_by(Prospect.id)))
        for index, prospect_id in enumerate(ids[-8:]):
            outcome = ("contacted", "interested", "refused", "unreachable")[index % 4]
            record_contact(
                session,
                actor,
                prospect_id,
                outcome=outcome,
                refusal_reason="cannot_afford" if outcome == "refused" else None,
                contacted_on=last_day + timedelta(days=1),
                clock=clock,
            )
    return result.accepted, listed.accepted


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _review(engine: Engine, actor: Actor, clock: Clock) -> int:
    """Last week's review of the branch: a problem, a solution, a decision, two actions (one
    closed in the review after it, one carried over)."""
    from cakupan.targets.actions import add_note, close_action, open_review, raise_action
    from cakupan.targets.models import WeeklyReview

    with make_session_factory(engine)() as session:
        if session.scalar(select(func.count()).select_from(WeeklyReview)):
            return 0
    from cakupan.dates import today as today_of

    today = today_of(clock)
    week = _monday(today) - timedelta(days=14)
    with transaction(engine) as session:
        first = open_review(session, actor, BRANCH, week, week + timedelta(days=4))
        add_note(session, actor, first.id, "problem", "Iuran pedagang pasar banyak menunggak")
        add_note(session, actor, first.id, "solution", "Kunjungi paguyuban pasar bersama mitra")
        add_note(session, actor, first.id, "decision", "ARK menelepon peserta menunggak 1 bulan")
        letter = raise_action(
            session, actor, first.id, "Surat ke paguyuban pasar", "ark", week + timedelta(days=4)
        )
        raise_action(
            session,
            actor,
            first.id,
            "Daftar ulang peserta ditutup",
            "ar.demo",
            week + timedelta(days=11),
        )
        second = open_review(
            session, actor, BRANCH, week + timedelta(days=7), week + timedelta(days=11)
        )
        close_action(
            session,
            actor,
            letter.id,
            second.id,
            week + timedelta(days=9),
            "Surat terkirim, pertemuan Kamis",
        )
    return 2


def _assignments(engine: Engine, actor: Actor, clock: Clock, officers: dict[str, str]) -> int:
    """Each demo account representative gets the participants of one district of the branch."""
    from cakupan.dashboard.accounts import AccountSelection, assign_accounts

    people = _participants(engine, 200)
    districts = sorted({p.district_code for p in people if p.district_code})
    added = 0
    for index, username in enumerate(sorted(officers)):
        if index >= len(districts):
            break
        with transaction(engine) as session:
            result = assign_accounts(
                session,
                actor,
                username,
                AccountSelection(districts=(districts[index],)),
                clock=clock,
            )
            added += int(result.get("assigned", 0))
    return added
