"""Tables of the incentives area: scheme versions (declarative definitions as data)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cakupan.dates import Month
from cakupan.db import AwareDateTime, Base, BigIntPK, MonthType


class IncentiveScheme(Base):
    """One version of an incentive scheme: validity, source and its definition
    (:class:`cakupan.incentives.definition.SchemeDefinition` as JSON)."""

    __tablename__ = "incentive_scheme"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates"),
        CheckConstraint("version >= 1", name="version"),
    )

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    title_id: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: ``shipped`` (a preset file) or ``imported`` (added by a user).
    origin: Mapped[str] = mapped_column(String(20))
    loaded_at: Mapped[datetime] = mapped_column(AwareDateTime())


STATEMENT_STATUSES = ("draft", "approved", "paid", "disputed")


class IncentiveStatement(Base):
    """A partner's or agent's statement for one period under one scheme. A draft is replaced
    by every run; an approved, paid or disputed statement is never changed by a run."""

    __tablename__ = "incentive_statement"
    __table_args__ = (
        UniqueConstraint("period", "partner_code", "scheme_name"),
        CheckConstraint("status IN ('draft', 'approved', 'paid', 'disputed')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    period: Mapped[Month] = mapped_column(MonthType(), index=True)
    partner_code: Mapped[str] = mapped_column(String(40), index=True)
    scheme_name: Mapped[str] = mapped_column(String(60))
    scheme_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    total: Mapped[int] = mapped_column(BigInteger)
    #: Transaction fees paid by participants to the partner: reported, not in ``total``.
    fees: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(AwareDateTime())
    status_changed_by: Mapped[str | None] = mapped_column(String(120))
    status_changed_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    status_reason: Mapped[str | None] = mapped_column(Text)


class IncentiveLine(Base):
    """One line of a statement (see :class:`cakupan.incentives.rules.Line`)."""

    __tablename__ = "incentive_line"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("incentive_statement.id"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    nik: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(30))
    amount: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(200))
