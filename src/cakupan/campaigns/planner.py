"""Planning campaigns from the web: who sees which campaign, who may plan or edit where, the
planner's validation (every problem named per field), the writes (plan, edit a planned campaign,
record the actual cost and reported reach) and the calendar of campaigns in scope.

Scope (docs/campaigns.md "Planner and calendar"):

* **see**: national roles every campaign; a regional office the campaigns of its branches, its
  region-wide campaigns and national ones (no branch, no region); branch staff the campaigns of
  their branch, region-wide campaigns of their branch's region and national ones; a partner the
  campaigns that list it or one of its agents among the partners involved; an agent those that
  list it or its partner. Anything else: nothing (fail closed).
* **plan / edit**: admin and head office anywhere (any branch, a region, or national); a regional
  office for a branch of its region or region-wide, in the areas of its branches; a kabid for its
  branch, in the areas of its branch. Other roles read only. Only a *planned* campaign (not yet
  started) can be edited; the actual cost and reported reach are recorded once it has started.

Every write is audited in the caller's transaction (``campaign.plan``, ``campaign.plan_update``,
``campaign.results``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from cakupan.access import BRANCH_ROLES, NATIONAL_ROLES
from cakupan.audit import record_audit
from cakupan.auth import Actor, Role
from cakupan.campaigns.actions import _parse_campaign, _stored_values, _write_campaign
from cakupan.campaigns.models import Campaign, Segment
from cakupan.campaigns.reference import default_window_days
from cakupan.campaigns.rules import campaign_status
from cakupan.dates import Clock, Month, SystemClock, today
from cakupan.errors import CakupanError, ErrorKind, FieldProblem, forbidden, not_found
from cakupan.i18n import Text, t
from cakupan.imports import Record
from cakupan.regions.models import Branch, BranchRegency, District, Province, Regency, Village

__all__ = [
    "FORM_FIELDS",
    "MEDIUM_LABELS",
    "OFFICE_ROLES",
    "PLANNER_ROLES",
    "STATUS_LABELS",
    "TYPE_LABELS",
    "CalendarEntry",
    "PlanForm",
    "PlanScope",
    "area_filter",
    "calendar",
    "campaign_detail",
    "can_edit",
    "month_weeks",
    "plan_campaign",
    "planning_scope",
    "record_results",
    "update_plan",
    "visible_campaigns",
    "visible_regencies",
]

OFFICE_ROLES = NATIONAL_ROLES | BRANCH_ROLES | {Role.REGIONAL}
#: Who may plan and edit campaigns (within :func:`planning_scope`).
PLANNER_ROLES = frozenset({Role.ADMIN, Role.HEAD_OFFICE, Role.SYSTEM, Role.REGIONAL, Role.KABID})

TYPE_LABELS: dict[str, Text] = {
    "sosialisasi_offline": t("Sosialisasi tatap muka", "Offline sosialisasi"),
    "sosialisasi_online": t("Sosialisasi daring", "Online sosialisasi"),
    "event": t("Acara (event)", "Event"),
    "bazaar_expo": t("Bazar / pameran", "Bazaar / expo"),
    "advertising": t("Iklan", "Advertising"),
    "direct_marketing": t("Pemasaran langsung", "Direct marketing"),
    "sales_promotion": t("Promosi penjualan", "Sales promotion"),
    "co_marketing_discount": t("Diskon pemasaran bersama", "Co-marketing discount"),
    "community_leader_engagement": t("Pelibatan tokoh masyarakat", "Community-leader engagement"),
}
MEDIUM_LABELS: dict[str, Text] = {
    "print": t("Cetak", "Print"),
    "tv": t("Televisi", "TV"),
    "radio": t("Radio", "Radio"),
    "online": t("Daring", "Online"),
    "billboard": t("Baliho", "Billboard"),
    "social_media": t("Media sosial", "Social media"),
    "other": t("Lainnya", "Other"),
}
STATUS_LABELS: dict[str, Text] = {
    "planned": t("Direncanakan", "Planned"),
    "running": t("Berjalan", "Running"),
    "finished": t("Selesai", "Finished"),
}

#: The planner form's fields (also the names of the problems it reports).
FORM_FIELDS = (
    "code",
    "name",
    "objective",
    "type",
    "medium",
    "start_on",
    "end_on",
    "budget",
    "window_days",
    "segments",
    "areas",
    "branch_code",
    "partners",
    "materials",
    "stories",
)
_CODES_SPLIT = re.compile(r"[\s,;]+")


# -- who sees what ---------------------------------------------------------------------------------


def _branch_region(session: Session, branch_code: str) -> str | None:
    return session.scalar(select(Branch.region_code).where(Branch.code == branch_code))


def visible_campaigns(session: Session, actor: Actor) -> list[str]:
    """Codes of the campaigns ``actor`` sees (the module docstring's rule), sorted."""
    query = select(Campaign.code).order_by(Campaign.code)
    national = and_(Campaign.branch_code.is_(None), Campaign.region_code.is_(None))
    if actor.role in NATIONAL_ROLES:
        return list(session.scalars(query))
    if actor.role is Role.REGIONAL and actor.region_code:
        branches = select(Branch.code).where(Branch.region_code == actor.region_code)
        return list(
            session.scalars(
                query.where(
                    or_(
                        Campaign.branch_code.in_(branches),
                        and_(
                            Campaign.branch_code.is_(None),
                            Campaign.region_code == actor.region_code,
                        ),
                        national,
                    )
                )
            )
        )
    if actor.role in BRANCH_ROLES and actor.branch_code:
        region = _branch_region(session, actor.branch_code)
        return list(
            session.scalars(
                query.where(
                    or_(
                        Campaign.branch_code == actor.branch_code,
                        and_(Campaign.branch_code.is_(None), Campaign.region_code == region),
                        national,
                    )
                )
            )
        )
    involved: set[str] = set()
    if actor.role is Role.PARTNER and actor.partner_code:
        from cakupan.partners import agents_under

        involved = {actor.partner_code, *agents_under(session, actor.partner_code)}
    elif actor.role is Role.AGENT and actor.agent_code:
        involved = {actor.agent_code} | ({actor.partner_code} if actor.partner_code else set())
    if not involved:
        return []
    # ``partners`` is a short JSON list per campaign: filtered here, the same on both engines.
    return [
        code
        for code, partners in session.execute(
            select(Campaign.code, Campaign.partners).order_by(Campaign.code)
        )
        if involved.intersection(partners or [])
    ]


def visible_regencies(session: Session, actor: Actor) -> set[str] | None:
    """The regencies whose areas ``actor`` reads (coverage, targeting): ``None`` = all (national
    roles); a regional office those of its branches; branch staff those of their branch; anyone
    else none."""
    if actor.role in NATIONAL_ROLES:
        return None
    branches: Any
    if actor.role is Role.REGIONAL and actor.region_code:
        branches = select(Branch.code).where(Branch.region_code == actor.region_code)
    elif actor.role in BRANCH_ROLES and actor.branch_code:
        branches = [actor.branch_code]
    else:
        return set()
    return set(
        session.scalars(
            select(BranchRegency.regency_code).where(BranchRegency.branch_code.in_(branches))
        )
    )


def area_filter(session: Session, actor: Actor) -> Callable[[str], bool] | None:
    """A test of whether an area code (province .. village) lies in what ``actor`` reads; ``None``
    when it reads everything. A province counts when one of the actor's regencies is in it."""
    regencies = visible_regencies(session, actor)
    if regencies is None:
        return None
    provinces = {r[:2] for r in regencies}
    return lambda area: (len(area) == 2 and area in provinces) or area[:5] in regencies


@dataclass(frozen=True)
class PlanScope:
    """Where ``actor`` may plan: ``branches`` it may name (``None`` = any), the region a
    region-wide campaign gets (``None`` = national when no branch), whether it may plan without a
    branch, and the regencies (``None`` = anywhere) and provinces its areas must lie in."""

    branches: tuple[str, ...] | None
    region_code: str | None
    without_branch: bool
    regencies: frozenset[str] | None
    provinces: frozenset[str] | None


def planning_scope(session: Session, actor: Actor) -> PlanScope:
    """The actor's planning scope; FORBIDDEN for a role that does not plan (or lacks its code)."""
    if actor.role in PLANNER_ROLES and actor.role in NATIONAL_ROLES:
        return PlanScope(None, None, True, None, None)
    branches: list[str] = []
    region: str | None = None
    if actor.role is Role.REGIONAL and actor.region_code:
        branches = list(
            session.scalars(
                select(Branch.code)
                .where(Branch.region_code == actor.region_code)
                .order_by(Branch.code)
            )
        )
        region = actor.region_code
    elif actor.role is Role.KABID and actor.branch_code:
        branches = [actor.branch_code]
        region = _branch_region(session, actor.branch_code)
    else:
        raise forbidden(
            t(
                "Hanya kantor pusat, kantor wilayah dan kabid yang merencanakan kampanye",
                "Only the head office, regional offices and kabid plan campaigns",
            )
        )
    regencies = frozenset(
        session.scalars(
            select(BranchRegency.regency_code).where(BranchRegency.branch_code.in_(branches))
        )
    )
    return PlanScope(
        branches=tuple(branches),
        region_code=region,
        without_branch=actor.role is Role.REGIONAL,
        regencies=regencies,
        provinces=frozenset(r[:2] for r in regencies)
        if actor.role is Role.REGIONAL
        else frozenset(),
    )


def can_edit(session: Session, actor: Actor, campaign: Campaign) -> bool:
    """Whether ``actor`` may edit ``campaign`` (its plan while planned, its results once started):
    the campaign lies in the actor's planning scope."""
    try:
        scope = planning_scope(session, actor)
    except CakupanError:
        return False
    if scope.branches is None:
        return True
    if campaign.branch_code is not None:
        return campaign.branch_code in scope.branches
    return scope.without_branch and campaign.region_code == scope.region_code


# -- the planner form ------------------------------------------------------------------------------


@dataclass
class PlanForm:
    """What the planner form posts, as text (kept to show the form again with its problems)."""

    code: str = ""
    name: str = ""
    objective: str = ""
    type: str = ""
    medium: str = ""
    start_on: str = ""
    end_on: str = ""
    budget: str = ""
    window_days: str = ""
    segments: list[str] = field(default_factory=list)
    areas: str = ""
    branch_code: str = ""
    partners: str = ""
    materials: str = ""
    stories: str = ""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], segments: Sequence[str] = ()) -> PlanForm:
        """From form fields (``segments`` = the checked segment boxes)."""
        values = {name: str(data.get(name) or "").strip() for name in FORM_FIELDS}
        values.pop("segments")
        return cls(**values, segments=[s for s in segments if s])

    @classmethod
    def of(cls, session: Session, campaign: Campaign) -> PlanForm:
        """The form filled with a stored campaign (to edit it)."""
        stored = _stored_values(session, campaign)
        return cls(
            code=campaign.code,
            name=campaign.name,
            objective=campaign.objective,
            type=campaign.type,
            medium=campaign.medium or "",
            start_on=campaign.start_on.isoformat(),
            end_on=campaign.end_on.isoformat(),
            budget=str(campaign.budget),
            window_days=str(campaign.window_days),
            segments=list(stored["segments"]),
            areas="; ".join(stored["areas"]),
            branch_code=campaign.branch_code or "",
            partners="; ".join(campaign.partners),
            materials="\n".join(campaign.materials),
            stories="\n".join(campaign.stories),
        )


