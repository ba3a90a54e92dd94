"""The write path of targets and the performance cycle: validate -> write -> audit, one
transaction (the caller's session, or :func:`cakupan.imports.post_file` for imports)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, column, inspect, select, table
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor, Role
from cakupan.dates import Clock, Month, SystemClock
from cakupan.errors import CakupanError, FieldProblem, conflict, forbidden, invalid, not_found
from cakupan.i18n import Text, t
from cakupan.imports import ImportResult, Record, in_batches, open_records, post_file
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
    TargetImport,
    TargetSplit,
    WeeklyReview,
)
from cakupan.targets.rules import FigureRow, Period

NATIONAL = rules.NATIONAL
T = TypeVar("T")

_branch = table("branch", column("code"), column("region_code"))
_office_region = table("office_region", column("code"))


@dataclass(frozen=True)
class CellKey:
    """Which cell: office, period, segment and metric."""

    office_code: str
    period: Period
    segment: str
    metric: str

    def describe(self) -> str:
        return f"{self.office_code} {self.period.label} {self.segment} {self.metric}"


def committed(session: Session, write: Callable[[], T]) -> T:
    """Run one write of this area (an action below, validate -> write -> audit) in the caller's
    session and commit it: the pages' transaction, owned here rather than by each handler
    (issue 20). On any error the session is rolled back (nothing written) and the error
    raised again for the page to show."""
    try:
        result = write()
    except BaseException:
        session.rollback()
        raise
    session.commit()
    return result


def known_offices(session: Session) -> set[str] | None:
    """Office codes the database knows (branches, regional offices and ``NATIONAL``), or None
    when no office reference data is present (then any well-formed code is accepted)."""
    inspector = inspect(session.connection())
    if not (inspector.has_table("branch") and inspector.has_table("office_region")):
        return None
    codes = set(session.scalars(select(_branch.c.code)).all())
    codes |= set(session.scalars(select(_office_region.c.code)).all())
    if not codes:
        return None
    return {str(code) for code in codes} | {NATIONAL}


def check_office(session: Session, office_code: str, field_name: str = "office") -> str:
    """The office code normalised (upper case); INVALID when the database does not know it."""
    code = office_code.strip().upper()
    offices = known_offices(session)
    if offices is not None and code not in offices:
        raise invalid(
            field_name,
            t(
                "kode kantor tidak dikenal: {c!r} (cabang, kantor wilayah atau NATIONAL)",
                "unknown office code {c!r} (a branch, a regional office or NATIONAL)",
            ).format(c=office_code),
        )
    return code


def authorize_office(
    session: Session, actor: Actor, office_code: str, purpose: rules.Purpose
) -> None:
    """FORBIDDEN unless ``actor`` may do ``purpose`` (read, targets, cycle, review) for the office
    (rule: :func:`cakupan.targets.rules.office_permission`). Pages and APIs call it before the
    read side too; the CLI acts as ``system`` (everything)."""
    region_of_branch: str | None = None
    if actor.role == Role.REGIONAL and inspect(session.connection()).has_table("branch"):
        region_of_branch = session.scalar(
            select(_branch.c.region_code).where(_branch.c.code == office_code)
        )
    if not rules.office_permission(
        actor.role,
        actor.branch_code,
        actor.region_code,
        office_code,
        region_of_branch,
        purpose,
    ):
        raise forbidden(
            t(
                "Anda tidak berhak ({p}) untuk kantor {o}",
                "You are not allowed to do this ({p}) for office {o}",
            ).format(p=purpose, o=office_code)
        )


def check_choice(field_name: str, value: str, options: tuple[str, ...]) -> str:
    """``value`` when it is one of ``options`` (INVALID otherwise)."""
    if value not in options:
        raise invalid(
            field_name,
            t("harus salah satu dari {o}, didapat {v!r}", "expected one of {o}, got {v!r}").format(
                o=", ".join(options), v=value
            ),
        )
    return value


def find_cell(session: Session, key: CellKey) -> TargetCell | None:
    return session.scalars(
        select(TargetCell).where(
            TargetCell.office_code == key.office_code,
            TargetCell.first_month == key.period.first,
            TargetCell.last_month == key.period.last,
            TargetCell.segment == key.segment,
            TargetCell.metric == key.metric,
        )
    ).one_or_none()


def _get_or_create_cell(session: Session, key: CellKey) -> TargetCell:
    cell = find_cell(session, key)
    if cell is None:
        cell = TargetCell(
            office_code=key.office_code,
            year=key.period.year,
            first_month=key.period.first,
            last_month=key.period.last,
            segment=key.segment,
            metric=key.metric,
        )
        session.add(cell)
        session.flush()
    return cell


# --- figures -------------------------------------------------------------------------------


def import_figures(
    engine: Engine,
    actor: Actor,
    path: Path | str,
    *,
    partial: bool = False,
    clock: Clock | None = None,
) -> ImportResult:
    """Import a CSV/XLSX of target and realization figures
    (``office_code,year,segment,metric,target,realization,source`` [``,period``]).

    Every source's figure is kept: a figure already stated by the same source for the same cell
    is a duplicate (nothing changes); another source's different figure is kept beside it and the
    cell becomes a conflict in reports. The same source stating a different figure for a cell it
    already gave is rejected (a correction needs its own source name). All-or-nothing unless
    ``partial``; audited once per file."""
    moment = (clock or SystemClock()).now()
    with open_records(
        path, required=rules.IMPORT_COLUMNS, optional=rules.OPTIONAL_IMPORT_COLUMNS
    ) as records:
        source_file = records.source

        def post(session: Session, result: ImportResult) -> None:
            offices = known_offices(session)
            allowed: dict[str, bool] = {}
            batch_row = TargetImport(
                file_name=source_file.name,
                sha256=source_file.sha256,
                accepted=0,
                duplicates=0,
                rejected=0,
                imported_at=moment,
                imported_by=actor.name,
            )
            session.add(batch_row)
            session.flush()
            for batch in in_batches(records, 500):
                _post_figure_batch(
                    session, actor, allowed, batch, result, offices, batch_row.id, moment
                )
            batch_row.accepted = result.accepted
            batch_row.duplicates = result.duplicates
            batch_row.rejected = result.rejected

        return post_file(engine, actor, "targets", source_file, post, partial=partial)


def _may_import(session: Session, actor: Actor, office: str, allowed: dict[str, bool]) -> bool:
    if office not in allowed:
        try:
            authorize_office(session, actor, office, "targets")
            allowed[office] = True
        except CakupanError:
            allowed[office] = False
    return allowed[office]


def _post_figure_batch(
    session: Session,
    actor: Actor,
    allowed: dict[str, bool],
    batch: list[Record],
    result: ImportResult,
    offices: set[str] | None,
    import_id: int,
    moment: datetime,
) -> None:
    for record in batch:
        problems: list[FieldProblem] = []
        shape = record.shape_problems()
        parsed = rules.parse_figure_row(record.row, record.values)
        if isinstance(parsed, list):
            problems = parsed
        elif not _may_import(session, actor, parsed.office_code, allowed):
            problems = [
                FieldProblem(
                    field="office_code",
                    row=record.row,
                    message=t(
                        "Anda tidak berhak mengubah target kantor {c}",
                        "you are not allowed to change the targets of office {c}",
                    ).format(c=parsed.office_code),
                )
            ]
        elif offices is not None and parsed.office_code not in offices:
            problems = [
                FieldProblem(
                    field="office_code",
                    row=record.row,
                    message=t(
                        "kode kantor tidak dikenal: {c!r} (cabang, kantor wilayah atau NATIONAL)",
                        "unknown office code {c!r} (a branch, a regional office or NATIONAL)",
                    ).format(c=parsed.office_code),
                )
            ]
        if shape or problems:
            result.reject(record.row, [*shape, *((p.field, p.message) for p in problems)])
            continue
        assert isinstance(parsed, FigureRow)
        outcome = _post_figure_row(session, parsed, import_id, moment)
        if isinstance(outcome, list):
            result.reject(record.row, outcome)
        elif outcome:
            result.accepted += 1
        else:
            result.duplicates += 1


def _post_figure_row(
    session: Session, row: FigureRow, import_id: int, moment: datetime
) -> bool | list[tuple[str, Text]]:
    """True when something was written, False for a duplicate, else the row's problems."""
    key = CellKey(row.office_code, row.period, row.segment, row.metric)
    cell = _get_or_create_cell(session, key)
    existing = {
        figure.kind: figure
        for figure in session.scalars(
            select(TargetFigure).where(
                TargetFigure.cell_id == cell.id, TargetFigure.source == row.source
            )
        )
    }
    problems: list[tuple[str, Text]] = []
    new: list[tuple[str, int]] = []
    for kind, value in row.figures():
        known = existing.get(kind)
        if known is None:
            new.append((kind, value))
        elif known.value != value:
            problems.append(
                (
                    kind,
                    t(
                        "sumber {s!r} sudah menyatakan {k} {old} untuk {cell}, baris ini "
                        "menyatakan {new}; koreksi memerlukan nama sumber sendiri",
                        "source {s!r} already states {k} {old} for {cell}, this row states "
                        "{new}; a correction needs its own source name",
                    ).format(s=row.source, k=kind, old=known.value, new=value, cell=key.describe()),
                )
            )
    new_stated = False
    if row.stated_percent is not None:
        stated = session.scalars(
            select(StatedAchievement).where(
                StatedAchievement.cell_id == cell.id, StatedAchievement.source == row.source
            )
        ).one_or_none()
        if stated is None:
            new_stated = True
        elif stated.percent != row.stated_percent:
            problems.append(
                (
                    "achievement_percent",
                    t(
                        "sumber {s!r} sudah menyatakan capaian {old}% untuk {cell}, baris ini "
                        "menyatakan {new}%; koreksi memerlukan nama sumber sendiri",
                        "source {s!r} already states an achievement of {old}% for {cell}, this "
                        "row states {new}%; a correction needs its own source name",
                    ).format(
                        s=row.source,
                        old=stated.percent,
                        new=row.stated_percent,
                        cell=key.describe(),
                    ),
                )
            )
    if problems:
        return problems
    for kind, value in new:
        session.add(
            TargetFigure(
                cell_id=cell.id,
                kind=kind,
                value=value,
                source=row.source,
                import_id=import_id,
                recorded_at=moment,
            )
        )
    if new_stated and row.stated_percent is not None:
        session.add(
            StatedAchievement(
                cell_id=cell.id,
                percent=row.stated_percent,
                source=row.source,
                import_id=import_id,
                recorded_at=moment,
            )
        )
    session.flush()
    return bool(new) or new_stated


