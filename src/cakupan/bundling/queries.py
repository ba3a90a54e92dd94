"""Read side of bundling offers: the per-offer report (registrations, retention at months 3, 6
and 12, what the partner paid) against participants outside any offer with the same segment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, and_, case, exists, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from cakupan.bundling.models import (
    BundleCampaignOffer,
    BundleEnrolment,
    BundleOffer,
    BundlePaymentPayer,
)
from cakupan.bundling.rules import rate
from cakupan.dates import Month
from cakupan.errors import not_found
from cakupan.i18n import t
from cakupan.money import round_half_up
from cakupan.registry.models import Membership, Participant, Payment, PaymentReversal

RETENTION_MONTHS = (3, 6, 12)


def _retention_columns(as_of: Month) -> list[Any]:
    """Per k: episodes whose month k has begun by ``as_of`` (eligible) and those of them with
    month k paid (``months_paid >= k``, as the ledger stands)."""
    start = type_coerce(Membership.start_month, Integer)
    columns: list[Any] = []
    for k in RETENTION_MONTHS:
        eligible = start <= as_of.index - (k - 1)
        columns.append(func.sum(case((eligible, 1), else_=0)))
        columns.append(func.sum(case((and_(eligible, Membership.months_paid >= k), 1), else_=0)))
    return columns


def _retention(values: list[int]) -> dict[str, Any]:
    out = {}
    for i, k in enumerate(RETENTION_MONTHS):
        eligible, paying = int(values[2 * i] or 0), int(values[2 * i + 1] or 0)
        r = rate(paying, eligible)
        out[str(k)] = {
            "eligible": eligible,
            "paying": paying,
            "rate_percent": None if r is None else str(r),
        }
    return out


def offer_report(session: Session, offer_code: str, as_of: date) -> dict[str, Any]:
    """One offer's figures on ``as_of``: its episodes (registrations), retention at months 3, 6
    and 12, contributions the partner paid (payments recorded with payer ``partner``, not
    reversed by ``as_of``) and that cost per registration and per participant still paying at
    month 6; and the same registrations and retention for the comparison group: episodes in no
    offer, registered within the offer's dates (up to ``as_of``) and areas, with an occupation
    and program set of one of the offer's participants. Three grouped queries."""
    offer = session.get(BundleOffer, offer_code)
    if offer is None:
        raise not_found(t("Penawaran {c} tidak ada", "No offer {c}").format(c=offer_code))
    month = Month.of(as_of)
    enrolled = select(BundleEnrolment.membership_id).where(BundleEnrolment.offer_code == offer_code)
    segment_rows = session.execute(
        select(
            Participant.occupation, Participant.programs, func.count(), *_retention_columns(month)
        )
        .join(Membership, Membership.participant_id == Participant.id)
        .where(Membership.id.in_(enrolled), Membership.registered_on <= as_of)
        .group_by(Participant.occupation, Participant.programs)
        .order_by(Participant.occupation, Participant.programs)
    ).all()
    offer_values = [sum(int(row[3 + i] or 0) for row in segment_rows) for i in range(6)]
    registrations = sum(int(row[2]) for row in segment_rows)
    segments = [(row[0], row[1]) for row in segment_rows]
    partner_paid = int(
        session.scalar(
            select(func.coalesce(func.sum(Payment.amount), 0))
            .join(BundlePaymentPayer, BundlePaymentPayer.payment_id == Payment.id)
            .where(
                BundlePaymentPayer.offer_code == offer_code,
                BundlePaymentPayer.payer == "partner",
                Payment.paid_on <= as_of,
                ~exists().where(
                    PaymentReversal.payment_id == Payment.id, PaymentReversal.reversed_on <= as_of
                ),
            )
        )
        or 0
    )
    comparison: dict[str, Any] = {"registrations": 0, "retention": _retention([0] * 6)}
    if segments:
        last = as_of if offer.valid_to is None else min(as_of, offer.valid_to)
        areas = list(offer.area_codes)
        conditions = [
            Membership.registered_on.between(offer.valid_from, last),
            ~exists().where(BundleEnrolment.membership_id == Membership.id),
            or_(
                *(and_(Participant.occupation == o, Participant.programs == p) for o, p in segments)
            ),
        ]
        if areas:
            conditions.append(
                or_(
                    Participant.regency_code.in_([a for a in areas if "." in a]),
                    func.substr(Participant.regency_code, 1, 2).in_(
                        [a for a in areas if "." not in a]
                    ),
                )
            )
        row = session.execute(
            select(func.count(), *_retention_columns(month))
            .select_from(Membership)
            .join(Participant, Participant.id == Membership.participant_id)
            .where(*conditions)
        ).one()
        comparison = {"registrations": int(row[0]), "retention": _retention(list(row[1:]))}
    paying_6 = offer_values[3]
    return {
        "offer": offer.code,
        "partner_code": offer.partner_code,
        "product": offer.product,
        "payer": offer.payer,
        "as_of": as_of.isoformat(),
        "registrations": registrations,
        "retention": _retention(offer_values),
        "partner_paid": partner_paid,
        "partner_paid_per_registration": None
        if registrations == 0
        else round_half_up(partner_paid / Decimal(registrations)),
        "partner_paid_per_paying_month_6": None
        if paying_6 == 0
        else round_half_up(partner_paid / Decimal(paying_6)),
        "segments": [{"occupation": o, "programs": p} for o, p in segments],
        "comparison": comparison,
    }