def _codes(text: str) -> list[str]:
    return [c for c in _CODES_SPLIT.split(text.strip()) if c]


def _lines(text: str) -> list[str]:
    return [line.strip()[:400] for line in text.splitlines() if line.strip()]


def _validate(
    session: Session,
    actor: Actor,
    form: PlanForm,
    *,
    existing: Campaign | None,
    clock: Clock,
) -> dict[str, Any]:
    """The values to store, or INVALID with every problem named per field (Bahasa Indonesia
    first). FORBIDDEN when the actor does not plan."""
    scope = planning_scope(session, actor)
    code = existing.code if existing is not None else form.code
    record = Record(
        row=1,
        values={
            "code": code,
            "name": form.name,
            "objective": form.objective,
            "type": form.type,
            "medium": form.medium,
            "start_on": form.start_on,
            "end_on": form.end_on,
            "budget": form.budget,
            "window_days": form.window_days,
            "segments": ";".join(form.segments),
            "areas": ";".join(_codes(form.areas)),
            "branch_code": form.branch_code,
            "partners": ";".join(_codes(form.partners)),
        },
    )
    segments = set(session.scalars(select(Segment.code)))
    values, parsed = _parse_campaign(record, segments, default_window_days())
    problems: list[tuple[str, Text]] = list(parsed)
    if existing is None and session.get(Campaign, code) is not None:
        problems.append(
            (
                "code",
                t(
                    "kode {c!r} sudah dipakai kampanye lain",
                    "code {c!r} is already used by another campaign",
                ).format(c=code),
            )
        )
    day = today(clock)
    start = _date_or_none(form.start_on)
    if start is not None and start < day:
        problems.append(
            (
                "start_on",
                t(
                    "rencana dimulai hari ini ({d}) atau nanti, diterima {v}",
                    "a plan starts today ({d}) or later, got {v}",
                ).format(d=day.isoformat(), v=start.isoformat()),
            )
        )
    problems.extend(_area_problems(session, scope, _codes(form.areas)))
    branch = form.branch_code or None
    region: str | None
    if branch is None:
        if not scope.without_branch:
            problems.append(
                (
                    "branch_code",
                    t("pilih kantor cabang: {c}", "choose a branch office: {c}").format(
                        c=", ".join(scope.branches or ())
                    ),
                )
            )
        region = scope.region_code
    else:
        region = _branch_region(session, branch)
        if region is None:
            problems.append(
                (
                    "branch_code",
                    t("kantor cabang {c!r} tidak dikenal", "unknown branch office {c!r}").format(
                        c=branch
                    ),
                )
            )
        elif scope.branches is not None and branch not in scope.branches:
            problems.append(
                (
                    "branch_code",
                    t(
                        "kantor cabang {c!r} di luar wilayah kerja Anda ({s})",
                        "branch office {c!r} is outside your scope ({s})",
                    ).format(c=branch, s=", ".join(scope.branches) or "-"),
                )
            )
    partners = _codes(form.partners)
    if partners:
        from cakupan.partners.models import Partner

        known = set(session.scalars(select(Partner.code).where(Partner.code.in_(partners))))
        unknown = [p for p in partners if p not in known]
        if unknown:
            problems.append(
                (
                    "partners",
                    t(
                        "kode mitra/agen tidak dikenal: {v}", "unknown partner/agent codes: {v}"
                    ).format(v=", ".join(unknown)),
                )
            )
    if problems or values is None:
        raise CakupanError(
            title=t("Rencana kampanye tidak valid", "Invalid campaign plan"),
            problems=[FieldProblem(field=f, message=m, record=code or None) for f, m in problems],
            kind=ErrorKind.INVALID,
            code="campaign.plan_invalid",
        )
    values["region_code"] = region
    values["materials"] = _lines(form.materials)
    values["stories"] = _lines(form.stories)
    values["partners"] = sorted(set(partners), key=partners.index)
    if existing is not None:  # the results are recorded separately, never wiped by an edit
        values["actual_cost"] = existing.actual_cost
        values["reported_reached"] = existing.reported_reached
        values["reported_interested"] = existing.reported_interested
    return values


