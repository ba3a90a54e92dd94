"""``cakupan targets|plans|reviews ...``: targets vs realization and the weekly performance cycle.
Thin: parse options, call the targets area's actions and queries, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cakupan.auth import Actor
from cakupan.cli.common import (
    DatabaseUrlOption,
    JsonOption,
    open_engine,
    print_json,
    required_date_option,
)
from cakupan.dates import Month, SystemClock, today
from cakupan.db import transaction
from cakupan.errors import CakupanError, invalid
from cakupan.i18n import t
from cakupan.money import format_number, format_rupiah
from cakupan.targets import actions, exports, queries, rules
from cakupan.targets.examples import EXAMPLE_FILES

targets_app = typer.Typer(
    help="Target vs realisasi / targets vs realization.", no_args_is_help=True
)
plans_app = typer.Typer(
    help="Rencana kerja dan log pelaksanaan / plans and execution log.", no_args_is_help=True
)
reviews_app = typer.Typer(help="Rapat evaluasi mingguan / weekly reviews.", no_args_is_help=True)

OfficeOption = Annotated[
    str, typer.Option("--office", help="Office code: a branch (PLG), a region, or NATIONAL.")
]
YearOption = Annotated[int, typer.Option("--year", help="Year YYYY.")]
PeriodOption = Annotated[
    str | None,
    typer.Option("--period", help="Part of the year: Q1-Q4, a month YYYY-MM, or YYYY-MM..YYYY-MM."),
]


def _say(text: str) -> None:
    """Plain text on stdout (no wrapping or markup: lines stay greppable)."""
    typer.echo(text)


def _period(year: int, text: str | None) -> rules.Period:
    try:
        return rules.parse_period(year, text)
    except ValueError as exc:
        raise invalid("period", t("{m}", "{m}").format(m=str(exc))) from None


def _segment(value: str | None) -> str | None:
    if value is None:
        return None
    return actions.check_choice("segment", value.upper(), rules.SEGMENTS)


def _metric(value: str | None) -> str | None:
    if value is None:
        return None
    return actions.check_choice("metric", value.lower(), rules.METRICS)


def _assignee(text: str) -> tuple[str, str]:
    kind, _, code = text.partition(":")
    if not code or kind not in rules.ASSIGNEE_KINDS:
        raise invalid(
            "assignee",
            t(
                "harus JENIS:KODE dengan jenis staff, agent atau partner (mis. staff:ARK01), "
                "didapat {v!r}",
                "expected KIND:CODE with kind staff, agent or partner (e.g. staff:ARK01), got {v!r}",
            ).format(v=text),
        )
    return kind, code


def _show(value: int | None, metric: str) -> str:
    if value is None:
        return "-"
    return format_rupiah(value) if metric == "contributions" else format_number(value)


# --- targets -------------------------------------------------------------------------------


@targets_app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV/XLSX: office_code,year,segment,metric,target,realization,source[,period]"
        ),
    ],
    partial: Annotated[
        bool, typer.Option("--partial", help="Post the valid rows even if some are rejected.")
    ] = False,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import target and realization figures; every source's figure is kept, disagreements are
    flagged as conflicts. All-or-nothing unless --partial; re-importing gives duplicates."""
    engine = open_engine(database_url)
    result = actions.import_figures(engine, Actor.system(), file, partial=partial)
    if as_json:
        print_json(result.as_json())
    else:
        _say(result.render())
    raise typer.Exit(result.exit_code)


@targets_app.command("load-examples")
def load_examples(database_url: DatabaseUrlOption = None, as_json: JsonOption = False) -> None:
    """Import the shipped example figures (Palembang 2016-2020 from the paper's text and its
    Table 1, Madiun active BPU, Bandar Lampung registrations). Safe to repeat."""
    engine = open_engine(database_url)
    out: dict[str, Any] = {}
    code = 0
    for path in EXAMPLE_FILES:
        result = actions.import_figures(engine, Actor.system(), path)
        out[path.name] = result.as_json()
        code = max(code, result.exit_code)
        if not as_json:
            _say(f"{path.name}: {result.render()}")
    if as_json:
        print_json(out)
    raise typer.Exit(code)


