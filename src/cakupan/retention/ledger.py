"""The ledger as it was known on a date, set-based: the latest membership episode of every
participant as of that day with its paid-through month, months paid and payment habits, counting
only payments made by that day and not reversed by then. Shared by the worklists and the
lapse-risk features (which must read nothing after their scoring date)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, Select, and_, case, extract, func, or_, select, type_coerce
from sqlalchemy.sql import Subquery

from cakupan.dashboard.models import ContactAction
from cakupan.dates import JAKARTA
from cakupan.registry.models import Membership, Payment, PaymentCode, PaymentReversal


def month_int(column: Any) -> Any:
    """A month column as its stored integer (year * 12 + month - 1), for arithmetic in SQL."""
    return type_coerce(column, Integer)


def end_of(day: date) -> datetime:
    """The first instant after ``day`` in Asia/Jakarta (timestamps before it were known then)."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=JAKARTA)


def counted_payment(as_of: date) -> Any:
    """Payments made by ``as_of`` and not reversed by then (the condition on ``payment`` joined
    with its outer-joined ``payment_reversal``)."""
    return and_(
        Payment.paid_on <= as_of,
        or_(PaymentReversal.id.is_(None), PaymentReversal.reversed_on > as_of),
    )


def latest_episodes(as_of: date, participants: Any = None) -> Subquery:
    """``(participant_id, episode_no)`` of each participant's latest episode registered by
    ``as_of`` (a re-acquisition episode is registered on its first payment's date); only of
    ``participants`` (a SELECT of participant ids) when given."""
    conditions = [Membership.registered_on <= as_of]
    if participants is not None:
        conditions.append(Membership.participant_id.in_(participants))
    return (
        select(
            Membership.participant_id.label("participant_id"),
            func.max(Membership.episode_no).label("episode_no"),
        )
        .where(*conditions)
        .group_by(Membership.participant_id)
        .subquery("latest")
    )


def paid_as_of(as_of: date, participants: Any = None) -> Subquery:
    """Per membership: paid-through month (integer), months paid, payments and late payments as
    of ``as_of``. A payment is late when made after the 15th of its first month (or later).
    ``participants`` (a SELECT of participant ids) narrows the payments read *before* they are
    aggregated (a branch's worklist must not total the whole ledger)."""
    paid_month = extract("year", Payment.paid_on) * 12 + extract("month", Payment.paid_on) - 1
    first = month_int(Payment.first_month)
    late = or_(
        paid_month > first,
        and_(paid_month == first, extract("day", Payment.paid_on) > 15),
    )
    per_payment = (
        select(
            Payment.membership_id.label("membership_id"),
            Payment.id.label("payment_id"),
            Payment.paid_on.label("paid_on"),
            Payment.months.label("months"),
            (first + Payment.months - 1).label("last_month"),
            case((late, 1), else_=0).label("late"),
        )
        .select_from(Payment)
        .outerjoin(PaymentReversal, PaymentReversal.payment_id == Payment.id)
        .where(
            counted_payment(as_of),
            *([] if participants is None else [Payment.participant_id.in_(participants)]),
        )
        .subquery("counted")
    )
    return (
        select(
            per_payment.c.membership_id,
            func.max(per_payment.c.last_month).label("paid_through"),
            func.sum(per_payment.c.months).label("months_paid"),
            func.count().label("payments"),
            func.sum(per_payment.c.late).label("late_payments"),
            func.max(per_payment.c.paid_on).label("last_paid_on"),
        )
        .group_by(per_payment.c.membership_id)
        .subquery("paid")
    )


def codes_as_of(as_of: date, participants: Any = None) -> Subquery:
    """Per membership: its latest kode penetapan (validity, amount, issue time). Codes are issued
    with the registration; a file of past registrations imported later gets codes stamped with
    the import time, so the caller reads ``issued_at`` against its date (see the worklists)."""
    del as_of  # every episode registered by then had its code at registration
    latest = (
        select(
            PaymentCode.membership_id.label("membership_id"),
            func.max(PaymentCode.id).label("code_id"),
        )
        .where(*([] if participants is None else [PaymentCode.participant_id.in_(participants)]))
        .group_by(PaymentCode.membership_id)
        .subquery("latest_code")
    )
    return (
        select(
            latest.c.membership_id,
            PaymentCode.valid_until.label("code_valid_until"),
            PaymentCode.amount.label("code_amount"),
            PaymentCode.issued_at.label("code_issued_at"),
        )
        .join(PaymentCode, PaymentCode.id == latest.c.code_id)
        .subquery("code")
    )


def contacts_as_of(as_of: date, since: date | None = None) -> Subquery:
    """Per participant: contacts logged by ``as_of`` (from ``since``), refusals among them."""
    conditions = [ContactAction.at < end_of(as_of)]
    if since is not None:
        conditions.append(ContactAction.at >= datetime.combine(since, time(), tzinfo=JAKARTA))
    return (
        select(
            ContactAction.participant_id.label("participant_id"),
            func.count().label("contacts"),
            func.sum(case((ContactAction.outcome == "refused", 1), else_=0)).label("refused"),
            func.max(ContactAction.id).label("last_contact_id"),
        )
        .where(*conditions)
        .group_by(ContactAction.participant_id)
        .subquery("contacts")
    )


def episode_rows(
    as_of: date, participants: Any = None
) -> tuple[Subquery, Subquery, Subquery, Select[Any]]:
    """SELECT of every participant's latest episode as of ``as_of`` joined with what it had paid
    by then (outer: a registration that paid nothing has NULL paid-through) and its latest code.
    ``participants`` (a SELECT of participant ids, e.g. a branch's) narrows every aggregation
    to them first. Callers add their columns, joins and conditions."""
    latest = latest_episodes(as_of, participants)
    paid = paid_as_of(as_of, participants)
    code = codes_as_of(as_of, participants)
    return (
        latest,
        paid,
        code,
        select()
        .select_from(latest)
        .join(
            Membership,
            and_(
                Membership.participant_id == latest.c.participant_id,
                Membership.episode_no == latest.c.episode_no,
            ),
        )
        .outerjoin(paid, paid.c.membership_id == Membership.id)
        .outerjoin(code, code.c.membership_id == Membership.id),
    )
