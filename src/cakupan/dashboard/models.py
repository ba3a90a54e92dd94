"""Tables of the dashboard: the KPI pre-aggregates written at each monthly close, and the
contact action log of the arrears / re-acquisition worklist.

``kpi_monthly`` and ``kpi_cohort`` are derived data (re-computable from the ledger and the
close's snapshots, see :mod:`cakupan.dashboard.actions`), so they carry no foreign keys. Their
dimensions are the attribution of the membership episode (channel, partner, agent: who
registered it) and the participant's current branch, occupation and program set at the close.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cakupan.dates import Month
from cakupan.db import AwareDateTime, Base, BigIntPK, MonthType

CODE = 40

#: Grains of the pre-aggregates: which dimensions a row carries (the others are NULL). A query
#: reads the coarsest grain that has every dimension its scope, filters and grouping need.
GRAIN_BRANCH = 0  # branch
GRAIN_SEGMENT = 1  # branch, channel, occupation, programs
GRAIN_FULL = 2  # branch, partner, agent, league partner, channel, occupation, programs
GRAIN_LEAGUE = 3  # branch, league partner
GRAIN_OCCUPATION = 4  # branch, occupation (early warnings by segment, occupation filters)
GRAIN_DIMENSIONS: dict[int, frozenset[str]] = {
    GRAIN_BRANCH: frozenset({"branch_code"}),
    GRAIN_LEAGUE: frozenset({"branch_code", "league_partner"}),
    GRAIN_OCCUPATION: frozenset({"branch_code", "occupation"}),
    GRAIN_SEGMENT: frozenset({"branch_code", "channel", "occupation", "programs"}),
    GRAIN_FULL: frozenset(
        {
            "branch_code",
            "partner_code",
            "agent_code",
            "league_partner",
            "channel",
            "occupation",
            "programs",
        }
    ),
}

#: Outcomes of a contact with a participant in arrears or closed (the worklist's action log).
CONTACT_OUTCOMES: tuple[str, ...] = ("called", "visited", "promised_to_pay", "refused")
#: Outcomes added by the retention workbench (issue 15; labels in cakupan.retention.rules).
RETENTION_OUTCOMES: tuple[str, ...] = ("no_answer", "wrong_number", "already_paid", "call_back")
#: Every outcome the contact log accepts (migration dashboard_0003).
ALL_CONTACT_OUTCOMES: tuple[str, ...] = CONTACT_OUTCOMES + RETENTION_OUTCOMES
OUTCOME_CHECK = "outcome IN ({})".format(", ".join(f"'{o}'" for o in ALL_CONTACT_OUTCOMES))


class KpiMonthly(Base):
    """Figures of one closed month for one combination of dimensions (see docs/dashboard.md)."""

    __tablename__ = "kpi_monthly"
    __table_args__ = (
        Index("ix_kpi_monthly_grain_month", "grain", "month"),
        Index("ix_kpi_monthly_partner_code_grain_month", "partner_code", "grain", "month"),
        Index("ix_kpi_monthly_agent_code_grain_month", "agent_code", "grain", "month"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    grain: Mapped[int] = mapped_column(Integer)
    month: Mapped[Month] = mapped_column(MonthType())
    branch_code: Mapped[str | None] = mapped_column(String(CODE))
    partner_code: Mapped[str | None] = mapped_column(String(CODE))
    agent_code: Mapped[str | None] = mapped_column(String(CODE))
    league_partner: Mapped[str | None] = mapped_column(String(CODE))
    channel: Mapped[str | None] = mapped_column(String(12))
    occupation: Mapped[str | None] = mapped_column(String(CODE))
    programs: Mapped[str | None] = mapped_column(String(12))
    registrations: Mapped[int] = mapped_column(Integer)
    reacquired: Mapped[int] = mapped_column(Integer)
    closed_by_system: Mapped[int] = mapped_column(Integer)
    pending: Mapped[int] = mapped_column(Integer)
    active: Mapped[int] = mapped_column(Integer)
    arrears: Mapped[int] = mapped_column(Integer)
    closed: Mapped[int] = mapped_column(Integer)
    contributions: Mapped[int] = mapped_column(BigInteger)
    payments: Mapped[int] = mapped_column(Integer)


class KpiCohort(Base):
    """One registration cohort (episodes starting in ``cohort_month``) seen at the close of
    ``cohort_month + age``: its size, how many were paying that month, how many had paid."""

    __tablename__ = "kpi_cohort"
    __table_args__ = (
        Index("ix_kpi_cohort_grain_cohort_month", "grain", "cohort_month"),
        Index(
            "ix_kpi_cohort_partner_code_grain_cohort_month", "partner_code", "grain", "cohort_month"
        ),
        Index("ix_kpi_cohort_agent_code_grain_cohort_month", "agent_code", "grain", "cohort_month"),
        CheckConstraint("age BETWEEN 0 AND 12", name="age"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    grain: Mapped[int] = mapped_column(Integer)
    cohort_month: Mapped[Month] = mapped_column(MonthType())
    age: Mapped[int] = mapped_column(Integer)
    branch_code: Mapped[str | None] = mapped_column(String(CODE))
    partner_code: Mapped[str | None] = mapped_column(String(CODE))
    agent_code: Mapped[str | None] = mapped_column(String(CODE))
    league_partner: Mapped[str | None] = mapped_column(String(CODE))
    channel: Mapped[str | None] = mapped_column(String(12))
    occupation: Mapped[str | None] = mapped_column(String(CODE))
    programs: Mapped[str | None] = mapped_column(String(12))
    members: Mapped[int] = mapped_column(Integer)
    paying: Mapped[int] = mapped_column(Integer)
    first_paid: Mapped[int] = mapped_column(Integer)


class ContactAction(Base):
    """One contact with a participant of the arrears / re-acquisition worklist. Append-only."""

    __tablename__ = "contact_action"
    __table_args__ = (CheckConstraint(OUTCOME_CHECK, name="outcome"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("participant.id"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(400))
    promised_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(400))
    at: Mapped[datetime] = mapped_column(AwareDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    #: the day the participant should be contacted again (retention workbench)
    follow_up_on: Mapped[date | None] = mapped_column(Date)


class AccountAssignment(Base):
    """A participant (an account) assigned to an account representative (``ar`` / ``ark`` user)
    of the participant's branch: those roles read the records of their assigned accounts only.
    One row per (user, participant); assigning again changes nothing."""

    __tablename__ = "account_assignment"
    __table_args__ = (Index("ix_account_assignment_participant_id", "participant_id"),)

    #: the ``user`` id (no foreign key: see migration dashboard_0002)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("participant.id"), primary_key=True
    )
    assigned_at: Mapped[datetime] = mapped_column(AwareDateTime())
    assigned_by: Mapped[str] = mapped_column(String(120))
