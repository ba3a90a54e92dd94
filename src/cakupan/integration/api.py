"""The partner integration API under ``/api/v1`` (thin: scope, idempotency, then the actions).

Guide: ``docs/partner-api.md``. Writes taking ``Idempotency-Key`` answer a repeat with the
stored response (header ``Idempotent-Replayed: true``); every route is rate limited per client.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select

from cakupan.auth import Actor
from cakupan.dates import JAKARTA
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.integration import actions, queries
from cakupan.integration.idempotency import Outcome, Stored, run_idempotent, run_once
from cakupan.integration.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from cakupan.integration.ratelimit import RateLimited
from cakupan.integration.rules import request_hash
from cakupan.integration.schemas import (
    BatchCreate,
    BatchPublic,
    DeliveryPublic,
    OfferPaymentCreate,
    OfferPublic,
    OfferReportPublic,
    PaymentPublic,
    QuoteCreate,
    QuotePublic,
    ReconciliationPublic,
    RegistrationCreate,
    RegistrationPublic,
    StatusPublic,
    StatusQuery,
    SubscriptionCreate,
    SubscriptionPublic,
)
from cakupan.web.deps import ApiDbSession as DbSession
from cakupan.web.deps import AppClock

router = APIRouter(tags=["partner-api"])


class ProblemPublic(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str
    title: str
    status: int
    code: str
    errors: list[dict[str, Any]] | None = None
    instance: str | None = None


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    base = {401, 403, 422, 429, *statuses}
    return {
        status: {"model": ProblemPublic, "content": {"application/problem+json": {}}}
        for status in sorted(base)
    }


IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Unique per request (e.g. a UUID); a repeat returns the stored response",
    ),
]
OptionalIdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$"),
]


#: The web app's logger: its records are NIK-redacted (``cakupan.web.log_redaction``).
logger = logging.getLogger("cakupan.web")


def _answer(request: Request, username: str, endpoint: str, outcome: Outcome) -> Response:
    """The stored or fresh answer; one log line per partner write naming the request ID, the
    client and the outcome (never the body: it holds NIKs)."""
    logger.info(
        "partner-api request %s client %s %s -> %s%s",
        getattr(request.state, "request_id", "-"),
        username,
        endpoint,
        outcome.status_code,
        " (replayed)" if outcome.replayed else "",
    )
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    return Response(
        outcome.body,
        status_code=outcome.status_code,
        media_type="application/json",
        headers=headers,
    )


def _hashed(body: BaseModel) -> dict[str, Any]:
    """A request body as hashed for its idempotency key: the offer fields (added later) only
    when given, so that a key stored before them still matches its repeat."""
    dumped = body.model_dump(mode="json")
    for name in ("offer_code", "payer"):
        if dumped.get(name, "") is None:
            del dumped[name]
    return dumped


@router.post("/registrations/quote", response_model=QuotePublic, responses=_problems())
def quote(body: QuoteCreate, user: RateLimited, db: DbSession, clock: AppClock) -> Any:
    """Validate a NIK and quote the contribution per month (income, programs, months); nothing
    is written."""
    queries.client_scope(db, Actor.for_user(user))
    return actions.quote(db, body, clock)


@router.post(
    "/registrations",
    response_model=RegistrationPublic,
    status_code=201,
    responses=_problems(409),
)
def register(
    request: Request,
    body: RegistrationCreate,
    user: RateLimited,
    db: DbSession,
    clock: AppClock,
    idempotency_key: OptionalIdempotencyKey = None,
) -> Response:
    """Register a participant for the calling partner (or agent); returns the kode penetapan and
    the amount to pay. 409 when the NIK already holds an open membership."""
    actor = Actor.for_user(user)
    scope = queries.client_scope(db, actor)
    return _answer(
        request,
        user.username,
        "POST /registrations",
        run_idempotent(
            db,
            user_id=user.id,
            key=idempotency_key,
            endpoint="registrations",
            request_hash=request_hash("registrations", _hashed(body)),
            work=lambda: actions.register(db, actor, scope, body, clock),
            clock=clock,
            status_code=201,
        ),
    )


@router.post("/participants/status", response_model=StatusPublic, responses=_problems(404))
def participant_status(body: StatusQuery, user: RateLimited, db: DbSession, clock: AppClock) -> Any:
    """The status (D-3) of a participant the partner registered, collects for, or that the
    agency registered; NIK masked. 404 otherwise (the same answer as an unknown NIK)."""
    scope = queries.client_scope(db, Actor.for_user(user))
    as_of = body.as_of or clock.now().astimezone(JAKARTA).date()
    return queries.participant_status(db, scope, body.nik, as_of)


@router.post("/payments", response_model=PaymentPublic, responses=_problems(404, 409))
def post_payment(
    request: Request,
    body: OfferPaymentCreate,
    user: RateLimited,
    db: DbSession,
    clock: AppClock,
    idempotency_key: IdempotencyKey,
) -> Response:
    """Post one payment collected by the partner. ``result`` is ``posted``, or ``duplicate``
    when the (channel, reference) was already posted with the same content. 422 with the
    expected amount when the amount is wrong; 409 when the reference was used for another
    payment or the key for another body."""
    actor = Actor.for_user(user)
    client = queries.client_identity(actor)
    nik = body.nik.strip()
    context: list[queries.PaymentContext] = []

    def lookup() -> Stored | None:
        context[:] = [queries.payment_context(db, client, user.id, idempotency_key, nik)]
        return context[0].stored

    return _answer(
        request,
        user.username,
        "POST /payments",
        run_once(
            db,
            user_id=user.id,
            key=idempotency_key,
            endpoint="payments",
            request_hash=request_hash("payments", _hashed(body)),
            lookup=lookup,
            work=lambda: actions.post_one(db, actor, client, context[0], body, clock),
            clock=clock,
        ),
    )


@router.post("/payments/batches", response_model=BatchPublic, responses=_problems(409))
def post_batch(
    request: Request,
    body: BatchCreate,
    user: RateLimited,
    db: DbSession,
    clock: AppClock,
    idempotency_key: IdempotencyKey,
) -> Response:
    """Post a settlement batch (1-10,000 rows) in one transaction, with a result per row.
    Without ``partial`` any refused row refuses the batch (422 listing every row's problems)."""
    actor = Actor.for_user(user)
    scope = queries.client_scope(db, actor)
    return _answer(
        request,
        user.username,
        "POST /payments/batches",
        run_idempotent(
            db,
            user_id=user.id,
            key=idempotency_key,
            endpoint="payments/batches",
            request_hash=request_hash("payments/batches", body.model_dump(mode="json")),
            work=lambda: actions.post_batch(db, actor, scope, body, clock),
            clock=clock,
        ),
    )


@router.get("/reconciliation", response_model=ReconciliationPublic, responses=_problems())
def reconciliation(
    user: RateLimited,
    db: DbSession,
    day: Annotated[
        str,
        Query(
            alias="date",
            pattern=r"^\d{4}-\d{2}-\d{2}$",
            description="Payment date, YYYY-MM-DD",
        ),
    ],
) -> Any:
    """What the agency recorded as collected by the partner on a payment date: count and sum
    per channel, totals, and every payment (channel, reference, amount, reversed). Only a
    YYYY-MM-DD date (``0`` is not 1970-01-01)."""
    scope = queries.client_scope(db, Actor.for_user(user))
    try:
        on = date.fromisoformat(day)
    except ValueError:
        raise invalid(
            "date", t("tanggal tidak sah: {v}", "not a valid date: {v}").format(v=day)
        ) from None
    return queries.reconciliation(db, scope, on)


@router.post(
    "/webhooks/subscriptions",
    response_model=SubscriptionPublic,
    status_code=201,
    responses=_problems(),
)
def subscribe(body: SubscriptionCreate, user: RateLimited, db: DbSession, clock: AppClock) -> Any:
    """Subscribe the partner to events; the answer carries the signing secret (only once)."""
    actor = Actor.for_user(user)
    scope = queries.partner_scope(db, actor)
    answer = actions.create_subscription(db, actor, scope, body, clock)
    db.commit()
    return answer


@router.get("/webhooks/subscriptions", response_model=list[SubscriptionPublic])
def subscriptions(user: RateLimited, db: DbSession) -> Any:
    """The partner's webhook subscriptions (secrets not shown)."""
    scope = queries.partner_scope(db, Actor.for_user(user))
    rows = db.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.partner_code == scope.partner_code)
        .order_by(WebhookSubscription.id)
    )
    return [actions.subscription_json(row) for row in rows]


