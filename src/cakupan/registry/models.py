"""Tables of the participant registry and the payments ledger (issue 4).

The schema is a contract: the monthly close, the imports, the synthetic data and the dashboard
code against these names. ``participant`` holds the CURRENT values (denormalised for fast reads);
``participant_terms`` and ``participant_change`` keep what was true when. ``membership`` has one
row per episode (D-4) whose paid-through columns are a projection of ``covered_month``, which the
posting actions maintain. ``payment`` and ``payment_reversal`` are append-only.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from cakupan.dates import Month
from cakupan.db import AwareDateTime, Base, BigIntPK, MonthType

#: Length of a NIK (Nomor Induk Kependudukan).
NIK_LENGTH = 16
#: Column sizes shared with the migration.
CODE = 40  # partner, agent, occupation and office codes
REGION_CODE = 20  # village / district / regency codes with or without dots


class Occupation(Base):
    """Controlled list of occupations (domain.md section 6); shipped data, extendable."""

    __tablename__ = "occupation"

    code: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    name_id: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())


class Participant(Base):
    """A registered person (one NIK) with their CURRENT registration values."""

    __tablename__ = "participant"
    __table_args__ = (
        CheckConstraint("sex IN ('M', 'F')", name="sex"),
        CheckConstraint("programs IN ('JKK+JKM', 'JKK+JKM+JHT')", name="programs"),
        CheckConstraint("sector IN ('transport', 'other')", name="sector"),
        CheckConstraint("funding IN ('self', 'apbn', 'apbd')", name="funding"),
        CheckConstraint("channel IN ('branch', 'online', 'agent', 'partner')", name="channel"),
        CheckConstraint("reported_income >= 0", name="reported_income"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    nik: Mapped[str] = mapped_column(String(NIK_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(200))
    village_code: Mapped[str | None] = mapped_column(String(REGION_CODE))
    district_code: Mapped[str | None] = mapped_column(String(REGION_CODE))
    regency_code: Mapped[str | None] = mapped_column(String(REGION_CODE))
    branch_code: Mapped[str | None] = mapped_column(String(CODE), index=True)
    occupation: Mapped[str] = mapped_column(String(CODE), ForeignKey("occupation.code"))
    reported_income: Mapped[int] = mapped_column(BigInteger)
    programs: Mapped[str] = mapped_column(String(12))
    sector: Mapped[str] = mapped_column(String(12))
    funding: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(12))
    partner_code: Mapped[str | None] = mapped_column(String(CODE), index=True)
    agent_code: Mapped[str | None] = mapped_column(String(CODE), index=True)
    registered_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())


class ParticipantTerms(Base):
    """The contribution terms in force from ``effective_month`` (until the next row)."""

    __tablename__ = "participant_terms"
    __table_args__ = (PrimaryKeyConstraint("participant_id", "effective_month"),)

    participant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("participant.id"))
    effective_month: Mapped[Month] = mapped_column(MonthType())
    reported_income: Mapped[int] = mapped_column(BigInteger)
    programs: Mapped[str] = mapped_column(String(12))
    sector: Mapped[str] = mapped_column(String(12))
    funding: Mapped[str] = mapped_column(String(8))
    recorded_at: Mapped[datetime] = mapped_column(AwareDateTime())


class ParticipantChange(Base):
    """One changed field of a participant, effective from a month (contact, address, branch...)."""

    __tablename__ = "participant_change"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("participant.id"), index=True
    )
    effective_month: Mapped[Month] = mapped_column(MonthType())
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(String(400))
    new_value: Mapped[str | None] = mapped_column(String(400))
    recorded_at: Mapped[datetime] = mapped_column(AwareDateTime())
    actor: Mapped[str] = mapped_column(String(120))


class Membership(Base):
    """One membership episode of a participant (D-4). The paid-through columns are a projection
    of the non-reversed ``covered_month`` rows of the episode."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("participant_id", "episode_no"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    participant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("participant.id"))
    episode_no: Mapped[int] = mapped_column(Integer)
    registered_on: Mapped[date] = mapped_column(Date)
    start_month: Mapped[Month] = mapped_column(MonthType(), index=True)
    channel: Mapped[str] = mapped_column(String(12))
    partner_code: Mapped[str | None] = mapped_column(String(CODE), index=True)
    agent_code: Mapped[str | None] = mapped_column(String(CODE), index=True)
    card_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    first_paid_on: Mapped[date | None] = mapped_column(Date)
    last_paid_on: Mapped[date | None] = mapped_column(Date)
    paid_through_month: Mapped[Month | None] = mapped_column(MonthType(), index=True)
    months_paid: Mapped[int] = mapped_column(Integer, server_default=text("0"), default=0)


class PaymentCode(Base):
    """A *kode penetapan*: the exact amount to pay for stated months, valid until a date."""

    __tablename__ = "payment_code"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    participant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("participant.id"), index=True
    )
    membership_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("membership.id"))
    first_month: Mapped[Month] = mapped_column(MonthType())
    months: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[datetime] = mapped_column(AwareDateTime())
    valid_until: Mapped[date] = mapped_column(Date)
    payment_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("payment.id"))


class ImportBatch(Base):
    """One imported file (payments, participants, ...): audited once, rows reference it."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    file_name: Mapped[str] = mapped_column(String(400))
    file_hash: Mapped[str] = mapped_column(String(64), index=True)
    accepted: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(AwareDateTime())
    actor: Mapped[str] = mapped_column(String(120))


class Payment(Base):
    """A posted contribution payment, identified by (channel, reference). Append-only."""

    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("channel", "reference"),
        CheckConstraint("months BETWEEN 1 AND 12", name="months"),
        CheckConstraint("amount > 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(80))
    participant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("participant.id"), index=True
    )
    membership_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("membership.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date, index=True)
    first_month: Mapped[Month] = mapped_column(MonthType())
    months: Mapped[int] = mapped_column(Integer)
    # partner_code, agent_code and batch_id are not indexed: no query searches them by value
    # (migration registry_0003_ledger_indexes).
    partner_code: Mapped[str | None] = mapped_column(String(CODE))
    agent_code: Mapped[str | None] = mapped_column(String(CODE))
    fingerprint: Mapped[str] = mapped_column(String(64))
    posted_at: Mapped[datetime] = mapped_column(AwareDateTime())
    batch_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("import_batch.id"))


class PaymentReversal(Base):
    """The reversal of one payment: a new entry, never a deletion. Append-only."""

    __tablename__ = "payment_reversal"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    payment_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payment.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(400))
    reversed_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(AwareDateTime())
    actor: Mapped[str] = mapped_column(String(120))


class CoveredMonth(Base):
    """One month bought by one payment. The partial unique index is the database's guarantee
    that no month is covered twice within an episode; a reversal flags its payment's rows."""

    __tablename__ = "covered_month"
    __table_args__ = (
        PrimaryKeyConstraint("payment_id", "month"),
        Index(
            "uq_covered_month_membership_id_month",
            "membership_id",
            "month",
            unique=True,
            sqlite_where=text("NOT reversed"),
            postgresql_where=text("NOT reversed"),
        ),
        Index("ix_covered_month_month", "month"),
    )

    payment_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payment.id"))
    month: Mapped[Month] = mapped_column(MonthType())
    membership_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("membership.id"))
    participant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("participant.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    reversed: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
