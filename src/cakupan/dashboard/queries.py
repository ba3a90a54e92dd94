"""Read side of the dashboard: KPIs, cohort curves, trends, the partner league table, early
warnings, drill-down lists and the arrears worklist, every one scoped to the caller.

Figures come from the pre-aggregates written at each monthly close (``kpi_monthly``,
``kpi_cohort``), so a dashboard request costs a few grouped index range scans whatever the size
of the ledger; drill-down lists read the ledger itself (the same definitions, one page at a
time). Scoping: :func:`cakupan.access.participant_scope` (as ``participant_scope_for``) on the rows' branch (the
participant's) and partner/agent (who registered the episode). Definitions: docs/dashboard.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from cakupan import figures
from cakupan.access import ACCOUNT_ROLES, SensitiveValue, participant_scope, reveal
from cakupan.auth import Actor, Role
from cakupan.dashboard import rules
from cakupan.dashboard.models import (
    GRAIN_BRANCH,
    GRAIN_DIMENSIONS,
    GRAIN_FULL,
    GRAIN_LEAGUE,
    GRAIN_OCCUPATION,
    GRAIN_SEGMENT,
    ContactAction,
    KpiCohort,
    KpiMonthly,
)
from cakupan.dashboard.rules import RETENTION_AGES, Ratio
from cakupan.dates import Month
from cakupan.errors import CakupanError, forbidden, invalid
from cakupan.i18n import t
from cakupan.registry.close_models import MonthClose, StatusSnapshot, StatusTransition
from cakupan.registry.models import Membership, Participant, Payment, PaymentReversal

__all__ = [
    "DRILL_KPIS",
    "FilterChoices",
    "Filters",
    "cohorts",
    "drill_down",
    "filter_choices",
    "latest_closed_month",
    "league",
    "summary",
    "trend",
    "warnings",
    "worklist",
]

#: Default length of the period (months ending at the latest closed month).
DEFAULT_MONTHS = 12
#: Rows per page of a drill-down list or worklist.
PAGE_SIZE = 50
#: Roles that see the league table (a partner sees its own rank and anonymised peers).
LEAGUE_ROLES = frozenset(
    {
        Role.ADMIN,
        Role.HEAD_OFFICE,
        Role.AUDITOR,
        Role.REGIONAL,
        Role.KABID,
        Role.ARK,
        Role.AR,
        Role.PAP,
        Role.PARTNER,
        Role.SYSTEM,
    }
)


@dataclass(frozen=True)
class Filters:
    """What the dashboard is asked for: a period of closed months and optional dimensions."""

    first: Month | None = None
    last: Month | None = None
    region: str | None = None
    branch: str | None = None
    partner: str | None = None
    channel: str | None = None
    occupation: str | None = None
    programs: str | None = None
    #: A bundling offer's code: the figures of its episodes only (docs/bundling.md).
    offer: str | None = None

    @classmethod
    def parse(cls, **values: str | None) -> Filters:
        """From query-string values (empty means "not given"); INVALID names a bad month."""
        cleaned = {k: (v.strip() if isinstance(v, str) else v) or None for k, v in values.items()}
        months: dict[str, Month | None] = {}
        for name in ("first", "last"):
            text_value = cleaned.pop(name, None)
            try:
                months[name] = None if text_value is None else Month.parse(text_value)
            except ValueError:
                raise invalid(
                    name,
                    t(
                        f"bulan YYYY-MM, bukan {text_value!r}",
                        f"a month YYYY-MM, got {text_value!r}",
                    ),
                ) from None
        programs = cleaned.get("programs")
        if programs is not None:
            cleaned["programs"] = programs.replace(" ", "+").upper()
        return cls(**months, **cleaned)  # type: ignore[arg-type]

    def as_json(self) -> dict[str, Any]:
        return {
            "first": None if self.first is None else str(self.first),
            "last": None if self.last is None else str(self.last),
            "region": self.region,
            "branch": self.branch,
            "partner": self.partner,
            "channel": self.channel,
            "occupation": self.occupation,
            "programs": self.programs,
            "offer": self.offer,
        }


def latest_closed_month(session: Session) -> Month | None:
    """The latest month the close has run for (the dashboard's "now"), or None."""
    value: Month | None = session.scalar(select(func.max(MonthClose.month)))
    return value


def resolve_period(session: Session, filters: Filters) -> tuple[Filters, Month | None]:
    """The filters with a concrete period: ``last`` defaults to (and is capped at) the latest
    closed month, ``first`` to ``DEFAULT_MONTHS`` months earlier. Also returns that month."""
    latest = latest_closed_month(session)
    if latest is None:
        return filters, None
    last = latest if filters.last is None or filters.last > latest else filters.last
    first = filters.first if filters.first is not None else last + -(DEFAULT_MONTHS - 1)
    if first > last:
        raise invalid(
            "first",
            t(
                f"awal periode {first} sesudah akhir periode {last}",
                f"the period starts ({first}) after it ends ({last})",
            ),
        )
    return replace(filters, first=first, last=last), latest


def _dimension_conditions(
    session: Session,
    actor: Actor,
    filters: Filters,
    *,
    branch_code: Any,
    partner_code: Any,
    agent_code: Any,
    channel: Any,
    occupation: Any,
    programs: Any,
    participant_id: Any = None,
) -> list[ColumnElement[bool]]:
    """The caller's scope plus the filters, on any table carrying these columns
    (``participant_id`` for rows of one participant; None for the pre-aggregates)."""
    conditions = [
        _scope(
            session,
            actor,
            branch_code=branch_code,
            partner_code=partner_code,
            agent_code=agent_code,
            participant_id=participant_id,
        )
    ]
    if filters.region:
        conditions.append(branch_code.in_(_branches_of_region(session, filters.region)))
    if filters.branch:
        conditions.append(branch_code == filters.branch)
    if filters.partner:
        below = _agents_under(session, filters.partner)
        conditions.append(
            or_(partner_code == filters.partner, agent_code.in_(below))
            if below
            else partner_code == filters.partner
        )
    if filters.channel:
        conditions.append(channel == filters.channel)
    if filters.occupation:
        conditions.append(occupation == filters.occupation)
    if filters.programs:
        conditions.append(programs == filters.programs)
    return conditions


def participant_row_scope(session: Session, actor: Actor) -> ColumnElement[bool]:
    """The actor's scope on ``participant`` rows (current branch, registering partner/agent)."""
    columns: dict[str, Any] = {
        "branch_code": Participant.branch_code,
        "partner_code": Participant.partner_code,
        "agent_code": Participant.agent_code,
        "participant_id": Participant.id,
    }
    return _scope(session, actor, **columns)


def _agents_under(session: Session, partner_code: str) -> list[str]:
    """The partner hierarchy below ``partner_code`` (cached for the session: a request asks
    for it several times)."""
    from cakupan.partners import agents_under

    cache: dict[str, list[str]] = session.info.setdefault("dashboard.agents_under", {})
    if partner_code not in cache:
        cache[partner_code] = sorted(agents_under(session, partner_code))
    return cache[partner_code]


def _branches_of_region(session: Session, region_code: str) -> list[str]:
    from cakupan.regions import branches_of_region

    cache: dict[str, list[str]] = session.info.setdefault("dashboard.branches_of_region", {})
    if region_code not in cache:
        cache[region_code] = branches_of_region(session, region_code)
    return cache[region_code]


def _scope(
    session: Session,
    actor: Actor,
    *,
    branch_code: Any,
    partner_code: Any,
    agent_code: Any,
    participant_id: Any = None,
) -> ColumnElement[bool]:
    """:func:`cakupan.access.participant_scope` with the offices and partner hierarchy looked
    up once per session (the same rule as ``participant_scope_for``). Account representatives
    (``ar``/``ark``) see the rows of their assigned accounts, and their branch's aggregates."""
    return participant_scope(
        actor,
        branch_code=branch_code,
        partner_code=partner_code,
        agent_code=agent_code,
        participant_id=participant_id,
        branches_of_region=lambda region: _branches_of_region(session, region),
        agents_of_partner=lambda partner: _agents_under(session, partner),
    )


def grain_for(actor: Actor, filters: Filters, grouping: frozenset[str] = frozenset()) -> int:
    """The coarsest pre-aggregate grain carrying every dimension that the actor's scope, the
    filters and the grouping need (partner and agent scopes need the full grain)."""
    if filters.offer:
        return GRAIN_FULL  # the offer's rows (dashboard/offers.py) are all at the full grain
    needed = set(grouping) | {"branch_code"}
    if actor.role in (Role.PARTNER, Role.AGENT) or filters.partner:
        needed |= {"partner_code", "agent_code"}
    for name in ("channel", "occupation", "programs"):
        if getattr(filters, name):
            needed.add(name)
    for grain in (GRAIN_BRANCH, GRAIN_LEAGUE, GRAIN_OCCUPATION, GRAIN_SEGMENT, GRAIN_FULL):
        if needed <= GRAIN_DIMENSIONS[grain]:
            return grain
    return GRAIN_FULL


def _table(session: Session, actor: Actor, filters: Filters, table: Any) -> Any:
    """The pre-aggregate ``table`` to read, as rows narrowed by index first when a partner or
    agent is involved (scope or filter): a UNION ALL of the rows of the partner (index on
    ``partner_code``) and of its agents (index on ``agent_code``), so that the planner never
    scans every full-grain row for one partner. Same attributes as ``table``. With the offer
    filter: the offer's rows computed from the close's records (dashboard/offers.py), the
    scope and other filters applying to them as to the pre-aggregates."""
    if filters.offer:
        from cakupan.dashboard.offers import offer_table

        return offer_table(filters.offer, table)
    partner = actor.partner_code if actor.role is Role.PARTNER else filters.partner
    if actor.role is Role.AGENT:
        if not actor.agent_code:
            return table
        rows = select(table).where(table.agent_code == actor.agent_code)
        return aliased(table, rows.subquery("scoped"))
    if not partner:
        return table
    agents = _agents_under(session, partner)
    own = select(table).where(table.partner_code == partner)
    if not agents:
        return aliased(table, own.subquery("scoped"))
    of_agents = select(table).where(
        table.agent_code.in_(agents),
        or_(table.partner_code.is_(None), table.partner_code != partner),
    )
    return aliased(table, union_all(own, of_agents).subquery("scoped"))


def _kpi_conditions(
    session: Session,
    actor: Actor,
    filters: Filters,
    table: Any,
    grouping: frozenset[str] = frozenset(),
) -> list[ColumnElement[bool]]:
    """The grain to read, the actor's scope and the filters, on a pre-aggregate table."""
    return [
        table.grain == grain_for(actor, filters, grouping),
        *_dimension_conditions(
            session,
            actor,
            filters,
            branch_code=table.branch_code,
            partner_code=table.partner_code,
            agent_code=table.agent_code,
            channel=table.channel,
            occupation=table.occupation,
            programs=table.programs,
        ),
    ]


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


def _month_int(column: Any) -> ColumnElement[int]:
    return type_coerce(column, Integer)


@dataclass
class Summary:
    """The KPI cards of a period (see docs/dashboard.md for each definition)."""

    filters: Filters
    latest_closed: Month | None
    registrations: int = 0
    reacquired: int = 0
    closed_by_system: int = 0
    contributions: int = 0
    payments: int = 0
    active: int = 0
    arrears: int = 0
    pending: int = 0
    closed: int = 0
    compliance: Ratio = field(default_factory=lambda: Ratio(0, 0))
    conversion: Ratio = field(default_factory=lambda: Ratio(0, 0))
    retention: dict[int, Ratio] = field(default_factory=dict)
    targets: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.filters.as_json(),
            "latest_closed_month": None if self.latest_closed is None else str(self.latest_closed),
            # Stocks are read on this day, flows summed up to it (cakupan.figures).
            "as_of": None if self.filters.last is None else figures.as_of_day(self.filters.last),
            "new_registrations": self.registrations,
            "first_month_paid": self.conversion.as_json(),
            "active_participants": self.active,
            "arrears_participants": self.arrears,
            "pending_participants": self.pending,
            "closed_participants": self.closed,
            "retention": {f"m{age}": self.retention[age].as_json() for age in RETENTION_AGES},
            "compliance": self.compliance.as_json(),
            "contributions_collected": self.contributions,
            "payments": self.payments,
            "closed_by_system": self.closed_by_system,
            "reacquired": self.reacquired,
            "benefits_paid": None,
            "benefits_note": {
                "id": "belum ada data klaim",
                "en": "no claims data yet",
            },
            "targets": self.targets,
        }