def record_figure(
    session: Session,
    actor: Actor,
    key: CellKey,
    kind: str,
    value: int,
    source: str,
    *,
    clock: Clock | None = None,
) -> TargetFigure:
    """State one target or realization of a cell (e.g. the head setting next year's target).
    The same source restating the same figure changes nothing; a different figure from the same
    source is a CONFLICT error (use another source name for a revision)."""
    check_choice("kind", kind, rules.FIGURE_KINDS)
    check_choice("segment", key.segment, rules.SEGMENTS)
    check_choice("metric", key.metric, rules.METRICS)
    office = check_office(session, key.office_code)
    authorize_office(session, actor, office, "targets")
    key = CellKey(office, key.period, key.segment, key.metric)
    if value < 0:
        raise invalid(
            "value", t("harus >= 0, didapat {v}", "expected >= 0, got {v}").format(v=value)
        )
    source = source.strip()
    if not source or len(source) > 200:
        raise invalid("source", t("harus diisi (1-200 karakter)", "required (1-200 characters)"))
    cell = _get_or_create_cell(session, key)
    existing = session.scalars(
        select(TargetFigure).where(
            TargetFigure.cell_id == cell.id,
            TargetFigure.kind == kind,
            TargetFigure.source == source,
        )
    ).one_or_none()
    if existing is not None:
        if existing.value == value:
            return existing
        raise conflict(
            t(
                "Sumber {s!r} sudah menyatakan {k} {old} untuk {cell}",
                "Source {s!r} already states {k} {old} for {cell}",
            ).format(s=source, k=kind, old=existing.value, cell=key.describe())
        )
    figure = TargetFigure(
        cell_id=cell.id,
        kind=kind,
        value=value,
        source=source,
        import_id=None,
        recorded_at=(clock or SystemClock()).now(),
    )
    session.add(figure)
    session.flush()
    record_audit(
        session,
        actor,
        "targets.figure.record",
        "target_figure",
        figure.id,
        after={"cell": key.describe(), "kind": kind, "value": value, "source": source},
    )
    return figure