@router.delete(
    "/webhooks/subscriptions/{subscription_id}",
    response_model=SubscriptionPublic,
    responses=_problems(404),
)
def unsubscribe(
    subscription_id: Annotated[int, Path(ge=1, le=2**62)],
    user: RateLimited,
    db: DbSession,
    clock: AppClock,
) -> Any:
    """Deactivate one of the partner's subscriptions."""
    actor = Actor.for_user(user)
    scope = queries.partner_scope(db, actor)
    answer = actions.deactivate_subscription(db, actor, scope, subscription_id, clock)
    db.commit()
    return answer


def partner_error(error: str | None) -> str | None:
    """What a partner is told about a failed attempt: whether it was refused (the destination
    is not allowed) or failed, never the status code or the network error."""
    if error is None:
        return None
    if error.startswith("refused:"):
        return error
    return "failed: the receiver did not answer with a 2xx status"


@router.get("/webhooks/deliveries", response_model=list[DeliveryPublic])
def deliveries(
    user: RateLimited,
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """The partner's most recent webhook deliveries, newest first."""
    scope = queries.partner_scope(db, Actor.for_user(user))
    rows = db.execute(
        select(WebhookDelivery, WebhookEvent.event_type)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookSubscription.partner_code == scope.partner_code)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "id": d.id,
            "event_id": d.event_id,
            "event_type": event_type,
            "subscription_id": d.subscription_id,
            "status": d.status,
            "attempts": d.attempts,
            "next_attempt_at": d.next_attempt_at.isoformat(),
            # Success or failure only: a receiver's status code or connection error could
            # describe hosts other than the partner's (issue 21).
            "last_status_code": None,
            "last_error": partner_error(d.last_error),
            "delivered_at": None if d.delivered_at is None else d.delivered_at.isoformat(),
        }
        for d, event_type in rows
    ]