def summary(session: Session, actor: Actor, filters: Filters) -> Summary:
    """The KPI cards for ``filters`` within the actor's scope: three grouped queries on the
    pre-aggregates. An empty summary when no month is closed yet."""
    filters, latest = resolve_period(session, filters)
    result = Summary(filters=filters, latest_closed=latest)
    result.retention = {age: Ratio(0, 0) for age in RETENTION_AGES}
    if latest is None or filters.first is None or filters.last is None:
        return result
    k = _table(session, actor, filters, KpiMonthly)
    conditions = _kpi_conditions(session, actor, filters, k)
    last = filters.last
    due = k.active + k.arrears + k.pending
    at_last = k.month == last
    row = session.execute(
        select(
            func.sum(k.registrations),
            func.sum(k.reacquired),
            func.sum(k.closed_by_system),
            func.sum(k.contributions),
            func.sum(k.payments),
            func.sum(k.active),
            func.sum(due),
            func.sum(_case(at_last, k.active)),
            func.sum(_case(at_last, k.arrears)),
            func.sum(_case(at_last, k.pending)),
            func.sum(_case(at_last, k.closed)),
        ).where(k.month.between(filters.first, last), *conditions)
    ).one()
    (
        result.registrations,
        result.reacquired,
        result.closed_by_system,
        result.contributions,
        result.payments,
        paid_due,
        all_due,
        result.active,
        result.arrears,
        result.pending,
        result.closed,
    ) = (_int(v) for v in row)
    result.compliance = Ratio(paid_due, all_due)

    c = _table(session, actor, filters, KpiCohort)
    cohort_conditions = _kpi_conditions(session, actor, filters, c)
    in_period = c.cohort_month.between(filters.first, last)
    rows = session.execute(
        select(c.age, func.sum(c.members), func.sum(c.paying))
        .where(in_period, c.age.in_(RETENTION_AGES), *cohort_conditions)
        .group_by(c.age)
    ).all()
    for age, members, paying in rows:
        result.retention[int(age)] = Ratio(_int(paying), _int(members))
    # Conversion: final at age 2; the period's last two cohorts use their latest close.
    conversion = session.execute(
        select(func.sum(c.members), func.sum(c.first_paid)).where(
            in_period,
            or_(
                c.age == rules.CONVERSION_AGE,
                and_(
                    c.age < rules.CONVERSION_AGE,
                    _month_int(c.cohort_month) + c.age == latest.index,
                ),
            ),
            *cohort_conditions,
        )
    ).one()
    result.conversion = Ratio(_int(conversion[1]), _int(conversion[0]))
    result.targets = _targets(session, actor, filters)
    return result


