"""Read side of the partner API, scoped to the calling partner client.

A *partner client* is an API user of role ``partner`` (its ``partner_code``; it acts for the
partner and every agent under it) or ``agent`` (its ``agent_code``). A client may read and pay
for participants it (or its agents) registered, participants it already collects for, and
participants registered by the agency itself (no partner, no agent). Anything else is reported
exactly like an unknown NIK, so a client cannot learn who else registered a NIK.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, bindparam, text
from sqlalchemy.orm import Session

from cakupan.access import mask_nik
from cakupan.auth import Actor, Role
from cakupan.db import AwareDateTime
from cakupan.errors import CakupanError, forbidden, not_found
from cakupan.i18n import Text, t
from cakupan.partners import agents_under
from cakupan.registry import status_of

__all__ = [
    "ClientScope",
    "client_scope",
    "out_of_scope_message",
    "participant_status",
    "payable_niks",
    "reconciliation",
]


@dataclass(frozen=True)
class ClientScope:
    """What a partner client acts for: its partner code (for events and the payments it
    collects), its own code (the agent's, else the partner's) and every code it answers for."""

    partner_code: str
    agent_code: str | None
    codes: frozenset[str]

    @property
    def registration_channel(self) -> str:
        return "agent" if self.agent_code else "partner"


def client_scope(session: Session, actor: Actor) -> ClientScope:
    """The scope of a partner client; FORBIDDEN for any other role (or a role without its
    code)."""
    if actor.role is Role.PARTNER and actor.partner_code:
        codes = {actor.partner_code} | agents_under(session, actor.partner_code)
        return ClientScope(actor.partner_code, None, frozenset(codes))
    if actor.role is Role.AGENT and actor.agent_code and actor.partner_code:
        return ClientScope(actor.partner_code, actor.agent_code, frozenset({actor.agent_code}))
    raise forbidden(
        t(
            "API mitra hanya untuk pengguna berperan mitra atau agen",
            "The partner API is for users of role partner or agent only",
        )
    )


def out_of_scope_message(nik: str) -> Text:
    """The one message for an unknown NIK and for a NIK outside the client's scope."""
    return t(
        "NIK {n} tidak terdaftar atau tidak dalam cakupan mitra Anda",
        "NIK {n} is not registered or not within your partner scope",
    ).format(n=mask_nik(nik))


def payable_niks(session: Session, scope: ClientScope, niks: Iterable[str]) -> dict[str, str]:
    """Of ``niks``, those the client may pay for or read, each with its registering partner code
    (``""`` for the agency's own registrations). One query whatever the number of NIKs."""
    wanted = sorted({nik for nik in niks if nik})
    if not wanted:
        return {}
    codes = sorted(scope.codes)
    column = "agent_code" if scope.agent_code else "partner_code"
    rows = session.execute(
        text(
            "SELECT par.nik, par.partner_code, par.agent_code,"
            " EXISTS (SELECT 1 FROM payment pay WHERE pay.participant_id = par.id"
            f" AND pay.{column} IN :codes) AS collected"
            " FROM participant par WHERE par.nik IN :niks"
        ).bindparams(
            bindparam("codes", expanding=True),
            bindparam("niks", expanding=True),
        ),
        {"codes": codes, "niks": wanted},
    ).all()
    allowed: dict[str, str] = {}
    for nik, partner_code, agent_code, collected in rows:
        own = (
            (agent_code in scope.codes)
            if scope.agent_code
            else (partner_code in scope.codes or agent_code in scope.codes)
        )
        agency = partner_code is None and agent_code is None
        if own or agency or bool(collected):
            allowed[nik] = partner_code or ""
    return allowed


def participant_status(
    session: Session, scope: ClientScope, nik: str, as_of: date
) -> dict[str, Any]:
    """The D-3 status of a participant the client may read, with the NIK masked; NOT_FOUND
    (same message as an unknown NIK) otherwise."""
    nik = nik.strip()
    if nik not in payable_niks(session, scope, [nik]):
        raise not_found(out_of_scope_message(nik), code="participant-not-found")
    try:
        view = status_of(session, nik, as_of)
    except CakupanError as error:  # e.g. not registered yet on that date: say so, NIK masked
        raise not_found(
            t(
                "NIK {n} belum terdaftar pada {d}",
                "NIK {n} was not registered yet on {d}",
            ).format(n=mask_nik(nik), d=as_of.isoformat()),
            code=error.code,
        ) from None
    body = view.as_json()
    body["nik"] = mask_nik(nik)
    body["as_of"] = as_of.isoformat()
    return body


def reconciliation(session: Session, scope: ClientScope, day: date) -> dict[str, Any]:
    """What the agency recorded as collected by the client on ``day`` (the payment date):
    count and sum per channel, the totals, and every payment's channel, reference, amount,
    posting instant and whether it has been reversed since. Two queries."""
    codes = sorted(scope.codes)
    column = "agent_code" if scope.agent_code else "partner_code"
    params = {"codes": codes, "day": day}
    where = f"pay.{column} IN :codes AND pay.paid_on = :day"
    per_channel = session.execute(
        text(
            "SELECT pay.channel, COUNT(*), SUM(pay.amount) FROM payment pay"
            f" WHERE {where} GROUP BY pay.channel ORDER BY pay.channel"
        ).bindparams(bindparam("codes", expanding=True), bindparam("day", type_=Date())),
        params,
    ).all()
    payments = session.execute(
        text(
            "SELECT pay.channel, pay.reference, pay.amount, pay.posted_at AS posted_at,"
            " rev.id IS NOT NULL"
            " FROM payment pay LEFT JOIN payment_reversal rev ON rev.payment_id = pay.id"
            f" WHERE {where} ORDER BY pay.channel, pay.reference"
        )
        .bindparams(bindparam("codes", expanding=True), bindparam("day", type_=Date()))
        .columns(posted_at=AwareDateTime()),
        params,
    ).all()
    channels = [
        {"channel": channel, "count": int(count), "amount": int(amount)}
        for channel, count, amount in per_channel
    ]
    return {
        "date": day.isoformat(),
        "partner_code": scope.partner_code,
        "agent_code": scope.agent_code,
        "count": sum(c["count"] for c in channels),
        "amount": sum(c["amount"] for c in channels),
        "channels": channels,
        "payments": [
            {
                "channel": channel,
                "reference": reference,
                "amount": int(amount),
                "posted_at": posted_at.isoformat(),
                "reversed": bool(reversed_),
            }
            for channel, reference, amount, posted_at, reversed_ in payments
        ],
    }
