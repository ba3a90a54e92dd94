"""Read side of targets and the performance cycle: the target/realization report (figures of
every source, conflicts shown, BPU realization from the ledger), splits, trend, projection,
plans, the execution log and the weekly review with carried-over actions and assessment."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    column,
    exists,
    extract,
    func,
    inspect,
    literal,
    or_,
    select,
    table,
)
from sqlalchemy.orm import Session

from cakupan.auth import Actor
from cakupan.dates import Month
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.registry.models import CoveredMonth, Membership, Participant, Payment, PaymentReversal
from cakupan.targets import rules
from cakupan.targets.models import (
    ExecutionEntry,
    PerformancePlan,
    PlanActivity,
    ReviewAction,
    ReviewNote,
    StatedAchievement,
    TargetCell,
    TargetChoice,
    TargetFigure,
    TargetSplit,
    WeeklyReview,
)
from cakupan.targets.rules import Period, Resolved, SourcedValue

NATIONAL = rules.NATIONAL
_branch = table("branch", column("code"), column("region_code"))
_office_region = table("office_region", column("code"))

# --- offices -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficeChoice:
    """An office an actor may pick on the targets and cycle pages: its code, its name and its
    level (``national``, ``region`` or ``branch``)."""

    code: str
    name: str
    level: str


def office_choices(session: Session, actor: Actor) -> list[OfficeChoice]:
    """The offices whose targets ``actor`` may read (the rule of
    :func:`cakupan.targets.rules.office_permission`): national roles every office (national,
    regions, branches), a regional office its region and the region's branches, branch staff
    their branch; nothing for partners and agents (fail closed)."""
    from cakupan.access import BRANCH_ROLES, NATIONAL_ROLES
    from cakupan.auth import Role
    from cakupan.regions.models import Branch, OfficeRegion

    regions = select(OfficeRegion.code, OfficeRegion.name).order_by(OfficeRegion.name)
    branches = select(Branch.code, Branch.name).order_by(Branch.name)
    chosen: list[OfficeChoice] = []
    if actor.role in NATIONAL_ROLES:
        chosen.append(OfficeChoice(NATIONAL, NATIONAL, "national"))  # the page names it
    elif actor.role is Role.REGIONAL and actor.region_code:
        regions = regions.where(OfficeRegion.code == actor.region_code)
        branches = branches.where(Branch.region_code == actor.region_code)
    elif actor.role in BRANCH_ROLES and actor.branch_code:
        regions = regions.where(literal(False))
        branches = branches.where(Branch.code == actor.branch_code)
    else:
        return []
    chosen += [OfficeChoice(c, n, "region") for c, n in session.execute(regions)]
    chosen += [OfficeChoice(c, n, "branch") for c, n in session.execute(branches)]
    return chosen


def partner_choices(session: Session, office_code: str) -> list[tuple[str, str]]:
    """(code, name) of the partners and agents of an office (a branch, or every branch of a
    region; all for ``NATIONAL``): what a target may be split to."""
    from cakupan.partners.models import Partner
    from cakupan.regions.models import Branch

    query = select(Partner.code, Partner.name).order_by(Partner.name, Partner.code)
    if office_code != NATIONAL:
        in_region = select(Branch.code).where(Branch.region_code == office_code)
        query = query.where(
            or_(Partner.branch_code == office_code, Partner.branch_code.in_(in_region))
        )
    return [(str(c), str(n)) for c, n in session.execute(query)]


def staff_choices(session: Session, office_code: str) -> list[tuple[str, str]]:
    """(username, name) of the active field staff (AR, ARK, PAP) of an office: whom a target may
    be split to as ``staff``."""
    from cakupan.regions.models import Branch
    from cakupan.users.models import User

    query = (
        select(User.username, User.full_name)
        .where(User.active.is_(True), User.role.in_(("ar", "ark", "pap")))
        .order_by(User.full_name, User.username)
    )
    if office_code != NATIONAL:
        in_region = select(Branch.code).where(Branch.region_code == office_code)
        query = query.where(or_(User.branch_code == office_code, User.branch_code.in_(in_region)))
    return [(str(c), str(n)) for c, n in session.execute(query)]


def district_choices(session: Session, office_code: str) -> list[tuple[str, str]]:
    """(code, "District, Regency") of the districts an office serves (through the regencies of
    its branches); none for ``NATIONAL`` (too many to list: split a national target by region)."""
    from cakupan.regions.models import Branch, BranchRegency, District, Regency

    if office_code == NATIONAL:
        return []
    branches = select(Branch.code).where(
        or_(Branch.code == office_code, Branch.region_code == office_code)
    )
    rows = session.execute(
        select(District.code, District.name, Regency.name)
        .join(Regency, Regency.code == District.regency_code)
        .join(BranchRegency, BranchRegency.regency_code == District.regency_code)
        .where(BranchRegency.branch_code.in_(branches))
        .order_by(Regency.name, District.name)
    )
    return [(str(code), f"{name}, {regency}") for code, name, regency in rows]


def _office_filter(session: Session, office_code: str) -> ColumnElement[bool]:
    """Participants served by ``office_code``: a branch's own, a region's branches', or all
    (``NATIONAL``). A participant belongs to the branch currently on their record."""
    if office_code == NATIONAL:
        return literal(True)
    if inspect(session.connection()).has_table("branch"):
        region_branches = select(_branch.c.code).where(_branch.c.region_code == office_code)
        return or_(
            Participant.branch_code == office_code, Participant.branch_code.in_(region_branches)
        )
    return Participant.branch_code == office_code


# --- realization from the ledger -----------------------------------------------------------


def _not_reversed_by(day: date) -> ColumnElement[bool]:
    return ~exists().where(
        PaymentReversal.payment_id == Payment.id, PaymentReversal.reversed_on <= day
    )


def _flow_statement(
    metric: str, office: ColumnElement[bool], first_day: date, last_day: date, by_month: bool
) -> Any:
    """The one query of a flow metric over ``first_day..last_day``: its total, or with
    ``by_month`` one ``(month number, total)`` row per month of the dated event.

    Written so that the ledger's indexes serve it: the first month's coverage is found through
    the partial unique index on ``covered_month (membership_id, month) WHERE NOT reversed`` (the
    predicate is spelled the same way), re-acquisitions through ``payment.membership_id``."""
    if metric == "new_participants":
        # the first month is paid when the episode's opening payment (the one starting at its
        # first month, D-2) stands: it has no reversal
        day_column: Any = Membership.registered_on
        value: Any = func.count(func.distinct(Membership.id))
        statement = (
            select()
            .select_from(Membership)
            .join(
                Payment,
                and_(
                    Payment.membership_id == Membership.id,
                    Payment.first_month == Membership.start_month,
                ),
            )
            .join(Participant, Participant.id == Membership.participant_id)
            .where(
                Membership.episode_no == 1,
                Membership.registered_on.between(first_day, last_day),
                ~exists().where(PaymentReversal.payment_id == Payment.id),
                office,
            )
        )
    elif metric == "contributions":
        day_column = Payment.paid_on
        value = func.coalesce(func.sum(Payment.amount), 0)
        statement = (
            select()
            .select_from(Payment)
            .join(Participant, Participant.id == Payment.participant_id)
            .where(Payment.paid_on.between(first_day, last_day), _not_reversed_by(last_day), office)
        )
    elif metric == "reacquired":
        # the payment that opens an episode is the one whose first month is the episode's start
        day_column = Payment.paid_on
        value = func.count(func.distinct(Membership.id))
        statement = (
            select()
            .select_from(Membership)
            .join(
                Payment,
                and_(
                    Payment.membership_id == Membership.id,
                    Payment.first_month == Membership.start_month,
                ),
            )
            .join(Participant, Participant.id == Membership.participant_id)
            .where(
                Membership.episode_no > 1,
                Payment.paid_on.between(first_day, last_day),
                _not_reversed_by(last_day),
                office,
            )
        )
    else:
        raise invalid(
            "metric",
            t("harus salah satu dari {o}, didapat {v!r}", "expected one of {o}, got {v!r}").format(
                o=", ".join(rules.METRICS), v=metric
            ),
        )
    if by_month:
        month_of = extract("month", day_column)
        return statement.add_columns(month_of, value).group_by(month_of)
    return statement.add_columns(value)


def realization_from_ledger(session: Session, office_code: str, period: Period, metric: str) -> int:
    """BPU realization of ``metric`` for an office and period, computed from the ledger with one
    set-based query.

    - ``new_participants``: first membership episodes registered in the period whose first month
      is paid (by a payment not reversed).
    - ``active_participants``: participants active on the period's last day (D-3): its month is
      covered by a payment made on or before that day and not reversed on or before it.
    - ``contributions``: rupiah of payments made in the period, less those reversed on or before
      the period's last day.
    - ``reacquired``: later episodes (D-4) whose first month was paid in the period by a payment
      not reversed on or before the period's last day.
    """
    first_day, last_day = period.first_day, period.last_day
    office = _office_filter(session, office_code)
    if metric == "active_participants":
        statement: Any = (
            select(func.count(func.distinct(CoveredMonth.participant_id)))
            .join(Payment, Payment.id == CoveredMonth.payment_id)
            .join(Participant, Participant.id == CoveredMonth.participant_id)
            .where(
                CoveredMonth.month == period.last,
                Payment.paid_on <= last_day,
                _not_reversed_by(last_day),
                office,
            )
        )
    else:
        statement = _flow_statement(metric, office, first_day, last_day, by_month=False)
    return int(session.execute(statement).scalar_one())


def ledger_monthly(
    session: Session, office_code: str, year: int, metric: str, through: int = 12
) -> list[int]:
    """Monthly BPU realization of a flow metric for January..``through`` of ``year`` (one query,
    grouped by month); for ``active_participants`` the month-end stocks (one query per month)."""
    if metric not in rules.FLOW_METRICS:
        return [
            realization_from_ledger(
                session, office_code, Period(year, Month(year, m), Month(year, m)), metric
            )
            for m in range(1, through + 1)
        ]
    statement = _flow_statement(
        metric,
        _office_filter(session, office_code),
        date(year, 1, 1),
        Month(year, through).last_day,
        by_month=True,
    )
    by_month = {int(m): int(v) for m, v in session.execute(statement).all()}
    return [by_month.get(m, 0) for m in range(1, through + 1)]


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    """One cell of the target/realization report."""

    office_code: str
    period: Period
    segment: str
    metric: str
    target: Resolved
    realization: Resolved
    realization_source: rules.RealizationSource
    #: achievement percentages as sources print them, each checked against the figures
    stated: tuple[StatedView, ...] = ()
    #: the last month the realization counts through (cakupan.figures' as-of rule); None when
    #: the period has not started by the as-of month
    as_of: Month | None = None

    @property
    def has_discrepancy(self) -> bool:
        """Sources disagree on a figure, or a stated percentage fits none of the figures."""
        return (
            self.target.is_conflict
            or self.realization.is_conflict
            or any(not view.consistent for view in self.stated)
        )

    @property
    def achievement_percent(self) -> float | None:
        return rules.achievement_percent(self.realization.value, self.target.value)

    @property
    def conflicts(self) -> list[dict[str, Any]]:
        out = []
        for name, resolved in (("target", self.target), ("realization", self.realization)):
            if resolved.is_conflict:
                out.append(
                    {
                        "field": name,
                        "values": [
                            {"value": v.value, "source": v.source} for v in resolved.conflict
                        ],
                    }
                )
        return out

    def as_json(self) -> dict[str, Any]:
        """The row of ``cakupan targets report --json`` (the contract's keys, nothing else)."""
        return {
            "office_code": self.office_code,
            "year": self.period.year,
            "segment": self.segment,
            "metric": self.metric,
            "target": self.target.value,
            "realization": self.realization.value,
            "achievement_percent": self.achievement_percent,
            "realization_source": self.realization_source,
            "conflicts": self.conflicts,
        }


@dataclass(frozen=True)
class StatedView:
    """A percentage a source states for a cell and how it compares with the cell's figures."""

    percent: str
    source: str
    checks: tuple[rules.StatedCheck, ...]

    @property
    def consistent(self) -> bool | None:
        """True when some (target, realization) pair gives it, False when none does, None when
        the cell lacks a target or a realization to check it with."""
        if not self.checks:
            return None
        return any(check.consistent for check in self.checks)

    def as_json(self) -> dict[str, Any]:
        return {
            "stated_percent": self.percent,
            "source": self.source,
            "consistent": self.consistent,
            "checks": [
                {
                    "target": {"value": c.target.value, "source": c.target.source},
                    "realization": {"value": c.realization.value, "source": c.realization.source},
                    "computed_percent": c.computed_percent,
                    "consistent": c.consistent,
                }
                for c in self.checks
            ],
        }


def ledger_available(session: Session) -> bool:
    """Whether the ledger's tables are present in this database."""
    inspector = inspect(session.connection())
    return all(inspector.has_table(name) for name in ("membership", "payment", "covered_month"))


def report(
    session: Session,
    office_code: str,
    year: int,
    *,
    segment: str | None = None,
    metric: str | None = None,
    period: Period | None = None,
    as_of: Month | None = None,
) -> list[ReportRow]:
    """Target vs realization of an office for a year (or a period inside it), every segment and
    metric that has figures, or exactly one row when both ``segment`` and ``metric`` are given.

    Per figure, the sources are compared: when they agree the value is shown, when they disagree
    the value is None and the row lists the conflict. Realization of BPU comes from the ledger
    unless a reported figure exists for the cell (reported figures are imported for what the
    ledger does not hold); PU, Jakon and history are always reported.

    ``as_of`` (the latest closed month, see :mod:`cakupan.figures`) stops the ledger's
    realization at that month: a stock is read on its last day, a flow summed up to it; a
    period that starts after it has no ledger realization yet. Without it the whole period
    counts (the command line's contract)."""
    office = office_code.strip().upper()
    period = period or Period.whole_year(year)
    counted: Period | None = period
    if as_of is not None and as_of < period.last:
        counted = None if as_of < period.first else Period(period.year, period.first, as_of)
    conditions = [
        TargetCell.office_code == office,
        TargetCell.first_month == period.first,
        TargetCell.last_month == period.last,
    ]
    if segment:
        conditions.append(TargetCell.segment == segment)
    if metric:
        conditions.append(TargetCell.metric == metric)
    cells = {
        (cell.segment, cell.metric): cell
        for cell in session.scalars(select(TargetCell).where(*conditions))
    }
    figures: dict[tuple[int, str], list[SourcedValue]] = defaultdict(list)
    if cells:
        for figure in session.scalars(
            select(TargetFigure).where(TargetFigure.cell_id.in_([c.id for c in cells.values()]))
        ):
            figures[(figure.cell_id, figure.kind)].append(SourcedValue(figure.value, figure.source))
    chosen: dict[tuple[int, str], str] = {}
    if cells:
        for choice in session.scalars(
            select(TargetChoice).where(TargetChoice.cell_id.in_([c.id for c in cells.values()]))
        ):
            chosen[(choice.cell_id, choice.kind)] = choice.source
    stated: dict[int, list[StatedAchievement]] = defaultdict(list)
    if cells:
        for printed in session.scalars(
            select(StatedAchievement)
            .where(StatedAchievement.cell_id.in_([c.id for c in cells.values()]))
            .order_by(StatedAchievement.source)
        ):
            stated[printed.cell_id].append(printed)
    keys = set(cells)
    if segment and metric:
        keys.add((segment, metric))
    has_ledger: bool | None = None
    rows: list[ReportRow] = []
    for seg, met in sorted(
        keys, key=lambda k: (rules.SEGMENTS.index(k[0]), rules.METRICS.index(k[1]))
    ):
        cell = cells.get((seg, met))
        targets = figures[(cell.id, "target")] if cell else []
        realizations = figures[(cell.id, "realization")] if cell else []
        source: rules.RealizationSource = "reported"
        row_as_of: Month | None = period.last
        if seg == "BPU" and not realizations:
            if has_ledger is None:
                has_ledger = ledger_available(session)
            if has_ledger:
                source = "ledger"
                row_as_of = None if counted is None else counted.last
                if counted is not None:
                    value = realization_from_ledger(session, office, counted, met)
                    realizations = [SourcedValue(value, "ledger")]
        views = tuple(
            StatedView(
                item.percent,
                item.source,
                tuple(rules.check_stated(item.percent, targets, realizations)),
            )
            for item in (stated[cell.id] if cell else [])
        )
        rows.append(
            ReportRow(
                office,
                period,
                seg,
                met,
                rules.resolve(targets, chosen.get((cell.id, "target")) if cell else None),
                rules.resolve(realizations, chosen.get((cell.id, "realization")) if cell else None),
                source,
                views,
                row_as_of,
            )
        )
    return rows


# --- splits --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SplitReport:
    office_code: str
    period: Period
    segment: str
    metric: str
    whole: Resolved
    checks: list[rules.SplitCheck]

    def as_json(self) -> dict[str, Any]:
        return {
            "office_code": self.office_code,
            "year": self.period.year,
            "period": self.period.label,
            "segment": self.segment,
            "metric": self.metric,
            "target": self.whole.value,
            "target_conflict": [
                {"value": v.value, "source": v.source} for v in self.whole.conflict
            ],
            "splits": [
                {
                    "part_kind": check.part_kind,
                    "parts": [{"code": code, "target": value} for code, value in check.parts],
                    "parts_total": check.parts_total,
                    "difference": check.difference,
                    "unresolved_parts": list(check.unresolved),
                    "balanced": check.balanced,
                }
                for check in self.checks
            ],
        }


def _offices_below(session: Session, office: str) -> tuple[str, list[str]]:
    """The kind and codes of the offices directly below: a region's branches, the regions below
    ``NATIONAL``; none for a branch."""
    inspector = inspect(session.connection())
    if office == NATIONAL:
        if not inspector.has_table("office_region"):
            return "region", []
        return "region", [str(c) for c in session.scalars(select(_office_region.c.code))]
    if not inspector.has_table("branch"):
        return "branch", []
    return "branch", [
        str(c)
        for c in session.scalars(select(_branch.c.code).where(_branch.c.region_code == office))
    ]


def splits(
    session: Session, office_code: str, year: int, *, period: Period | None = None
) -> list[SplitReport]:
    """For every cell of the office and period that has parts: the whole target, and per kind of
    part the parts, their total and the difference to the whole (positive: still unassigned;
    negative: over-assigned; None: whole unknown or a figure in conflict).

    Parts are the head's splits (staff, partner, district) and, for a region or ``NATIONAL``, the
    targets of the offices below for the same period, segment and metric (kind ``branch`` or
    ``region``): a region's target should equal the sum of its branches'."""
    period = period or Period.whole_year(year)
    office = office_code.strip().upper()
    child_kind, children = _offices_below(session, office)
    cells = list(
        session.scalars(
            select(TargetCell).where(
                TargetCell.office_code.in_([office, *children]),
                TargetCell.first_month == period.first,
                TargetCell.last_month == period.last,
            )
        )
    )
    if not cells:
        return []
    targets: dict[int, list[SourcedValue]] = defaultdict(list)
    for figure in session.scalars(
        select(TargetFigure).where(
            TargetFigure.cell_id.in_([c.id for c in cells]), TargetFigure.kind == "target"
        )
    ):
        targets[figure.cell_id].append(SourcedValue(figure.value, figure.source))
    own = {(c.segment, c.metric): c for c in cells if c.office_code == office}
    explicit: dict[tuple[str, str], dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    own_ids = {c.id: key for key, c in own.items()}
    if own_ids:
        for split in session.scalars(
            select(TargetSplit).where(TargetSplit.cell_id.in_(list(own_ids)))
        ):
            explicit[own_ids[split.cell_id]][split.part_kind][split.part_code] = split.value
    below: dict[tuple[str, str], tuple[dict[str, int], list[str]]] = {}
    for cell in cells:
        if cell.office_code == office:
            continue
        resolved = rules.resolve(targets[cell.id])
        if not resolved.sources:
            continue  # no target stated for this office
        parts, unresolved = below.setdefault((cell.segment, cell.metric), ({}, []))
        if resolved.value is None:
            unresolved.append(cell.office_code)
        else:
            parts[cell.office_code] = resolved.value
    out = []
    for key in sorted(
        set(explicit) | set(below),
        key=lambda k: (rules.SEGMENTS.index(k[0]), rules.METRICS.index(k[1])),
    ):
        parent = own.get(key)
        whole = rules.resolve(targets[parent.id] if parent else [])
        checks = [
            rules.check_split(kind, explicit[key][kind], whole.value)
            for kind in rules.PART_KINDS
            if kind in explicit.get(key, {})
        ]
        if key in below:
            parts, unresolved = below[key]
            checks.append(rules.check_split(child_kind, parts, whole.value, unresolved))
        out.append(SplitReport(office, period, key[0], key[1], whole, checks))
    return out


# --- trend and projection ------------------------------------------------------------------


@dataclass(frozen=True)
class TrendRow:
    point: rules.TrendPoint
    target_conflict: bool
    realization_conflict: bool
    realization_source: str

    def as_json(self) -> dict[str, Any]:
        p = self.point
        return {
            "year": p.year,
            "target": p.target,
            "realization": p.realization,
            "achievement_percent": p.achievement_percent,
            "realization_change_percent": p.realization_change_percent,
            "realization_source": self.realization_source,
            "target_conflict": self.target_conflict,
            "realization_conflict": self.realization_conflict,
        }


def trend(session: Session, office_code: str, segment: str, metric: str) -> list[TrendRow]:
    """Whole-year target, realization and achievement of an office, segment and metric for
    every year with figures, with the change of realization against the previous year."""
    office = office_code.strip().upper()
    years = sorted(
        set(
            session.scalars(
                select(TargetCell.year).where(
                    TargetCell.office_code == office,
                    TargetCell.segment == segment,
                    TargetCell.metric == metric,
                    TargetCell.first_month == (TargetCell.year * 12),
                    TargetCell.last_month == (TargetCell.year * 12 + 11),
                )
            )
        )
    )
    report_rows = [
        report(session, office, year, segment=segment, metric=metric)[0] for year in years
    ]
    points = rules.trend(
        [(r.period.year, r.target.value, r.realization.value) for r in report_rows]
    )
    return [
        TrendRow(p, r.target.is_conflict, r.realization.is_conflict, r.realization_source)
        for p, r in zip(points, report_rows, strict=True)
    ]


def monthly_realization(
    session: Session, office_code: str, year: int, segment: str, metric: str, through: int
) -> list[int]:
    """Monthly realization January..``through``: from the ledger for BPU, else from reported
    single-month figures (INVALID naming the months that are missing or in conflict)."""
    if segment == "BPU" and ledger_available(session):
        return ledger_monthly(session, office_code, year, metric, through)
    values: list[int] = []
    missing: list[str] = []
    for m in range(1, through + 1):
        month = Month(year, m)
        row = report(
            session,
            office_code,
            year,
            segment=segment,
            metric=metric,
            period=Period(year, month, month),
        )[0]
        if row.realization.value is None:
            missing.append(str(month))
            values.append(0)
        else:
            values.append(row.realization.value)
    if missing:
        raise invalid(
            "through",
            t(
                "realisasi bulanan tidak ada atau bertentangan untuk: {m}",
                "monthly realization missing or in conflict for: {m}",
            ).format(m=", ".join(missing)),
        )
    return values


@dataclass(frozen=True)
class ProjectionReport:
    office_code: str
    year: int
    segment: str
    metric: str
    target: Resolved
    projection: rules.Projection

    def as_json(self) -> dict[str, Any]:
        p = self.projection
        return {
            "office_code": self.office_code,
            "year": self.year,
            "segment": self.segment,
            "metric": self.metric,
            "through_month": f"{self.year:04d}-{p.through_month:02d}",
            "year_to_date": p.year_to_date,
            "projected_year_end": p.projected,
            "target": self.target.value,
            "projected_achievement_percent": rules.achievement_percent(
                p.projected, self.target.value
            ),
            "method": p.method,
            "seasonal_share_percent": p.seasonal_share_percent,
            "prior_years_used": list(p.prior_years_used),
        }


def projection(
    session: Session,
    office_code: str,
    year: int,
    segment: str,
    metric: str,
    through: Month,
    *,
    prior_years: int = 3,
) -> ProjectionReport:
    """Projected year-end realization and achievement from the year to date (method in
    :func:`cakupan.targets.rules.project_year_end`; seasonality from up to ``prior_years``
    complete prior years of the ledger)."""
    if through.year != year:
        raise invalid(
            "through",
            t(
                "harus bulan dalam tahun {y}, didapat {m}", "expected a month of {y}, got {m}"
            ).format(y=year, m=through),
        )
    office = office_code.strip().upper()
    this_year = monthly_realization(session, office, year, segment, metric, through.month)
    prior: dict[int, list[int]] = {}
    if segment == "BPU" and metric in rules.FLOW_METRICS and ledger_available(session):
        for past in range(year - prior_years, year):
            prior[past] = ledger_monthly(session, office, past, metric, 12)
    target_row = report(session, office, year, segment=segment, metric=metric)[0]
    return ProjectionReport(
        office,
        year,
        segment,
        metric,
        target_row.target,
        rules.project_year_end(metric, this_year, prior),
    )


# --- performance cycle ---------------------------------------------------------------------


def plan_view(session: Session, plan_id: int) -> dict[str, Any]:
    """A plan with its activities and, per activity, what the execution log holds for it."""
    plan = session.get(PerformancePlan, plan_id)
    if plan is None:
        from cakupan.errors import not_found

        raise not_found(t("Rencana {i} tidak ditemukan", "Plan {i} not found").format(i=plan_id))
    done: dict[int, dict[str, int]] = defaultdict(dict)
    for activity_id, kind, quantity in session.execute(
        select(ExecutionEntry.activity_id, ExecutionEntry.kind, func.sum(ExecutionEntry.quantity))
        .join(PlanActivity, PlanActivity.id == ExecutionEntry.activity_id)
        .where(PlanActivity.plan_id == plan.id)
        .group_by(ExecutionEntry.activity_id, ExecutionEntry.kind)
    ):
        if activity_id is not None:
            done[int(activity_id)][str(kind)] = int(quantity)
    activities = session.scalars(
        select(PlanActivity).where(PlanActivity.plan_id == plan.id).order_by(PlanActivity.id)
    ).all()
    return {
        "id": plan.id,
        "office_code": plan.office_code,
        "kind": plan.kind,
        "first_day": plan.first_day.isoformat(),
        "last_day": plan.last_day.isoformat(),
        "title": plan.title,
        "activities": [
            {
                "id": a.id,
                "activity": a.activity,
                "district_code": a.district_code,
                "village_code": a.village_code,
                "segment": a.segment,
                "prospects": a.prospects,
                "assignee_kind": a.assignee_kind,
                "assignee_code": a.assignee_code,
                "scheduled_on": a.scheduled_on.isoformat() if a.scheduled_on else None,
                "expected_registrations": a.expected_registrations,
                "expected_contributions": a.expected_contributions,
                "done": {kind: done[a.id].get(kind, 0) for kind in rules.EXECUTION_KINDS},
            }
            for a in activities
        ],
    }


def execution_log(
    session: Session, office_code: str, first_day: date, last_day: date
) -> list[dict[str, Any]]:
    """Execution entries of an office between two dates, each registration with a NIK linked to
    the ledger (the participant's registration date there, or None when not (yet) registered)."""
    statement = (
        select(ExecutionEntry, Participant.registered_on)
        .outerjoin(Participant, Participant.nik == ExecutionEntry.nik)
        .where(
            ExecutionEntry.office_code == office_code.strip().upper(),
            ExecutionEntry.done_on.between(first_day, last_day),
        )
        .order_by(ExecutionEntry.done_on, ExecutionEntry.id)
    )
    return [
        {
            "id": e.id,
            "done_on": e.done_on.isoformat(),
            "assignee_kind": e.assignee_kind,
            "assignee_code": e.assignee_code,
            "kind": e.kind,
            "quantity": e.quantity,
            "activity_id": e.activity_id,
            "nik": e.nik,
            "ledger_registered_on": registered.isoformat() if registered else None,
            "note": e.note,
        }
        for e, registered in session.execute(statement).all()
    ]


@dataclass
class ReviewView:
    """A weekly review: its notes, the actions on it (raised here, carried over, closed here)
    and the week's assessment per staff member and partner."""

    review: WeeklyReview
    notes: list[ReviewNote]
    actions: list[tuple[ReviewAction, str, date]]  # (action, status on this review, raised week)
    assessment: list[rules.AssessmentLine] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        r = self.review
        return {
            "id": r.id,
            "office_code": r.office_code,
            "week_start": r.week_start.isoformat(),
            "week_end": (r.week_start + timedelta(days=6)).isoformat(),
            "held_on": r.held_on.isoformat(),
            "led_by": r.led_by,
            "notes": [{"id": n.id, "kind": n.kind, "text": n.text} for n in self.notes],
            "actions": [
                {
                    "id": a.id,
                    "description": a.description,
                    "owner": a.owner_code,
                    "due_on": a.due_on.isoformat(),
                    "raised_week": raised.isoformat(),
                    "status": status,
                    "overdue": a.closed_on is None and a.due_on < r.week_start,
                    "closed_on": a.closed_on.isoformat() if a.closed_on else None,
                    "resolution": a.resolution,
                }
                for a, status, raised in self.actions
            ],
            "assessment": [
                {
                    "assignee_kind": line.assignee_kind,
                    "assignee_code": line.assignee_code,
                    "expected_registrations": line.expected_registrations,
                    "logged_registrations": line.logged_registrations,
                    "ledger_registrations": line.ledger_registrations,
                    "realization": line.realization,
                    "weekly_target": line.weekly_target,
                    "vs_plan_percent": line.vs_plan_percent,
                    "vs_target_percent": line.vs_target_percent,
                    "activities_done": line.activities_done,
                }
                for line in self.assessment
            ],
        }


def review_view(session: Session, review_id: int) -> ReviewView:
    """The review with its notes, every action on it and the week's assessment."""
    review = session.get(WeeklyReview, review_id)
    if review is None:
        from cakupan.errors import not_found

        raise not_found(
            t("Rapat evaluasi {i} tidak ditemukan", "Review {i} not found").format(i=review_id)
        )
    notes = list(
        session.scalars(
            select(ReviewNote).where(ReviewNote.review_id == review.id).order_by(ReviewNote.id)
        )
    )
    raised_review = WeeklyReview.__table__.alias("raised_review")
    closed_review = WeeklyReview.__table__.alias("closed_review")
    statement = (
        select(ReviewAction, raised_review.c.week_start, closed_review.c.week_start)
        .join(raised_review, raised_review.c.id == ReviewAction.raised_in_review_id)
        .outerjoin(closed_review, closed_review.c.id == ReviewAction.closed_in_review_id)
        .where(
            ReviewAction.office_code == review.office_code,
            raised_review.c.week_start <= review.week_start,
            or_(
                ReviewAction.closed_in_review_id.is_(None),
                closed_review.c.week_start >= review.week_start,
            ),
        )
        .order_by(raised_review.c.week_start, ReviewAction.id)
    )
    actions: list[tuple[ReviewAction, str, date]] = []
    for action, raised_week, closed_week in session.execute(statement).all():
        status = rules.carried_over(raised_week, closed_week, review.week_start)
        if status != "not_shown":
            actions.append((action, status, raised_week))
    return ReviewView(
        review, notes, actions, assessment(session, review.office_code, review.week_start)
    )


def assessment(session: Session, office_code: str, week_monday: date) -> list[rules.AssessmentLine]:
    """The week's realization per staff member, agent and partner against their plan (expected
    registrations of the week's activities: those of the weekly plan, and of monthly plans the
    ones scheduled in the week or, undated, prorated by days) and their target (their part of the
    year's BPU new-participant target, prorated to 7 days of the year).

    Realization: registrations in the ledger attributed to the agent/partner (new membership
    episodes registered in the week at this office) when the ledger is there; staff are not in
    the ledger, so their realization is the execution log's registrations."""
    office = office_code.strip().upper()
    sunday = week_monday + timedelta(days=6)
    expected: dict[tuple[str, str], int] = defaultdict(int)
    plans = session.execute(
        select(PerformancePlan, PlanActivity)
        .join(PlanActivity, PlanActivity.plan_id == PerformancePlan.id)
        .where(
            PerformancePlan.office_code == office,
            PerformancePlan.first_day <= sunday,
            PerformancePlan.last_day >= week_monday,
        )
    ).all()
    for plan, activity in plans:
        key = (activity.assignee_kind, activity.assignee_code)
        if plan.kind == "week":
            expected[key] += activity.expected_registrations
        elif activity.scheduled_on is not None:
            if week_monday <= activity.scheduled_on <= sunday:
                expected[key] += activity.expected_registrations
        else:
            overlap = (min(sunday, plan.last_day) - max(week_monday, plan.first_day)).days + 1
            length = (plan.last_day - plan.first_day).days + 1
            expected[key] += rules.prorate(activity.expected_registrations, overlap, length)
    logged: dict[tuple[str, str], int] = defaultdict(int)
    done: dict[tuple[str, str], int] = defaultdict(int)
    for kind, code, entry_kind, quantity in session.execute(
        select(
            ExecutionEntry.assignee_kind,
            ExecutionEntry.assignee_code,
            ExecutionEntry.kind,
            func.sum(ExecutionEntry.quantity),
        )
        .where(
            ExecutionEntry.office_code == office,
            ExecutionEntry.done_on.between(week_monday, sunday),
        )
        .group_by(ExecutionEntry.assignee_kind, ExecutionEntry.assignee_code, ExecutionEntry.kind)
    ):
        if entry_kind == "registration":
            logged[(kind, code)] += int(quantity)
        else:
            done[(kind, code)] += int(quantity)
    ledger: dict[tuple[str, str], int] = defaultdict(int)
    has_ledger = ledger_available(session)
    if has_ledger:
        office_filter = _office_filter(session, office)
        attributed: tuple[tuple[str, Any], ...] = (
            ("agent", Membership.agent_code),
            ("partner", Membership.partner_code),
        )
        for kind_name, code_column in attributed:
            for code, count in session.execute(
                select(code_column, func.count(Membership.id))
                .join(Participant, Participant.id == Membership.participant_id)
                .where(
                    Membership.registered_on.between(week_monday, sunday),
                    code_column.is_not(None),
                    office_filter,
                )
                .group_by(code_column)
            ):
                ledger[(kind_name, str(code))] = int(count)
    year = week_monday.year
    split_targets: dict[tuple[str, str], int] = {}
    for part_kind, part_code, value in session.execute(
        select(TargetSplit.part_kind, TargetSplit.part_code, TargetSplit.value)
        .join(TargetCell, TargetCell.id == TargetSplit.cell_id)
        .where(
            TargetCell.office_code == office,
            TargetCell.segment == "BPU",
            TargetCell.metric == "new_participants",
            TargetCell.first_month == Month(year, 1),
            TargetCell.last_month == Month(year, 12),
            TargetSplit.part_kind.in_(("staff", "partner")),
        )
    ):
        days_in_year = (date(year + 1, 1, 1) - date(year, 1, 1)).days
        split_targets[(str(part_kind), str(part_code))] = rules.prorate(int(value), 7, days_in_year)
    keys = set(expected) | set(logged) | set(done) | set(split_targets)
    keys |= {k for k, v in ledger.items() if v}
    lines = []
    for kind, code in sorted(keys, key=lambda k: (rules.ASSIGNEE_KINDS.index(k[0]), k[1])):
        in_ledger = has_ledger and kind in ("agent", "partner")
        lines.append(
            rules.AssessmentLine(
                assignee_kind=kind,
                assignee_code=code,
                expected_registrations=expected.get((kind, code), 0),
                logged_registrations=logged.get((kind, code), 0),
                ledger_registrations=ledger.get((kind, code), 0) if in_ledger else None,
                weekly_target=split_targets.get((kind, code)),
                activities_done=done.get((kind, code), 0),
            )
        )
    return lines