def _case(condition: ColumnElement[bool], value: Any) -> Any:
    from sqlalchemy import case

    return case((condition, value), else_=literal(0))


def _targets(session: Session, actor: Actor, filters: Filters) -> list[dict[str, Any]]:
    """Targets vs realization of the actor's office (or the filtered branch/region) for the year
    of the period's last month, from the targets area's report (with its conflicts)."""
    from cakupan.targets import queries as targets_queries
    from cakupan.targets.actions import authorize_office

    office = filters.branch or filters.region or actor.branch_code or actor.region_code
    if office is None:
        if actor.role not in {Role.ADMIN, Role.HEAD_OFFICE, Role.AUDITOR, Role.SYSTEM}:
            return []
        office = "NATIONAL"
    assert filters.last is not None
    try:
        authorize_office(session, actor, office, "read")
        rows = targets_queries.report(session, office, filters.last.year, as_of=filters.last)
    except CakupanError:  # an office the actor may not read, or unknown: no targets shown
        return []
    out = []
    for row in rows:
        out.append(
            {
                "office": row.office_code,
                "segment": row.segment,
                "metric": row.metric,
                "target": row.target.value,
                "realization": row.realization.value,
                "achievement_percent": row.achievement_percent,
                "conflicts": row.conflicts,
                "as_of": None if row.as_of is None else figures.as_of_day(row.as_of),
            }
        )
    return out


def trend(session: Session, actor: Actor, filters: Filters) -> dict[str, Any]:
    """Per closed month of the period: registrations, active, compliance, contributions,
    closed by system and re-acquired (one grouped query)."""
    filters, latest = resolve_period(session, filters)
    if latest is None or filters.first is None or filters.last is None:
        return {"period": filters.as_json(), "months": []}
    k = _table(session, actor, filters, KpiMonthly)
    rows = session.execute(
        select(
            k.month,
            func.sum(k.registrations),
            func.sum(k.active),
            func.sum(k.active + k.arrears + k.pending),
            func.sum(k.contributions),
            func.sum(k.closed_by_system),
            func.sum(k.reacquired),
        )
        .where(
            k.month.between(filters.first, filters.last),
            *_kpi_conditions(session, actor, filters, k),
        )
        .group_by(k.month)
        .order_by(k.month)
    ).all()
    months = []
    for month, registrations, active, due, contributions, closed, reacquired in rows:
        months.append(
            {
                "month": str(month),
                "new_registrations": _int(registrations),
                "active_participants": _int(active),
                "compliance": Ratio(_int(active), _int(due)).as_json(),
                "contributions_collected": _int(contributions),
                "closed_by_system": _int(closed),
                "reacquired": _int(reacquired),
            }
        )
    return {"period": filters.as_json(), "months": months}


