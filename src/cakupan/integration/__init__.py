"""Real-time partner integration API (issue 9): partner clients register participants, post
payments and settlement batches idempotently, reconcile, and receive signed webhooks from an
outbox written in the business transaction. See ``docs/partner-api.md``.

What other areas may use: :func:`enqueue` with :class:`Event` (write an outbox event in your
transaction), :func:`enqueue_close_events` (after ``close_month``, same transaction) and
:func:`reversal_events` (after ``reverse_payment``)."""

from cakupan.integration.events import (
    Event,
    enqueue,
    enqueue_close_events,
    registration_event,
    reversal_events,
)
from cakupan.integration.rules import EVENT_TYPES, sign, verify

__all__ = [
    "EVENT_TYPES",
    "Event",
    "enqueue",
    "enqueue_close_events",
    "registration_event",
    "reversal_events",
    "sign",
    "verify",
]