@targets_app.command("report")
def report(
    office: OfficeOption,
    year: YearOption,
    segment: Annotated[str | None, typer.Option("--segment", help="BPU, PU or JAKON.")] = None,
    metric: Annotated[
        str | None,
        typer.Option(
            "--metric",
            help="new_participants, active_participants, contributions or reacquired.",
        ),
    ] = None,
    period: PeriodOption = None,
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="Also write the report as an XLSX file.")
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Target vs realization with achievement %; conflicting sources are shown, not resolved."""
    seg, met, span = _segment(segment), _metric(metric), _period(year, period)
    engine = open_engine(database_url)
    with transaction(engine) as session:
        office = actions.check_office(session, office)
        rows = queries.report(session, office, year, segment=seg, metric=met, period=span)
        split_rows = queries.splits(session, office, year, period=span) if xlsx else []
    if xlsx:
        exports.save(exports.report_workbook(rows, split_rows), xlsx)
    if as_json:
        print_json({"rows": [row.as_json() for row in rows]})
        return
    for row in rows:
        pct = "-" if row.achievement_percent is None else f"{row.achievement_percent:.1f}%"
        _say(
            f"{row.office_code} {row.period.label} {row.segment} {row.metric}: "
            f"target {_show(row.target.value, row.metric)}, realisasi "
            f"{_show(row.realization.value, row.metric)} ({row.realization_source}), {pct}",
        )
        for conflict in row.conflicts:
            values = " / ".join(
                f"{_show(v['value'], row.metric)} ({v['source']})" for v in conflict["values"]
            )
            _say(f"  KONFLIK / CONFLICT {conflict['field']}: {values}")
    if xlsx:
        _say(f"XLSX: {xlsx}")


@targets_app.command("check")
def check(
    office: OfficeOption,
    year: YearOption,
    period: PeriodOption = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Every cell, not only those with a discrepancy.")
    ] = False,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Discrepancies of the sources: figures on which they disagree, and achievement percentages
    a source states that its figures do not give (e.g. 102% for 200,006 / 145,069)."""
    span = _period(year, period)
    engine = open_engine(database_url)
    with transaction(engine) as session:
        office = actions.check_office(session, office)
        rows = queries.report(session, office, year, period=span)
    chosen = [row for row in rows if show_all or row.has_discrepancy]
    if as_json:
        print_json(
            {
                "rows": [
                    {
                        **row.as_json(),
                        "period": row.period.label,
                        "discrepancy": row.has_discrepancy,
                        "stated_achievement": [view.as_json() for view in row.stated],
                    }
                    for row in chosen
                ]
            }
        )
        return
    for row in chosen:
        _say(f"{row.office_code} {row.period.label} {row.segment} {row.metric}")
        for conflict in row.conflicts:
            values = " / ".join(
                f"{_show(v['value'], row.metric)} ({v['source']})" for v in conflict["values"]
            )
            _say(f"  KONFLIK / CONFLICT {conflict['field']}: {values}")
        for view in row.stated:
            verdict = {True: "cocok / fits", False: "TIDAK COCOK / DOES NOT FIT", None: "-"}[
                view.consistent
            ]
            computed = ", ".join(
                f"{c.computed_percent}%" for c in view.checks if c.computed_percent is not None
            )
            _say(f"  {view.percent}% ({view.source}): {verdict} [{computed}]")


