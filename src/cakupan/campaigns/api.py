"""``/api/v1`` reads of the campaigns area (token or page session), scoped to the caller like the
pages: segments, coverage gap per area, the targeting ranking with each factor's contribution,
campaigns (list, detail, funnel) and the prospect worklist. Thin: every figure comes from the
area's queries, so the funnel here is exactly ``cakupan campaigns funnel CODE --json``.

Scope (docs/campaigns.md "API"): segments, coverage and targeting are for office roles (a regional
office and branch staff get the areas of their branches); campaigns follow
:func:`planner.visible_campaigns` (partners and agents see the campaigns they are involved in);
prospects follow :func:`prospects.prospect_scope`, with the NIK masked unless the role unmasks and
the phone in clear only for the assignee (unmasking audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from cakupan.access import SensitiveValue, reveal
from cakupan.auth import Actor, Role
from cakupan.campaigns import queries
from cakupan.campaigns.planner import (
    OFFICE_ROLES,
    area_filter,
    calendar,
    campaign_detail,
    visible_campaigns,
)
from cakupan.campaigns.prospects import prospect_scope, prospect_views, stage_counts
from cakupan.campaigns.reference import load_weights
from cakupan.campaigns.segments import coverage, list_segments
from cakupan.campaigns.targeting import rank_targets
from cakupan.dates import parse_date, today
from cakupan.errors import forbidden, invalid, not_found
from cakupan.i18n import t
from cakupan.web.deps import ApiActor, AppClock, DbSession

router = APIRouter(tags=["campaigns"])


def _office(actor: Actor) -> None:
    if actor.role not in OFFICE_ROLES:
        raise forbidden()


def _day(value: str | None, clock: Any, name: str = "as_of") -> Any:
    if not value:
        return today(clock)
    try:
        return parse_date(value)
    except ValueError:
        raise invalid(
            name,
            t("tanggal YYYY-MM-DD, diterima {v!r}", "expected a date YYYY-MM-DD, got {v!r}").format(
                v=value
            ),
        ) from None


class FunnelStage(BaseModel):
    stage: str
    count: int
    cost_per: int | None


class CampaignFunnel(BaseModel):
    """The funnel of ``cakupan campaigns funnel CODE --json`` (same keys and figures)."""

    campaign: str
    name: str
    type: str
    medium: str | None
    segments: list[str]
    areas: list[str]
    start_on: str
    end_on: str
    window_days: int
    budget: int
    actual_cost: int | None
    cost: int
    cost_basis: str
    stages: list[FunnelStage]
    cost_per_registration: int | None
    cost_per_retained_month_6: int | None
    attribution: dict[str, int]


class CampaignPlan(BaseModel):
    """A campaign's plan and status on the day asked (``planned``, ``running``, ``finished``)."""

    code: str
    name: str
    objective: str
    type: str
    medium: str | None
    start_on: str
    end_on: str
    window_days: int
    window_end_on: str
    budget: int
    actual_cost: int | None
    reported_reached: int | None
    reported_interested: int | None
    branch_code: str | None
    region_code: str | None
    partners: list[str]
    materials: list[str]
    stories: list[str]
    segments: list[str]
    areas: list[str]
    status: str


class ProspectItem(BaseModel):
    """One prospect of the worklist: NIK masked unless the role unmasks; phone in clear for the
    assignee, masked otherwise unless the role unmasks."""

    id: int
    name: str
    nik: str | None
    phone: str | None
    district_code: str | None
    campaign_code: str | None
    assigned_to: str | None
    attempts: int
    last_outcome: str | None
    stage: str


class Worklist(BaseModel):
    count: int
    stages: dict[str, int]
    prospects: list[ProspectItem]


@router.get("/segments")
def segments(actor: ApiActor, db: DbSession) -> dict[str, Any]:
    """Every segment: its rule (JSON), partner institutions, channels and media."""
    _office(actor)
    return {"segments": [s.as_json() for s in list_segments(db)]}


@router.get("/segments/coverage")
def segment_coverage(
    actor: ApiActor,
    db: DbSession,
    clock: AppClock,
    segment: str | None = None,
    area: Annotated[str | None, Query(description="Area code prefix")] = None,
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD (default today)")] = None,
) -> dict[str, Any]:
    """Potential, registered, active, coverage % and gap per segment and area (largest gap
    first), limited to the caller's areas (as ``cakupan segments coverage --json``)."""
    _office(actor)
    day = _day(as_of, clock)
    rows = coverage(db, day, segment=segment or None, area_prefix=area or None)
    in_scope = area_filter(db, actor)
    if in_scope is not None:
        rows = [r for r in rows if in_scope(r.area)]
    rows.sort(key=lambda r: (-r.gap, r.segment, r.area))
    return {"as_of": day.isoformat(), "rows": [r.as_json() for r in rows]}


