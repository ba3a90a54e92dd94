"""Participant registry, payments ledger and membership status (issue 4).

What other areas may use: the actions (the only write path), the batch engines the imports and
the partner API share, and the read side. See ``docs/registry.md``.
"""

from cakupan.registry.actions import (
    BatchResult,
    IssuedCode,
    PostedPayment,
    Registration,
    ReversedPayment,
    change_participant,
    post_payment,
    post_payments,
    register_participant,
    register_participants,
    reverse_payment,
)
from cakupan.registry.close import CloseResult, close_month, month_close_result
from cakupan.registry.imports import import_participants, import_payments
from cakupan.registry.inputs import PaymentRow, RegistrationRow
from cakupan.registry.queries import ParticipantDetail, StatusView, participant_detail, status_of
from cakupan.registry.rules import Status, status_on

__all__ = [
    "BatchResult",
    "CloseResult",
    "IssuedCode",
    "ParticipantDetail",
    "PaymentRow",
    "PostedPayment",
    "Registration",
    "RegistrationRow",
    "ReversedPayment",
    "Status",
    "StatusView",
    "change_participant",
    "close_month",
    "import_participants",
    "import_payments",
    "month_close_result",
    "participant_detail",
    "post_payment",
    "post_payments",
    "register_participant",
    "register_participants",
    "reverse_payment",
    "status_of",
    "status_on",
]
