"""Bundling offers (docs/bundling.md): a partner product (credit, savings, insurance, e-wallet)
that includes or requires BPU coverage, the episodes registered through it, who paid their
payments, and the per-offer report against participants outside any offer of the same segment."""

from cakupan.bundling.actions import OfferSpec, add_offer, enrol, record_payer
from cakupan.bundling.queries import offer_report

__all__ = ["OfferSpec", "add_offer", "enrol", "offer_report", "record_payer"]
