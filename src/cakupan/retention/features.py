"""Lapse-risk features and labels, set-based, from the ledger and the registry as they were known
at the scoring date.

The examples of a target month M are the participants whose latest episode, as of the last day of
M - 1 (the *scoring date* D), is pending (not void on the first of M), active, due or in arrears on
the first of M. Every feature reads only rows dated on or before D: payments made by D and not
reversed by D, episodes registered by D, contacts logged by D. The label (known after M ends) is
1 when month M is not paid by the end of M (for a pending registration: nothing paid by then).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import and_, case, extract, func, or_, select
from sqlalchemy.orm import Session

from cakupan.dates import Month
from cakupan.registry.models import Membership, Participant
from cakupan.registry.rules import ARREARS_MONTHS, VOID_AFTER_MONTHS
from cakupan.retention.ledger import (
    contacts_as_of,
    episode_rows,
    month_int,
    paid_as_of,
)

#: Numeric features, in the model's column order.
NUMERIC: tuple[str, ...] = (
    "never_paid",
    "months_paid",
    "months_unpaid",
    "months_ahead",
    "episode_age",
    "episode_no",
    "months_per_payment",
    "late_share",
    "last_paid_late",
    "days_since_payment",
    "partner_lapse_rate",
    "bank_agent",
    "contacts",
    "refused",
    "jht",
    "public_funding",
    "log_income",
    "age",
)
#: Categorical features (encoded by a vocabulary kept with the model).
CATEGORICAL: tuple[str, ...] = ("channel", "occupation")
FEATURES: tuple[str, ...] = NUMERIC + CATEGORICAL
#: Prior weight (in episodes) pulling a partner's lapse rate towards the overall rate.
PARTNER_PRIOR = 20
#: A recruiter's episodes count towards its track record once this many days old.
TRACK_RECORD_AGE_DAYS = 90
#: Payment channels of bank agents (003: more short payers).
BANK_AGENT_CHANNELS = ("agen46", "brilink")
#: Contacts count from this many days before the scoring date.
CONTACT_WINDOW_DAYS = 90


def scoring_date(month: Month) -> date:
    """The scoring date of a target month: the last day of the month before."""
    return (month + -1).last_day


@dataclass
class Examples:
    """The examples of one target month: ids, numeric matrix (NaN = missing), categorical
    values, labels (None when the month has not ended by ``known_on``)."""

    month: Month
    participant_ids: list[int] = field(default_factory=list)
    membership_ids: list[int] = field(default_factory=list)
    numeric: np.ndarray[Any, Any] = field(default_factory=lambda: np.zeros((0, len(NUMERIC))))
    categorical: list[tuple[str, str]] = field(default_factory=list)
    labels: np.ndarray[Any, Any] | None = None

    def __len__(self) -> int:
        return len(self.participant_ids)

    def row(self, i: int) -> dict[str, float]:
        """The numeric features of example ``i`` by name."""
        return {name: float(v) for name, v in zip(NUMERIC, self.numeric[i], strict=True)}


def _recruiter_rates(session: Session, as_of: date) -> tuple[dict[str, float], float]:
    """Per recruiter (agent, else partner): the share of its episodes registered at least 90 days
    before ``as_of`` that had paid at most one month by ``as_of`` (shrunk towards the overall
    share), and the overall share."""
    paid = paid_as_of(as_of)
    recruiter = func.coalesce(Membership.agent_code, Membership.partner_code)
    short = case((func.coalesce(paid.c.months_paid, 0) <= 1, 1), else_=0)
    rows = session.execute(
        select(recruiter, func.count(), func.sum(short))
        .select_from(Membership)
        .outerjoin(paid, paid.c.membership_id == Membership.id)
        .where(Membership.registered_on <= as_of - timedelta(days=TRACK_RECORD_AGE_DAYS))
        .group_by(recruiter)
    ).all()
    total = sum(int(r[1]) for r in rows)
    overall = sum(int(r[2] or 0) for r in rows) / total if total else 0.5
    rates = {
        str(code): (int(short_n or 0) + PARTNER_PRIOR * overall) / (int(n) + PARTNER_PRIOR)
        for code, n, short_n in rows
        if code is not None
    }
    return rates, overall


def build_examples(session: Session, month: Month, *, known_on: date | None = None) -> Examples:
    """The examples of target ``month`` with their features as of :func:`scoring_date`, and
    their labels when ``month`` has ended by ``known_on`` (default: never, for scoring)."""
    as_of = scoring_date(month)
    m = month.index
    _latest, paid, _code, base = episode_rows(as_of)
    contacts = contacts_as_of(as_of, since=as_of - timedelta(days=CONTACT_WINDOW_DAYS))
    bank = _bank_agent_memberships(as_of)
    through = paid.c.paid_through
    pending = and_(through.is_(None), month_int(Membership.start_month) > m - VOID_AFTER_MONTHS)
    query = (
        base.add_columns(
            Participant.id.label("participant_id"),
            Membership.id.label("membership_id"),
            Membership.episode_no,
            month_int(Membership.start_month).label("start"),
            Membership.channel,
            Membership.partner_code,
            Membership.agent_code,
            Participant.occupation,
            Participant.reported_income,
            Participant.programs,
            Participant.funding,
            Participant.birth_date,
            through.label("paid_through"),
            paid.c.months_paid,
            paid.c.payments,
            paid.c.late_payments,
            paid.c.last_paid_on,
            extract("day", paid.c.last_paid_on).label("last_paid_day"),
            contacts.c.contacts,
            contacts.c.refused,
            bank.c.bank_agent,
        )
        .join(Participant, Participant.id == Membership.participant_id)
        .outerjoin(contacts, contacts.c.participant_id == Participant.id)
        .outerjoin(bank, bank.c.membership_id == Membership.id)
        .where(or_(pending, through >= m - ARREARS_MONTHS))
        .order_by(Participant.id)
    )
    rows = session.execute(query).all()
    rates, overall = _recruiter_rates(session, as_of)
    out = Examples(month=month)
    out.numeric = _numeric_columns(rows, m, as_of, rates, overall)
    out.participant_ids = [int(r.participant_id) for r in rows]
    out.membership_ids = [int(r.membership_id) for r in rows]
    out.categorical = [(r.channel, r.occupation) for r in rows]
    if known_on is not None and month.last_day <= known_on:
        out.labels = _labels(session, month, out.membership_ids, out.numeric[:, 0] == 1)
    return out


def _bank_agent_memberships(as_of: date) -> Any:
    """Per membership that paid through a bank agent (Agen46, BRILink) by ``as_of``:
    ``(membership_id, bank_agent=1)``, a subquery joined into the features' one query."""
    from cakupan.registry.models import Payment

    return (
        select(Payment.membership_id.label("membership_id"), func.max(1).label("bank_agent"))
        .where(Payment.paid_on <= as_of, Payment.channel.in_(BANK_AGENT_CHANNELS))
        .group_by(Payment.membership_id)
        .subquery("bank")
    )