def cohorts(session: Session, actor: Actor, filters: Filters) -> dict[str, Any]:
    """Retention curves: per registration cohort of the period, the share still paying at each
    age 0..12 that has been closed (one grouped query)."""
    filters, latest = resolve_period(session, filters)
    if latest is None or filters.first is None or filters.last is None:
        return {"period": filters.as_json(), "cohorts": []}
    c = _table(session, actor, filters, KpiCohort)
    rows = session.execute(
        select(c.cohort_month, c.age, func.sum(c.members), func.sum(c.paying))
        .where(
            c.cohort_month.between(filters.first, filters.last),
            *_kpi_conditions(session, actor, filters, c),
        )
        .group_by(c.cohort_month, c.age)
        .order_by(c.cohort_month, c.age)
    ).all()
    curves: dict[str, list[dict[str, Any]]] = defaultdict(list)
    size: dict[str, int] = {}
    for cohort_month, age, members, paying in rows:
        key = str(cohort_month)
        if int(age) == 0:
            size[key] = _int(members)
        curves[key].append({"age": int(age), **Ratio(_int(paying), _int(members)).as_json()})
    return {
        "period": filters.as_json(),
        "cohorts": [
            {"cohort": key, "members": size.get(key, 0), "curve": curve}
            for key, curve in curves.items()
        ],
    }


@dataclass(frozen=True)
class _PartnerFigures:
    registrations: int
    compliance: Ratio
    contributions: int
    retention: dict[int, Ratio]


def _partner_figures(
    session: Session,
    conditions_monthly: list[ColumnElement[bool]],
    conditions_cohort: list[ColumnElement[bool]],
    filters: Filters,
) -> dict[str, _PartnerFigures]:
    k, c = KpiMonthly, KpiCohort
    assert filters.first is not None
    assert filters.last is not None
    monthly = session.execute(
        select(
            k.league_partner,
            func.sum(k.registrations),
            func.sum(k.active),
            func.sum(k.active + k.arrears + k.pending),
            func.sum(k.contributions),
        )
        .where(
            k.month.between(filters.first, filters.last),
            k.league_partner.is_not(None),
            *conditions_monthly,
        )
        .group_by(k.league_partner)
    ).all()
    retention: dict[str, dict[int, Ratio]] = defaultdict(dict)
    for code, age, members, paying in session.execute(
        select(c.league_partner, c.age, func.sum(c.members), func.sum(c.paying))
        .where(
            c.cohort_month.between(filters.first, filters.last),
            c.age.in_((3, 6)),
            c.league_partner.is_not(None),
            *conditions_cohort,
        )
        .group_by(c.league_partner, c.age)
    ).all():
        retention[str(code)][int(age)] = Ratio(_int(paying), _int(members))
    return {
        str(code): _PartnerFigures(
            registrations=_int(registrations),
            compliance=Ratio(_int(active), _int(due)),
            contributions=_int(contributions),
            retention=retention.get(str(code), {}),
        )
        for code, registrations, active, due, contributions in monthly
    }


_LEAGUE = frozenset({"league_partner"})


def league(session: Session, actor: Actor, filters: Filters) -> dict[str, Any]:
    """Partners ranked on keeping participants (month-6 then month-3 retention, then compliance;
    volume only breaks ties). Staff see the partners within their scope by name; a partner sees
    every partner's figures, its own by name and the others as "Mitra A", "Mitra B", ... in rank
    order (peers' figures are aggregates only, never rows). Agents have no league table."""
    if actor.role not in LEAGUE_ROLES:
        raise forbidden()
    # An offer is one partner's product: the league compares partners, so it has no offer.
    filters, latest = resolve_period(session, replace(filters, offer=None))
    if latest is None:
        return {"period": filters.as_json(), "partners": [], "own_rank": None}
    partner_view = actor.role is Role.PARTNER
    if partner_view:
        # Compare with every partner: drop the scope (and the partner filter), keep the rest.
        everyone = Actor(actor.name, Role.SYSTEM)
        peers_filters = replace(filters, partner=None)
        monthly = _kpi_conditions(session, everyone, peers_filters, KpiMonthly, _LEAGUE)
        cohort = _kpi_conditions(session, everyone, peers_filters, KpiCohort, _LEAGUE)
    else:
        monthly = _kpi_conditions(session, actor, filters, KpiMonthly, _LEAGUE)
        cohort = _kpi_conditions(session, actor, filters, KpiCohort, _LEAGUE)
    figures = _partner_figures(session, monthly, cohort, filters)
    entries = [
        rules.LeagueEntry(
            partner_code=code,
            registrations=f.registrations,
            retention_m3=f.retention.get(3, Ratio(0, 0)),
            retention_m6=f.retention.get(6, Ratio(0, 0)),
            compliance=f.compliance,
            contributions=f.contributions,
        )
        for code, f in figures.items()
    ]
    names = _partner_names(session, [e.partner_code for e in entries])
    ranked = rules.rank_league(entries)
    rows = []
    own_rank = None
    peer = 0
    for rank, entry in ranked:
        own = partner_view and entry.partner_code == actor.partner_code
        if partner_view and not own:
            code, name = None, rules.anonymous_name(peer)
            peer += 1
        else:
            code, name = entry.partner_code, names.get(entry.partner_code, entry.partner_code)
        if own:
            own_rank = rank
        rows.append(
            {
                "rank": rank,
                "partner_code": code,
                "name": name,
                "own": own,
                "new_registrations": entry.registrations,
                "retention_m3": entry.retention_m3.as_json(),
                "retention_m6": entry.retention_m6.as_json(),
                "compliance": entry.compliance.as_json(),
                "contributions_collected": entry.contributions,
            }
        )
    return {"period": filters.as_json(), "partners": rows, "own_rank": own_rank}


def _partner_names(session: Session, codes: Sequence[str]) -> dict[str, str]:
    from cakupan.partners.models import Partner

    if not codes:
        return {}
    return dict(
        session.execute(select(Partner.code, Partner.name).where(Partner.code.in_(codes))).all()
    )


#: Dimensions the early warnings look at (the kpi tables' columns).
WARNING_DIMENSIONS = ("occupation", "league_partner", "branch_code")


