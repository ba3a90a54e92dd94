"""Segments and market potential: a segment's rule as SQL over the registry, the potential file
import, and coverage (potential, registered, active, coverage %, gap) per segment and area."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    and_,
    case,
    distinct,
    false,
    func,
    not_,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy import Integer as SAInteger
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.campaigns.models import MarketPotential, OccupationGroupMember, Segment
from cakupan.campaigns.rules import Condition, SegmentRule, area_level, parse_segment_rule
from cakupan.dates import Clock, Month, SystemClock
from cakupan.errors import CakupanError, FieldProblem, not_found
from cakupan.i18n import Text, t
from cakupan.imports import ImportResult, in_batches, open_records, post_file
from cakupan.money import ratio_percent
from cakupan.registry.models import Membership, Occupation, Participant

__all__ = [
    "CoverageRow",
    "SegmentView",
    "area_condition",
    "coverage",
    "define_segment",
    "get_segment",
    "import_potential",
    "list_segments",
    "segment_condition",
]


# -- reading segments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentView:
    code: str
    name_id: str
    name_en: str
    rule: SegmentRule
    partner_institutions: list[str]
    channels: list[str]
    media: list[str]
    source: str
    shipped: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name_id": self.name_id,
            "name_en": self.name_en,
            "rule": self.rule.as_json(),
            "partner_institutions": self.partner_institutions,
            "channels": self.channels,
            "media": self.media,
            "source": self.source,
            "shipped": self.shipped,
        }


def _view(row: Segment) -> SegmentView:
    rule, problems = parse_segment_rule(row.rule)
    assert rule is not None, problems  # stored rules were checked by define_segment / the loader
    return SegmentView(
        row.code,
        row.name_id,
        row.name_en,
        rule,
        list(row.partner_institutions),
        list(row.channels),
        list(row.media),
        row.source,
        row.shipped,
    )


def list_segments(session: Session) -> list[SegmentView]:
    """Every segment, by code."""
    return [_view(row) for row in session.scalars(select(Segment).order_by(Segment.code))]


def get_segment(session: Session, code: str) -> SegmentView:
    """One segment; NOT_FOUND when the code is unknown."""
    row = session.get(Segment, code)
    if row is None:
        raise not_found(t("segmen {c!r} tidak ditemukan", "segment {c!r} not found").format(c=code))
    return _view(row)


# -- a rule as SQL ---------------------------------------------------------------------------------


def area_condition(codes: Sequence[str]) -> ColumnElement[bool]:
    """Participants living in any of the dotted area codes (province, regency, district or
    village): one comparison per code on the participant's own columns, no join."""
    parts: list[ColumnElement[bool]] = []
    for code in codes:
        level = area_level(code)
        if level == "village":
            parts.append(Participant.village_code == code)
        elif level == "district":
            parts.append(Participant.district_code == code)
        elif level == "regency":
            parts.append(Participant.regency_code == code)
        elif level == "province":
            parts.append(func.substr(Participant.regency_code, 1, 2) == code)
    return or_(*parts) if parts else false()


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _condition_sql(
    condition: Condition, as_of: date, groups: dict[str, list[str]]
) -> ColumnElement[bool]:
    expr: ColumnElement[bool]
    if condition.field == "age":
        parts = []
        if condition.low is not None:
            parts.append(Participant.birth_date <= _years_before(as_of, condition.low))
        if condition.high is not None:
            parts.append(Participant.birth_date > _years_before(as_of, condition.high + 1))
        return and_(true(), *parts)
    if condition.field == "reported_income":
        parts = []
        if condition.low is not None:
            parts.append(Participant.reported_income >= condition.low)
        if condition.high is not None:
            parts.append(Participant.reported_income <= condition.high)
        return and_(true(), *parts)
    if condition.field == "area":
        expr = area_condition(condition.values)
    elif condition.field == "occupation_group":
        codes = sorted({code for group in condition.values for code in groups.get(group, [])})
        expr = Participant.occupation.in_(codes) if codes else false()
    elif condition.field == "occupation":
        expr = Participant.occupation.in_(condition.values)
    elif condition.field == "sex":
        expr = Participant.sex.in_(condition.values)
    else:  # channel
        expr = Participant.channel.in_(condition.values)
    return not_(expr) if condition.op == "not_in" else expr


