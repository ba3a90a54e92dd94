"""Bundling offers (docs/bundling.md): a partner product (credit, savings, insurance, e-wallet)
that includes or requires BPU coverage, the episodes registered through it, who paid their
payments, and the per-offer report against participants outside any offer of the same segment."""

from cakupan.bundling.actions import OfferSpec, add_offer, enrol, link_campaign, record_payer
from cakupan.bundling.queries import (
    campaign_offer,
    offer_of_partner,
    offer_report,
    offers_with_reports,
    partner_offers,
)

__all__ = [
    "OfferSpec",
    "add_offer",
    "campaign_offer",
    "enrol",
    "link_campaign",
    "offer_of_partner",
    "offer_report",
    "offers_with_reports",
    "partner_offers",
    "record_payer",
]
