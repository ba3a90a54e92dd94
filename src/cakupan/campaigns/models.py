"""Tables of segmentation, targeting, prospects and campaigns (issue 8, domain.md section 6).

Segments are data (a JSON rule, never code); market potential is imported per segment and area;
campaigns carry their segments and areas in two link tables so attribution can join on them;
prospects come in lists, each contact attempt is one row. Conversion and attribution are
computed from the ledger on every read, never stored (so they cannot go stale), except the
campaign code a person gave at registration or payment (``campaign_code_use``), which is a fact.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from cakupan.db import AwareDateTime, Base, BigIntPK
from cakupan.registry.models import Participant

CODE = 40
AREA = 20

CAMPAIGN_TYPE_CHECK = (
    "type IN ('sosialisasi_offline', 'sosialisasi_online', 'event', 'bazaar_expo', "
    "'advertising', 'direct_marketing', 'sales_promotion', 'co_marketing_discount', "
    "'community_leader_engagement')"
)
OUTCOME_CHECK = "outcome IN ('unreachable', 'contacted', 'interested', 'refused')"
REASON_CHECK = (
    "refusal_reason IS NULL OR refusal_reason IN ('not_aware', 'thinks_irrelevant', "
    "'cannot_afford', 'distrust', 'bad_luck_belief', 'covered_elsewhere', 'other')"
)
REFUSED_HAS_REASON = "(outcome = 'refused') = (refusal_reason IS NOT NULL)"


class OccupationGroup(Base):
    """A group of occupations a segment can name (``agriculture``: farmer, plantation worker...)."""

    __tablename__ = "occupation_group"

    code: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    name_id: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))


class OccupationGroupMember(Base):
    __tablename__ = "occupation_group_member"
    __table_args__ = (PrimaryKeyConstraint("group_code", "occupation_code"),)

    group_code: Mapped[str] = mapped_column(String(CODE), ForeignKey("occupation_group.code"))
    occupation_code: Mapped[str] = mapped_column(String(CODE), ForeignKey("occupation.code"))


class Segment(Base):
    """A segment: a rule over participant fields (``rules.SegmentRule`` as JSON), with the
    partner institutions that reach it and its preferred channels and media."""

    __tablename__ = "segment"

    code: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    name_id: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    partner_institutions: Mapped[list[str]] = mapped_column(JSON)
    channels: Mapped[list[str]] = mapped_column(JSON)
    media: Mapped[list[str]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(400))
    shipped: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())


class MarketPotential(Base):
    """How many informal workers of a segment live in an area (statistics, a survey), per year."""

    __tablename__ = "market_potential"
    __table_args__ = (
        UniqueConstraint("segment_code", "area_code", "year"),
        CheckConstraint("potential >= 0", name="potential"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    segment_code: Mapped[str] = mapped_column(String(CODE), ForeignKey("segment.code"))
    area_code: Mapped[str] = mapped_column(String(AREA), index=True)
    year: Mapped[int] = mapped_column(Integer)
    potential: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(400))


class Campaign(Base):
    """A campaign (sosialisasi, event, advertising...) with its plan, cost and reported reach.
    ``window_end_on`` = ``end_on`` + ``window_days``: the last day of the time-and-area window."""

    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint(CAMPAIGN_TYPE_CHECK, name="type"),
        CheckConstraint("end_on >= start_on", name="dates"),
        CheckConstraint("budget >= 0", name="budget"),
        CheckConstraint("actual_cost IS NULL OR actual_cost >= 0", name="actual_cost"),
        CheckConstraint("window_days >= 0", name="window_days"),
    )

    code: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    objective: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(40), index=True)
    medium: Mapped[str | None] = mapped_column(String(40))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    window_days: Mapped[int] = mapped_column(Integer)
    window_end_on: Mapped[date] = mapped_column(Date)
    budget: Mapped[int] = mapped_column(BigInteger)
    actual_cost: Mapped[int | None] = mapped_column(BigInteger)
    reported_reached: Mapped[int | None] = mapped_column(Integer)
    reported_interested: Mapped[int | None] = mapped_column(Integer)
    branch_code: Mapped[str | None] = mapped_column(String(20), index=True)
    #: The regional office of a region-wide campaign (no branch); with a branch, the branch's
    #: region. ``NULL`` without a branch = a national campaign.
    region_code: Mapped[str | None] = mapped_column(String(20), index=True)
    partners: Mapped[list[str]] = mapped_column(JSON)
    materials: Mapped[list[str]] = mapped_column(JSON)
    stories: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())


class CampaignSegment(Base):
    __tablename__ = "campaign_segment"
    __table_args__ = (PrimaryKeyConstraint("campaign_code", "segment_code"),)

    campaign_code: Mapped[str] = mapped_column(String(CODE), ForeignKey("campaign.code"))
    segment_code: Mapped[str] = mapped_column(String(CODE), ForeignKey("segment.code"))


class CampaignArea(Base):
    """An area of a campaign: a dotted province, regency, district or village code."""

    __tablename__ = "campaign_area"
    __table_args__ = (PrimaryKeyConstraint("campaign_code", "area_code"),)

    campaign_code: Mapped[str] = mapped_column(String(CODE), ForeignKey("campaign.code"))
    area_code: Mapped[str] = mapped_column(String(AREA))


class CampaignCodeUse(Base):
    """Attribution rule 1: the campaign code a person gave when registering or paying, kept for
    the membership episode (registration) it belongs to."""

    __tablename__ = "campaign_code_use"
    __table_args__ = (CheckConstraint("given_at IN ('registration', 'payment')", name="given_at"),)

    membership_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("membership.id"), primary_key=True
    )
    campaign_code: Mapped[str] = mapped_column(
        String(CODE), ForeignKey("campaign.code"), index=True
    )
    given_at: Mapped[str] = mapped_column(String(20))
    given_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(AwareDateTime())


class ProspectList(Base):
    """One imported prospect file from an institution or partner."""

    __tablename__ = "prospect_list"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(400))
    file_hash: Mapped[str] = mapped_column(String(64), index=True)
    institution: Mapped[str | None] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(AwareDateTime())
    actor: Mapped[str] = mapped_column(String(120))


class Prospect(Base):
    """A person to reach. ``name_key``/``phone_key`` are the normalised forms used to deduplicate
    (``rules.name_key``, ``rules.phone_key``)."""

    __tablename__ = "prospect"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    list_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("prospect_list.id"), index=True)
    nik: Mapped[str | None] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    phone: Mapped[str | None] = mapped_column(String(30))
    phone_key: Mapped[str | None] = mapped_column(String(20), index=True)
    occupation: Mapped[str | None] = mapped_column(String(CODE))
    district_code: Mapped[str | None] = mapped_column(String(AREA), index=True)
    village_code: Mapped[str | None] = mapped_column(String(AREA))
    campaign_code: Mapped[str | None] = mapped_column(
        String(CODE), ForeignKey("campaign.code"), index=True
    )
    listed_on: Mapped[date] = mapped_column(Date)
    assigned_to: Mapped[str | None] = mapped_column(String(120), index=True)
    assigned_kind: Mapped[str | None] = mapped_column(String(10))


class ProspectContact(Base):
    """One contact attempt with a prospect. A refusal names its reason (controlled list)."""

    __tablename__ = "prospect_contact"
    __table_args__ = (
        CheckConstraint(OUTCOME_CHECK, name="outcome"),
        CheckConstraint(REASON_CHECK, name="refusal_reason"),
        CheckConstraint(REFUSED_HAS_REASON, name="refused_has_reason"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    prospect_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("prospect.id"), index=True)
    contacted_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    refusal_reason: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(AwareDateTime())


#: The prospect import matches phones without a NIK against ``participant.phone`` (an ``IN`` over
#: the stored forms of each phone, ``rules.stored_phone_forms``). Declared here, on the registry's
#: table, because this area is its reader (migration ``campaigns_0002``).
Index("ix_participant_phone", Participant.__table__.c.phone)
