"""Tables of the partners area: partners and agents (one hierarchy), agreements, agency
applications with their documents, and agent evaluations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cakupan.db import AwareDateTime, Base, BigIntPK

#: The kinds of partner and agent (domain.md section 4); incentive schemes name them in
#: ``applies_to`` (incentives/definition.py), so this is the one list of them.
PartnerKind = Literal[
    "wadah",
    "perisai",
    "korporasi",
    "agen46",
    "brilink",
    "pos_kc",
    "pos_regional",
    "pemda",
    "institution",
]
PARTNER_KINDS: tuple[PartnerKind, ...] = get_args(PartnerKind)
PARTNER_STATUSES = ("recruited", "trained", "active", "suspended", "terminated")
AGREEMENT_STATUSES = ("active", "terminated")
APPLICATION_STATUSES = ("submitted", "in_review", "approved", "rejected")
DOCUMENT_KINDS = ("legal", "ecosystem_profile", "potential_analysis", "other")
EVALUATION_OUTCOMES = ("continue", "improve", "terminate")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Partner(Base):
    """A partner organisation or an individual agent (agents are partners of an individual kind:
    perisai, agen46, brilink), with its parent in the hierarchy and its branch."""

    __tablename__ = "partner"
    __table_args__ = (
        CheckConstraint(_in("kind", PARTNER_KINDS), name="kind"),
        CheckConstraint(_in("status", PARTNER_STATUSES), name="status"),
        CheckConstraint("parent_code IS NULL OR parent_code <> code", name="not_own_parent"),
    )

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("partner.code"), index=True)
    branch_code: Mapped[str] = mapped_column(String(10), index=True)
    status: Mapped[str] = mapped_column(String(20))
    status_reason: Mapped[str | None] = mapped_column(Text)
    recruited_on: Mapped[date | None] = mapped_column(Date)
    trained_on: Mapped[date | None] = mapped_column(Date)
    activated_on: Mapped[date | None] = mapped_column(Date)
    terminated_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())


class Agreement(Base):
    """A time-boxed agreement naming an incentive scheme version and its parameters."""

    __tablename__ = "partner_agreement"
    __table_args__ = (
        UniqueConstraint("partner_code", "scheme_name", "valid_from"),
        CheckConstraint(_in("status", AGREEMENT_STATUSES), name="status"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    partner_code: Mapped[str] = mapped_column(ForeignKey("partner.code"), index=True)
    scheme_name: Mapped[str] = mapped_column(String(60))
    scheme_version: Mapped[int] = mapped_column(Integer)
    #: :class:`cakupan.incentives.definition.AgreementParameters` as JSON (rates as strings).
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())


class PartnerApplication(Base):
    """An agency's application to become a partner, with the agreement it asks for."""

    __tablename__ = "partner_application"
    __table_args__ = (CheckConstraint(_in("status", APPLICATION_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_code: Mapped[str | None] = mapped_column(String(40))
    branch_code: Mapped[str] = mapped_column(String(10))
    scheme_name: Mapped[str] = mapped_column(String(60))
    scheme_version: Mapped[int] = mapped_column(Integer)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), index=True)
    submitted_at: Mapped[datetime] = mapped_column(AwareDateTime())
    submitted_by: Mapped[str] = mapped_column(String(120))
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class ApplicationDocument(Base):
    """Metadata of a document attached to an application; the file itself lives elsewhere and
    is identified by its reference and SHA-256."""

    __tablename__ = "partner_document"
    __table_args__ = (
        CheckConstraint(_in("kind", DOCUMENT_KINDS), name="kind"),
        UniqueConstraint("application_id", "sha256"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("partner_application.id"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    file_reference: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    added_at: Mapped[datetime] = mapped_column(AwareDateTime())
    added_by: Mapped[str] = mapped_column(String(120))


class AgentEvaluation(Base):
    """The six-monthly evaluation of an agent, with its outcome."""

    __tablename__ = "agent_evaluation"
    __table_args__ = (
        CheckConstraint(_in("outcome", EVALUATION_OUTCOMES), name="outcome"),
        UniqueConstraint("partner_code", "period_to"),
        Index("ix_agent_evaluation_evaluated_on", "evaluated_on"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    partner_code: Mapped[str] = mapped_column(ForeignKey("partner.code"), index=True)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    evaluated_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    evaluator: Mapped[str] = mapped_column(String(120))