def warnings(session: Session, actor: Actor, filters: Filters) -> dict[str, Any]:
    """Segments (occupation), partners and branches whose month-3 retention or compliance
    dropped, by the warning rules in force on the latest closed month (data, with their source):
    the latest value against the plain average of the ``trailing`` periods before it."""
    filters, latest = resolve_period(session, filters)
    if latest is None or filters.last is None:
        return {"rules": [], "warnings": []}
    last = filters.last
    on = last.last_day
    all_rules = rules.load_warning_rules()
    found: list[dict[str, Any]] = []
    used: list[dict[str, Any]] = []
    retention_rule = rules.rule_in_force(all_rules, "retention_m3", on)
    compliance_rule = rules.rule_in_force(all_rules, "compliance", on)
    k = _table(session, actor, filters, KpiMonthly)
    c = _table(session, actor, filters, KpiCohort)
    # Two reads per rule: occupation and branch from one grain (segment), league partners
    # from another; each dimension's series is summed from the grouped rows.
    for dimensions in (("occupation", "branch_code"), ("league_partner",)):
        grouping = frozenset(dimensions)
        if retention_rule is not None:
            newest = last + -3  # the latest cohort whose month 3 is closed
            columns = [getattr(c, d) for d in dimensions]
            rows = session.execute(
                select(*columns, c.cohort_month, func.sum(c.members), func.sum(c.paying))
                .where(
                    c.age == 3,
                    c.cohort_month.between(newest + -retention_rule.trailing, newest),
                    *_kpi_conditions(session, actor, filters, c, grouping),
                )
                .group_by(*columns, c.cohort_month)
            ).all()
            found += _drops(rows, dimensions, "retention_m3", retention_rule, newest)
        if compliance_rule is not None:
            columns = [getattr(k, d) for d in dimensions]
            rows = session.execute(
                select(
                    *columns,
                    k.month,
                    func.sum(k.active + k.arrears + k.pending),
                    func.sum(k.active),
                )
                .where(
                    k.month.between(last + -compliance_rule.trailing, last),
                    *_kpi_conditions(session, actor, filters, k, grouping),
                )
                .group_by(*columns, k.month)
            ).all()
            found += _drops(rows, dimensions, "compliance", compliance_rule, last)
    for rule in (retention_rule, compliance_rule):
        if rule is not None:
            used.append(rule.as_json())
    if actor.role is Role.PARTNER or actor.role is Role.AGENT:
        names: dict[str, str] = {}
    else:
        names = _partner_names(
            session, [w["value"] for w in found if w["dimension"] == "league_partner"]
        )
    for item in found:
        if item["dimension"] == "league_partner":
            item["label"] = names.get(item["value"], item["value"])
        else:
            item["label"] = item["value"]
    found.sort(key=lambda w: (-w["drop_points"], w["metric"], w["dimension"], w["value"]))
    return {"rules": used, "warnings": found}


def _drops(
    rows: Sequence[Any],
    dimensions: tuple[str, ...],
    metric: str,
    rule: rules.WarningRule,
    latest: Month,
) -> list[dict[str, Any]]:
    """Warnings from grouped rows ``(*dimension values, period, base, part)``: per dimension
    and value, the latest period's rate against the ``rule.trailing`` periods before it."""
    found = []
    newest = latest.index
    for position, dimension in enumerate(dimensions):
        # (value, month index) -> [part, base]; month indexes hash faster than Month objects
        sums: dict[tuple[str, int], list[int]] = {}
        for row in rows:
            value = row[position]
            if value is None:
                continue
            key = (str(value), row[len(dimensions)].index)
            pair = sums.setdefault(key, [0, 0])
            pair[0] += _int(row[-1])
            pair[1] += _int(row[-2])
        for value in sorted({key[0] for key in sums}):
            rates = [
                Ratio(*sums.get((value, newest - i), (0, 0))) for i in range(rule.trailing + 1)
            ]
            warning = rules.drop_warning(rates[0], rates[1:], rule)
            if warning is not None:
                found.append(
                    {
                        "metric": metric,
                        "dimension": dimension,
                        "value": value,
                        "period": str(latest),
                        **warning.as_json(),
                    }
                )
    return found


# ----- drill-down -----------------------------------------------------------------------------

#: KPI figures that link to their records, and what the records are.
DRILL_KPIS: dict[str, str] = {
    "new_registrations": "participants",
    "active": "participants",
    "arrears": "participants",
    "pending": "participants",
    "closed": "participants",
    "closed_by_system": "participants",
    "reacquired": "participants",
    "payments": "payments",
    # A cohort heatmap cell: the episodes of registration cohort ``cohort`` still active at the
    # end of ``month`` (cohort + age), the cell's "paying" part (docs/dashboard.md).
    "retained": "participants",
}


def _ledger_conditions(
    session: Session, actor: Actor, filters: Filters
) -> list[ColumnElement[bool]]:
    conditions = _offer_conditions(filters)
    return conditions + _dimension_conditions(
        session,
        actor,
        filters,
        branch_code=Participant.branch_code,
        partner_code=Membership.partner_code,
        agent_code=Membership.agent_code,
        channel=Membership.channel,
        occupation=Participant.occupation,
        programs=Participant.programs,
        participant_id=Participant.id,
    )


def _offer_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """The records of the offer's episodes (drill-down lists), when the offer filter is set."""
    if not filters.offer:
        return []
    from cakupan.bundling.models import BundleEnrolment

    return [
        Membership.id.in_(
            select(BundleEnrolment.membership_id).where(BundleEnrolment.offer_code == filters.offer)
        )
    ]


#: The pre-aggregate column counting each drill-down's records.
_DRILL_COLUMNS = {
    "new_registrations": "registrations",
    "active": "active",
    "arrears": "arrears",
    "pending": "pending",
    "closed": "closed",
    "closed_by_system": "closed_by_system",
    "reacquired": "reacquired",
    "payments": "payments",
    "retained": "paying",
}
#: Each list's order: the order of an index the list's query reads, so a page streams.
_DRILL_ORDER: dict[str, tuple[Any, ...]] = {
    "new_registrations": (Membership.id,),
    "active": (StatusSnapshot.participant_id,),
    "arrears": (StatusSnapshot.participant_id,),
    "pending": (StatusSnapshot.participant_id,),
    "closed": (StatusSnapshot.participant_id,),
    "closed_by_system": (StatusTransition.participant_id,),
    "reacquired": (StatusTransition.participant_id,),
    "payments": (Payment.id,),
    "retained": (StatusSnapshot.participant_id,),
}


