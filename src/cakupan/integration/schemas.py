"""Pydantic models at the edge of the partner API: ``*Create`` for what a client sends,
``*Public`` for what it gets back (NIKs masked), so a response never leaks a field by accident."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from cakupan.integration.rules import EVENT_TYPES, MAX_BATCH_ROWS
from cakupan.registry.rules import MAX_RUPIAH

#: No control characters (NUL cannot be stored in PostgreSQL text; none belongs in these fields).
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
Nik = Annotated[
    str, Field(min_length=1, max_length=32, pattern=PRINTABLE, examples=["1671010101900001"])
]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=PRINTABLE)]
Channel = Annotated[
    str,
    Field(
        min_length=1,
        max_length=20,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        examples=["brilink"],
        description="Payment channel: lower-case letters, digits, _ -",
    ),
]
Reference = Annotated[
    str, Field(min_length=1, max_length=80, pattern=PRINTABLE, examples=["TRX-2026-000123"])
]
Line = Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)]
ShortCode = Annotated[str, Field(max_length=20, pattern=PRINTABLE)]
Month = Annotated[str, Field(pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$", examples=["2026-11"])]
Rupiah = Annotated[int, Field(ge=0, le=MAX_RUPIAH, description="Whole rupiah")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuoteCreate(_Strict):
    """Validate a NIK and quote the contribution, without writing anything."""

    nik: Nik
    reported_income: Rupiah
    programs: Literal["JKK+JKM", "JKK+JKM+JHT"]
    months: int = Field(default=1, ge=1, le=12)
    start_month: Month | None = Field(default=None, description="Default: this month")
    occupation: Code | None = Field(
        default=None, description="Gives the sector when `sector` is absent (issue 19)"
    )
    sector: Literal["transport", "other"] | None = Field(
        default=None, description="Default: from the occupation, else other"
    )
    funding: Literal["self", "apbn", "apbd"] = "self"


class NikProblemPublic(BaseModel):
    code: str
    message: str


class NikCheckPublic(BaseModel):
    nik: str = Field(description="Masked")
    valid: bool
    errors: list[NikProblemPublic]
    district_code: str | None
    birth_date: date | None
    sex: str | None


class QuoteMonthPublic(BaseModel):
    month: str
    base_income: int
    total: int


class QuotePublic(BaseModel):
    nik: NikCheckPublic
    months: list[QuoteMonthPublic]
    total: int


class RegistrationCreate(_Strict):
    """A registration by the partner (or agent) client; ``months_to_pay`` is what the kode
    penetapan quotes."""

    nik: Nik
    name: Line
    phone: Annotated[str, Field(min_length=1, max_length=30, pattern=PRINTABLE)]
    occupation: Code
    reported_income: Rupiah
    programs: Literal["JKK+JKM", "JKK+JKM+JHT"]
    months_to_pay: int = Field(default=1, ge=1, le=12)
    sex: Literal["M", "F"] | None = None
    birth_date: date | None = None
    email: Annotated[str, Field(max_length=200, pattern=PRINTABLE)] | None = None
    village_code: ShortCode | None = None
    district_code: ShortCode | None = None
    sector: Literal["transport", "other"] | None = None
    funding: Literal["self", "apbn", "apbd"] | None = None
    offer_code: Code | None = Field(
        default=None,
        description="One of the partner's bundling offers (GET /offers): the registration is "
        "enrolled in it (docs/bundling.md)",
    )


class RegistrationPublic(BaseModel):
    participant_id: int
    nik: str = Field(description="Masked")
    episode: int
    start_month: str
    branch_code: str | None
    kode_penetapan: str | None
    amount: int | None
    first_month: str | None
    months: int | None
    valid_until: date | None
    offer_code: str | None = None


class StatusQuery(_Strict):
    """The NIK travels in the body, never in a URL (URLs end up in logs and proxies)."""

    nik: Nik
    as_of: date | None = Field(default=None, description="Default: today (Asia/Jakarta)")


class StatusPublic(BaseModel):
    nik: str = Field(description="Masked")
    status: Literal["pending", "active", "arrears", "closed", "void"]
    episode: int
    paid_through: str | None
    months_paid_in_episode: int
    as_of: date


class PaymentCreate(_Strict):
    nik: Nik
    amount: Rupiah
    paid_on: date
    reference: Reference
    channel: Channel


class OfferPaymentCreate(PaymentCreate):
    """One payment (``POST /payments``), optionally under one of the partner's offers: the
    episode must be enrolled in it, and who paid is recorded (``payer``, default: the offer's
    terms for the payment's first month)."""

    offer_code: Code | None = None
    payer: Literal["partner", "participant"] | None = None


class PaymentPublic(BaseModel):
    result: Literal["posted", "duplicate"]
    payment_id: int
    channel: str
    reference: str
    nik: str = Field(description="Masked")
    amount: int
    paid_on: date
    first_month: str
    months: int
    episode: int
    paid_through: str | None
    card_number: str | None
    offer_code: str | None = None
    payer: str | None = None


class BatchCreate(_Strict):
    """A settlement batch. ``partial``: post the valid rows and report the others; otherwise
    (the default) post nothing when any row is refused."""

    partial: bool = False
    rows: list[PaymentCreate] = Field(min_length=1, max_length=MAX_BATCH_ROWS)


class RowErrorPublic(BaseModel):
    field: str
    message: str


class BatchRowPublic(BaseModel):
    row: int = Field(description="1-based position in ``rows``")
    reference: str
    result: Literal["posted", "duplicate", "rejected"]
    payment_id: int | None
    errors: list[RowErrorPublic]


class BatchPublic(BaseModel):
    partial: bool
    accepted: int
    duplicates: int
    rejected: int
    rows: list[BatchRowPublic]


class ChannelTotalPublic(BaseModel):
    channel: str
    count: int
    amount: int


class ReconciledPaymentPublic(BaseModel):
    channel: str
    reference: str
    amount: int
    posted_at: str
    reversed: bool


class ReconciliationPublic(BaseModel):
    date: date
    partner_code: str
    agent_code: str | None
    count: int
    amount: int
    channels: list[ChannelTotalPublic]
    payments: list[ReconciledPaymentPublic]


EventType = Literal[
    "participant.registered",
    "payment.posted",
    "payment.reversed",
    "participant.arrears",
    "participant.closed",
    "incentive_statement.approved",
    "claim.status_changed",
]
assert set(EventType.__args__) == set(EVENT_TYPES)  # type: ignore[attr-defined]


class SubscriptionCreate(_Strict):
    url: str = Field(
        min_length=8,
        max_length=500,
        pattern=r"^https?://[^\x00-\x20\x7f]+$",
        examples=["https://mitra.example/hook"],
    )
    events: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES))