def occupation_groups(session: Session) -> dict[str, list[str]]:
    """Occupation codes per occupation group."""
    groups: dict[str, list[str]] = defaultdict(list)
    for group, occupation in session.execute(
        select(OccupationGroupMember.group_code, OccupationGroupMember.occupation_code)
    ):
        groups[group].append(occupation)
    return dict(groups)


def segment_condition(session: Session, rule: SegmentRule, as_of: date) -> ColumnElement[bool]:
    """The segment's rule as a WHERE clause over ``participant`` (ages are counted on ``as_of``)."""
    groups = occupation_groups(session)
    expr: ColumnElement[bool] = and_(true(), *(_condition_sql(c, as_of, groups) for c in rule.all))
    if rule.any:
        expr = and_(expr, or_(*(_condition_sql(c, as_of, groups) for c in rule.any)))
    return expr


# -- writing segments ------------------------------------------------------------------------------


def define_segment(
    session: Session,
    actor: Actor,
    definition: dict[str, Any],
    *,
    clock: Clock | None = None,
) -> SegmentView:
    """Create or replace a custom segment from a JSON definition (``code``, ``name_id``,
    ``name_en``, ``rule``, and optionally ``partner_institutions``, ``channels``, ``media``,
    ``source``). Raises INVALID naming every bad field (unknown occupation, group, area...)."""
    clock = clock or SystemClock()
    problems: list[tuple[str, Text]] = []
    code = definition.get("code")
    if not isinstance(code, str) or not code.strip() or len(code) > 40:
        problems.append(
            ("code", t("kode 1-40 karakter wajib", "a code of 1-40 characters is required"))
        )
        code = str(code)
    for key in ("name_id", "name_en"):
        if not isinstance(definition.get(key), str) or not definition[key].strip():
            problems.append((key, t("wajib diisi", "required")))
    rule, rule_problems = parse_segment_rule(definition.get("rule"))
    problems += rule_problems
    lists: dict[str, list[str]] = {}
    for key in ("partner_institutions", "channels", "media"):
        value = definition.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append((key, t("harus daftar teks", "must be a list of texts")))
            value = []
        lists[key] = value
    if rule is not None:
        problems += _unknown_codes(session, rule)
    if problems:
        raise CakupanError(
            title=t("Segmen tidak valid", "Invalid segment"),
            problems=[FieldProblem(field=f, message=m, record=code) for f, m in problems],
        )
    assert rule is not None
    existing = session.get(Segment, code)
    before = _view(existing).as_json() if existing is not None else None
    row = existing or Segment(code=code, shipped=False, created_at=clock.now())
    row.name_id = definition["name_id"].strip()
    row.name_en = definition["name_en"].strip()
    row.rule = rule.as_json()
    row.partner_institutions = lists["partner_institutions"]
    row.channels = lists["channels"]
    row.media = lists["media"]
    row.source = str(definition.get("source") or f"defined by {actor.name}")
    if existing is None:
        session.add(row)
    session.flush()
    view = _view(row)
    record_audit(
        session, actor, "segment.define", "segment", code, before=before, after=view.as_json()
    )
    return view


def _unknown_codes(session: Session, rule: SegmentRule) -> list[tuple[str, Text]]:
    problems: list[tuple[str, Text]] = []
    occupations = set(session.scalars(select(Occupation.code)))
    groups = set(occupation_groups(session))
    for group_name, conditions in (("all", rule.all), ("any", rule.any)):
        for i, c in enumerate(conditions):
            known = {"occupation": occupations, "occupation_group": groups}.get(c.field)
            if known is None:
                continue
            unknown = [v for v in c.values if v not in known]
            if unknown:
                problems.append(
                    (
                        f"rule.{group_name}[{i}].value",
                        t("kode {f} tidak dikenal: {v}", "unknown {f} codes: {v}").format(
                            f=c.field, v=", ".join(unknown)
                        ),
                    )
                )
    return problems