def _figure(session: Session, actor: Actor, filters: Filters, column: str, month: Month) -> int:
    """One figure of one closed month from the pre-aggregates (a drill-down list's total: the
    same definition as its records, counted at the close)."""
    k = _table(session, actor, filters, KpiMonthly)
    value = session.scalar(
        select(func.sum(getattr(k, column))).where(
            k.month == month, *_kpi_conditions(session, actor, filters, k)
        )
    )
    return _int(value)


def _cohort_figure(
    session: Session, actor: Actor, filters: Filters, cohort: Month, month: Month
) -> int:
    """The "paying" part of one cohort heatmap cell from the pre-aggregates (the retained
    drill-down's total, counted at the close of ``month``)."""
    c = _table(session, actor, filters, KpiCohort)
    value = session.scalar(
        select(func.sum(c.paying)).where(
            c.cohort_month == cohort,
            c.age == month - cohort,
            *_kpi_conditions(session, actor, filters, c),
        )
    )
    return _int(value)


def _drill_select(kpi: str, month: Month, cohort: Month | None = None) -> Any:
    base_columns = (
        Participant.id,
        Participant.nik,
        Participant.name,
        Participant.phone,
        Participant.branch_code,
        Participant.occupation,
        Participant.programs,
        Membership.episode_no,
        Membership.start_month,
        Membership.channel,
        Membership.partner_code,
        Membership.agent_code,
    )
    if kpi == "new_registrations":
        return (
            select(*base_columns, literal(None).label("extra"))
            .select_from(Membership)
            .join(Participant, Participant.id == Membership.participant_id)
            .where(Membership.start_month == month, Membership.episode_no == 1)
        )
    if kpi in {"active", "arrears", "pending", "closed"}:
        return (
            select(*base_columns, StatusSnapshot.paid_through_month.label("extra"))
            .select_from(StatusSnapshot)
            .join(Membership, Membership.id == StatusSnapshot.membership_id)
            .join(Participant, Participant.id == StatusSnapshot.participant_id)
            .where(StatusSnapshot.month == month, StatusSnapshot.status == kpi)
        )
    if kpi == "retained":
        return (
            select(*base_columns, StatusSnapshot.paid_through_month.label("extra"))
            .select_from(StatusSnapshot)
            .join(Membership, Membership.id == StatusSnapshot.membership_id)
            .join(Participant, Participant.id == StatusSnapshot.participant_id)
            .where(
                StatusSnapshot.month == month,
                StatusSnapshot.status == "active",
                Membership.start_month == cohort,
            )
        )
    if kpi in {"closed_by_system", "reacquired"}:
        return (
            select(*base_columns, literal(None).label("extra"))
            .select_from(StatusTransition)
            .join(Membership, Membership.id == StatusTransition.membership_id)
            .join(Participant, Participant.id == StatusTransition.participant_id)
            .where(StatusTransition.month == month, StatusTransition.kind == kpi)
        )
    # payments paid in the month, not reversed by its last day
    return (
        select(
            *base_columns,
            Payment.id.label("payment_id"),
            Payment.reference,
            Payment.amount,
            Payment.paid_on,
            Payment.first_month,
            Payment.months,
        )
        .select_from(Payment)
        .join(Membership, Membership.id == Payment.membership_id)
        .join(Participant, Participant.id == Payment.participant_id)
        .outerjoin(PaymentReversal, PaymentReversal.payment_id == Payment.id)
        .where(
            Payment.paid_on.between(month.first_day, month.last_day),
            or_(PaymentReversal.id.is_(None), PaymentReversal.reversed_on > month.last_day),
        )
    )


def drill_down(
    session: Session,
    actor: Actor,
    kpi: str,
    month: Month | None,
    filters: Filters,
    *,
    page: int = 1,
    after: int | None = None,
    cohort: Month | None = None,
) -> dict[str, Any]:
    """The records behind one KPI figure of one closed month (default: the latest), scoped,
    masked (unmasking audited) and paginated by ``PAGE_SIZE``, with the total count. ``after``
    (the previous page's ``next_after``) continues in index order from that key (keyset: a
    page costs the same whatever its number); without it ``page`` counts pages from the start."""
    if kpi not in DRILL_KPIS:
        raise invalid(
            "kpi",
            t(
                f"salah satu dari {', '.join(DRILL_KPIS)}, bukan {kpi!r}",
                f"one of {', '.join(DRILL_KPIS)}, got {kpi!r}",
            ),
        )
    if page < 1:
        raise invalid("page", t(f"halaman >= 1, bukan {page}", f"a page >= 1, got {page}"))
    _check_after(after)
    latest = latest_closed_month(session)
    month = month or latest
    if kpi == "retained":
        _check_cell(cohort, month)
    if month is None:
        return {
            "kpi": kpi,
            "month": None,
            "total": 0,
            "page": page,
            "page_size": PAGE_SIZE,
            "next_after": None,
            "rows": [],
        }
    query = _drill_select(kpi, month, cohort).where(*_ledger_conditions(session, actor, filters))
    if actor.role in ACCOUNT_ROLES:  # their assigned accounts: a few rows, counted directly
        total = _count(session, query)
    elif kpi == "retained":
        assert cohort is not None
        total = _cohort_figure(session, actor, filters, cohort, month)
    else:
        total = _figure(session, actor, filters, _DRILL_COLUMNS[kpi], month)
    key = _DRILL_ORDER[kpi][0]
    rows = _page(session, query, key, page, after)
    shown = _masked(session, actor, rows)
    out = []
    for row, (nik, phone) in zip(rows, shown, strict=True):
        item: dict[str, Any] = {
            "participant_id": row.id,
            "nik": nik,
            "name": row.name,
            "phone": phone,
            "branch_code": row.branch_code,
            "occupation": row.occupation,
            "programs": row.programs,
            "episode": row.episode_no,
            "episode_start": str(row.start_month),
            "channel": row.channel,
            "partner_code": row.partner_code,
            "agent_code": row.agent_code,
        }
        if kpi == "payments":
            item.update(
                payment_id=row.payment_id,
                reference=row.reference,
                amount=int(row.amount),
                paid_on=row.paid_on.isoformat(),
                first_month=str(row.first_month),
                months=int(row.months),
            )
        elif kpi in {"active", "arrears", "pending", "closed", "retained"}:
            item["paid_through_month"] = None if row.extra is None else str(_as_month(row.extra))
        out.append(item)
    return {
        "kpi": kpi,
        "records": DRILL_KPIS[kpi],
        "month": str(month),
        "cohort": None if cohort is None else str(cohort),
        "total": total,
        "page": page,
        "page_size": PAGE_SIZE,
        "next_after": _next_after(rows),
        "rows": out,
    }


