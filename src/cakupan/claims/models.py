"""Tables of the claims area: claims with their workflow history and documents, and the days
off the agency adds to the working calendar."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cakupan.db import AwareDateTime, Base, BigIntPK


class Claim(Base):
    """One benefit claim. Scope columns (branch, partner, agent) are the participant's at intake.
    The partial unique index is the database's guarantee of one live death claim (JKM, JKK death
    or JHT by reason of death) per participant and program."""

    __tablename__ = "claim"
    __table_args__ = (
        CheckConstraint("claim_type IN ('jht', 'jkm', 'jkk')", name="claim_type"),
        CheckConstraint(
            "state IN ('submitted', 'verified', 'approved', 'rejected', 'paid')", name="state"
        ),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount"),
        Index(
            "uq_claim_death",
            "participant_id",
            "death_group",
            unique=True,
            sqlite_where=text("death_group IS NOT NULL AND state <> 'rejected'"),
            postgresql_where=text("death_group IS NOT NULL AND state <> 'rejected'"),
        ),
        Index("ix_claim_state", "state"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("participant.id"), index=True
    )
    claim_type: Mapped[str] = mapped_column(String(3))
    cause: Mapped[str | None] = mapped_column(String(12))
    jht_reason: Mapped[str | None] = mapped_column(String(30))
    #: "death" (JKM and JKK death: one death pays one of them) or "jht-death"; NULL otherwise.
    death_group: Mapped[str | None] = mapped_column(String(12))
    event_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    sources: Mapped[list[str]] = mapped_column(JSON)
    claimant_name: Mapped[str] = mapped_column(String(200))
    claimant_nik: Mapped[str] = mapped_column(String(16))
    relation: Mapped[str] = mapped_column(String(20))
    bank_name: Mapped[str] = mapped_column(String(40))
    bank_account: Mapped[str] = mapped_column(String(30))
    bank_account_holder: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(12))
    branch_code: Mapped[str | None] = mapped_column(String(20), index=True)
    partner_code: Mapped[str | None] = mapped_column(String(20), index=True)
    agent_code: Mapped[str | None] = mapped_column(String(20), index=True)
    submitted_on: Mapped[date] = mapped_column(Date)
    submitted_by: Mapped[str] = mapped_column(String(120))
    verified_on: Mapped[date | None] = mapped_column(Date)
    approved_on: Mapped[date | None] = mapped_column(Date)
    rejected_on: Mapped[date | None] = mapped_column(Date)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    paid_on: Mapped[date | None] = mapped_column(Date, index=True)
    payment_reference: Mapped[str | None] = mapped_column(String(80), unique=True)
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime())


class ClaimStep(Base):
    """One workflow step of a claim (the claim's own history; the audit log has it too)."""

    __tablename__ = "claim_step"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    claim_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("claim.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    on: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(AwareDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(500))


class ClaimDocument(Base):
    """One uploaded document of a claim, its bytes kept with the claim (served only through the
    claim's scope). A new upload of the same kind replaces the previous one."""

    __tablename__ = "claim_document"
    __table_args__ = (
        UniqueConstraint("claim_id", "kind", name="uq_claim_document_claim_id_kind"),
        CheckConstraint("size > 0", name="size"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    claim_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("claim.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(AwareDateTime())
    uploaded_by: Mapped[str] = mapped_column(String(120))


class CalendarDayOff(Base):
    """A day off the agency adds to the working calendar (a *cuti bersama* decided after the
    ``holidays`` package was released, a local closure), with its source."""

    __tablename__ = "claim_calendar_day_off"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(300))
    added_at: Mapped[datetime] = mapped_column(AwareDateTime())
    added_by: Mapped[str] = mapped_column(String(120))


class BenefitStory(Base):
    """A paid claim told as a benefit story for campaigns (004: a real benefit persuades people
    who think contributions are wasted), with the claimant's recorded consent and no NIK. Its
    ``code`` (``KISAH-0001``) is what a campaign's stories list names."""

    __tablename__ = "benefit_story"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    claim_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("claim.id"), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(4000))
    claim_type: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    branch_code: Mapped[str | None] = mapped_column(String(20))
    consent_by: Mapped[str] = mapped_column(String(200))
    consent_on: Mapped[date] = mapped_column(Date)
    consent_method: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    created_by: Mapped[str] = mapped_column(String(120))