def load_segment_file(path: Path) -> dict[str, Any]:
    """Read a segment definition from a JSON file (INVALID when unreadable)."""
    from cakupan.errors import invalid

    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise invalid(
            "file",
            t("berkas segmen tidak terbaca: {e}", "cannot read the segment file: {e}").format(
                e=error
            ),
            record=path.name,
        ) from None
    if not isinstance(data, dict):
        raise invalid("file", t("harus objek JSON", "must be a JSON object"), record=path.name)
    return data


# -- market potential ------------------------------------------------------------------------------

POTENTIAL_COLUMNS = ("area_code", "segment", "year", "potential", "source")


def import_potential(
    engine: Engine, actor: Actor, path: Path | str, *, partial: bool = False
) -> ImportResult:
    """Import market potential per segment and area (columns ``area_code, segment, year,
    potential, source``; docs/campaigns.md). A row equal to the stored one is a duplicate; a
    changed figure for the same segment, area and year replaces it (and counts as accepted)."""
    with open_records(path, required=POTENTIAL_COLUMNS) as records:

        def post(session: Session, result: ImportResult) -> None:
            segments = set(session.scalars(select(Segment.code)))
            seen: dict[tuple[str, str, int], int] = {}
            for batch in in_batches(records, 1000):
                keys = []
                parsed = []
                for record in batch:
                    problems = record.shape_problems()
                    area = record["area_code"]
                    if area_level(area) is None:
                        problems.append(
                            (
                                "area_code",
                                t(
                                    "kode wilayah PP, PP.RR, PP.RR.DD atau PP.RR.DD.VVVV, diterima {v!r}",
                                    "expected an area code PP, PP.RR, PP.RR.DD or PP.RR.DD.VVVV, got {v!r}",
                                ).format(v=area),
                            )
                        )
                    segment = record["segment"]
                    if segment not in segments:
                        problems.append(
                            (
                                "segment",
                                t("segmen {v!r} tidak dikenal", "unknown segment {v!r}").format(
                                    v=segment
                                ),
                            )
                        )
                    year = _int_cell(record["year"], 1990, 2100, "year", problems)
                    potential = _int_cell(record["potential"], 0, 10**9, "potential", problems)
                    source = record["source"]
                    if not source:
                        problems.append(
                            ("source", t("sumber data wajib diisi", "the data source is required"))
                        )
                    if not problems:
                        key = (segment, area, year)
                        if key in seen:
                            problems.append(
                                (
                                    "area_code",
                                    t(
                                        "segmen, wilayah dan tahun sama dengan baris {r}",
                                        "same segment, area and year as row {r}",
                                    ).format(r=seen[key]),
                                )
                            )
                        seen[key] = record.row
                    if problems:
                        result.reject(record.row, problems)
                        continue
                    keys.append((segment, area))
                    parsed.append((record.row, segment, area, year, potential, source[:400]))
                stored = {
                    (r.segment_code, r.area_code, r.year): r
                    for r in session.scalars(
                        select(MarketPotential).where(
                            MarketPotential.area_code.in_({a for _, a in keys})
                        )
                    )
                }
                for _, segment, area, year, potential, source in parsed:
                    old = stored.get((segment, area, year))
                    if old is not None and old.potential == potential and old.source == source:
                        result.duplicates += 1
                        continue
                    if old is not None:
                        old.potential, old.source = potential, source
                    else:
                        session.add(
                            MarketPotential(
                                segment_code=segment,
                                area_code=area,
                                year=year,
                                potential=potential,
                                source=source,
                            )
                        )
                    result.accepted += 1
                session.flush()

        return post_file(engine, actor, "market_potential", records.source, post, partial=partial)


def _int_cell(value: str, low: int, high: int, field: str, problems: list[tuple[str, Text]]) -> int:
    if value.isdigit() and low <= int(value) <= high:
        return int(value)
    problems.append(
        (
            field,
            t(
                "bilangan bulat {lo}-{hi} diharapkan, diterima {v!r}",
                "expected a whole number {lo}-{hi}, got {v!r}",
            ).format(lo=low, hi=high, v=value),
        )
    )
    return 0