def _date_or_none(text: str) -> date | None:
    from cakupan.dates import parse_date

    try:
        return parse_date(text) if text else None
    except ValueError:
        return None


def _area_problems(
    session: Session, scope: PlanScope, areas: Sequence[str]
) -> list[tuple[str, Text]]:
    """Areas that do not exist, or lie outside the planner's regencies (a branch plans inside its
    regencies; a regional office also names a whole province it serves)."""
    from cakupan.campaigns.rules import area_level

    by_level: dict[str, list[str]] = {}
    for area in areas:
        level = area_level(area)
        if level is not None:
            by_level.setdefault(level, []).append(area)
    known: set[str] = set()
    for level, model in (
        ("province", Province),
        ("regency", Regency),
        ("district", District),
        ("village", Village),
    ):
        if by_level.get(level):
            known |= set(session.scalars(select(model.code).where(model.code.in_(by_level[level]))))
    unknown = [a for level_codes in by_level.values() for a in level_codes if a not in known]
    problems: list[tuple[str, Text]] = []
    if unknown:
        problems.append(
            (
                "areas",
                t("kode wilayah tidak dikenal: {v}", "unknown area codes: {v}").format(
                    v=", ".join(unknown)
                ),
            )
        )
    if scope.regencies is not None:
        outside = [
            a
            for a in sorted(known)
            if not (
                (len(a) == 2 and scope.provinces is not None and a in scope.provinces)
                or (len(a) >= 5 and a[:5] in scope.regencies)
            )
        ]
        if outside:
            problems.append(
                (
                    "areas",
                    t(
                        "wilayah di luar wilayah kerja Anda: {v}",
                        "areas outside your scope: {v}",
                    ).format(v=", ".join(outside)),
                )
            )
    return problems


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}