@router.get("/targeting")
def targeting(
    actor: ApiActor,
    db: DbSession,
    clock: AppClock,
    segment: str | None = None,
    area: Annotated[str | None, Query(description="Area code prefix")] = None,
    top: Annotated[int | None, Query(ge=1)] = None,
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD (default today)")] = None,
) -> dict[str, Any]:
    """The segment x area ranking with each factor's value and contribution (shipped weights),
    as ``cakupan targeting rank --json``; pairs outside the caller's areas are left out (the
    scores are those of the whole ranking, ranks are positions in it)."""
    _office(actor)
    day = _day(as_of, clock)
    weights = load_weights(None)
    ranked = rank_targets(db, day, weights, segment=segment or None, area_prefix=area or None)
    in_scope = area_filter(db, actor)
    rows = [
        {"rank": i, **s.as_json()}
        for i, s in enumerate(ranked, start=1)
        if in_scope is None or in_scope(s.area)
    ]
    return {
        "as_of": day.isoformat(),
        "weights": weights.as_json(),
        "ranking": rows[:top] if top else rows,
    }


@router.get("/campaigns")
def campaign_list(
    actor: ApiActor,
    db: DbSession,
    clock: AppClock,
    start: Annotated[str | None, Query(description="First day YYYY-MM-DD")] = None,
    end: Annotated[str | None, Query(description="Last day YYYY-MM-DD")] = None,
) -> dict[str, Any]:
    """The campaigns the caller sees (partners: those they are involved in) with status, budget
    and actual cost; ``start``/``end`` keep those running on some day between them (the
    calendar)."""
    day = today(clock)
    first = _day(start, clock, "start") if start else None
    last = _day(end, clock, "end") if end else None
    from datetime import date

    entries = calendar(db, actor, first or date.min, last or date.max, day)
    return {"as_of": day.isoformat(), "campaigns": [e.as_json() for e in entries]}


@router.get("/campaigns/{code}", response_model=CampaignPlan)
def campaign(actor: ApiActor, db: DbSession, clock: AppClock, code: str) -> Any:
    """One campaign's plan (404 outside the caller's scope)."""
    return campaign_detail(db, actor, code, today(clock))


@router.get("/campaigns/{code}/funnel", response_model=CampaignFunnel)
def campaign_funnel(actor: ApiActor, db: DbSession, code: str) -> Any:
    """The AIDA funnel with the cost per stage (counts only, no personal data); 404 outside the
    caller's scope."""
    if code not in visible_campaigns(db, actor):
        raise not_found(
            t("kampanye {c!r} tidak ditemukan", "campaign {c!r} not found").format(c=code)
        )
    return queries.campaign_funnel(db, code)


@router.get("/prospects", response_model=Worklist)
def prospects(
    actor: ApiActor,
    db: DbSession,
    mine: Annotated[bool, Query(description="Only those assigned to the caller")] = False,
    campaign: str | None = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
) -> Any:
    """The caller's prospect worklist with each prospect's stage (from the ledger) and the count
    per stage. Partners see what is assigned to them or their agents, agents what is assigned to
    them, offices their areas."""
    own = actor.agent_code if actor.role is Role.AGENT else actor.name
    views = prospect_views(
        db,
        campaign_code=campaign or None,
        assigned_to=own if mine else None,
        scope=prospect_scope(db, actor),
        limit=limit,
    )
    own_codes = {actor.name, actor.agent_code, actor.partner_code} - {None}
    sensitive: list[SensitiveValue] = []
    for v in views:
        if v.nik:
            sensitive.append(SensitiveValue("prospect", v.id, "nik", v.nik))
        if v.phone and v.assigned_to not in own_codes:
            sensitive.append(SensitiveValue("prospect", v.id, "phone", v.phone))
    shown = iter(reveal(db, actor, sensitive))
    db.commit()  # the unmasking audit row, if any
    items = []
    for v in views:
        nik = next(shown) if v.nik else None
        phone = v.phone
        if v.phone and v.assigned_to not in own_codes:
            phone = next(shown)
        items.append(ProspectItem(**{**v.as_json(), "nik": nik, "phone": phone}))
    return Worklist(count=len(items), stages=stage_counts(views), prospects=items)