class SubscriptionPublic(BaseModel):
    id: int
    partner_code: str
    url: str
    events: list[str]
    active: bool
    secret: str | None = Field(default=None, description="Shown once, at creation")


class DeliveryPublic(BaseModel):
    id: int
    event_id: int
    event_type: str
    subscription_id: int
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: str
    last_status_code: int | None
    last_error: str | None
    delivered_at: str | None


class OfferPublic(BaseModel):
    """A bundling offer of the partner (docs/bundling.md)."""

    code: str
    partner_code: str
    product: Literal["credit", "savings", "insurance", "ewallet"]
    name: str
    coverage: Literal["includes", "requires"]
    payer: Literal["partner", "participant", "split"]
    partner_months: int | None
    valid_from: date
    valid_to: date | None
    area_codes: list[str]
    source: str


class RetentionPublic(BaseModel):
    eligible: int
    paying: int
    rate_percent: str | None


class OfferComparisonPublic(BaseModel):
    registrations: int
    retention: dict[str, RetentionPublic]


class OfferReportPublic(BaseModel):
    """One offer's registrations, retention at months 3/6/12 and partner cost, against the
    same segment outside any offer (docs/bundling.md)."""

    offer: str
    partner_code: str
    product: str
    payer: str
    as_of: date
    registrations: int
    retention: dict[str, RetentionPublic]
    partner_paid: int
    partner_paid_per_registration: int | None
    partner_paid_per_paying_month_6: int | None
    segments: list[dict[str, str]]
    comparison: OfferComparisonPublic
