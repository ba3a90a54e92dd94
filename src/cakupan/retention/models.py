"""Tables of the retention workbench (issue 15): who owns a row of the worklists, the versioned
lapse-risk models and the scores they gave per month.

Contacts and their outcomes are the dashboard's contact log (``contact_action``, extended with the
retention outcomes and a follow-up date by migration dashboard_0003), not a second log.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cakupan.dates import Month
from cakupan.db import AwareDateTime, Base, BigIntPK, MonthType


class RetentionOwner(Base):
    """The user who owns (calls, follows up) a participant on the retention worklists: an
    ``ark``/``ar`` user of the participant's branch, or the participant's partner or agent."""

    __tablename__ = "retention_owner"
    __table_args__ = (Index("ix_retention_owner_owner", "owner"),)

    participant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("participant.id"), primary_key=True
    )
    #: the owner's username (users are never deleted, only deactivated)
    owner: Mapped[str] = mapped_column(String(60))
    assigned_at: Mapped[datetime] = mapped_column(AwareDateTime())
    assigned_by: Mapped[str] = mapped_column(String(120))


class RetentionModel(Base):
    """One trained lapse-risk model: its version, training window, metrics and the fitted
    estimator (a pickled scikit-learn pipeline, written and read by this area only)."""

    __tablename__ = "retention_model"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    version: Mapped[str] = mapped_column(String(60), unique=True)
    as_of: Mapped[date] = mapped_column(Date)
    train_first: Mapped[Month] = mapped_column(MonthType())
    train_last: Mapped[Month] = mapped_column(MonthType())
    examples: Mapped[int] = mapped_column(Integer)
    lapsed: Mapped[int] = mapped_column(Integer)
    #: JSON: the in-sample and held-out metrics and the feature list
    metrics: Mapped[str] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean)
    artifact: Mapped[bytes] = mapped_column(LargeBinary)
    trained_at: Mapped[datetime] = mapped_column(AwareDateTime())
    trained_by: Mapped[str] = mapped_column(String(120))


class RetentionScore(Base):
    """The lapse risk of one participant for one month (the probability that the month is not
    paid by its end), with the reason codes behind it. Re-scoring a month replaces its rows."""

    __tablename__ = "retention_score"
    __table_args__ = (PrimaryKeyConstraint("month", "participant_id"),)

    month: Mapped[Month] = mapped_column(MonthType())
    participant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("participant.id"))
    membership_id: Mapped[int] = mapped_column(BigInteger)
    model_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("retention_model.id"))
    risk: Mapped[float] = mapped_column(Float)
    #: comma-separated reason codes, most important first (labels in rules.REASONS)
    reasons: Mapped[str] = mapped_column(String(200))