def choose_figure(
    session: Session,
    actor: Actor,
    key: CellKey,
    kind: str,
    source: str,
    reason: str,
    *,
    clock: Clock | None = None,
) -> TargetChoice:
    """Choose which source's figure counts for a cell whose sources disagree (the office's
    head, with a reason). The other figures stay as they are and stay visible; choosing again
    replaces the choice (audited with before and after)."""
    check_choice("kind", kind, rules.FIGURE_KINDS)
    office = check_office(session, key.office_code)
    authorize_office(session, actor, office, "targets")
    key = CellKey(office, key.period, key.segment, key.metric)
    cell = find_cell(session, key)
    sources = (
        []
        if cell is None
        else list(
            session.scalars(
                select(TargetFigure.source).where(
                    TargetFigure.cell_id == cell.id, TargetFigure.kind == kind
                )
            )
        )
    )
    if cell is None or len(sources) < 2:
        raise invalid(
            "kind",
            t(
                "{cell}: tidak ada beberapa sumber {k} yang bisa dipilih",
                "{cell}: no several {k} sources to choose from",
            ).format(cell=key.describe(), k=kind),
        )
    source = source.strip()
    if source not in sources:
        raise invalid(
            "source",
            t("salah satu dari {o}, didapat {v!r}", "one of {o}, got {v!r}").format(
                o=", ".join(sorted(sources)), v=source
            ),
        )
    if not reason.strip():
        raise invalid("reason", t("alasan pilihan harus diisi", "the reason is required"))
    now = (clock or SystemClock()).now()
    choice = session.scalars(
        select(TargetChoice).where(TargetChoice.cell_id == cell.id, TargetChoice.kind == kind)
    ).one_or_none()
    before = None if choice is None else {"source": choice.source, "reason": choice.reason}
    if choice is None:
        choice = TargetChoice(cell_id=cell.id, kind=kind)
        session.add(choice)
    choice.source = source
    choice.reason = reason.strip()
    choice.chosen_by = actor.name
    choice.chosen_at = now
    session.flush()
    record_audit(
        session,
        actor,
        "targets.figure.choose",
        "target_choice",
        choice.id,
        before=before,
        after={"cell": key.describe(), "kind": kind, "source": source, "reason": choice.reason},
        at=now,
    )
    return choice


