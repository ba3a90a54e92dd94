"""Tables of the monthly lifecycle close: derived, re-computable data (see ``registry.close``).

They hold no foreign keys on purpose: a close writes a row per participant in one set-based
statement, and every value is derived from the ledger tables, never edited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cakupan.dates import Month
from cakupan.db import AwareDateTime, Base, MonthType

#: Statuses of D-3, in the order reports list them.
STATUSES: tuple[str, ...] = ("pending", "active", "arrears", "closed", "void")

#: Transitions a close records (definitions in docs/lifecycle.md).
TRANSITION_KINDS: tuple[str, ...] = (
    "new",
    "lapsed_to_arrears",
    "closed_by_system",
    "reacquired",
    "voided",
)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class MonthClose(Base):
    """One closed month: when, by whom, and the counts per status and transition."""

    __tablename__ = "month_close"

    month: Mapped[Month] = mapped_column(MonthType(), primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(AwareDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)


class StatusSnapshot(Base):
    """The D-3 status of one participant on the last day of a closed month."""

    __tablename__ = "status_snapshot"
    __table_args__ = (CheckConstraint(_one_of("status", STATUSES), name="status"),)

    month: Mapped[Month] = mapped_column(MonthType(), primary_key=True)
    participant_id: Mapped[int] = mapped_column(BigInteger(), primary_key=True)
    membership_id: Mapped[int] = mapped_column(BigInteger())
    episode_no: Mapped[int] = mapped_column(Integer())
    status: Mapped[str] = mapped_column(String(10))
    paid_through_month: Mapped[Month | None] = mapped_column(MonthType())
    months_paid: Mapped[int] = mapped_column(Integer())


class StatusTransition(Base):
    """A lifecycle transition of one participant during a closed month."""

    __tablename__ = "status_transition"
    __table_args__ = (CheckConstraint(_one_of("kind", TRANSITION_KINDS), name="kind"),)

    month: Mapped[Month] = mapped_column(MonthType(), primary_key=True)
    participant_id: Mapped[int] = mapped_column(BigInteger(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    membership_id: Mapped[int] = mapped_column(BigInteger())


class MonthReclose(Base):
    """A closed month that late data has made stale (issue 21): a payment, reversal or
    registration dated in or before it was written after it had ended and been closed. The close
    of the month removes the row; until then the dashboard says the month is being recomputed."""

    __tablename__ = "month_reclose"

    month: Mapped[Month] = mapped_column(MonthType(), primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(AwareDateTime())
    #: what made it stale first: ``payment``, ``reversal`` or ``registration``
    source: Mapped[str] = mapped_column(String(20))
