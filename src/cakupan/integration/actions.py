"""The partner API's writes. Each calls the registry's own actions (the one write path shared
with the CSV imports and the pages) and adds the outbox events in the same transaction.

Every function runs in the caller's transaction and leaves committing to it (see
:func:`cakupan.integration.idempotency.run_idempotent`)."""

from __future__ import annotations

import secrets
from collections.abc import Container, Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from cakupan import regions
from cakupan.access import mask_nik
from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.bundling import enrol, record_payer
from cakupan.bundling.queries import offer_of_partner
from cakupan.contributions import PolicyBook, load_policy_book
from cakupan.dates import JAKARTA, Clock, Month
from cakupan.db import is_postgres
from cakupan.errors import CakupanError, ErrorKind, FieldProblem, invalid, not_found
from cakupan.i18n import Text, t
from cakupan.integration.events import Event, enqueue, outbox_rows, registration_event
from cakupan.integration.idempotency import Answer
from cakupan.integration.models import WebhookDelivery, WebhookSubscription
from cakupan.integration.queries import (
    ClientIdentity,
    ClientScope,
    PaymentContext,
    out_of_scope_message,
    payable_niks,
)
from cakupan.integration.rules import public_url
from cakupan.integration.schemas import (
    BatchCreate,
    OfferPaymentCreate,
    PaymentCreate,
    QuoteCreate,
    RegistrationCreate,
    SubscriptionCreate,
)
from cakupan.registry import (
    PaymentRow,
    PostedPayment,
    RegistrationRow,
    post_payment,
    post_payments,
    register_participant,
)
from cakupan.registry.nik import check_nik
from cakupan.registry.occupation_terms import sector_for_occupation
from cakupan.registry.rules import DEFAULT_PAYMENT_CHANNEL

__all__ = [
    "create_subscription",
    "deactivate_subscription",
    "post_batch",
    "post_one",
    "quote",
    "register",
    "resend_delivery",
]


class _KnownDistricts:
    """A ``Container`` of district codes answered by the database (one query per NIK)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and regions.district_exists(self._session, code)


def quote(session: Session, body: QuoteCreate, clock: Clock) -> dict[str, Any]:
    """Check a NIK and quote the contribution for ``body.months`` months; writes nothing."""
    today = clock.now().astimezone(JAKARTA).date()
    districts: Container[str] = _KnownDistricts(session)
    check = check_nik(body.nik, known_districts=districts, today=today)
    start = Month.of(today)
    if body.start_month is not None:
        start = Month.parse(body.start_month)
    book = _policy_book(session)
    months = []
    for offset in range(body.months):
        q = book.quote(
            income=body.reported_income,
            programs=body.programs,
            month=start + offset,
            sector=body.sector or sector_for_occupation(body.occupation or ""),
            funding=body.funding,
        )
        months.append({"month": str(q.month), "base_income": q.base_income, "total": q.total})
    nik = check.as_json()
    nik["nik"] = mask_nik(check.nik)
    return {"nik": nik, "months": months, "total": sum(m["total"] for m in months)}


def register(
    session: Session, actor: Actor, scope: ClientScope, body: RegistrationCreate, clock: Clock
) -> dict[str, Any]:
    """Register a participant for the client (channel ``partner`` or ``agent``) with the
    registry's action, issue the kode penetapan, and queue ``participant.registered``."""
    row = RegistrationRow(
        row=1,
        nik=body.nik,
        name=body.name,
        phone=body.phone,
        occupation=body.occupation,
        reported_income=body.reported_income,
        programs=body.programs,
        registered_on=clock.now().astimezone(JAKARTA).date(),
        sex=body.sex,
        birth_date=body.birth_date,
        email=body.email,
        village_code=body.village_code,
        district_code=body.district_code,
        sector=body.sector,
        funding=body.funding,
        channel=scope.registration_channel,
        partner_code=scope.partner_code,
        agent_code=scope.agent_code,
        months_to_pay=body.months_to_pay,
    )
    if body.offer_code is not None:  # before writing: another partner's offer is unknown
        offer_of_partner(session, body.offer_code, scope.partner_code)
    registration = register_participant(session, actor, row, clock=clock)
    if body.offer_code is not None:
        # the offer's rules (dates, areas, registered through its partner) refuse the whole
        # registration, named, rather than register outside the offer the partner asked for
        enrol(session, actor, registration.nik, body.offer_code, clock=clock)
    enqueue(session, [registration_event(scope.partner_code, registration)], clock.now())
    code = registration.payment_code
    return {
        "participant_id": registration.participant_id,
        "nik": mask_nik(registration.nik),
        "episode": registration.episode_no,
        "start_month": str(registration.start_month),
        "branch_code": registration.branch_code,
        "kode_penetapan": None if code is None else code.code,
        "amount": None if code is None else code.amount,
        "first_month": None if code is None else str(code.first_month),
        "months": None if code is None else code.months,
        "valid_until": None if code is None else code.valid_until.isoformat(),
        "offer_code": body.offer_code,
    }


