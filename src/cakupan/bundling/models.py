"""Tables of the bundling area (docs/bundling.md): offers of a partner product that includes or
requires BPU coverage, the membership episodes enrolled through an offer, and who paid each
payment of an enrolled episode when it was not the participant alone."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cakupan.db import AwareDateTime, Base

PRODUCTS = ("credit", "savings", "insurance", "ewallet")
COVERAGE = ("includes", "requires")
PAYERS = ("partner", "participant", "split")
PAYMENT_PAYERS = ("partner", "participant")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class BundleOffer(Base):
    """A partner product bundled with BPU coverage: its terms (who pays which months), dates
    and areas (province or regency codes; empty = everywhere)."""

    __tablename__ = "bundle_offer"
    __table_args__ = (
        CheckConstraint(_in("product", PRODUCTS), name="product"),
        CheckConstraint(_in("coverage", COVERAGE), name="coverage"),
        CheckConstraint(_in("payer", PAYERS), name="payer"),
        CheckConstraint(
            "(payer = 'split' AND partner_months >= 1) OR (payer <> 'split' AND partner_months "
            "IS NULL)",
            name="split_months",
        ),
    )

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    partner_code: Mapped[str] = mapped_column(ForeignKey("partner.code"), index=True)
    product: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    coverage: Mapped[str] = mapped_column(String(10))
    payer: Mapped[str] = mapped_column(String(12))
    partner_months: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    area_codes: Mapped[list[Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())


class BundleEnrolment(Base):
    """A membership episode registered through an offer."""

    __tablename__ = "bundle_enrolment"

    membership_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("membership.id"), primary_key=True
    )
    offer_code: Mapped[str] = mapped_column(ForeignKey("bundle_offer.code"), index=True)
    enrolled_on: Mapped[date] = mapped_column(Date)


class BundlePaymentPayer(Base):
    """Who paid one payment of an enrolled episode (the partner, or the participant)."""

    __tablename__ = "bundle_payment_payer"
    __table_args__ = (CheckConstraint(_in("payer", PAYMENT_PAYERS), name="payer"),)

    payment_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payment.id"), primary_key=True)
    offer_code: Mapped[str] = mapped_column(ForeignKey("bundle_offer.code"), index=True)
    payer: Mapped[str] = mapped_column(String(12))
    payer_code: Mapped[str | None] = mapped_column(String(40))


class BundleCampaignOffer(Base):
    """The offer a campaign promotes (a campaign points at one offer at most): its page shows
    the offer and its report."""

    __tablename__ = "bundle_campaign_offer"

    campaign_code: Mapped[str] = mapped_column(ForeignKey("campaign.code"), primary_key=True)
    offer_code: Mapped[str] = mapped_column(ForeignKey("bundle_offer.code"), index=True)
    linked_at: Mapped[datetime] = mapped_column(AwareDateTime())