# -- coverage --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageRow:
    """Potential against the ledger for one segment and area. ``registered``: participants of the
    segment in the area registered on or before the date; ``active``: those whose paid-through
    month is on or after the date's month (D-3); ``gap`` = potential - active (never below 0)."""

    segment: str
    area: str
    year: int
    potential: int
    registered: int
    active: int

    @property
    def gap(self) -> int:
        return max(0, self.potential - self.active)

    @property
    def coverage_percent(self) -> float | None:
        return ratio_percent(self.active, self.potential)

    def as_json(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "area": self.area,
            "year": self.year,
            "potential": self.potential,
            "registered": self.registered,
            "active": self.active,
            "coverage_percent": self.coverage_percent,
            "gap": self.gap,
        }


def coverage(
    session: Session,
    as_of: date,
    *,
    segment: str | None = None,
    area_prefix: str | None = None,
) -> list[CoverageRow]:
    """Coverage of every potential row (the latest year on or before ``as_of`` per segment and
    area), optionally of one segment and of areas under a prefix. One grouped query per segment
    counts its participants per village and district; areas are rolled up from those groups."""
    latest = (
        select(
            MarketPotential.segment_code,
            MarketPotential.area_code,
            func.max(MarketPotential.year).label("year"),
        )
        .where(MarketPotential.year <= as_of.year)
        .group_by(MarketPotential.segment_code, MarketPotential.area_code)
        .subquery()
    )
    query = select(MarketPotential).join(
        latest,
        and_(
            MarketPotential.segment_code == latest.c.segment_code,
            MarketPotential.area_code == latest.c.area_code,
            MarketPotential.year == latest.c.year,
        ),
    )
    if segment is not None:
        get_segment(session, segment)
        query = query.where(MarketPotential.segment_code == segment)
    if area_prefix is not None:
        query = query.where(
            or_(
                MarketPotential.area_code == area_prefix,
                MarketPotential.area_code.startswith(area_prefix + "."),
            )
        )
    potentials = list(
        session.scalars(query.order_by(MarketPotential.segment_code, MarketPotential.area_code))
    )
    by_segment: dict[str, list[MarketPotential]] = defaultdict(list)
    for row in potentials:
        by_segment[row.segment_code].append(row)
    out: list[CoverageRow] = []
    for code, rows in by_segment.items():
        totals = _rolled_up(_segment_counts(session, get_segment(session, code).rule, as_of))
        for row in rows:
            registered, active = totals.get(row.area_code, (0, 0))
            out.append(
                CoverageRow(code, row.area_code, row.year, row.potential, registered, active)
            )
    return out


def _rolled_up(
    groups: dict[tuple[str | None, str | None], tuple[int, int]],
) -> dict[str, tuple[int, int]]:
    """Counts per village, district, regency and province from the per-(district, village)
    groups: one pass over the groups, then one lookup per potential row."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (district, village), (registered, active) in groups.items():
        codes = [village] if village else []
        if district:
            codes += [district, district[:5], district[:2]]
        for code in codes:
            totals[code][0] += registered
            totals[code][1] += active
    return {code: (values[0], values[1]) for code, values in totals.items()}


def _segment_counts(
    session: Session, rule: SegmentRule, as_of: date
) -> dict[tuple[str | None, str | None], tuple[int, int]]:
    month = Month.of(as_of).index
    paid_through = type_coerce(Membership.paid_through_month, SAInteger)
    active = case(
        (and_(paid_through >= month, Membership.registered_on <= as_of), Participant.id),
        else_=None,
    )
    query = (
        select(
            Participant.district_code,
            Participant.village_code,
            func.count(distinct(Participant.id)),
            func.count(distinct(active)),
        )
        .select_from(Participant)
        .outerjoin(Membership, Membership.participant_id == Participant.id)
        .where(segment_condition(session, rule, as_of), Participant.registered_on <= as_of)
        .group_by(Participant.district_code, Participant.village_code)
    )
    return {(d, v): (int(r), int(a)) for d, v, r, a in session.execute(query)}