def plan_campaign(
    session: Session, actor: Actor, form: PlanForm, *, clock: Clock | None = None
) -> Campaign:
    """Plan a new campaign from the form (validated as the module says); audited."""
    clock = clock or SystemClock()
    values = _validate(session, actor, form, existing=None, clock=clock)
    campaign = Campaign(code=values["code"], created_at=clock.now())
    session.add(campaign)
    _write_campaign(session, campaign, values)
    session.flush()
    record_audit(
        session, actor, "campaign.plan", "campaign", campaign.code, after=_jsonable(values)
    )
    return campaign


def _editable(session: Session, actor: Actor, code: str) -> Campaign:
    campaign = session.get(Campaign, code)
    if campaign is None or code not in visible_campaigns(session, actor):
        raise not_found(
            t("kampanye {c!r} tidak ditemukan", "campaign {c!r} not found").format(c=code)
        )
    if not can_edit(session, actor, campaign):
        raise forbidden(
            t(
                "Kampanye ini di luar wilayah kerja perencanaan Anda",
                "This campaign is outside your planning scope",
            )
        )
    return campaign


def update_plan(
    session: Session, actor: Actor, code: str, form: PlanForm, *, clock: Clock | None = None
) -> Campaign:
    """Edit a planned campaign (not yet started); audited with before/after. CONFLICT once it
    has started (record its results instead)."""
    clock = clock or SystemClock()
    campaign = _editable(session, actor, code)
    if campaign_status(campaign.start_on, campaign.end_on, today(clock)) != "planned":
        raise CakupanError(
            title=t(
                "Kampanye sudah dimulai: rencananya tidak dapat diubah lagi",
                "The campaign has started: its plan can no longer be changed",
            ),
            problems=[
                FieldProblem(
                    field="start_on",
                    message=t(
                        "dimulai {d}; catat biaya aktual dan jangkauannya",
                        "started {d}; record its actual cost and reach",
                    ).format(d=campaign.start_on.isoformat()),
                    record=code,
                )
            ],
            kind=ErrorKind.CONFLICT,
            code="campaign.started",
        )
    before = _stored_values(session, campaign)
    values = _validate(session, actor, form, existing=campaign, clock=clock)
    _write_campaign(session, campaign, values)
    session.flush()
    record_audit(
        session,
        actor,
        "campaign.plan_update",
        "campaign",
        code,
        before=_jsonable(before),
        after=_jsonable(values),
    )
    return campaign


