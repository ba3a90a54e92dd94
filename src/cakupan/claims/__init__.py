"""Claims (issue 18): JHT, JKM and JKK from intake to payment, on time, with benefits paid on the
shared dashboard. See ``docs/claims.md``.

What other areas may use: the actions (the only write path), the quote and the scoped reads,
and :func:`benefits_paid` for dashboard figures."""

from cakupan.claims.actions import (
    ClaimIntake,
    add_day_off,
    advance_claim,
    create_story,
    submit_claim,
    upload_document,
)
from cakupan.claims.queries import (
    BenefitsPaid,
    ClaimView,
    benefits_paid,
    claim_detail,
    list_claims,
    quote,
)
from cakupan.claims.rules import ClaimQuote, ClaimState, ClaimType, WorkingCalendar

__all__ = [
    "BenefitsPaid",
    "ClaimIntake",
    "ClaimQuote",
    "ClaimState",
    "ClaimType",
    "ClaimView",
    "WorkingCalendar",
    "add_day_off",
    "advance_claim",
    "benefits_paid",
    "claim_detail",
    "create_story",
    "list_claims",
    "quote",
    "submit_claim",
    "upload_document",
]
