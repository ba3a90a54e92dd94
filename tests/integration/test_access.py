"""Scoped reads and unmasking (cakupan.access) on SQLite and PostgreSQL.

The participant-like rows live in a probe table made by the test (the same three columns that
``participant``, ``membership`` and ``payment`` carry), so the scoping rules are checked on both
engines independently of the ledger's schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, insert, select
from sqlalchemy.orm import Session

from cakupan.access import SensitiveValue, participant_scope, participant_scope_for, reveal
from cakupan.audit import AuditEntry
from cakupan.auth import Actor, Role

probe_metadata = MetaData()
probe = Table(
    "scope_probe",
    probe_metadata,
    Column("id", Integer, primary_key=True),
    Column("branch_code", String(40)),
    Column("partner_code", String(40)),
    Column("agent_code", String(40)),
)
#: Two regions, two branches each; two partners (P1 with agents A1 and A2; P2 with A3).
REGIONS = {"R1": ["B1", "B2"], "R2": ["B3", "B4"]}
AGENTS = {"P1": ["A1", "A2"], "P2": ["A3"]}
ROWS = [
    (1, "B1", "P1", None),
    (2, "B1", "P1", "A1"),
    (3, "B2", "P1", "A2"),
    (4, "B2", None, "A2"),  # registered by P1's agent, partner column empty
    (5, "B3", "P2", "A3"),
    (6, "B4", None, None),
    (7, None, None, None),
]


@pytest.fixture
def probe_rows(engine: Engine) -> Iterator[Engine]:
    probe_metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(probe),
            [
                dict(zip(("id", "branch_code", "partner_code", "agent_code"), row, strict=True))
                for row in ROWS
            ],
        )
    yield engine
    probe_metadata.drop_all(engine)


def _visible(engine: Engine, actor: Actor) -> list[int]:
    condition = participant_scope(
        actor,
        branch_code=probe.c.branch_code,
        partner_code=probe.c.partner_code,
        agent_code=probe.c.agent_code,
        branches_of_region=lambda region: REGIONS.get(region, []),
        agents_of_partner=lambda partner: AGENTS.get(partner, []),
    )
    with engine.connect() as conn:
        return list(conn.scalars(select(probe.c.id).where(condition).order_by(probe.c.id)))


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (Actor("a", Role.ADMIN), [1, 2, 3, 4, 5, 6, 7]),
        (Actor("h", Role.HEAD_OFFICE), [1, 2, 3, 4, 5, 6, 7]),
        (Actor("u", Role.AUDITOR), [1, 2, 3, 4, 5, 6, 7]),
        (Actor("r", Role.REGIONAL, region_code="R1"), [1, 2, 3, 4]),
        (Actor("r", Role.REGIONAL, region_code="R2"), [5, 6]),
        (Actor("r", Role.REGIONAL, region_code="R9"), []),
        (Actor("k", Role.KABID, branch_code="B1"), [1, 2]),
        (Actor("k", Role.ARK, branch_code="B2"), [3, 4]),
        (Actor("k", Role.AR, branch_code="B3"), [5]),
        (Actor("k", Role.PAP, branch_code="B4"), [6]),
        (Actor("p", Role.PARTNER, partner_code="P1"), [1, 2, 3, 4]),
        (Actor("p", Role.PARTNER, partner_code="P2"), [5]),
        (Actor("g", Role.AGENT, partner_code="P1", agent_code="A2"), [3, 4]),
        (Actor("g", Role.AGENT, partner_code="P2", agent_code="A3"), [5]),
        # a role without its scope code sees nothing (fail closed)
        (Actor("k", Role.KABID), []),
        (Actor("p", Role.PARTNER), []),
        (Actor("g", Role.AGENT, partner_code="P1"), []),
    ],
)
def test_scope_matrix(probe_rows: Engine, actor: Actor, expected: list[int]) -> None:
    assert _visible(probe_rows, actor) == expected


def _visible_rows(engine: Engine, actor: Actor) -> list[int]:
    """Row-level reads pass the participant id: account representatives see their accounts."""
    accounts = {1: [3, 1], 2: [5, 6]}  # user id -> assigned participant ids
    condition = participant_scope(
        actor,
        branch_code=probe.c.branch_code,
        partner_code=probe.c.partner_code,
        agent_code=probe.c.agent_code,
        branches_of_region=lambda region: REGIONS.get(region, []),
        agents_of_partner=lambda partner: AGENTS.get(partner, []),
        participant_id=probe.c.id,
        accounts_of_user=lambda user_id: accounts.get(user_id, []),
    )
    with engine.connect() as conn:
        return list(conn.scalars(select(probe.c.id).where(condition).order_by(probe.c.id)))


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        # assigned accounts within the branch only (1 is assigned but in another branch)
        (Actor("ark", Role.ARK, user_id=1, branch_code="B2"), [3]),
        (Actor("ar", Role.AR, user_id=2, branch_code="B3"), [5]),
        (Actor("ar", Role.AR, user_id=3, branch_code="B3"), []),  # nothing assigned
        (Actor("ar", Role.AR, branch_code="B3"), []),  # no user: fail closed
        # every other role is unchanged by the participant column
        (Actor("k", Role.KABID, branch_code="B1"), [1, 2]),
        (Actor("k", Role.PAP, branch_code="B2"), [3, 4]),
        (Actor("p", Role.PARTNER, partner_code="P1"), [1, 2, 3, 4]),
        (Actor("a", Role.ADMIN), [1, 2, 3, 4, 5, 6, 7]),
    ],
)
def test_account_representatives_see_their_assigned_accounts(
    probe_rows: Engine, actor: Actor, expected: list[int]
) -> None:
    assert _visible_rows(probe_rows, actor) == expected


def test_region_and_agents_as_subqueries(probe_rows: Engine) -> None:
    """Codes may come as a SELECT (kept in SQL, e.g. branches of a region from the offices)."""
    branches = Table(
        "probe_branch",
        probe_metadata,
        Column("code", String(40), primary_key=True),
        Column("region", String(40)),
    )
    branches.create(probe_rows)
    with probe_rows.begin() as conn:
        conn.execute(
            insert(branches), [{"code": b, "region": r} for r, bs in REGIONS.items() for b in bs]
        )
    condition = participant_scope(
        Actor("r", Role.REGIONAL, region_code="R2"),
        branch_code=probe.c.branch_code,
        partner_code=probe.c.partner_code,
        agent_code=probe.c.agent_code,
        branches_of_region=lambda region: select(branches.c.code).where(
            branches.c.region == region
        ),
    )
    with probe_rows.connect() as conn:
        assert list(conn.scalars(select(probe.c.id).where(condition).order_by(probe.c.id))) == [
            5,
            6,
        ]
    branches.drop(probe_rows)
    probe_metadata.remove(branches)


def test_reveal_masks_and_audits_unmasking(session: Session) -> None:
    values = [
        SensitiveValue("participant", 1, "nik", "3577123456780001", "B1"),
        SensitiveValue("participant", 2, "phone", "081234567890", "B2"),
    ]
    kabid = Actor("kabid.b1", Role.KABID, branch_code="B1")
    assert reveal(session, kabid, values) == ["3577********0001", "0812*****890"]
    pap = Actor("pap.b1", Role.PAP, branch_code="B1")
    assert reveal(session, pap, values) == ["3577123456780001", "0812*****890"]
    auditor = Actor("audit", Role.AUDITOR)
    assert reveal(session, auditor, values) == ["3577123456780001", "081234567890"]
    session.commit()
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "personal_data.unmask")
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.actor, e.after) for e in entries] == [
        ("pap.b1", {"count": 1, "fields": ["participant:1:nik"]}),
        ("audit", {"count": 2, "fields": ["participant:1:nik", "participant:2:phone"]}),
    ]
    assert all("3577123456780001" not in str(e.after) for e in entries)


def test_scope_wired_to_offices_and_partner_hierarchy(probe_rows: Engine) -> None:
    """participant_scope_for reads branches of a region from the shipped offices and agents under
    a partner from the partners area (transitively)."""
    from cakupan.dates import FixedClock
    from cakupan.db import make_session_factory
    from cakupan.partners.actions import NewPartner, create_partner

    clock = FixedClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    system = Actor.system("test")
    with make_session_factory(probe_rows)() as session, session.begin():
        create_partner(session, system, clock, NewPartner("P1", "Wadah Satu", "wadah", "PLG"))
        create_partner(
            session, system, clock, NewPartner("A1", "Perisai Satu", "perisai", parent_code="P1")
        )
        create_partner(
            session, system, clock, NewPartner("A2", "Perisai Dua", "perisai", parent_code="P1")
        )
    with probe_rows.begin() as conn:
        for row_id, branch in (
            (1, "PLG"),
            (2, "PLG"),
            (3, "BDL"),
            (4, "BDL"),
            (5, "XXX"),
            (6, "YYY"),
        ):
            conn.execute(probe.update().where(probe.c.id == row_id).values(branch_code=branch))

    def visible(actor: Actor) -> list[int]:
        with make_session_factory(probe_rows)() as session:
            condition = participant_scope_for(
                session,
                actor,
                branch_code=probe.c.branch_code,
                partner_code=probe.c.partner_code,
                agent_code=probe.c.agent_code,
            )
            return list(session.scalars(select(probe.c.id).where(condition).order_by(probe.c.id)))

    assert visible(Actor("r", Role.REGIONAL, region_code="SUMBAGSEL")) == [1, 2, 3, 4]
    assert visible(Actor("k", Role.KABID, branch_code="BDL")) == [3, 4]
    assert visible(Actor("p", Role.PARTNER, partner_code="P1")) == [1, 2, 3, 4]
    assert visible(Actor("g", Role.AGENT, partner_code="P1", agent_code="A1")) == [2]
