"""The webhook worker: fans outbox events out to subscriptions and delivers them, signed.

At-least-once: a delivery is retried with exponential back-off (30 s, 1 min, 2 min, ... capped
at 6 h) until a 2xx answer or :data:`~cakupan.integration.rules.MAX_ATTEMPTS` attempts (then
``failed``; ``cakupan webhooks resend ID`` queues it again). Receivers de-duplicate on the
event ``id``. Each attempt is signed afresh: ``X-Cakupan-Timestamp`` (Unix seconds) and
``X-Cakupan-Signature: v1=<hex HMAC-SHA256(secret, "{timestamp}." + body)>``.

Several workers may run at once on PostgreSQL (rows are claimed with ``FOR UPDATE SKIP
LOCKED``). The worker's bookkeeping (attempts, status) is not audited; re-sending is.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from cakupan.dates import Clock, SystemClock
from cakupan.db import is_postgres, make_session_factory
from cakupan.integration.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from cakupan.integration.rules import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    MAX_ATTEMPTS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookUrlPolicy,
    address_allowed,
    backoff_seconds,
    sign,
    webhook_url_problem,
)
from cakupan.settings import get_settings

__all__ = [
    "WorkResult",
    "deliver_due",
    "delivery_body",
    "destination_problem",
    "dispatch_events",
    "url_policy",
    "work",
]

logger = logging.getLogger("cakupan.webhooks")

#: Events fanned out, deliveries attempted, per round.
FAN_OUT_BATCH = 1000
DELIVERY_BATCH = 50
#: Seconds to wait for a receiver.
TIMEOUT_SECONDS = 10.0


#: Resolves a host name to its addresses (``socket.getaddrinfo``'s shape); tests pass their own.
Resolver = Callable[[str, int], list[str]]


def _resolve(host: str, port: int) -> list[str]:
    return sorted(
        {str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
    )


def url_policy() -> WebhookUrlPolicy:
    """The webhook destination policy of this deployment (settings)."""
    settings = get_settings()
    return WebhookUrlPolicy(
        https_only=settings.webhook_https_only,
        allow_private_addresses=settings.webhook_allow_private_addresses,
    )


def destination_problem(
    url: str, policy: WebhookUrlPolicy, resolve: Resolver = _resolve
) -> tuple[str, str] | None:
    """Why webhooks may not be sent to ``url`` now (Indonesian, English), None when they may:
    the URL's shape (:func:`~cakupan.integration.rules.webhook_url_problem`), then every address
    its host resolves to must be allowed (a name resolving to 127.0.0.1 is refused as the
    address itself is). Checked at subscription and before every delivery (DNS may change)."""
    from urllib.parse import urlsplit

    problem = webhook_url_problem(url, policy)
    if problem is not None:
        return problem
    if policy.allow_private_addresses:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        return ("nama host tidak dapat di-resolve", "the host name does not resolve")
    if not addresses or not all(address_allowed(a, policy) for a in addresses):
        return (
            "alamat tujuan tidak diizinkan (loopback, jaringan privat, link-local atau metadata)",
            "destination address not allowed (loopback, private network, link-local or metadata)",
        )
    return None


@dataclass
class WorkResult:
    """What one or more rounds did."""

    dispatched_events: int = 0
    deliveries_created: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0

    def as_json(self) -> dict[str, int]:
        return dict(self.__dict__)


def dispatch_events(session: Session, clock: Clock) -> tuple[int, int]:
    """Create a pending delivery per (undispatched event, active subscription of its partner
    listing its type), mark the events dispatched; returns (events, deliveries). Caller
    commits."""
    query = (
        select(WebhookEvent.id, WebhookEvent.partner_code, WebhookEvent.event_type)
        .where(WebhookEvent.dispatched.is_(False))
        .order_by(WebhookEvent.id)
        .limit(FAN_OUT_BATCH)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    events = session.execute(query).all()
    if not events:
        return 0, 0
    subscriptions = session.execute(
        select(
            WebhookSubscription.id, WebhookSubscription.partner_code, WebhookSubscription.events
        ).where(
            WebhookSubscription.active,
            WebhookSubscription.partner_code.in_(sorted({e[1] for e in events})),
        )
    ).all()
    now = clock.now()
    rows = [
        {
            "event_id": event_id,
            "subscription_id": sub_id,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
        }
        for event_id, partner_code, event_type in events
        for sub_id, sub_partner, wanted in subscriptions
        if sub_partner == partner_code and event_type in wanted
    ]
    if rows:
        session.execute(insert(WebhookDelivery), rows)
    session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id.in_([e[0] for e in events]))
        .values(dispatched=True)
    )
    return len(events), len(rows)


def delivery_body(event: WebhookEvent, delivery_id: int) -> bytes:
    """The JSON body of a delivery: the event (``id``, ``type``, ``occurred_at``, ``data``)."""
    payload = {"id": event.id, "delivery_id": delivery_id, **event.payload}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def deliver_due(
    session: Session,
    client: httpx.Client,
    clock: Clock,
    result: WorkResult,
    *,
    policy: WebhookUrlPolicy | None = None,
    resolve: Resolver = _resolve,
) -> int:
    """Attempt the pending deliveries that are due (a batch); returns how many were attempted.
    A destination that is no longer allowed (:func:`destination_problem`, e.g. its name now
    resolves to a private address) is not contacted: the attempt fails. Caller commits."""
    policy = policy or url_policy()
    now = clock.now()
    query = (
        select(WebhookDelivery, WebhookEvent, WebhookSubscription)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(DELIVERY_BATCH)
    )
    if is_postgres(session):
        query = query.with_for_update(of=WebhookDelivery, skip_locked=True)
    due = session.execute(query).all()
    for delivery, event, subscription in due:
        body = delivery_body(event, delivery.id)
        timestamp = int(clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: event.event_type,
            DELIVERY_HEADER: str(delivery.id),
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(subscription.secret, timestamp, body),
            "User-Agent": "cakupan-webhooks/1",
        }
        status_code: int | None = None
        error: str | None = None
        refused = destination_problem(subscription.url, policy, resolve)
        if refused is not None:
            error = f"refused: {refused[1]}"
        else:
            try:
                response = client.post(subscription.url, content=body, headers=headers)
                status_code = response.status_code
                if not 200 <= status_code < 300:
                    error = f"HTTP {status_code}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:400]
        attempted = clock.now()
        delivery.attempts += 1
        delivery.last_attempt_at = attempted
        delivery.last_status_code = status_code
        delivery.last_error = error
        if error is None:
            delivery.status = "delivered"
            delivery.delivered_at = attempted
            result.delivered += 1
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = "failed"
            result.failed += 1
            logger.warning("webhook delivery %s failed for good: %s", delivery.id, error)
        else:
            delivery.next_attempt_at = attempted + timedelta(
                seconds=backoff_seconds(delivery.attempts)
            )
            result.retried += 1
    session.flush()
    return len(due)


def work(
    engine: Engine,
    *,
    once: bool = False,
    clock: Clock | None = None,
    poll_seconds: float = 2.0,
    client: httpx.Client | None = None,
) -> WorkResult:
    """Run the worker: rounds of fan-out and delivery until nothing is due (``once``), or
    forever, sleeping ``poll_seconds`` when idle."""
    clock = clock or SystemClock()
    factory = make_session_factory(engine)
    result = WorkResult()
    own_client = client is None
    http = client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False)
    try:
        while True:
            with factory() as session:
                events, created = dispatch_events(session, clock)
                session.commit()
                result.dispatched_events += events
                result.deliveries_created += created
                attempted = deliver_due(session, http, clock, result)
                session.commit()
            if events or attempted:
                continue
            if once:
                return result
            time.sleep(poll_seconds)
    finally:
        if own_client:
            http.close()