def offer_json(offer: BundleOffer) -> dict[str, Any]:
    """An offer's public fields (what a partner page and the partner API show)."""
    return {
        "code": offer.code,
        "partner_code": offer.partner_code,
        "product": offer.product,
        "name": offer.name,
        "coverage": offer.coverage,
        "payer": offer.payer,
        "partner_months": offer.partner_months,
        "valid_from": offer.valid_from.isoformat(),
        "valid_to": None if offer.valid_to is None else offer.valid_to.isoformat(),
        "area_codes": list(offer.area_codes),
        "source": offer.source,
    }


def partner_offers(session: Session, partner_code: str) -> list[dict[str, Any]]:
    """The offers of one partner (newest first, then by code): never another partner's."""
    rows = session.scalars(
        select(BundleOffer)
        .where(BundleOffer.partner_code == partner_code)
        .order_by(BundleOffer.valid_from.desc(), BundleOffer.code)
    )
    return [offer_json(row) for row in rows]


def offer_of_partner(session: Session, offer_code: str, partner_code: str) -> BundleOffer:
    """The offer ``offer_code`` when it is ``partner_code``'s; NOT_FOUND otherwise, with the
    same answer as an unknown code (a partner never learns of another partner's offers)."""
    offer = session.get(BundleOffer, offer_code)
    if offer is None or offer.partner_code != partner_code:
        raise not_found(
            t("Penawaran {c} tidak ada", "No offer {c}").format(c=offer_code),
            code="offer-not-found",
        )
    return offer


def offers_with_reports(session: Session, partner_code: str, as_of: date) -> list[dict[str, Any]]:
    """Each offer of one partner with its report on ``as_of`` (the partner's page)."""
    return [
        {**offer, "report": offer_report(session, offer["code"], as_of)}
        for offer in partner_offers(session, partner_code)
    ]


def offer_choices(session: Session, partner_codes: list[str] | None) -> list[tuple[str, str]]:
    """(code, name) of the offers of ``partner_codes`` (None: every offer), for pickers."""
    query = select(BundleOffer.code, BundleOffer.name).order_by(BundleOffer.name)
    if partner_codes is not None:
        query = query.where(BundleOffer.partner_code.in_(partner_codes))
    return [(code, name) for code, name in session.execute(query)]


def campaign_offer(session: Session, campaign_code: str, as_of: date) -> dict[str, Any] | None:
    """The offer a campaign promotes with its report on ``as_of``, or None."""
    offer = session.scalar(
        select(BundleOffer)
        .join(BundleCampaignOffer, BundleCampaignOffer.offer_code == BundleOffer.code)
        .where(BundleCampaignOffer.campaign_code == campaign_code)
    )
    if offer is None:
        return None
    return {**offer_json(offer), "report": offer_report(session, offer.code, as_of)}


def campaigns_of_offer(session: Session, offer_code: str) -> list[str]:
    """The codes of the campaigns that promote an offer."""
    return list(
        session.scalars(
            select(BundleCampaignOffer.campaign_code)
            .where(BundleCampaignOffer.offer_code == offer_code)
            .order_by(BundleCampaignOffer.campaign_code)
        )
    )
