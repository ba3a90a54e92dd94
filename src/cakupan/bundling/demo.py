"""The demo's bundling offers: one synthetic offer per partner kind present in the seeded data
(called from ``cakupan demo`` after the synthetic seed). Every third episode the offer's partner
(or its agents) registered is enrolled, and the payers of their payments follow the terms."""

from __future__ import annotations

from sqlalchemy import Engine, exists, func, insert, or_, select
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.bundling.actions import OfferSpec, add_offer
from cakupan.bundling.models import BundleEnrolment, BundleOffer, BundlePaymentPayer
from cakupan.bundling.rules import expected_payer
from cakupan.db import transaction
from cakupan.partners.models import Partner
from cakupan.registry.models import Membership, Payment

#: Partner kind -> (product, payer, months the partner pays when split). Synthetic terms.
DEMO_TERMS: dict[str, tuple[str, str, int | None]] = {
    "wadah": ("savings", "participant", None),
    "perisai": ("ewallet", "participant", None),
    "korporasi": ("credit", "split", 3),
    "agen46": ("savings", "split", 1),
    "brilink": ("credit", "split", 3),
    "pos_kc": ("ewallet", "participant", None),
    "pos_regional": ("insurance", "split", 2),
    "pemda": ("insurance", "partner", None),
    "institution": ("ewallet", "participant", None),
}


def seed_demo_offers(engine: Engine, *, actor: Actor | None = None) -> int:
    """Add one offer per partner kind that registered anyone, enrol every third of its
    episodes and record their payers; idempotent (an existing demo offer is left as it is).
    Returns the number of offers added."""
    actor = actor or Actor.system("demo")
    added = 0
    with transaction(engine) as session:
        for kind, (product, payer, months) in DEMO_TERMS.items():
            added += _one_offer(session, actor, kind, product, payer, months)
    return added


def _one_offer(
    session: Session, actor: Actor, kind: str, product: str, payer: str, months: int | None
) -> int:
    row = session.execute(
        select(Partner.code, func.min(Membership.registered_on))
        .join(
            Membership,
            or_(Membership.partner_code == Partner.code, Membership.agent_code == Partner.code),
        )
        .where(Partner.kind == kind)
        .group_by(Partner.code)
        .order_by(func.count().desc(), Partner.code)
        .limit(1)
    ).first()
    if row is None:
        return 0
    partner_code, first_day = row
    code = f"DEMO-{kind.upper().replace('_', '')}"
    if session.get(BundleOffer, code) is not None:
        return 0
    spec = OfferSpec(
        code=code,
        partner_code=partner_code,
        product=product,
        name=f"Demo {product} + BPU ({partner_code})",
        coverage="includes",
        payer=payer,
        partner_months=months,
        valid_from=first_day,
        source="Demo (sintetis): synthetic terms, no real agreement",
    )
    add_offer(session, actor, spec)
    episodes = session.execute(
        select(Membership.id, Membership.start_month, Membership.registered_on)
        .where(
            or_(Membership.partner_code == partner_code, Membership.agent_code == partner_code),
            # an agent's episode may also be its Wadah's: one offer per episode
            ~exists().where(BundleEnrolment.membership_id == Membership.id),
        )
        .order_by(Membership.id)
    ).all()
    chosen = {m_id: start for i, (m_id, start, _day) in enumerate(episodes) if i % 3 == 0}
    days = {m_id: day for m_id, _start, day in episodes}
    if not chosen:
        return 1
    session.execute(
        insert(BundleEnrolment),
        [
            {"membership_id": m_id, "offer_code": code, "enrolled_on": days[m_id]}
            for m_id in sorted(chosen)
        ],
    )
    payers = []
    for payment_id, membership_id, first_month in session.execute(
        select(Payment.id, Payment.membership_id, Payment.first_month).where(
            Payment.membership_id.in_(sorted(chosen))
        )
    ):
        who = expected_payer(payer, months, first_month.index - chosen[membership_id].index + 1)
        payers.append(
            {
                "payment_id": payment_id,
                "offer_code": code,
                "payer": who,
                "payer_code": partner_code if who == "partner" else None,
            }
        )
    if payers:
        session.execute(insert(BundlePaymentPayer), payers)
    record_audit(
        session,
        actor,
        "bundling.demo",
        "bundle_offer",
        code,
        after={"enrolled": len(chosen), "payers": len(payers)},
    )
    return 1