def set_split(
    session: Session, actor: Actor, key: CellKey, part_kind: str, parts: Mapping[str, int]
) -> list[TargetSplit]:
    """Give the parts of a cell's target of one kind (staff, partner or district); replaces the
    previous parts of that kind. The parts need not sum to the whole: reports show the
    difference."""
    check_choice("part_kind", part_kind, rules.PART_KINDS)
    check_choice("segment", key.segment, rules.SEGMENTS)
    check_choice("metric", key.metric, rules.METRICS)
    office = check_office(session, key.office_code)
    authorize_office(session, actor, office, "targets")
    key = CellKey(office, key.period, key.segment, key.metric)
    problems = [
        FieldProblem(
            field="parts",
            record=code or "(kosong)",
            message=t(
                "harus kode dan nilai >= 0, didapat {v}",
                "expected a code and a value >= 0, got {v}",
            ).format(v=value),
        )
        for code, value in parts.items()
        if not code.strip() or value < 0 or len(code) > 40
    ]
    if problems:
        raise CakupanError(t("Pembagian target tidak valid", "Invalid target split"), problems)
    cell = _get_or_create_cell(session, key)
    current = list(
        session.scalars(
            select(TargetSplit).where(
                TargetSplit.cell_id == cell.id, TargetSplit.part_kind == part_kind
            )
        )
    )
    before = {split.part_code: split.value for split in current}
    for split in current:
        session.delete(split)
    session.flush()
    created = [
        TargetSplit(cell_id=cell.id, part_kind=part_kind, part_code=code.strip(), value=value)
        for code, value in sorted(parts.items())
    ]
    session.add_all(created)
    session.flush()
    record_audit(
        session,
        actor,
        "targets.split.set",
        "target_cell",
        cell.id,
        before={"cell": key.describe(), "part_kind": part_kind, "parts": before},
        after={
            "cell": key.describe(),
            "part_kind": part_kind,
            "parts": dict(sorted(parts.items())),
        },
    )
    return created


