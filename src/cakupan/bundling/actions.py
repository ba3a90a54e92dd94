"""The write path of bundling offers: add an offer, enrol an episode registered through it,
record who paid a payment of an enrolled episode. Each validates, writes and audits in the
caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.bundling.models import (
    COVERAGE,
    PAYERS,
    PAYMENT_PAYERS,
    PRODUCTS,
    BundleCampaignOffer,
    BundleEnrolment,
    BundleOffer,
    BundlePaymentPayer,
)
from cakupan.bundling.rules import enrolment_problems, expected_payer
from cakupan.dates import Clock, SystemClock
from cakupan.errors import CakupanError, ErrorKind, FieldProblem, conflict, invalid, not_found
from cakupan.i18n import t
from cakupan.partners.models import Partner
from cakupan.registry.models import Membership, Participant, Payment

__all__ = ["OfferSpec", "add_offer", "enrol", "link_campaign", "record_payer"]


@dataclass(frozen=True)
class OfferSpec:
    """An offer as given by a user or the demo (see docs/bundling.md)."""

    code: str
    partner_code: str
    product: str
    name: str
    coverage: str
    payer: str
    valid_from: date
    source: str
    partner_months: int | None = None
    valid_to: date | None = None
    area_codes: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "partner_code": self.partner_code,
            "product": self.product,
            "name": self.name,
            "coverage": self.coverage,
            "payer": self.payer,
            "partner_months": self.partner_months,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": None if self.valid_to is None else self.valid_to.isoformat(),
            "area_codes": list(self.area_codes),
            "source": self.source,
        }


def _spec_of(row: BundleOffer) -> OfferSpec:
    return OfferSpec(
        code=row.code,
        partner_code=row.partner_code,
        product=row.product,
        name=row.name,
        coverage=row.coverage,
        payer=row.payer,
        valid_from=row.valid_from,
        source=row.source,
        partner_months=row.partner_months,
        valid_to=row.valid_to,
        area_codes=tuple(row.area_codes),
    )


def add_offer(
    session: Session, actor: Actor, spec: OfferSpec, *, clock: Clock | None = None
) -> bool:
    """Store an offer. False when the identical offer is already stored (a re-run); CONFLICT
    when the code exists with other terms; INVALID naming every bad field."""
    clock = clock or SystemClock()
    problems: list[FieldProblem] = []

    def bad(name: str, choices: tuple[str, ...], value: str) -> None:
        if value not in choices:
            problems.append(
                FieldProblem(
                    field=name,
                    message=t(
                        "diharapkan salah satu dari {c}, diterima {v!r}",
                        "expected one of {c}, got {v!r}",
                    ).format(c=", ".join(choices), v=value),
                )
            )

    bad("product", PRODUCTS, spec.product)
    bad("coverage", COVERAGE, spec.coverage)
    bad("payer", PAYERS, spec.payer)
    if (spec.payer == "split") != (spec.partner_months is not None and spec.partner_months >= 1):
        problems.append(
            FieldProblem(
                field="partner_months",
                message=t(
                    "bulan yang dibayar mitra (>= 1) wajib untuk payer split, dan hanya untuknya",
                    "the months paid by the partner (>= 1) are required for payer split, and "
                    "only for it",
                ),
            )
        )
    if spec.valid_to is not None and spec.valid_to < spec.valid_from:
        problems.append(
            FieldProblem(
                field="valid_to",
                message=t("berakhir sebelum mulai", "ends before it starts"),
            )
        )
    if not spec.code.strip() or not spec.name.strip() or not spec.source.strip():
        problems.append(
            FieldProblem(
                field="code",
                message=t(
                    "kode, nama dan sumber wajib diisi", "code, name and source are required"
                ),
            )
        )
    if session.get(Partner, spec.partner_code) is None:
        problems.append(
            FieldProblem(
                field="partner_code",
                message=t("mitra {p} tidak dikenal", "unknown partner {p}").format(
                    p=spec.partner_code
                ),
            )
        )
    if problems:
        raise CakupanError(
            kind=ErrorKind.INVALID,
            title=t("Penawaran ditolak", "Offer refused"),
            problems=problems,
        )
    existing = session.get(BundleOffer, spec.code)
    if existing is not None:
        if _spec_of(existing) == spec:
            return False
        raise conflict(
            t(
                "Penawaran {c} sudah ada dengan ketentuan lain",
                "Offer {c} already exists with other terms",
            ).format(c=spec.code),
            code="offer-exists",
        )
    session.add(
        BundleOffer(
            code=spec.code,
            partner_code=spec.partner_code,
            product=spec.product,
            name=spec.name,
            coverage=spec.coverage,
            payer=spec.payer,
            partner_months=spec.partner_months,
            valid_from=spec.valid_from,
            valid_to=spec.valid_to,
            area_codes=list(spec.area_codes),
            source=spec.source,
            created_at=clock.now(),
        )
    )
    session.flush()
    record_audit(
        session, actor, "bundling.offer.add", "bundle_offer", spec.code, after=spec.as_json()
    )
    return True


def enrol(
    session: Session, actor: Actor, nik: str, offer_code: str, *, clock: Clock | None = None
) -> dict[str, Any]:
    """Enrol the participant's latest episode in an offer: it was registered within the offer's
    dates and areas through the offer's partner or one of its agents. Idempotent for the same
    offer; CONFLICT when the episode is enrolled in another offer."""
    clock = clock or SystemClock()
    offer = session.get(BundleOffer, offer_code)
    if offer is None:
        raise not_found(t("Penawaran {c} tidak ada", "No offer {c}").format(c=offer_code))
    row = session.execute(
        select(Membership, Participant.regency_code)
        .join(Participant, Participant.id == Membership.participant_id)
        .where(Participant.nik == (nik or "").strip())
        .order_by(Membership.episode_no.desc())
        .limit(1)
    ).first()
    if row is None:
        raise not_found(t("NIK {n} tidak terdaftar", "NIK {n} is not registered").format(n=nik))
    membership, regency = row
    parent = (
        session.scalar(select(Partner.parent_code).where(Partner.code == membership.agent_code))
        if membership.agent_code
        else None
    )
    existing = session.get(BundleEnrolment, membership.id)
    if existing is not None:
        if existing.offer_code == offer_code:
            return {"membership_id": membership.id, "offer": offer_code, "enrolled": False}
        raise conflict(
            t(
                "Episode sudah terdaftar pada penawaran {c}",
                "The episode is already enrolled in offer {c}",
            ).format(c=existing.offer_code),
            code="already-enrolled",
        )
    problems = enrolment_problems(
        valid_from=offer.valid_from,
        valid_to=offer.valid_to,
        area_codes=list(offer.area_codes),
        offer_partner=offer.partner_code,
        registered_on=membership.registered_on,
        regency_code=regency,
        registrars=(membership.partner_code, membership.agent_code, parent),
    )
    if problems:
        raise CakupanError(
            kind=ErrorKind.INVALID,
            title=t("Pendaftaran penawaran ditolak", "Enrolment refused"),
            problems=[FieldProblem(field=f, message=m) for f, m in problems],
        )
    session.add(
        BundleEnrolment(
            membership_id=membership.id, offer_code=offer_code, enrolled_on=membership.registered_on
        )
    )
    session.flush()
    record_audit(
        session,
        actor,
        "bundling.enrol",
        "membership",
        membership.id,
        after={"offer": offer_code},
        at=clock.now(),
    )
    return {"membership_id": membership.id, "offer": offer_code, "enrolled": True}


def record_payer(
    session: Session,
    actor: Actor,
    reference: str,
    *,
    channel: str = "branch",
    payer: str | None = None,
    offer_code: str | None = None,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Record who paid a payment of an enrolled episode: ``payer`` when given, else the payer
    the offer's terms name for the payment's first covered month. Idempotent for the same
    payer; CONFLICT for another. ``offer_code``, when given (the partner API), must be the
    offer the episode is enrolled in (CONFLICT otherwise)."""
    clock = clock or SystemClock()
    if payer is not None and payer not in PAYMENT_PAYERS:
        raise invalid(
            "payer",
            t("diharapkan partner atau participant, diterima {v!r}", "expected partner or "
              "participant, got {v!r}").format(v=payer),
        )  # fmt: skip
    found = session.execute(
        select(Payment, Membership.start_month, BundleEnrolment.offer_code)
        .join(Membership, Membership.id == Payment.membership_id)
        .join(BundleEnrolment, BundleEnrolment.membership_id == Membership.id, isouter=True)
        .where(Payment.channel == channel, Payment.reference == reference)
    ).first()
    if found is None:
        raise not_found(
            t("Pembayaran {c}/{r} tidak ada", "No payment {c}/{r}").format(c=channel, r=reference)
        )
    payment, start, enrolled_in = found
    if enrolled_in is None or (offer_code is not None and enrolled_in != offer_code):
        raise conflict(
            t(
                "Pembayaran ini bukan untuk episode yang terdaftar pada penawaran",
                "This payment is not for an episode enrolled in an offer",
            )
            if offer_code is None
            else t(
                "Pembayaran ini bukan untuk episode yang terdaftar pada penawaran {c}",
                "This payment is not for an episode enrolled in offer {c}",
            ).format(c=offer_code),
            code="not-enrolled",
        )
    offer_code = enrolled_in
    offer = session.get(BundleOffer, offer_code)
    assert offer is not None
    ordinal = payment.first_month.index - start.index + 1
    chosen = payer or expected_payer(offer.payer, offer.partner_months, ordinal)
    existing = session.get(BundlePaymentPayer, payment.id)
    if existing is not None:
        if existing.payer == chosen:
            return {"reference": reference, "payer": chosen, "recorded": False}
        raise conflict(
            t("Pembayar sudah dicatat: {p}", "The payer is already recorded: {p}").format(
                p=existing.payer
            ),
            code="payer-recorded",
        )
    session.add(
        BundlePaymentPayer(
            payment_id=payment.id,
            offer_code=offer_code,
            payer=chosen,
            payer_code=offer.partner_code if chosen == "partner" else None,
        )
    )
    session.flush()
    record_audit(
        session,
        actor,
        "bundling.payer",
        "payment",
        payment.id,
        after={"offer": offer_code, "payer": chosen},
        at=clock.now(),
    )
    return {"reference": reference, "payer": chosen, "recorded": True}


