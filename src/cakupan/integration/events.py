"""The outbox: webhook events written in the caller's transaction, next to the business write
they describe (a rolled-back write leaves no event; a committed one always has its event).

Events are kept only for partners with an active subscription (a partner that subscribes later
gets events from then on). The worker (:mod:`cakupan.integration.webhooks`) fans them out to the
matching subscriptions and delivers them.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, bindparam, insert, select, text
from sqlalchemy.orm import Session

from cakupan.access import mask_nik
from cakupan.dates import Month
from cakupan.db import AwareDateTime, is_postgres
from cakupan.integration.models import WebhookEvent, WebhookSubscription
from cakupan.registry import Registration, ReversedPayment

__all__ = [
    "Event",
    "enqueue",
    "enqueue_close_events",
    "outbox_rows",
    "registration_event",
    "reversal_events",
]


@dataclass(frozen=True)
class Event:
    """One event for one partner."""

    partner_code: str
    event_type: str
    payload: dict[str, Any]


def subscribed_partners(session: Session, codes: Iterable[str]) -> set[str]:
    """The partner codes among ``codes`` with at least one active subscription."""
    wanted = sorted({code for code in codes if code})
    if not wanted:
        return set()
    return set(
        session.scalars(
            select(WebhookSubscription.partner_code)
            .where(WebhookSubscription.partner_code.in_(wanted), WebhookSubscription.active)
            .distinct()
        )
    )


def outbox_rows(
    events: Sequence[Event], subscribed: Container[str], at: datetime
) -> list[dict[str, Any]]:
    """The ``webhook_event`` values (partner code, type, payload) of ``events`` for the
    partners in ``subscribed``."""
    return [
        {
            "partner_code": e.partner_code,
            "event_type": e.event_type,
            "payload": {"type": e.event_type, "occurred_at": at.isoformat(), "data": e.payload},
        }
        for e in events
        if e.partner_code in subscribed
    ]


def enqueue(session: Session, events: Sequence[Event], at: datetime) -> int:
    """Write ``events`` to the outbox (those of subscribed partners) in the caller's
    transaction; returns how many were written."""
    if not events:
        return 0
    subscribed = subscribed_partners(session, (e.partner_code for e in events))
    rows = [
        {**row, "occurred_at": at, "dispatched": False}
        for row in outbox_rows(events, subscribed, at)
    ]
    if rows:
        session.execute(insert(WebhookEvent), rows)
    return len(rows)


def registration_event(partner_code: str, registration: Registration) -> Event:
    """``participant.registered`` for the registering partner."""
    code = registration.payment_code
    return Event(
        partner_code,
        "participant.registered",
        {
            "participant_id": registration.participant_id,
            "nik": mask_nik(registration.nik),
            "episode": registration.episode_no,
            "start_month": str(registration.start_month),
            "kode_penetapan": None if code is None else code.code,
            "amount": None if code is None else code.amount,
            "valid_until": None if code is None else code.valid_until.isoformat(),
        },
    )


def reversal_events(session: Session, reversed_payment: ReversedPayment) -> list[Event]:
    """``payment.reversed`` for the collecting partner and the registering partner of the
    participant (one event each when they differ)."""
    row = session.execute(
        text(
            "SELECT pay.partner_code, par.partner_code, par.id FROM payment pay"
            " JOIN participant par ON par.id = pay.participant_id WHERE pay.id = :id"
        ),
        {"id": reversed_payment.payment_id},
    ).one()
    payload = {
        "payment_id": reversed_payment.payment_id,
        "participant_id": int(row[2]),
        "nik": mask_nik(reversed_payment.nik),
        "channel": reversed_payment.channel,
        "reference": reversed_payment.reference,
        "reversed_on": reversed_payment.reversed_on.isoformat(),
        "paid_through": None
        if reversed_payment.paid_through is None
        else str(reversed_payment.paid_through),
    }
    codes = sorted({code for code in (row[0], row[1]) if code})
    return [Event(code, "payment.reversed", payload) for code in codes]


_CLOSE_KINDS = {
    "lapsed_to_arrears": "participant.arrears",
    "closed_by_system": "participant.closed",
}


def enqueue_close_events(session: Session, month: Month, at: datetime) -> int:
    """Outbox rows for the month close's transitions into arrears and closed-by-system, for the
    participants' registering partners that subscribe: one set-based INSERT ... SELECT from
    ``status_transition`` (call it in the close's transaction, after ``close_month``)."""
    postgres = is_postgres(session)
    masked = (
        "substr(par.nik, 1, 4) || '********' || substr(par.nik, 13, 4)"
        if not postgres
        else "left(par.nik, 4) || '********' || right(par.nik, 4)"
    )
    event_type = (
        "CASE st.kind WHEN 'lapsed_to_arrears' THEN 'participant.arrears'"
        " ELSE 'participant.closed' END"
    )
    build = "json_build_object" if postgres else "json_object"
    payload = (
        f"{build}('type', {event_type}, 'occurred_at', CAST(:at_text AS TEXT), 'data',"
        f" {build}('participant_id', par.id, 'nik', {masked}, 'month', CAST(:month_text AS TEXT),"
        f" 'membership_id', st.membership_id))"
    )
    sql = (
        "INSERT INTO webhook_event (partner_code, event_type, payload, occurred_at, dispatched)"
        f" SELECT par.partner_code, {event_type}, {payload}, :at, :no"
        " FROM status_transition st JOIN participant par ON par.id = st.participant_id"
        " WHERE st.month = :x AND st.kind IN ('lapsed_to_arrears', 'closed_by_system')"
        " AND par.partner_code IN (SELECT partner_code FROM webhook_subscription WHERE active)"
    )
    statement = text(sql).bindparams(
        bindparam("at", type_=AwareDateTime()), bindparam("no", type_=Boolean())
    )
    result = session.execute(
        statement,
        {
            "x": month.index,
            "at": at,
            "at_text": at.isoformat(),
            "month_text": str(month),
            "no": False,
        },
    )
    return int(getattr(result, "rowcount", 0) or 0)
