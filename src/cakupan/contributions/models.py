"""Tables of the contribution policy registry: dated, versioned records with their legal source."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cakupan.dates import Month
from cakupan.db import Base, MonthType


class ContributionPolicy(Base):
    """One policy record (a band table, a rate, a flat amount or a discount), valid for a range
    of contribution months. Append-only: a correction is a new version of the same code."""

    __tablename__ = "contribution_policy"
    __table_args__ = (
        UniqueConstraint("code", "version", name="uq_contribution_policy_code_version"),
        CheckConstraint("kind IN ('bands', 'rate', 'flat', 'discount')", name="kind"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    program: Mapped[str | None] = mapped_column(String(3))
    sector: Mapped[str | None] = mapped_column(String(12))
    funding: Mapped[str | None] = mapped_column(String(8))
    valid_from: Mapped[Month] = mapped_column(MonthType())
    valid_to: Mapped[Month | None] = mapped_column(MonthType())
    #: Decimal text (exact on every engine): the rate, or the discount, in percent.
    percent: Mapped[str | None] = mapped_column(String(24))
    #: Flat amount in whole rupiah.
    amount: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300), default="")

    bands: Mapped[list[ContributionBand]] = relationship(
        back_populates="policy", order_by="ContributionBand.lower_income"
    )


class ContributionBand(Base):
    """One row of a band table: incomes from ``lower_income`` up to the next row's lower
    contribute on ``base_income``."""

    __tablename__ = "contribution_band"

    policy_id: Mapped[int] = mapped_column(
        ForeignKey("contribution_policy.id", ondelete="CASCADE"), primary_key=True
    )
    lower_income: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    base_income: Mapped[int] = mapped_column(BigInteger)

    policy: Mapped[ContributionPolicy] = relationship(back_populates="bands")