def link_campaign(
    session: Session,
    actor: Actor,
    campaign_code: str,
    offer_code: str,
    *,
    clock: Clock | None = None,
) -> bool:
    """Point a campaign at the offer it promotes. The offer's partner must be one of the
    campaign's partners when the campaign names any (INVALID naming ``offer`` otherwise). False
    when the campaign already points at this offer; CONFLICT when it points at another."""
    from cakupan.campaigns.models import Campaign

    clock = clock or SystemClock()
    campaign = session.get(Campaign, campaign_code)
    if campaign is None:
        raise not_found(
            t("Kampanye {c} tidak ada", "No campaign {c}").format(c=campaign_code),
            code="campaign-not-found",
        )
    offer = session.get(BundleOffer, offer_code)
    if offer is None:
        raise not_found(t("Penawaran {c} tidak ada", "No offer {c}").format(c=offer_code))
    if campaign.partners and offer.partner_code not in campaign.partners:
        raise invalid(
            "offer",
            t(
                "mitra penawaran {p} bukan mitra kampanye ({c})",
                "the offer's partner {p} is not one of the campaign's partners ({c})",
            ).format(p=offer.partner_code, c=", ".join(campaign.partners)),
        )
    existing = session.get(BundleCampaignOffer, campaign_code)
    if existing is not None:
        if existing.offer_code == offer_code:
            return False
        raise conflict(
            t(
                "Kampanye {c} sudah menunjuk penawaran {o}",
                "Campaign {c} already points at offer {o}",
            ).format(c=campaign_code, o=existing.offer_code),
            code="campaign-offer-exists",
        )
    session.add(
        BundleCampaignOffer(
            campaign_code=campaign_code, offer_code=offer_code, linked_at=clock.now()
        )
    )
    session.flush()
    record_audit(
        session,
        actor,
        "bundling.campaign_offer",
        "campaign",
        campaign_code,
        after={"offer": offer_code},
        at=clock.now(),
    )
    return True