# --- performance cycle ---------------------------------------------------------------------


def create_plan(
    session: Session,
    actor: Actor,
    office_code: str,
    kind: str,
    first_day: date,
    title: str,
    *,
    clock: Clock | None = None,
) -> PerformancePlan:
    """A week's plan (starting on its Monday) or a month's plan (starting on the 1st)."""
    check_choice("kind", kind, rules.PLAN_KINDS)
    office = check_office(session, office_code)
    authorize_office(session, actor, office, "cycle")
    if kind == "week":
        if first_day.weekday() != 0:
            raise invalid(
                "start",
                t(
                    "rencana mingguan dimulai hari Senin; {d} adalah hari ke-{n} (Senin = 1)",
                    "a weekly plan starts on a Monday; {d} is weekday {n} (Monday = 1)",
                ).format(d=first_day.isoformat(), n=first_day.isoweekday()),
            )
        last_day = first_day + timedelta(days=6)
    else:
        if first_day.day != 1:
            raise invalid(
                "start",
                t(
                    "rencana bulanan dimulai tanggal 1, didapat {d}",
                    "a monthly plan starts on the 1st, got {d}",
                ).format(d=first_day.isoformat()),
            )
        last_day = Month.of(first_day).last_day
    title = title.strip()
    if not title or len(title) > 200:
        raise invalid("title", t("harus diisi (1-200 karakter)", "required (1-200 characters)"))
    duplicate = session.scalars(
        select(PerformancePlan).where(
            PerformancePlan.office_code == office,
            PerformancePlan.kind == kind,
            PerformancePlan.first_day == first_day,
        )
    ).one_or_none()
    if duplicate is not None:
        raise conflict(
            t(
                "Rencana {k} {o} mulai {d} sudah ada (id {i})",
                "The {k} plan of {o} from {d} already exists (id {i})",
            ).format(k=kind, o=office, d=first_day.isoformat(), i=duplicate.id)
        )
    plan = PerformancePlan(
        office_code=office,
        kind=kind,
        first_day=first_day,
        last_day=last_day,
        title=title,
        created_at=(clock or SystemClock()).now(),
        created_by=actor.name,
    )
    session.add(plan)
    session.flush()
    record_audit(
        session,
        actor,
        "plans.create",
        "performance_plan",
        plan.id,
        after={
            "office": office,
            "kind": kind,
            "first_day": first_day,
            "last_day": last_day,
            "title": title,
        },
    )
    return plan


def get_plan(session: Session, plan_id: int) -> PerformancePlan:
    plan = session.get(PerformancePlan, plan_id)
    if plan is None:
        raise not_found(t("Rencana {i} tidak ditemukan", "Plan {i} not found").format(i=plan_id))
    return plan


@dataclass(frozen=True)
class ActivityInput:
    activity: str
    district_code: str
    segment: str
    prospects: str
    assignee_kind: str
    assignee_code: str
    expected_registrations: int = 0
    expected_contributions: int = 0
    village_code: str | None = None
    scheduled_on: date | None = None