def record_results(
    session: Session,
    actor: Actor,
    code: str,
    *,
    actual_cost: str,
    reached: str = "",
    interested: str = "",
    clock: Clock | None = None,
) -> Campaign:
    """Record a started campaign's actual cost (whole rupiah, ``5.000.000`` accepted; empty =
    not known yet) and its reported reach and interest (attendance, leads); audited with
    before/after. CONFLICT before the campaign starts; INVALID naming the field otherwise."""
    clock = clock or SystemClock()
    campaign = _editable(session, actor, code)
    if campaign_status(campaign.start_on, campaign.end_on, today(clock)) == "planned":
        raise CakupanError(
            title=t(
                "Kampanye belum dimulai: biaya aktual dicatat setelah dimulai",
                "The campaign has not started: the actual cost is recorded once it has",
            ),
            problems=[
                FieldProblem(
                    field="actual_cost",
                    message=t("dimulai {d}", "starts {d}").format(d=campaign.start_on.isoformat()),
                    record=code,
                )
            ],
            kind=ErrorKind.CONFLICT,
            code="campaign.not_started",
        )
    parsed: dict[str, int | None] = {}
    problems: list[FieldProblem] = []
    for name, text, money in (
        ("actual_cost", actual_cost, True),
        ("reached", reached, False),
        ("interested", interested, False),
    ):
        cell = text.strip().replace(".", "") if money else text.strip()
        if not cell:
            parsed[name] = None
        elif cell.isdigit():
            parsed[name] = int(cell)
        else:
            parsed[name] = None
            problems.append(
                FieldProblem(
                    field=name,
                    message=t(
                        "bilangan bulat >= 0 diharapkan (rupiah tanpa desimal), diterima {v!r}",
                        "expected a whole number >= 0 (rupiah without decimals), got {v!r}",
                    ).format(v=text),
                    record=code,
                )
            )
    if problems:
        raise CakupanError(
            title=t("Hasil kampanye tidak valid", "Invalid campaign results"),
            problems=problems,
            kind=ErrorKind.INVALID,
            code="campaign.results_invalid",
        )
    before = {
        "actual_cost": campaign.actual_cost,
        "reached": campaign.reported_reached,
        "interested": campaign.reported_interested,
    }
    campaign.actual_cost = parsed["actual_cost"]
    campaign.reported_reached = parsed["reached"]
    campaign.reported_interested = parsed["interested"]
    session.flush()
    record_audit(
        session, actor, "campaign.results", "campaign", code, before=before, after=dict(parsed)
    )
    return campaign