#: Policy books by (database, number of policy rows, highest policy id): policies are
#: append-only versions, so a new regulation changes the key and the next request rebuilds.
_BOOKS: dict[tuple[str, int, int], PolicyBook] = {}


def _policy_book(session: Session, version: tuple[int, int] | None = None) -> PolicyBook:
    """The contribution policy book, built once per process and policy version (one small
    query per request instead of loading every policy and band; none when the caller read
    ``version``, the number of policy rows and the highest id, with its own query)."""
    from cakupan.contributions.models import ContributionPolicy

    if version is None:
        count, top = session.execute(select(func.count(), func.max(ContributionPolicy.id))).one()
        version = (int(count), int(top or 0))
    key = (session.get_bind().engine.url.render_as_string(), *version)
    book = _BOOKS.get(key)
    if book is None:
        book = load_policy_book(session)
        if len(_BOOKS) > 64:
            _BOOKS.clear()
        _BOOKS[key] = book
    return book


def _channel(value: str) -> str:
    return value.strip().lower() or DEFAULT_PAYMENT_CHANNEL


def _payment_json(posted: PostedPayment) -> dict[str, Any]:
    body = posted.as_json()
    body["nik"] = mask_nik(posted.nik)
    return body


def _payment_events(collector: str, registered_by: str, payload: dict[str, Any]) -> list[Event]:
    codes = sorted({code for code in (collector, registered_by) if code})
    return [Event(code, "payment.posted", payload) for code in codes]


def post_one(
    session: Session,
    actor: Actor,
    client: ClientIdentity,
    context: PaymentContext,
    body: PaymentCreate | OfferPaymentCreate,
    clock: Clock,
) -> Answer:
    """Post one payment collected by the client with the registry's action; a repeat of an
    already-posted (channel, reference) with the same content answers ``duplicate``. The
    ``payment.posted`` outbox rows (collecting and registering partner, when subscribed) come
    back with the answer, to be written with the stored response (see
    :func:`~cakupan.integration.idempotency.run_once`). ``context`` is
    :func:`~cakupan.integration.queries.payment_context` for this request."""
    nik = body.nik.strip()
    if context.registered_by is None:
        raise not_found(out_of_scope_message(nik), code="participant-not-found")
    offer_code = getattr(body, "offer_code", None)
    if offer_code is not None:  # another partner's offer is unknown, before anything is written
        offer_of_partner(session, offer_code, client.partner_code)
    posted = post_payment(
        session,
        actor,
        nik=nik,
        amount=body.amount,
        paid_on=body.paid_on,
        reference=body.reference.strip(),
        channel=_channel(body.channel),
        partner_code=client.partner_code,
        agent_code=client.agent_code,
        clock=clock,
        book=_policy_book(session, context.policy_version),
    )
    answer = _payment_json(posted)
    if offer_code is not None:
        payer = record_payer(
            session,
            actor,
            body.reference.strip(),
            channel=answer["channel"],
            payer=getattr(body, "payer", None),
            offer_code=offer_code,
            clock=clock,
        )
        answer = {**answer, "offer_code": offer_code, "payer": payer["payer"]}
    outbox: list[dict[str, Any]] = []
    if not posted.duplicate and context.subscribed:
        payload = {k: v for k, v in answer.items() if k != "result"}
        events = _payment_events(client.partner_code, context.registered_by, payload)
        outbox = outbox_rows(events, context.subscribed, clock.now())
    return Answer(answer, outbox)


