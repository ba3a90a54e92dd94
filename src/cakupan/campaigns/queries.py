"""Read side of campaigns: attribution of registrations to campaigns, the AIDA funnel per
campaign with costs per stage, and comparisons across campaigns, segments and channels.

Attribution (one campaign per registration, i.e. per membership episode, computed on every read
from the ledger, never stored), in order of precedence:

1. ``campaign_code``: the person gave the campaign's code at registration or payment
   (``campaign_code_use``);
2. ``prospect_list``: the NIK was on a prospect list of the campaign listed on or before the
   registration date;
3. ``time_area_window``: registered in one of the campaign's areas between its start and
   ``window_days`` after its end.

Within one rule the most recent claim wins (latest code given / latest listing / latest campaign
start), then the smaller campaign code. It is one set-based query (``ROW_NUMBER`` per episode).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from cakupan.campaigns.models import (
    Campaign,
    CampaignArea,
    CampaignCodeUse,
    CampaignSegment,
    Prospect,
    ProspectContact,
)
from cakupan.campaigns.rules import FUNNEL_STAGES, AttributionRule, cost_per
from cakupan.errors import not_found
from cakupan.i18n import t
from cakupan.registry.models import Membership, Participant

__all__ = [
    "Attribution",
    "Funnel",
    "attributions",
    "campaign_funnel",
    "compare_funnels",
    "funnels",
    "list_campaigns",
]

_RULES = {1: AttributionRule.CODE, 2: AttributionRule.PROSPECT_LIST, 3: AttributionRule.WINDOW}


def _attributed(campaign_codes: Sequence[str] | None) -> Any:
    """Subquery ``(membership_id, campaign_code, rule)``: the winning campaign of every episode
    that some campaign (of ``campaign_codes``, or any) claims."""
    rule1 = select(
        CampaignCodeUse.membership_id.label("membership_id"),
        CampaignCodeUse.campaign_code.label("campaign_code"),
        literal(1, Integer).label("rule"),
        CampaignCodeUse.given_on.label("claimed_on"),
    )
    rule2 = (
        select(Membership.id, Prospect.campaign_code, literal(2, Integer), Prospect.listed_on)
        .select_from(Prospect)
        .join(Participant, Participant.nik == Prospect.nik)
        .join(
            Membership,
            and_(
                Membership.participant_id == Participant.id,
                Membership.registered_on >= Prospect.listed_on,
            ),
        )
        .where(Prospect.campaign_code.is_not(None))
    )
    # Rule 3, one equi-join per area level (village, district, regency, province) so that the
    # database can hash-join campaign areas to participants instead of testing every pair.
    levels = (
        (Participant.village_code, 13),
        (Participant.district_code, 8),
        (Participant.regency_code, 5),
        (func.substr(Participant.regency_code, 1, 2), 2),
    )
    window = [
        select(Membership.id, Campaign.code, literal(3, Integer), Campaign.start_on)
        .select_from(CampaignArea)
        .join(Campaign, Campaign.code == CampaignArea.campaign_code)
        .join(Participant, column == CampaignArea.area_code)
        .join(
            Membership,
            and_(
                Membership.participant_id == Participant.id,
                Membership.registered_on >= Campaign.start_on,
                Membership.registered_on <= Campaign.window_end_on,
            ),
        )
        .where(func.length(CampaignArea.area_code) == length)
        for column, length in levels
    ]
    candidates = union_all(rule1, rule2, *window).cte("candidates")
    ranked_source = select(candidates)
    if campaign_codes is not None:
        claimed = select(candidates.c.membership_id).where(
            candidates.c.campaign_code.in_(campaign_codes)
        )
        ranked_source = ranked_source.where(candidates.c.membership_id.in_(claimed))
    source = ranked_source.subquery()
    ranked = select(
        source.c.membership_id,
        source.c.campaign_code,
        source.c.rule,
        func.row_number()
        .over(
            partition_by=source.c.membership_id,
            order_by=(source.c.rule, source.c.claimed_on.desc(), source.c.campaign_code),
        )
        .label("rank"),
    ).subquery()
    return (
        select(ranked.c.membership_id, ranked.c.campaign_code, ranked.c.rule)
        .where(ranked.c.rank == 1)
        .subquery()
    )


@dataclass(frozen=True)
class Attribution:
    """One registration (membership episode) and the campaign and rule it was attributed by."""

    campaign: str
    rule: AttributionRule
    nik: str
    episode_no: int
    registered_on: date
    months_paid: int

    def as_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "rule": self.rule.value,
            "precedence": self.rule.precedence,
            "nik": self.nik,
            "episode_no": self.episode_no,
            "registered_on": self.registered_on.isoformat(),
            "months_paid": self.months_paid,
        }


def _months_paid() -> Any:
    return case(
        (
            Membership.paid_through_month.is_not(None),
            type_coerce(Membership.paid_through_month, Integer)
            - type_coerce(Membership.start_month, Integer)
            + 1,
        ),
        else_=0,
    )


def attributions(session: Session, campaign_code: str) -> list[Attribution]:
    """Every registration attributed to the campaign, with the rule that attributed it."""
    _campaign(session, campaign_code)
    won = _attributed([campaign_code])
    rows = session.execute(
        select(
            won.c.campaign_code,
            won.c.rule,
            Participant.nik,
            Membership.episode_no,
            Membership.registered_on,
            _months_paid(),
        )
        .join(Membership, Membership.id == won.c.membership_id)
        .join(Participant, Participant.id == Membership.participant_id)
        .where(won.c.campaign_code == campaign_code)
        .order_by(Membership.registered_on, Participant.nik)
    )
    return [
        Attribution(code, _RULES[int(rule)], nik, episode, registered, int(paid))
        for code, rule, nik, episode, registered, paid in rows
    ]


@dataclass
class Funnel:
    """The AIDA funnel of a campaign (or a group of campaigns) and its cost.

    ``registered`` onward come from the ledger (attributed registrations; paid month 1 / retained
    month 3 / month 6 = the episode's first 1 / 3 / 6 months paid). ``interested`` and ``reached``
    are the larger of the figures reported for the campaign and what its prospect worklist shows,
    and never less than the stage after them (whoever registered was reached and interested)."""

    key: str
    cost: int
    cost_basis: str
    counts: dict[str, int]
    attribution: dict[str, int]
    campaigns: list[str] = field(default_factory=list)

    def stages(self) -> list[dict[str, Any]]:
        return [
            {
                "stage": stage,
                "count": self.counts[stage],
                "cost_per": cost_per(self.cost, self.counts[stage]),
            }
            for stage in FUNNEL_STAGES
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "cost": self.cost,
            "cost_basis": self.cost_basis,
            "stages": self.stages(),
            "cost_per_registration": cost_per(self.cost, self.counts["registered"]),
            "cost_per_retained_month_6": cost_per(self.cost, self.counts["retained_month_6"]),
            "attribution": self.attribution,
        }


def _campaign(session: Session, code: str) -> Campaign:
    campaign = session.get(Campaign, code)
    if campaign is None:
        raise not_found(
            t("kampanye {c!r} tidak ditemukan", "campaign {c!r} not found").format(c=code)
        )
    return campaign


def funnels(session: Session, campaign_codes: Sequence[str] | None = None) -> dict[str, Funnel]:
    """The funnel of every campaign (or of the given ones): three grouped queries in all."""
    query = select(Campaign).order_by(Campaign.code)
    if campaign_codes is not None:
        query = query.where(Campaign.code.in_(campaign_codes))
    campaigns = list(session.scalars(query))
    codes = [c.code for c in campaigns]
    won = _attributed(codes if campaign_codes is not None else None)
    months = _months_paid()
    ledger: dict[str, dict[int, tuple[int, int, int, int]]] = defaultdict(dict)
    for code, rule, registered, paid1, kept3, kept6 in session.execute(
        select(
            won.c.campaign_code,
            won.c.rule,
            func.count(),
            func.sum(case((months >= 1, 1), else_=0)),
            func.sum(case((months >= 3, 1), else_=0)),
            func.sum(case((months >= 6, 1), else_=0)),
        )
        .join(Membership, Membership.id == won.c.membership_id)
        .group_by(won.c.campaign_code, won.c.rule)
    ):
        ledger[code][int(rule)] = (
            int(registered),
            int(paid1 or 0),
            int(kept3 or 0),
            int(kept6 or 0),
        )
    worklist = _prospect_reach(session, codes)
    out: dict[str, Funnel] = {}
    for campaign in campaigns:
        by_rule = ledger.get(campaign.code, {})
        sums = [sum(v[i] for v in by_rule.values()) for i in range(4)]
        prospects_reached, prospects_interested = worklist.get(campaign.code, (0, 0))
        interested = max(campaign.reported_interested or 0, prospects_interested, sums[0])
        reached = max(campaign.reported_reached or 0, prospects_reached, interested)
        cost, basis = (
            (campaign.actual_cost, "actual")
            if campaign.actual_cost is not None
            else (campaign.budget, "budget")
        )
        out[campaign.code] = Funnel(
            key=campaign.code,
            cost=cost,
            cost_basis=basis,
            counts=dict(zip(FUNNEL_STAGES, (reached, interested, *sums), strict=True)),
            attribution={
                rule.value: by_rule.get(number, (0,))[0] for number, rule in _RULES.items()
            },
            campaigns=[campaign.code],
        )
    return out


def _prospect_reach(session: Session, codes: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Per campaign: prospects reached (a contact answered, or registered) and interested (said
    so, or registered)."""
    if not codes:
        return {}
    contacts = (
        select(
            ProspectContact.prospect_id,
            func.max(case((ProspectContact.outcome == "interested", 1), else_=0)).label(
                "interested"
            ),
            func.max(case((ProspectContact.outcome != "unreachable", 1), else_=0)).label("reached"),
        )
        .group_by(ProspectContact.prospect_id)
        .subquery()
    )
    registered = (
        select(Prospect.id.label("prospect_id"))
        .join(Participant, Participant.nik == Prospect.nik)
        .join(
            Membership,
            and_(
                Membership.participant_id == Participant.id,
                Membership.registered_on >= Prospect.listed_on,
            ),
        )
        .distinct()
        .subquery()
    )
    is_registered = registered.c.prospect_id.is_not(None)
    rows = session.execute(
        select(
            Prospect.campaign_code,
            func.sum(case((or_(contacts.c.reached == 1, is_registered), 1), else_=0)),
            func.sum(case((or_(contacts.c.interested == 1, is_registered), 1), else_=0)),
        )
        .outerjoin(contacts, contacts.c.prospect_id == Prospect.id)
        .outerjoin(registered, registered.c.prospect_id == Prospect.id)
        .where(Prospect.campaign_code.in_(codes))
        .group_by(Prospect.campaign_code)
    )
    return {code: (int(r or 0), int(i or 0)) for code, r, i in rows}


def campaign_funnel(session: Session, code: str) -> dict[str, Any]:
    """The contract of ``cakupan campaigns funnel CODE --json``."""
    campaign = _campaign(session, code)
    funnel = funnels(session, [code])[code]
    segments = sorted(
        session.scalars(
            select(CampaignSegment.segment_code).where(CampaignSegment.campaign_code == code)
        )
    )
    areas = sorted(
        session.scalars(select(CampaignArea.area_code).where(CampaignArea.campaign_code == code))
    )
    return {
        "campaign": code,
        "name": campaign.name,
        "type": campaign.type,
        "medium": campaign.medium,
        "segments": segments,
        "areas": areas,
        "start_on": campaign.start_on.isoformat(),
        "end_on": campaign.end_on.isoformat(),
        "window_days": campaign.window_days,
        "budget": campaign.budget,
        "actual_cost": campaign.actual_cost,
        **funnel.as_json(),
    }


def compare_funnels(
    session: Session, by: str, campaign_codes: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Funnels summed per ``campaign``, ``segment`` (a campaign with two segments counts in both)
    or ``channel`` (campaign type, with the medium for advertising); costs per stage are
    recomputed from the sums. Ordered by cost per participant retained at month 6 (cheapest
    first, groups without any retained participant last), then key. ``campaign_codes`` limits
    the comparison to those campaigns (e.g. the ones a user may see)."""
    all_funnels = funnels(session, campaign_codes)
    keys: dict[str, list[str]] = defaultdict(list)
    if by == "campaign":
        for code in all_funnels:
            keys[code].append(code)
    elif by == "segment":
        for code, segment in session.execute(
            select(CampaignSegment.campaign_code, CampaignSegment.segment_code)
        ):
            keys[segment].append(code)
    elif by == "channel":
        for code, kind, medium in session.execute(
            select(Campaign.code, Campaign.type, Campaign.medium)
        ):
            keys[f"{kind}:{medium}" if kind == "advertising" and medium else kind].append(code)
    else:
        from cakupan.errors import invalid

        raise invalid(
            "by",
            t(
                "campaign, segment atau channel, diterima {v!r}",
                "expected campaign, segment or channel, got {v!r}",
            ).format(v=by),
        )
    rows = []
    for key, codes in keys.items():
        parts = [all_funnels[c] for c in sorted(set(codes)) if c in all_funnels]
        if not parts:
            continue
        total = Funnel(
            key=key,
            cost=sum(f.cost for f in parts),
            cost_basis="actual" if all(f.cost_basis == "actual" for f in parts) else "mixed",
            counts={s: sum(f.counts[s] for f in parts) for s in FUNNEL_STAGES},
            attribution={
                r.value: sum(f.attribution[r.value] for f in parts) for r in AttributionRule
            },
            campaigns=[f.key for f in parts],
        )
        rows.append({by: key, "campaigns": total.campaigns, **total.as_json()})
    rows.sort(
        key=lambda r: (
            r["cost_per_retained_month_6"] is None,
            r["cost_per_retained_month_6"] or 0,
            r[by],
        )
    )
    return rows


def list_campaigns(
    session: Session, campaign_codes: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Every campaign (or those of ``campaign_codes``), by start date then code."""
    out = []
    query = select(Campaign).order_by(Campaign.start_on, Campaign.code)
    if campaign_codes is not None:
        query = query.where(Campaign.code.in_(campaign_codes))
    for c in session.scalars(query):
        out.append(
            {
                "code": c.code,
                "name": c.name,
                "type": c.type,
                "medium": c.medium,
                "start_on": c.start_on.isoformat(),
                "end_on": c.end_on.isoformat(),
                "budget": c.budget,
                "actual_cost": c.actual_cost,
                "branch_code": c.branch_code,
                "partners": list(c.partners),
                "materials": list(c.materials),
                "stories": list(c.stories),
            }
        )
    return out