# -- reading: detail and calendar ------------------------------------------------------------------


def campaign_detail(session: Session, actor: Actor, code: str, day: date) -> dict[str, Any]:
    """A campaign's plan as the actor may see it (NOT_FOUND outside its scope): every planned
    field, segments and areas, status on ``day``, budget and actual cost."""
    campaign = session.get(Campaign, code)
    if campaign is None or code not in visible_campaigns(session, actor):
        raise not_found(
            t("kampanye {c!r} tidak ditemukan", "campaign {c!r} not found").format(c=code)
        )
    stored = _stored_values(session, campaign)
    return {
        **_jsonable(stored),
        "status": campaign_status(campaign.start_on, campaign.end_on, day),
    }


@dataclass(frozen=True)
class CalendarEntry:
    code: str
    name: str
    type: str
    medium: str | None
    start_on: date
    end_on: date
    status: str
    budget: int
    actual_cost: int | None
    branch_code: str | None
    region_code: str | None

    def on(self, day: date) -> bool:
        return self.start_on <= day <= self.end_on

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "type": self.type,
            "medium": self.medium,
            "start_on": self.start_on.isoformat(),
            "end_on": self.end_on.isoformat(),
            "status": self.status,
            "budget": self.budget,
            "actual_cost": self.actual_cost,
            "branch_code": self.branch_code,
            "region_code": self.region_code,
        }


def calendar(
    session: Session, actor: Actor, first: date, last: date, day: date
) -> list[CalendarEntry]:
    """The campaigns in the actor's scope that run on some day from ``first`` to ``last``, with
    their status on ``day``; by start date then code."""
    codes = visible_campaigns(session, actor)
    if not codes:
        return []
    rows = session.scalars(
        select(Campaign)
        .where(
            Campaign.code.in_(codes),
            Campaign.start_on <= last,
            Campaign.end_on >= first,
        )
        .order_by(Campaign.start_on, Campaign.code)
    )
    return [
        CalendarEntry(
            code=c.code,
            name=c.name,
            type=c.type,
            medium=c.medium,
            start_on=c.start_on,
            end_on=c.end_on,
            status=campaign_status(c.start_on, c.end_on, day),
            budget=c.budget,
            actual_cost=c.actual_cost,
            branch_code=c.branch_code,
            region_code=c.region_code,
        )
        for c in rows
    ]


def month_weeks(month: Month) -> list[list[date]]:
    """The weeks (Monday first) covering ``month``: the calendar grid's rows."""
    start = month.first_day - timedelta(days=month.first_day.weekday())
    weeks = []
    while start <= month.last_day:
        weeks.append([start + timedelta(days=i) for i in range(7)])
        start += timedelta(days=7)
    return weeks