def _activity_problems(plan: PerformancePlan, data: ActivityInput) -> list[FieldProblem]:
    """Every problem of an activity's fields for ``plan`` (segment and assignee kind are
    checked before)."""
    problems: list[FieldProblem] = []
    for name, value, limit in (
        ("activity", data.activity, 40),
        ("district", data.district_code, 20),
        ("prospects", data.prospects, 200),
        ("assignee_code", data.assignee_code, 40),
    ):
        if not value.strip() or len(value.strip()) > limit:
            problems.append(
                FieldProblem(
                    field=name,
                    message=t(
                        "harus diisi (1-{n} karakter), didapat {v!r}",
                        "required (1-{n} characters), got {v!r}",
                    ).format(n=limit, v=value),
                )
            )
    for name, number in (
        ("expected_registrations", data.expected_registrations),
        ("expected_contributions", data.expected_contributions),
    ):
        if number < 0:
            problems.append(
                FieldProblem(
                    field=name,
                    message=t("harus >= 0, didapat {v}", "expected >= 0, got {v}").format(v=number),
                )
            )
    if data.scheduled_on is not None and not plan.first_day <= data.scheduled_on <= plan.last_day:
        problems.append(
            FieldProblem(
                field="scheduled_on",
                message=t(
                    "harus dalam masa rencana {a}..{b}, didapat {d}",
                    "expected within the plan's period {a}..{b}, got {d}",
                ).format(a=plan.first_day, b=plan.last_day, d=data.scheduled_on),
            )
        )
    return problems


def _activity_values(data: ActivityInput) -> dict[str, object]:
    return {
        "activity": data.activity.strip(),
        "district_code": data.district_code.strip(),
        "village_code": (data.village_code or "").strip() or None,
        "segment": data.segment,
        "prospects": data.prospects.strip(),
        "assignee_kind": data.assignee_kind,
        "assignee_code": data.assignee_code.strip(),
        "scheduled_on": data.scheduled_on,
        "expected_registrations": data.expected_registrations,
        "expected_contributions": data.expected_contributions,
    }


def add_activity(session: Session, actor: Actor, plan_id: int, data: ActivityInput) -> PlanActivity:
    """Add who does what, where and for whom to a plan, with the results expected."""
    plan = get_plan(session, plan_id)
    authorize_office(session, actor, plan.office_code, "cycle")
    check_choice("segment", data.segment, rules.SEGMENTS)
    check_choice("assignee_kind", data.assignee_kind, rules.ASSIGNEE_KINDS)
    problems = _activity_problems(plan, data)
    if problems:
        raise CakupanError(t("Kegiatan rencana tidak valid", "Invalid plan activity"), problems)
    activity = PlanActivity(plan_id=plan.id, **_activity_values(data))
    session.add(activity)
    session.flush()
    record_audit(
        session,
        actor,
        "plans.activity.add",
        "plan_activity",
        activity.id,
        after={"plan_id": plan.id, **data.__dict__},
    )
    return activity


def get_activity(session: Session, activity_id: int) -> PlanActivity:
    activity = session.get(PlanActivity, activity_id)
    if activity is None:
        raise not_found(
            t("Kegiatan {i} tidak ditemukan", "Activity {i} not found").format(i=activity_id)
        )
    return activity


def update_activity(
    session: Session, actor: Actor, activity_id: int, data: ActivityInput
) -> PlanActivity:
    """Change a planned activity (where, whom, who, when, expected results) with the same checks
    as :func:`add_activity`; what the execution log already holds for it stays linked. Audited
    with before and after; nothing changes when nothing differs."""
    activity = get_activity(session, activity_id)
    plan = get_plan(session, activity.plan_id)
    authorize_office(session, actor, plan.office_code, "cycle")
    check_choice("segment", data.segment, rules.SEGMENTS)
    check_choice("assignee_kind", data.assignee_kind, rules.ASSIGNEE_KINDS)
    problems = _activity_problems(plan, data)
    if problems:
        raise CakupanError(t("Kegiatan rencana tidak valid", "Invalid plan activity"), problems)
    values = _activity_values(data)
    before = {name: getattr(activity, name) for name in values}
    changed = {name: value for name, value in values.items() if before[name] != value}
    if not changed:
        return activity
    for name, value in changed.items():
        setattr(activity, name, value)
    session.flush()
    record_audit(
        session,
        actor,
        "plans.activity.update",
        "plan_activity",
        activity.id,
        before={name: before[name] for name in changed},
        after=changed,
    )
    return activity