@targets_app.command("set")
def set_figure(
    office: OfficeOption,
    year: YearOption,
    segment: Annotated[str, typer.Option("--segment")],
    metric: Annotated[str, typer.Option("--metric")],
    source: Annotated[
        str, typer.Option("--source", help="Who states the figure (e.g. SK Kacab 12/2026).")
    ],
    target: Annotated[int | None, typer.Option("--target")] = None,
    realization: Annotated[int | None, typer.Option("--realization")] = None,
    period: PeriodOption = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """State a target (or a reported realization) of one cell."""
    seg, met, span = _segment(segment), _metric(metric), _period(year, period)
    assert seg is not None
    assert met is not None
    if (target is None) == (realization is None):
        raise invalid(
            "target",
            t(
                "isi tepat satu dari --target atau --realization",
                "give exactly one of --target or --realization",
            ),
        )
    kind, value = ("target", target) if target is not None else ("realization", realization)
    assert value is not None
    engine = open_engine(database_url)
    with transaction(engine) as session:
        key = actions.CellKey(office.upper(), span, seg, met)
        figure = actions.record_figure(session, Actor.system(), key, kind, value, source)
        out = {
            "id": figure.id,
            "cell": key.describe(),
            "kind": kind,
            "value": value,
            "source": source,
        }
    if as_json:
        print_json(out)
    else:
        _say(f"{out['cell']}: {kind} {_show(value, met)} ({source})")


@targets_app.command("split")
def split(
    office: OfficeOption,
    year: YearOption,
    segment: Annotated[str, typer.Option("--segment")],
    metric: Annotated[str, typer.Option("--metric")],
    kind: Annotated[str, typer.Option("--kind", help="staff, partner or district.")],
    part: Annotated[
        list[str],
        typer.Option("--part", help="CODE=VALUE, repeat for each part (e.g. ARK01=1200)."),
    ],
    period: PeriodOption = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Split a cell's target among staff, partners or districts (replaces that kind's parts)."""
    seg, met, span = _segment(segment), _metric(metric), _period(year, period)
    assert seg is not None
    assert met is not None
    parts, problems = rules.parse_parts(part)
    if problems:
        raise CakupanError(t("Bagian target tidak valid", "Invalid target parts"), problems)
    engine = open_engine(database_url)
    with transaction(engine) as session:
        key = actions.CellKey(office.upper(), span, seg, met)
        actions.set_split(session, Actor.system(), key, kind, parts)
        result = [
            r
            for r in queries.splits(session, key.office_code, year, period=span)
            if (r.segment, r.metric) == (seg, met)
        ]
    payload = result[0].as_json()
    if as_json:
        print_json(payload)
        return
    for check in payload["splits"]:
        if check["part_kind"] == kind:
            diff = check["difference"]
            _say(
                f"{kind}: {format_number(check['parts_total'])} / target "
                f"{'-' if payload['target'] is None else format_number(payload['target'])}; "
                f"selisih / difference {'-' if diff is None else format_number(diff)}",
            )


@targets_app.command("splits")
def show_splits(
    office: OfficeOption,
    year: YearOption,
    period: PeriodOption = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every split of the office's targets with the parts' total and the difference to the whole."""
    span = _period(year, period)
    engine = open_engine(database_url)
    with transaction(engine) as session:
        rows = [r.as_json() for r in queries.splits(session, office, year, period=span)]
    if as_json:
        print_json({"cells": rows})
        return
    for row in rows:
        for check in row["splits"]:
            mark = "OK" if check["balanced"] else "SELISIH / DIFFERENCE"
            _say(
                f"{row['office_code']} {row['period']} {row['segment']} {row['metric']} "
                f"{check['part_kind']}: {check['parts_total']} vs {row['target']} "
                f"({check['difference']}) {mark}",
            )


@targets_app.command("trend")
def show_trend(
    office: OfficeOption,
    segment: Annotated[str, typer.Option("--segment")],
    metric: Annotated[str, typer.Option("--metric")] = "new_participants",
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Target, realization and achievement year by year, with the realization's yearly change."""
    seg, met = _segment(segment), _metric(metric)
    assert seg is not None
    assert met is not None
    engine = open_engine(database_url)
    with transaction(engine) as session:
        rows = [r.as_json() for r in queries.trend(session, office, seg, met)]
    if as_json:
        print_json({"office_code": office.upper(), "segment": seg, "metric": met, "years": rows})
        return
    for row in rows:
        _say(
            f"{row['year']}: {_show(row['target'], met)} / {_show(row['realization'], met)} "
            f"{row['achievement_percent'] if row['achievement_percent'] is not None else '-'}%"
            f"{' KONFLIK' if row['target_conflict'] or row['realization_conflict'] else ''}",
        )


@targets_app.command("projection")
def show_projection(
    office: OfficeOption,
    year: YearOption,
    segment: Annotated[str, typer.Option("--segment")],
    metric: Annotated[str, typer.Option("--metric")],
    through: Annotated[
        str | None,
        typer.Option(
            "--through", help="Last month of the year to date (default: last full month)."
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Projected year-end realization and achievement from the year to date."""
    seg, met = _segment(segment), _metric(metric)
    assert seg is not None
    assert met is not None
    if through is None:
        last_full = Month.of(today(SystemClock())) + -1
        month = last_full if last_full.year == year else Month(year, 12)
    else:
        try:
            month = Month.parse(through)
        except ValueError as exc:
            raise invalid("through", t("{m}", "{m}").format(m=str(exc))) from None
    engine = open_engine(database_url)
    with transaction(engine) as session:
        payload = queries.projection(session, office, year, seg, met, month).as_json()
    if as_json:
        print_json(payload)
        return
    _say(
        f"{payload['office_code']} {year} {seg} {met}: s/d {payload['through_month']} "
        f"{_show(payload['year_to_date'], met)} -> proyeksi / projected "
        f"{_show(payload['projected_year_end'], met)} ({payload['method']}); capaian / achievement "
        f"{payload['projected_achievement_percent'] if payload['projected_achievement_percent'] is not None else '-'}%",
    )


# --- plans ---------------------------------------------------------------------------------


@plans_app.command("create")
def create_plan(
    office: OfficeOption,
    start: Annotated[
        str, typer.Option("--start", help="Monday of the week, or the 1st of the month.")
    ],
    title: Annotated[str, typer.Option("--title")],
    kind: Annotated[str, typer.Option("--kind", help="week or month.")] = "week",
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a week's or month's plan for an office."""
    first_day = required_date_option(start, "start")
    engine = open_engine(database_url)
    with transaction(engine) as session:
        plan = actions.create_plan(session, Actor.system(), office, kind, first_day, title)
        payload = queries.plan_view(session, plan.id)
    if as_json:
        print_json(payload)
    else:
        _say(f"rencana / plan {plan.id}: {plan.first_day}..{plan.last_day}")


@plans_app.command("add-activity")
def add_activity(
    plan_id: Annotated[int, typer.Argument()],
    activity: Annotated[str, typer.Option("--activity", help="e.g. sosialisasi, visit, letters.")],
    district: Annotated[str, typer.Option("--district", help="District (kecamatan) code.")],
    prospects: Annotated[str, typer.Option("--prospects", help="Who is targeted (e.g. nelayan).")],
    assignee: Annotated[
        str, typer.Option("--assignee", help="KIND:CODE, kind staff/agent/partner.")
    ],
    segment: Annotated[str, typer.Option("--segment")] = "BPU",
    village: Annotated[str | None, typer.Option("--village")] = None,
    on: Annotated[str | None, typer.Option("--on", help="Scheduled date YYYY-MM-DD.")] = None,
    expected_registrations: Annotated[int, typer.Option("--expected-registrations")] = 0,
    expected_contributions: Annotated[int, typer.Option("--expected-contributions")] = 0,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add an activity (where, whom, who, expected results) to a plan."""
    kind, code = _assignee(assignee)
    seg = _segment(segment)
    assert seg is not None
    data = actions.ActivityInput(
        activity=activity,
        district_code=district,
        village_code=village,
        segment=seg,
        prospects=prospects,
        assignee_kind=kind,
        assignee_code=code,
        scheduled_on=required_date_option(on, "on") if on else None,
        expected_registrations=expected_registrations,
        expected_contributions=expected_contributions,
    )
    engine = open_engine(database_url)
    with transaction(engine) as session:
        created = actions.add_activity(session, Actor.system(), plan_id, data)
        payload = {"id": created.id, "plan_id": plan_id}
    if as_json:
        print_json(payload)
    else:
        _say(f"kegiatan / activity {created.id}")


@plans_app.command("edit-activity")
def edit_activity(
    activity_id: Annotated[int, typer.Argument()],
    activity: Annotated[str | None, typer.Option("--activity")] = None,
    district: Annotated[str | None, typer.Option("--district")] = None,
    prospects: Annotated[str | None, typer.Option("--prospects")] = None,
    assignee: Annotated[
        str | None, typer.Option("--assignee", help="KIND:CODE, kind staff/agent/partner.")
    ] = None,
    segment: Annotated[str | None, typer.Option("--segment")] = None,
    village: Annotated[str | None, typer.Option("--village")] = None,
    on: Annotated[str | None, typer.Option("--on", help="Scheduled date YYYY-MM-DD.")] = None,
    expected_registrations: Annotated[int | None, typer.Option("--expected-registrations")] = None,
    expected_contributions: Annotated[int | None, typer.Option("--expected-contributions")] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a planned activity: the options given replace its values (same checks as
    add-activity; audited with before and after)."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        current = actions.get_activity(session, activity_id)
        kind, code = (
            _assignee(assignee) if assignee else (current.assignee_kind, current.assignee_code)
        )
        data = actions.ActivityInput(
            activity=current.activity if activity is None else activity,
            district_code=current.district_code if district is None else district,
            village_code=current.village_code if village is None else village,
            segment=current.segment if segment is None else (_segment(segment) or ""),
            prospects=current.prospects if prospects is None else prospects,
            assignee_kind=kind,
            assignee_code=code,
            scheduled_on=required_date_option(on, "on") if on else current.scheduled_on,
            expected_registrations=(
                current.expected_registrations
                if expected_registrations is None
                else expected_registrations
            ),
            expected_contributions=(
                current.expected_contributions
                if expected_contributions is None
                else expected_contributions
            ),
        )
        changed = actions.update_activity(session, Actor.system(), activity_id, data)
        payload = {"id": changed.id, "plan_id": changed.plan_id}
    if as_json:
        print_json(payload)
    else:
        _say(f"kegiatan / activity {changed.id}")


@plans_app.command("show")
def show_plan(
    plan_id: Annotated[int, typer.Argument()],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """A plan with its activities and what was done for each."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        payload = queries.plan_view(session, plan_id)
    if as_json:
        print_json(payload)
        return
    _say(
        f"{payload['office_code']} {payload['first_day']}..{payload['last_day']}: {payload['title']}",
    )
    for a in payload["activities"]:
        _say(
            f"  {a['id']} {a['activity']} {a['district_code']} {a['segment']} {a['prospects']} "
            f"{a['assignee_kind']}:{a['assignee_code']} rencana {a['expected_registrations']}, "
            f"daftar {a['done']['registration']}",
        )


@plans_app.command("log")
def log_execution(
    office: OfficeOption,
    on: Annotated[str, typer.Option("--on", help="Date done YYYY-MM-DD.")],
    assignee: Annotated[
        str, typer.Option("--assignee", help="KIND:CODE, kind staff/agent/partner.")
    ],
    kind: Annotated[
        str, typer.Option("--kind", help="visit, contact, letter, new_business or registration.")
    ],
    quantity: Annotated[int, typer.Option("--quantity")] = 1,
    activity: Annotated[int | None, typer.Option("--activity", help="Planned activity id.")] = None,
    nik: Annotated[
        str | None, typer.Option("--nik", help="NIK of a registration (links the ledger).")
    ] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record field work in the execution log."""
    assignee_kind, assignee_code = _assignee(assignee)
    done_on = required_date_option(on, "on")
    engine = open_engine(database_url)
    with transaction(engine) as session:
        entry = actions.log_execution(
            session,
            Actor.system(),
            office,
            done_on,
            assignee_kind,
            assignee_code,
            kind,
            quantity=quantity,
            activity_id=activity,
            nik=nik,
            note=note,
        )
        payload = {"id": entry.id}
    if as_json:
        print_json(payload)
    else:
        _say(f"log {entry.id}")


@plans_app.command("executions")
def show_executions(
    office: OfficeOption,
    from_: Annotated[str, typer.Option("--from")],
    to: Annotated[str, typer.Option("--to")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """The execution log between two dates, registrations linked to the ledger by NIK."""
    first_day, last_day = required_date_option(from_, "from"), required_date_option(to, "to")
    engine = open_engine(database_url)
    with transaction(engine) as session:
        entries = queries.execution_log(session, office, first_day, last_day)
    if as_json:
        print_json({"entries": entries})
        return
    for e in entries:
        _say(
            f"{e['done_on']} {e['assignee_kind']}:{e['assignee_code']} {e['kind']} x{e['quantity']}",
        )


# --- reviews -------------------------------------------------------------------------------


def _print_review(payload: dict[str, Any]) -> None:
    _say(
        f"{payload['office_code']} {payload['week_start']}..{payload['week_end']} "
        f"(rapat / held {payload['held_on']})",
    )
    for note in payload["notes"]:
        _say(f"  [{note['kind']}] {note['text']}")
    for action in payload["actions"]:
        _say(
            f"  #{action['id']} {action['status']}: {action['description']} - {action['owner']} "
            f"({action['due_on']}){' TERLAMBAT/OVERDUE' if action['overdue'] else ''}",
        )


@reviews_app.command("open")
def open_review(
    office: OfficeOption,
    week: Annotated[str, typer.Option("--week", help="Any date of the week reviewed.")],
    held_on: Annotated[str | None, typer.Option("--held-on")] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open (or return) the weekly review of an office; open actions carry over onto it."""
    week_of = required_date_option(week, "week")
    held = required_date_option(held_on, "held_on") if held_on else today(SystemClock())
    engine = open_engine(database_url)
    with transaction(engine) as session:
        review = actions.open_review(session, Actor.system(), office, week_of, held)
        payload = queries.review_view(session, review.id).as_json()
    if as_json:
        print_json(payload)
    else:
        _print_review(payload)


@reviews_app.command("note")
def add_note(
    review_id: Annotated[int, typer.Argument()],
    kind: Annotated[str, typer.Option("--kind", help="problem, solution or decision.")],
    text: Annotated[str, typer.Option("--text")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a problem, solution or decision in a review."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        note = actions.add_note(session, Actor.system(), review_id, kind, text)
        payload = {"id": note.id}
    if as_json:
        print_json(payload)
    else:
        _say(f"catatan / note {note.id}")


@reviews_app.command("action")
def raise_action(
    review_id: Annotated[int, typer.Argument()],
    description: Annotated[str, typer.Option("--description")],
    owner: Annotated[str, typer.Option("--owner")],
    due: Annotated[str, typer.Option("--due", help="Due date YYYY-MM-DD.")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a follow-up action with its owner and due date."""
    due_on = required_date_option(due, "due")
    engine = open_engine(database_url)
    with transaction(engine) as session:
        action = actions.raise_action(
            session, Actor.system(), review_id, description, owner, due_on
        )
        payload = {"id": action.id}
    if as_json:
        print_json(payload)
    else:
        _say(f"tindak lanjut / action {action.id}")


@reviews_app.command("close-action")
def close_action(
    action_id: Annotated[int, typer.Argument()],
    review: Annotated[int, typer.Option("--review", help="The review in which it is closed.")],
    resolution: Annotated[str, typer.Option("--resolution")],
    on: Annotated[str | None, typer.Option("--on")] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close a follow-up action."""
    closed_on = required_date_option(on, "on") if on else today(SystemClock())
    engine = open_engine(database_url)
    with transaction(engine) as session:
        action = actions.close_action(
            session, Actor.system(), action_id, review, closed_on, resolution
        )
        payload = {"id": action.id, "closed_on": closed_on.isoformat()}
    if as_json:
        print_json(payload)
    else:
        _say(f"ditutup / closed {action.id}")


@reviews_app.command("show")
def show_review(
    review_id: Annotated[int, typer.Argument()],
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="Also write the review as XLSX.")
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """A review: notes, actions (new, carried over, closed) and the week's assessment."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        view = queries.review_view(session, review_id)
        payload = view.as_json()
        if xlsx:
            exports.save(exports.review_workbook(view), xlsx)
    if as_json:
        print_json(payload)
    else:
        _print_review(payload)