def _check_cell(cohort: Month | None, month: Month | None) -> None:
    """A heatmap cell: a cohort and a month end 0..12 months after it."""
    if cohort is None:
        raise invalid(
            "cohort",
            t("bulan kohort YYYY-MM wajib diisi", "a cohort month YYYY-MM is required"),
        )
    if month is not None and not 0 <= month - cohort <= 12:
        raise invalid(
            "month",
            t(
                f"bulan 0-12 bulan setelah kohort {cohort}, bukan {month}",
                f"a month 0-12 months after cohort {cohort}, got {month}",
            ),
        )


def _check_after(after: int | None) -> None:
    if after is not None and after < 0:
        raise invalid("after", t(f"kunci >= 0, bukan {after}", f"a key >= 0, got {after}"))


def _page(session: Session, query: Any, key: Any, page: int, after: int | None) -> Sequence[Any]:
    """One page of ``query`` in the order of the index column ``key``: from ``after`` (keyset,
    the usual way) or, without it, skipping ``page - 1`` pages (only for the first pages)."""
    ordered = query.add_columns(key.label("key")).order_by(key).limit(PAGE_SIZE)
    if after is not None:
        return session.execute(ordered.where(key > after)).all()
    return session.execute(ordered.offset((page - 1) * PAGE_SIZE)).all()


def _next_after(rows: Sequence[Any]) -> int | None:
    """The key to continue after (``after=``), or None on the last page."""
    if len(rows) < PAGE_SIZE:
        return None
    return int(rows[-1].key)


def _count(session: Session, query: Any) -> int:
    return _int(session.scalar(select(func.count()).select_from(query.subquery())))


def _as_month(value: Any) -> Month:
    return value if isinstance(value, Month) else Month.from_index(int(value))


def _masked(session: Session, actor: Actor, rows: Sequence[Any]) -> list[tuple[str, str]]:
    values: list[SensitiveValue] = []
    for row in rows:
        values.append(SensitiveValue("participant", row.id, "nik", row.nik, row.branch_code))
        values.append(SensitiveValue("participant", row.id, "phone", row.phone, row.branch_code))
    shown = reveal(session, actor, values) if values else []
    return [(shown[i], shown[i + 1]) for i in range(0, len(shown), 2)]


# ----- worklist -------------------------------------------------------------------------------

WORKLIST_KINDS = ("arrears", "closed")


def worklist(
    session: Session,
    actor: Actor,
    kind: str,
    filters: Filters,
    *,
    page: int = 1,
    after: int | None = None,
) -> dict[str, Any]:
    """Participants to contact as of the latest closed month: ``arrears`` (unpaid months that
    may still be paid) or ``closed`` (closed by system: the re-acquisition worklist), oldest
    paid-through first, with the latest logged contact; scoped, masked, paginated."""
    if kind not in WORKLIST_KINDS:
        raise invalid(
            "kind",
            t(f"'arrears' atau 'closed', bukan {kind!r}", f"'arrears' or 'closed', got {kind!r}"),
        )
    if page < 1:
        raise invalid("page", t(f"halaman >= 1, bukan {page}", f"a page >= 1, got {page}"))
    _check_after(after)
    latest = latest_closed_month(session)
    if latest is None:
        return {
            "kind": kind,
            "month": None,
            "total": 0,
            "page": page,
            "page_size": PAGE_SIZE,
            "next_after": None,
            "rows": [],
        }
    query = (
        select(
            Participant.id,
            Participant.nik,
            Participant.name,
            Participant.phone,
            Participant.branch_code,
            Participant.occupation,
            Membership.partner_code,
            Membership.agent_code,
            StatusSnapshot.paid_through_month,
            StatusSnapshot.months_paid,
        )
        .select_from(StatusSnapshot)
        .join(Membership, Membership.id == StatusSnapshot.membership_id)
        .join(Participant, Participant.id == StatusSnapshot.participant_id)
        .where(
            StatusSnapshot.month == latest,
            StatusSnapshot.status == kind,
            *_ledger_conditions(session, actor, filters),
        )
    )
    if actor.role in ACCOUNT_ROLES:
        total = _count(session, query)
    else:
        total = _figure(session, actor, filters, kind, latest)
    rows = _page(session, query, StatusSnapshot.participant_id, page, after)
    ids = [row.id for row in rows]
    last_contact: dict[int, ContactAction] = {}
    if ids:
        for logged in session.scalars(
            select(ContactAction)
            .where(ContactAction.participant_id.in_(ids))
            .order_by(ContactAction.participant_id, ContactAction.at, ContactAction.id)
        ):
            last_contact[logged.participant_id] = logged
    shown = _masked(session, actor, rows)
    out = []
    for row, (nik, phone) in zip(rows, shown, strict=True):
        contact = last_contact.get(row.id)
        through = None if row.paid_through_month is None else _as_month(row.paid_through_month)
        out.append(
            {
                "participant_id": row.id,
                "nik": nik,
                "name": row.name,
                "phone": phone,
                "branch_code": row.branch_code,
                "occupation": row.occupation,
                "partner_code": row.partner_code,
                "agent_code": row.agent_code,
                "paid_through_month": None if through is None else str(through),
                "unpaid_months": None if through is None else latest - through,
                "months_paid": int(row.months_paid),
                "last_contact": None
                if contact is None
                else {
                    "outcome": contact.outcome,
                    "reason": contact.reason,
                    "promised_on": None
                    if contact.promised_on is None
                    else contact.promised_on.isoformat(),
                    "at": contact.at.isoformat(),
                    "actor": contact.actor,
                },
            }
        )
    return {
        "kind": kind,
        "month": str(latest),
        "total": total,
        "page": page,
        "page_size": PAGE_SIZE,
        "next_after": _next_after(rows),
        "rows": out,
    }


