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
from cakupan.db import AwareDateTime, is_postgres
from cakupan.errors import CakupanError, forbidden, not_found
from cakupan.i18n import Text, t
from cakupan.integration.idempotency import Stored, driver_row, driver_sql
from cakupan.partners import agents_under
from cakupan.registry import status_of

__all__ = [
    "ClientIdentity",
    "ClientScope",
    "PaymentContext",
    "client_identity",
    "client_scope",
    "out_of_scope_message",
    "participant_status",
    "payable_niks",
    "payment_context",
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


@dataclass(frozen=True)
class ClientIdentity:
    """Who a partner client is (no database needed): its partner code, and its agent code for
    an agent client. :func:`client_scope` adds the codes it answers for."""

    partner_code: str
    agent_code: str | None


def client_identity(actor: Actor) -> ClientIdentity:
    """The identity of a partner client; FORBIDDEN for any other role (or a role without its
    code)."""
    if actor.role is Role.PARTNER and actor.partner_code:
        return ClientIdentity(actor.partner_code, None)
    if actor.role is Role.AGENT and actor.agent_code and actor.partner_code:
        return ClientIdentity(actor.partner_code, actor.agent_code)
    raise forbidden(
        t(
            "API mitra hanya untuk pengguna berperan mitra atau agen",
            "The partner API is for users of role partner or agent only",
        )
    )


def client_scope(session: Session, actor: Actor) -> ClientScope:
    """The scope of a partner client; FORBIDDEN for any other role (or a role without its
    code)."""
    identity = client_identity(actor)
    if identity.agent_code is None:
        codes = {identity.partner_code} | agents_under(session, identity.partner_code)
        return ClientScope(identity.partner_code, None, frozenset(codes))
    return ClientScope(identity.partner_code, identity.agent_code, frozenset({identity.agent_code}))


def partner_scope(session: Session, actor: Actor) -> ClientScope:
    """:func:`client_scope` for what only the partner itself manages (webhook subscriptions and
    their deliveries, issue 21): FORBIDDEN for an agent's credentials, whose read scope is
    narrower than the partner's events."""
    scope = client_scope(session, actor)
    if scope.agent_code is not None:
        raise forbidden(
            t(
                "Langganan webhook dikelola dengan kredensial mitra, bukan kredensial agen",
                "Webhook subscriptions are managed with the partner's credentials, not an agent's",
            )
        )
    return scope


@dataclass(frozen=True)
class PaymentContext:
    """What posting one payment needs to know before the registry runs, read in ONE query
    (:func:`payment_context`): the key's stored answer, whether the client may pay for the NIK
    (and who registered it), which of the two partners subscribe to webhooks, and the version
    of the contribution policies (to reuse the cached policy book)."""

    stored: Stored | None
    #: The participant's registering partner code (``""`` for the agency's own), when the
    #: client may pay for it; None for an unknown NIK or one outside the client's scope.
    registered_by: str | None
    subscribed: frozenset[str]
    policy_version: tuple[int, int]


#: The partner client's codes: its own and every partner or agent below it (recursive).
_PARTNER_CODES = (
    "WITH RECURSIVE tree(code) AS ("
    " SELECT code FROM partner WHERE parent_code = :own"
    " UNION ALL SELECT child.code FROM partner child JOIN tree ON child.parent_code = tree.code),"
    " codes(code) AS (SELECT CAST(:own AS VARCHAR) UNION SELECT code FROM tree) "
)
_AGENT_CODES = "WITH codes(code) AS (SELECT CAST(:own AS VARCHAR)) "


def _payment_context_sql(agent: bool) -> str:
    column = "agent_code" if agent else "partner_code"
    own = (
        "par.agent_code IN (SELECT code FROM codes)"
        if agent
        else "(par.partner_code IN (SELECT code FROM codes)"
        " OR par.agent_code IN (SELECT code FROM codes))"
    )
    return (
        (_AGENT_CODES if agent else _PARTNER_CODES)
        + "SELECT k.request_hash, k.status_code, k.response, par.id, par.partner_code,"
        f" par.agent_code, CASE WHEN par.id IS NULL THEN 0 WHEN {own} THEN 1"
        " WHEN EXISTS (SELECT 1 FROM payment pay WHERE pay.participant_id = par.id"
        f" AND pay.{column} IN (SELECT code FROM codes)) THEN 1 ELSE 0 END,"
        " EXISTS (SELECT 1 FROM webhook_subscription s WHERE s.active"
        " AND s.partner_code = :partner),"
        " EXISTS (SELECT 1 FROM webhook_subscription s WHERE s.active"
        " AND s.partner_code = par.partner_code),"
        " (SELECT COUNT(*) FROM contribution_policy), (SELECT MAX(id) FROM contribution_policy)"
        " FROM (SELECT 1 AS one) AS one"
        " LEFT JOIN idempotent_request k ON k.user_id = :user_id AND k.key = :key"
        " LEFT JOIN participant par ON par.nik = :nik"
    )


_PAYMENT_CONTEXT = {agent: text(_payment_context_sql(agent)) for agent in (False, True)}
#: The same for the driver (psycopg's ``%(name)s`` placeholders), on PostgreSQL.
_PAYMENT_CONTEXT_PG = {agent: driver_sql(_payment_context_sql(agent)) for agent in (False, True)}


def payment_context(
    session: Session, identity: ClientIdentity, user_id: int, key: str, nik: str
) -> PaymentContext:
    """Everything :func:`cakupan.integration.actions.post_one` reads before posting, in one
    query: the scope rule is :func:`payable_niks`'s (the client's own registrations, the
    agency's, and those it already collects for)."""
    agent = identity.agent_code is not None
    params = {
        "own": identity.agent_code if agent else identity.partner_code,
        "partner": identity.partner_code,
        "user_id": user_id,
        "key": key,
        "nik": nik,
    }
    if is_postgres(session):
        row = driver_row(session, _PAYMENT_CONTEXT_PG[agent], params)
        assert row is not None  # one row whatever matches (LEFT JOINs from a constant)
    else:
        row = session.execute(_PAYMENT_CONTEXT[agent], params).one()
    stored = None if row[0] is None else Stored(str(row[0]), int(row[1]), str(row[2]))
    partner_code, agent_code = row[4], row[5]
    agency = partner_code is None and agent_code is None
    allowed = row[3] is not None and (bool(row[6]) or agency)
    subscribed = {identity.partner_code} if row[7] else set()
    if row[8] and partner_code:
        subscribed.add(partner_code)
    return PaymentContext(
        stored=stored,
        registered_by=(partner_code or "") if allowed else None,
        subscribed=frozenset(subscribed),
        policy_version=(int(row[9]), int(row[10] or 0)),
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