def log_execution(
    session: Session,
    actor: Actor,
    office_code: str,
    done_on: date,
    assignee_kind: str,
    assignee_code: str,
    kind: str,
    *,
    quantity: int = 1,
    activity_id: int | None = None,
    nik: str | None = None,
    note: str | None = None,
    clock: Clock | None = None,
) -> ExecutionEntry:
    """Record field work: visits, contacts, letters, new businesses, registrations (a
    registration may carry the participant's NIK, which links it to the ledger)."""
    office = check_office(session, office_code)
    authorize_office(session, actor, office, "cycle")
    check_choice("assignee_kind", assignee_kind, rules.ASSIGNEE_KINDS)
    check_choice("kind", kind, rules.EXECUTION_KINDS)
    if quantity <= 0:
        raise invalid(
            "quantity", t("harus > 0, didapat {v}", "expected > 0, got {v}").format(v=quantity)
        )
    if not assignee_code.strip() or len(assignee_code.strip()) > 40:
        raise invalid(
            "assignee_code", t("harus diisi (1-40 karakter)", "required (1-40 characters)")
        )
    if nik is not None:
        nik = nik.strip()
        if len(nik) != 16 or not nik.isdigit():
            raise invalid(
                "nik",
                t("harus 16 angka, didapat {v!r}", "expected 16 digits, got {v!r}").format(v=nik),
            )
        if kind != "registration" or quantity != 1:
            raise invalid(
                "nik",
                t(
                    "NIK hanya untuk satu pendaftaran (kind registration, quantity 1)",
                    "a NIK belongs to one registration (kind registration, quantity 1)",
                ),
            )
    if activity_id is not None:
        activity = session.get(PlanActivity, activity_id)
        if activity is None:
            raise not_found(
                t("Kegiatan {i} tidak ditemukan", "Activity {i} not found").format(i=activity_id)
            )
        plan = session.get(PerformancePlan, activity.plan_id)
        assert plan is not None
        if plan.office_code != office:
            raise invalid(
                "activity",
                t(
                    "kegiatan {i} milik kantor {o}, bukan {x}",
                    "activity {i} belongs to office {o}, not {x}",
                ).format(i=activity_id, o=plan.office_code, x=office),
            )
    entry = ExecutionEntry(
        office_code=office,
        activity_id=activity_id,
        done_on=done_on,
        assignee_kind=assignee_kind,
        assignee_code=assignee_code.strip(),
        kind=kind,
        quantity=quantity,
        nik=nik,
        note=(note or "").strip() or None,
        recorded_at=(clock or SystemClock()).now(),
        recorded_by=actor.name,
    )
    session.add(entry)
    session.flush()
    record_audit(
        session,
        actor,
        "plans.execution.log",
        "execution_entry",
        entry.id,
        after={
            "office": office,
            "done_on": done_on,
            "assignee": f"{assignee_kind}:{assignee_code}",
            "kind": kind,
            "quantity": quantity,
            "activity_id": activity_id,
            "nik": None if nik is None else nik[:6] + "*" * 10,
        },
    )
    return entry


def open_review(
    session: Session, actor: Actor, office_code: str, week_of: date, held_on: date
) -> WeeklyReview:
    """The review of the week containing ``week_of`` (Monday-Sunday); held once per office
    and week (opening it again returns the same review)."""
    office = check_office(session, office_code)
    authorize_office(session, actor, office, "review")
    monday = rules.week_start(week_of)
    review = session.scalars(
        select(WeeklyReview).where(
            WeeklyReview.office_code == office, WeeklyReview.week_start == monday
        )
    ).one_or_none()
    if review is not None:
        return review
    review = WeeklyReview(office_code=office, week_start=monday, held_on=held_on, led_by=actor.name)
    session.add(review)
    session.flush()
    record_audit(
        session,
        actor,
        "reviews.open",
        "weekly_review",
        review.id,
        after={"office": office, "week_start": monday, "held_on": held_on},
    )
    return review


def get_review(session: Session, review_id: int) -> WeeklyReview:
    review = session.get(WeeklyReview, review_id)
    if review is None:
        raise not_found(
            t("Rapat evaluasi {i} tidak ditemukan", "Review {i} not found").format(i=review_id)
        )
    return review