def contacts_of(session: Session, actor: Actor, participant_id: int) -> list[dict[str, Any]]:
    """The contact log of one participant within the actor's scope (empty outside it)."""
    visible = session.scalar(
        select(Participant.id).where(
            Participant.id == participant_id, participant_row_scope(session, actor)
        )
    )
    if visible is None:
        return []
    return [
        {
            "outcome": c.outcome,
            "reason": c.reason,
            "promised_on": None if c.promised_on is None else c.promised_on.isoformat(),
            "note": c.note,
            "at": c.at.isoformat(),
            "actor": c.actor,
        }
        for c in session.scalars(
            select(ContactAction)
            .where(ContactAction.participant_id == participant_id)
            .order_by(ContactAction.at.desc(), ContactAction.id.desc())
        )
    ]


def kpi_summary(session: Session, month: Month) -> dict[str, int]:
    """The same figures as :func:`ledger_summary`, summed from the month's pre-aggregates
    (branch grain): what ``cakupan kpi verify`` compares with the ledger."""
    k = KpiMonthly
    row = session.execute(
        select(
            func.coalesce(func.sum(k.registrations), 0),
            func.coalesce(func.sum(k.contributions), 0),
            func.coalesce(func.sum(k.payments), 0),
            func.coalesce(func.sum(k.active), 0),
        ).where(k.month == month, k.grain == GRAIN_BRANCH)
    ).one()
    keys = ("new_registrations", "contributions_collected", "payments", "active_participants")
    return dict(zip(keys, (int(v) for v in row), strict=True))


def ledger_summary(session: Session, month: Month) -> dict[str, int]:
    """Whole-ledger figures of one month computed directly from the ledger tables (not from the
    pre-aggregates or the close): the check that the pre-aggregates match (tests, ``cakupan kpi
    verify``). Active = episodes whose month is covered by a payment made by the month end and
    not reversed by then; registrations = first episodes starting that month; contributions =
    payments made in the month and not reversed by its end."""
    end = month.last_day
    registrations = session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.start_month == month, Membership.episode_no == 1)
    )
    counted = or_(PaymentReversal.id.is_(None), PaymentReversal.reversed_on > end)
    contributions = session.execute(
        select(func.coalesce(func.sum(Payment.amount), 0), func.count())
        .select_from(Payment)
        .outerjoin(PaymentReversal, PaymentReversal.payment_id == Payment.id)
        .where(Payment.paid_on.between(month.first_day, end), counted)
    ).one()
    first = _month_int(Payment.first_month)
    active = session.scalar(
        select(func.count(func.distinct(Payment.membership_id)))
        .select_from(Payment)
        .outerjoin(PaymentReversal, PaymentReversal.payment_id == Payment.id)
        .where(
            Payment.paid_on <= end,
            counted,
            first <= month.index,
            first + Payment.months - 1 >= month.index,
        )
    )
    return {
        "new_registrations": _int(registrations),
        "contributions_collected": _int(contributions[0]),
        "payments": _int(contributions[1]),
        "active_participants": _int(active),
    }


# --- filter pickers ------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterChoices:
    """What an actor may pick in the dashboard's filters: (code, name) pairs. A dimension with
    one choice is fixed by the actor's scope (pages show no picker for it)."""

    regions: list[tuple[str, str]]
    branches: list[tuple[str, str]]
    partners: list[tuple[str, str]]
    #: the bundling offers of the partners within the scope (any number: "all" is a choice)
    offers: list[tuple[str, str]] = field(default_factory=list)

    def check(self, filters: Filters) -> None:
        """INVALID naming the filter whose value lies outside the actor's scope (a page says so
        rather than showing zeros)."""
        for name, value, options in (
            ("region", filters.region, self.regions),
            ("branch", filters.branch, self.branches),
            ("partner", filters.partner, self.partners),
            ("offer", filters.offer, self.offers),
        ):
            if value and value not in {code for code, _ in options}:
                raise invalid(
                    name,
                    t(
                        f"{value!r} di luar cakupan Anda: pilih dari daftar",
                        f"{value!r} is outside your scope: choose from the list",
                    ),
                )


def filter_choices(session: Session, actor: Actor) -> FilterChoices:
    """The regions, branches and partners (not individual agents) within the actor's scope."""
    from cakupan.access import BRANCH_ROLES, NATIONAL_ROLES
    from cakupan.bundling.queries import offer_choices
    from cakupan.partners.models import Partner
    from cakupan.partners.rules import AGENT_KINDS
    from cakupan.regions.models import Branch, OfficeRegion

    if actor.role in NATIONAL_ROLES:
        regions = session.execute(
            select(OfficeRegion.code, OfficeRegion.name).order_by(OfficeRegion.name)
        ).all()
        branch_codes = None
    elif actor.role is Role.REGIONAL and actor.region_code:
        regions = session.execute(
            select(OfficeRegion.code, OfficeRegion.name).where(
                OfficeRegion.code == actor.region_code
            )
        ).all()
        branch_codes = _branches_of_region(session, actor.region_code)
    elif actor.role in BRANCH_ROLES and actor.branch_code:
        regions, branch_codes = [], [actor.branch_code]
    else:
        own = actor.agent_code or actor.partner_code
        named = session.execute(select(Partner.code, Partner.name).where(Partner.code == own))
        # an agent reads its partner's offers (the figures stay its own registrations)
        offers = offer_choices(session, [actor.partner_code] if actor.partner_code else [])
        return FilterChoices([], [], [(c, n) for c, n in named], offers)
    branch_query = select(Branch.code, Branch.name).order_by(Branch.name)
    partner_query = (
        select(Partner.code, Partner.name)
        .where(Partner.kind.not_in(sorted(AGENT_KINDS)))
        .order_by(Partner.name)
    )
    if branch_codes is not None:
        branch_query = branch_query.where(Branch.code.in_(branch_codes))
        partner_query = partner_query.where(Partner.branch_code.in_(branch_codes))
    branches = session.execute(branch_query).all()
    partners = session.execute(partner_query).all()
    return FilterChoices(
        [(c, n) for c, n in regions],
        [(c, n) for c, n in branches],
        [(c, n) for c, n in partners],
        offer_choices(session, None if branch_codes is None else [c for c, _ in partners]),
    )