def _batch_error(problems: list[FieldProblem]) -> CakupanError:
    return CakupanError(
        title=t(
            "Batch ditolak seluruhnya: ada baris yang tidak valid (kirim partial=true untuk "
            "memposting baris yang valid)",
            "Batch refused as a whole: some rows are invalid (send partial=true to post the "
            "valid rows)",
        ),
        problems=problems,
        kind=ErrorKind.INVALID,
        code="batch-rejected",
    )


def post_batch(
    session: Session, actor: Actor, scope: ClientScope, body: BatchCreate, clock: Clock
) -> dict[str, Any]:
    """Post a settlement batch with the registry's batch engine (:func:`post_payments`, the one
    the payments import uses) and answer per row: ``posted`` (with its payment id),
    ``duplicate`` (already posted with the same content) or ``rejected`` (with every problem).

    Unless ``partial``, any rejected row refuses the whole batch (INVALID listing every row's
    problems; nothing written). A constant number of queries whatever the number of rows."""
    rows = body.rows
    niks = [r.nik.strip() for r in rows]
    keys = [(_channel(r.channel), r.reference.strip()) for r in rows]
    allowed = payable_niks(session, scope, niks)
    problems: dict[int, list[tuple[str, Text]]] = {}
    registry_rows: list[PaymentRow] = []
    for number, (row, nik, (channel, reference)) in enumerate(
        zip(rows, niks, keys, strict=True), 1
    ):
        if nik not in allowed:
            problems[number] = [("nik", out_of_scope_message(nik))]
            continue
        registry_rows.append(
            PaymentRow(
                number,
                reference,
                nik,
                str(row.amount),
                row.paid_on.isoformat(),
                channel,
                scope.partner_code,
                scope.agent_code,
            )
        )
    # Lock the participants' memberships first (PostgreSQL; the registry locks the same rows in
    # the same order, so this adds no deadlock): a concurrent batch with the same payments then
    # commits before our snapshot of what already exists, so "posted" is reported once only.
    _lock_memberships(session, [r.nik for r in registry_rows])
    before = _existing_payments(session, keys)
    savepoint = session.begin_nested()
    result = post_payments(
        session,
        actor,
        registry_rows,
        partial=body.partial or bool(problems),
        clock=clock,
        book=_policy_book(session),
    )
    for error in result.errors:
        problems.setdefault(error.row, []).append((error.field, error.message))
    if not body.partial and (problems or result.rejected):
        savepoint.rollback()
        raise _batch_error(
            [
                FieldProblem(field=name, message=message, row=number)
                for number in sorted(problems)
                for name, message in problems[number]
            ]
        )
    savepoint.commit()
    after = _existing_payments(session, keys)
    answers: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    events: list[Event] = []
    counts = {"posted": 0, "duplicate": 0, "rejected": 0}
    for number, (nik, key) in enumerate(zip(niks, keys, strict=True), 1):
        found = after.get(key)
        if number in problems or found is None:
            outcome = "rejected"
        elif key in before or key in seen:
            outcome = "duplicate"
        else:
            outcome = "posted"
            events += _payment_events(
                scope.partner_code, allowed[nik], {**found[1], "nik": mask_nik(nik)}
            )
        seen.add(key)
        counts[outcome] += 1
        answers.append(
            {
                "row": number,
                "reference": key[1],
                "result": outcome,
                "payment_id": None if outcome == "rejected" or found is None else found[0],
                "errors": [
                    {"field": name, "message": message.render()}
                    for name, message in problems.get(number, [])
                ],
            }
        )
    enqueue(session, events, clock.now())
    return {
        "partial": body.partial,
        "accepted": counts["posted"],
        "duplicates": counts["duplicate"],
        "rejected": counts["rejected"],
        "rows": answers,
    }


def _lock_memberships(session: Session, niks: Sequence[str]) -> None:
    if not niks or not is_postgres(session):
        return  # SQLite: the Idempotency-Key insert already holds the single write lock
    session.execute(
        text(
            "SELECT m.id FROM membership m JOIN participant p ON p.id = m.participant_id"
            " WHERE p.nik = ANY(:niks) ORDER BY m.id FOR UPDATE OF m"
        ),
        {"niks": sorted(set(niks))},
    )