def add_note(session: Session, actor: Actor, review_id: int, kind: str, text: str) -> ReviewNote:
    """Record a problem, a solution or a decision in a review."""
    review = get_review(session, review_id)
    authorize_office(session, actor, review.office_code, "review")
    check_choice("kind", kind, rules.NOTE_KINDS)
    if not text.strip():
        raise invalid("text", t("harus diisi", "required"))
    note = ReviewNote(review_id=review.id, kind=kind, text=text.strip())
    session.add(note)
    session.flush()
    record_audit(
        session,
        actor,
        "reviews.note.add",
        "review_note",
        note.id,
        after={"review_id": review.id, "kind": kind, "text": note.text},
    )
    return note


def raise_action(
    session: Session, actor: Actor, review_id: int, description: str, owner_code: str, due_on: date
) -> ReviewAction:
    """A follow-up action decided in a review, with its owner and due date. It appears on every
    later review of the office until it is closed."""
    review = get_review(session, review_id)
    authorize_office(session, actor, review.office_code, "review")
    problems: list[FieldProblem] = []
    if not description.strip():
        problems.append(FieldProblem(field="description", message=t("harus diisi", "required")))
    if not owner_code.strip() or len(owner_code.strip()) > 40:
        problems.append(
            FieldProblem(
                field="owner",
                message=t("harus diisi (1-40 karakter)", "required (1-40 characters)"),
            )
        )
    if due_on < review.week_start:
        problems.append(
            FieldProblem(
                field="due",
                message=t(
                    "tenggat tidak boleh sebelum minggu rapat ({w}), didapat {d}",
                    "the due date cannot be before the review's week ({w}), got {d}",
                ).format(w=review.week_start, d=due_on),
            )
        )
    if problems:
        raise CakupanError(t("Tindak lanjut tidak valid", "Invalid follow-up action"), problems)
    action = ReviewAction(
        office_code=review.office_code,
        raised_in_review_id=review.id,
        description=description.strip(),
        owner_code=owner_code.strip(),
        due_on=due_on,
    )
    session.add(action)
    session.flush()
    record_audit(
        session,
        actor,
        "reviews.action.raise",
        "review_action",
        action.id,
        after={
            "review_id": review.id,
            "description": action.description,
            "owner": action.owner_code,
            "due_on": due_on,
        },
    )
    return action


def close_action(
    session: Session,
    actor: Actor,
    action_id: int,
    review_id: int,
    closed_on: date,
    resolution: str,
) -> ReviewAction:
    """Close an open follow-up action in a review of the same office (same week or later)."""
    action = session.get(ReviewAction, action_id)
    if action is None:
        raise not_found(
            t("Tindak lanjut {i} tidak ditemukan", "Follow-up action {i} not found").format(
                i=action_id
            )
        )
    review = get_review(session, review_id)
    authorize_office(session, actor, action.office_code, "review")
    raised = get_review(session, action.raised_in_review_id)
    if action.closed_in_review_id is not None:
        raise conflict(
            t(
                "Tindak lanjut {i} sudah ditutup pada {d}",
                "Follow-up action {i} was already closed on {d}",
            ).format(i=action_id, d=action.closed_on)
        )
    if review.office_code != action.office_code or review.week_start < raised.week_start:
        raise invalid(
            "review",
            t(
                "tindak lanjut {i} ({o}, minggu {w}) hanya dapat ditutup pada rapat kantor yang "
                "sama pada minggu itu atau sesudahnya",
                "action {i} ({o}, week {w}) can only be closed in a review of the same office "
                "in that week or later",
            ).format(i=action_id, o=action.office_code, w=raised.week_start),
        )
    if not resolution.strip():
        raise invalid("resolution", t("harus diisi", "required"))
    before = {"closed_in_review_id": None, "closed_on": None}
    action.closed_in_review_id = review.id
    action.closed_on = closed_on
    action.resolution = resolution.strip()
    session.flush()
    record_audit(
        session,
        actor,
        "reviews.action.close",
        "review_action",
        action.id,
        before=before,
        after={
            "closed_in_review_id": review.id,
            "closed_on": closed_on,
            "resolution": action.resolution,
        },
    )
    return action