def _column(rows: Sequence[Any], name: str) -> np.ndarray[Any, Any]:
    """One column of the rows as floats (NULL as NaN)."""
    return np.array(
        [math.nan if v is None else float(v) for v in (getattr(r, name) for r in rows)],
        dtype=float,
    )


def _days_before(rows: Sequence[Any], name: str, as_of: date) -> np.ndarray[Any, Any]:
    """Days from a date column to ``as_of`` (NULL as NaN)."""
    day = as_of.toordinal()
    return np.array(
        [
            math.nan if v is None else float(day - v.toordinal())
            for v in (getattr(r, name) for r in rows)
        ],
        dtype=float,
    )


def _numeric_columns(
    rows: Sequence[Any], m: int, as_of: date, rates: dict[str, float], overall: float
) -> np.ndarray[Any, Any]:
    """The numeric features of every row, column by column (numpy, no per-row feature code):
    the same values as the definitions in docs/retention.md."""
    n = len(rows)
    if n == 0:
        return np.zeros((0, len(NUMERIC)))
    through = _column(rows, "paid_through")
    never = np.isnan(through)
    months_paid = np.nan_to_num(_column(rows, "months_paid"))
    payments = np.nan_to_num(_column(rows, "payments"))
    late = np.nan_to_num(_column(rows, "late_payments"))
    last_day = _column(rows, "last_paid_day")
    with np.errstate(invalid="ignore", divide="ignore"):
        per_payment = np.where(
            payments > 0, months_paid / np.where(payments > 0, payments, 1), np.nan
        )
        late_share = np.where(payments > 0, late / np.where(payments > 0, payments, 1), np.nan)
    recruiter = [r.agent_code or r.partner_code for r in rows]
    columns = {
        "never_paid": never.astype(float),
        "months_paid": months_paid,
        "months_unpaid": np.where(never, 0.0, np.maximum(0.0, (m - 1) - through)),
        "months_ahead": np.where(never, 0.0, np.maximum(0.0, through - (m - 1))),
        "episode_age": m - _column(rows, "start"),
        "episode_no": _column(rows, "episode_no"),
        "months_per_payment": per_payment,
        "late_share": late_share,
        "last_paid_late": np.where(np.isnan(last_day), np.nan, (last_day > 15).astype(float)),
        "days_since_payment": _days_before(rows, "last_paid_on", as_of),
        "partner_lapse_rate": np.array(
            [rates.get(code, overall) if code else overall for code in recruiter], dtype=float
        ),
        "bank_agent": np.nan_to_num(_column(rows, "bank_agent")),
        "contacts": np.nan_to_num(_column(rows, "contacts")),
        "refused": (np.nan_to_num(_column(rows, "refused")) > 0).astype(float),
        "jht": np.array([1.0 if "JHT" in r.programs else 0.0 for r in rows]),
        "public_funding": np.array([0.0 if r.funding == "self" else 1.0 for r in rows]),
        "log_income": np.log(np.maximum(_column(rows, "reported_income"), 1.0)),
        "age": np.floor(_days_before(rows, "birth_date", as_of) / 365),
    }
    return np.column_stack([columns[name] for name in NUMERIC])


def _labels(
    session: Session, month: Month, membership_ids: list[int], never_paid: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    """1 where ``month`` is not covered by the end of ``month``; for a registration that had paid
    nothing at the scoring date: 1 when it still has paid nothing by the end of ``month``."""
    paid = paid_as_of(month.last_day)
    covered: dict[int, int] = {}
    for start in range(0, len(membership_ids), 5000):
        chunk = membership_ids[start : start + 5000]
        for membership_id, through in session.execute(
            select(paid.c.membership_id, paid.c.paid_through).where(paid.c.membership_id.in_(chunk))
        ):
            covered[int(membership_id)] = int(through)
    m = month.index
    return np.array(
        [
            (0 if mid in covered else 1) if pending else (0 if covered.get(mid, -1) >= m else 1)
            for mid, pending in zip(membership_ids, never_paid, strict=True)
        ],
        dtype=np.int8,
    )