def _existing_payments(
    session: Session, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
    """The payments already posted under the (channel, reference) pairs of ``keys``: id and the
    event payload. One query per channel present (on the unique index)."""
    from cakupan.registry.models import Membership, Payment

    by_channel: dict[str, set[str]] = {}
    for channel, reference in keys:
        by_channel.setdefault(channel, set()).add(reference)
    found: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for channel, references in by_channel.items():
        query = (
            select(
                Payment.id,
                Payment.reference,
                Payment.amount,
                Payment.paid_on,
                Payment.first_month,
                Payment.months,
                Membership.episode_no,
            )
            .join(Membership, Membership.id == Payment.membership_id)
            .where(Payment.channel == channel, Payment.reference.in_(sorted(references)))
        )
        for pid, reference, amount, paid_on, first_month, months, episode in session.execute(query):
            found[(channel, reference)] = (
                int(pid),
                {
                    "payment_id": int(pid),
                    "channel": channel,
                    "reference": reference,
                    "amount": int(amount),
                    "paid_on": paid_on.isoformat(),
                    "first_month": str(first_month),
                    "months": int(months),
                    "episode": int(episode),
                },
            )
    return found


# -- webhook subscriptions ------------------------------------------------------------------------


def subscription_json(row: WebhookSubscription, *, secret: bool = False) -> dict[str, Any]:
    """A subscription as shown back (API, audit rows): the URL without credentials or query
    values (:func:`~cakupan.integration.rules.public_url`); the secret only once, at creation."""
    return {
        "id": row.id,
        "partner_code": row.partner_code,
        "url": public_url(row.url),
        "events": list(row.events),
        "active": row.active,
        "secret": row.secret if secret else None,
    }


def create_subscription(
    session: Session, actor: Actor, scope: ClientScope, body: SubscriptionCreate, clock: Clock
) -> dict[str, Any]:
    """Subscribe the client's partner to ``body.events`` at ``body.url``; a new random secret
    signs the deliveries and is returned once. INVALID for a destination the deployment does
    not send to (:func:`~cakupan.integration.webhooks.destination_problem`: http in production,
    credentials in the URL, a host resolving to a loopback/private/link-local address)."""
    from cakupan.integration.webhooks import destination_problem, url_policy

    problem = destination_problem(body.url, url_policy())
    if problem is not None:
        raise invalid("url", t(*problem), code="webhook-url-not-allowed")
    row = WebhookSubscription(
        partner_code=scope.partner_code,
        url=body.url,
        secret="whsec_" + secrets.token_urlsafe(32),
        events=sorted(set(body.events)),
        active=True,
        created_at=clock.now(),
        created_by=actor.name,
    )
    session.add(row)
    session.flush()
    record_audit(
        session,
        actor,
        "webhook.subscribe",
        "webhook_subscription",
        row.id,
        after=subscription_json(row),  # never the secret
        at=clock.now(),
    )
    return subscription_json(row, secret=True)


def deactivate_subscription(
    session: Session, actor: Actor, scope: ClientScope, subscription_id: int, clock: Clock
) -> dict[str, Any]:
    """Stop a subscription of the client's partner (its pending deliveries are still tried)."""
    row = session.get(WebhookSubscription, subscription_id)
    if row is None or row.partner_code != scope.partner_code:
        raise not_found(
            t(
                "Langganan webhook #{i} tidak ditemukan", "Webhook subscription #{i} not found"
            ).format(i=subscription_id),
            code="subscription-not-found",
        )
    if row.active:
        before = subscription_json(row)
        row.active = False
        session.flush()
        record_audit(
            session,
            actor,
            "webhook.unsubscribe",
            "webhook_subscription",
            row.id,
            before=before,
            after=subscription_json(row),
            at=clock.now(),
        )
    return subscription_json(row)


def resend_delivery(session: Session, actor: Actor, delivery_id: int, clock: Clock) -> int:
    """Queue delivery ``delivery_id`` again (whatever its state): pending, due now, attempts
    reset. Returns the event id. NOT_FOUND for an unknown id."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise not_found(
            t("Pengiriman webhook #{i} tidak ditemukan", "Webhook delivery #{i} not found").format(
                i=delivery_id
            ),
            code="delivery-not-found",
        )
    before = {"status": delivery.status, "attempts": delivery.attempts}
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = clock.now()
    session.flush()
    record_audit(
        session,
        actor,
        "webhook.resend",
        "webhook_delivery",
        delivery.id,
        before=before,
        after={"status": "pending", "attempts": 0},
        at=clock.now(),
    )
    return delivery.event_id