@router.get("/offers", response_model=list[OfferPublic], responses=_problems())
def offers(user: RateLimited, db: DbSession) -> Any:
    """The bundling offers of the client's partner (an agent sees its partner's): never
    another partner's (docs/bundling.md)."""
    from cakupan.bundling.queries import partner_offers

    scope = queries.client_scope(db, Actor.for_user(user))
    return partner_offers(db, scope.partner_code)


@router.get(
    "/offers/{offer_code}/report", response_model=OfferReportPublic, responses=_problems(404)
)
def offer_report(
    offer_code: Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[\x21-\x7e]+$")],
    user: RateLimited,
    db: DbSession,
    clock: AppClock,
    as_of: Annotated[
        str | None,
        Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD; default: today"),
    ] = None,
) -> Any:
    """One of the partner's offers: registrations, retention at months 3/6/12 and what the
    partner paid, against the same segment outside any offer. Partner credentials only (the
    report covers every agent's registrations); 404 for another partner's offer, as for an
    unknown code."""
    from cakupan.bundling.queries import offer_of_partner
    from cakupan.bundling.queries import offer_report as report

    scope = queries.partner_scope(db, Actor.for_user(user))
    offer = offer_of_partner(db, offer_code, scope.partner_code)
    try:
        on = clock.now().astimezone(JAKARTA).date() if as_of is None else date.fromisoformat(as_of)
    except ValueError:
        raise invalid(
            "as_of", t("tanggal tidak sah: {v}", "not a valid date: {v}").format(v=as_of)
        ) from None
    return report(db, offer.code, on)
