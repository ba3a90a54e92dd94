"""The retention workbench in the demo: a lapse-risk model trained on the synthetic data (with
its 6-month backtest), this month's scores, owners for the demo ARK and AR users and a month of
recorded contacts. Called once by ``cakupan demo`` after the demo users exist."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import Engine, func, select

from cakupan.auth import Actor
from cakupan.dates import JAKARTA, Clock, FixedClock, Month, SystemClock, today
from cakupan.db import make_session_factory, transaction
from cakupan.errors import CakupanError
from cakupan.retention.actions import assign_owner, record_outcome
from cakupan.retention.lapse import score_month, train_model
from cakupan.retention.models import RetentionModel
from cakupan.retention.queries import WorklistFilters, worklist
from cakupan.retention.rules import REFUSAL_REASONS
from cakupan.users.models import User

#: Rows given to each demo owner per list.
OWNED_PER_LIST = 25
#: Contacts recorded over the last 30 days.
CONTACTS = 60


def seed_demo_retention(engine: Engine, clock: Clock | None = None) -> list[str]:
    """Train, score, assign and log contacts for the demo (once: nothing when a model exists).
    Returns lines to print; a database too young to train on says so instead of failing."""
    clock = clock or SystemClock()
    actor = Actor.system("demo")
    day = today(clock)
    with make_session_factory(engine)() as session:
        if session.scalar(select(func.count()).select_from(RetentionModel)):
            return []
    lines: list[str] = []
    try:
        with transaction(engine) as session:
            trained = train_model(
                session,
                actor,
                Month.of(day).first_day - timedelta(days=1),
                synthetic=True,
                backtest_months=6,
                clock=clock,
            )
            scored = score_month(session, actor, Month.of(day), clock=clock)
        lines.append(
            f"Model retensi / retention model {trained['model']}: "
            f"{scored['scored']} skor/scores {scored['month']}"
        )
    except CakupanError as error:
        lines.append(f"Model retensi dilewati / retention model skipped: {error.render('en')}")
    rng = random.Random(15)
    with transaction(engine) as session:
        owners = [
            u
            for u in session.scalars(select(User).where(User.username.in_(("ark", "ar.demo"))))
            if u.branch_code
        ]
        for user in owners:
            for list_name in ("due", "arrears", "unpaid_registration", "closed_recent"):
                rows = worklist(
                    session,
                    actor,
                    list_name,
                    day,
                    WorklistFilters(branch=user.branch_code),
                    limit=OWNED_PER_LIST * len(owners),
                )["rows"]
                mine = [r["nik"] for r in rows if r["owner"] is None][:OWNED_PER_LIST]
                if mine:
                    assign_owner(session, actor, user.username, mine, clock=clock)
        owned = [
            r
            for user in owners
            for list_name in ("due", "arrears")
            for r in worklist(session, actor, list_name, day, WorklistFilters(owner=user.username))[
                "rows"
            ]
        ]
    outcomes = ("no_answer", "promised_to_pay", "refused", "call_back", "wrong_number")
    recorded = 0
    for row in rng.sample(owned, min(CONTACTS, len(owned))):
        when = day - timedelta(days=rng.randint(0, 29))
        at = FixedClock(datetime.combine(when, time(10, 0), tzinfo=JAKARTA))
        outcome = rng.choice(outcomes)
        try:
            with transaction(engine) as session:
                record_outcome(
                    session,
                    Actor.system("demo"),
                    row["nik"],
                    outcome=outcome,
                    promised_on=when + timedelta(days=rng.randint(1, 10))
                    if outcome == "promised_to_pay"
                    else None,
                    reason=rng.choice(list(REFUSAL_REASONS)) if outcome == "refused" else None,
                    clock=at,
                )
            recorded += 1
        except CakupanError:
            continue
    lines.append(
        f"Retensi / retention: {len(owned)} baris berpemilik/owned rows, {recorded} kontak/contacts"
    )
    return lines
