"""Pure rules of targets and the performance cycle: periods, figure rows, conflicts between
sources, achievement, splits, trend, year-end projection, review carry-over and weekly
assessment. No database, no clock, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from cakupan.dates import Month
from cakupan.errors import FieldProblem
from cakupan.i18n import Text, t
from cakupan.money import ratio_percent, round_half_up

SEGMENTS = ("BPU", "PU", "JAKON")
METRICS = ("new_participants", "active_participants", "contributions", "reacquired")
#: Metrics counted over the period (they add up month by month); the others are a stock at the
#: period's end.
FLOW_METRICS = frozenset({"new_participants", "contributions", "reacquired"})
FIGURE_KINDS = ("target", "realization")
PART_KINDS = ("staff", "partner", "district")
#: Parts that come from the office hierarchy (targets of the offices below), not from a split.
HIERARCHY_PART_KINDS = ("region", "branch")
ASSIGNEE_KINDS = ("staff", "agent", "partner")
EXECUTION_KINDS = ("visit", "contact", "letter", "new_business", "registration")
NOTE_KINDS = ("problem", "solution", "decision")
PLAN_KINDS = ("week", "month")

IMPORT_COLUMNS = ("office_code", "year", "segment", "metric", "target", "realization", "source")
#: Optional columns: the part of the year the figures cover (empty = the whole year), and the
#: achievement percentage the source itself states (checked against its figures, never used).
OPTIONAL_IMPORT_COLUMNS = ("period", "achievement_percent")

_OFFICE_RE = re.compile(r"^[A-Z0-9_.-]{2,20}$")
_QUARTER_RE = re.compile(r"^Q([1-4])$")
_MONTH_NUMBER_RE = re.compile(r"^(0?[1-9]|1[0-2])$")
_RANGE_RE = re.compile(r"^(\d{4}-\d{2})\.\.(\d{4}-\d{2})$")
_PERCENT_RE = re.compile(r"^(\d{1,5})(?:[.,](\d{1,2}))?\s*%?$")

RealizationSource = Literal["ledger", "reported"]
#: What an actor wants to do for an office: read, set targets and splits, plan and log field
#: work, or hold the weekly review.
Purpose = Literal["read", "targets", "cycle", "review"]

NATIONAL = "NATIONAL"
_EVERYWHERE = frozenset({"admin", "head_office", "system"})
_BRANCH_STAFF = frozenset({"ark", "ar", "pap"})


def office_permission(
    role: str,
    actor_branch: str | None,
    actor_region: str | None,
    office_code: str,
    region_of_office: str | None,
    purpose: Purpose,
) -> bool:
    """Whether a role may do ``purpose`` for an office (``region_of_office``: the region of the
    office when it is a branch).

    - admin, head office, system: everything, everywhere; auditor: read everywhere.
    - regional: read and set targets for its region and the region's branches; plan and review
      its own regional office.
    - kabid (head of membership): everything for its branch.
    - ARK, AR, PAP: read, plan/log field work and take part in the review of their branch.
    - partners, agents and roles without their scope code: nothing (fail closed).
    """
    if role in _EVERYWHERE:
        return True
    if role == "auditor":
        return purpose == "read"
    if role == "regional" and actor_region:
        if office_code == actor_region:
            return True
        return region_of_office == actor_region and purpose in ("read", "targets")
    if role == "kabid" and actor_branch:
        return office_code == actor_branch
    if role in _BRANCH_STAFF and actor_branch:
        return office_code == actor_branch and purpose in ("read", "cycle", "review")
    return False


# --- periods -------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    """A span of whole months inside one calendar year."""

    year: int
    first: Month
    last: Month

    @classmethod
    def whole_year(cls, year: int) -> Period:
        return cls(year, Month(year, 1), Month(year, 12))

    @property
    def is_whole_year(self) -> bool:
        return self.first.month == 1 and self.last.month == 12

    @property
    def label(self) -> str:
        """``2020`` for a year, ``2020-Q1`` for a quarter, ``2020-03`` for a month, else
        ``2022-01..2022-07``."""
        if self.is_whole_year:
            return str(self.year)
        if self.first == self.last:
            return str(self.first)
        if self.first.month % 3 == 1 and self.last - self.first == 2:
            return f"{self.year}-Q{(self.first.month + 2) // 3}"
        return f"{self.first}..{self.last}"

    @property
    def first_day(self) -> date:
        return self.first.first_day

    @property
    def last_day(self) -> date:
        return self.last.last_day


def parse_parts(items: Iterable[str]) -> tuple[dict[str, int], list[FieldProblem]]:
    """The parts of a split as people give them, one ``CODE=VALUE`` each (``ARK01=1200``; the
    value may be typed ``1.200``): the parts by code and a problem per item that is not such a
    part (empty code, not a whole number >= 0, or a code given twice). Blank items are skipped.
    The CLI's ``--part`` options and the targets page's lines go through it."""
    parts: dict[str, int] = {}
    problems: list[FieldProblem] = []
    for item in items:
        if not item.strip():
            continue
        code, _, value = item.partition("=")
        number = value.strip().replace(".", "")
        if not code.strip() or not number.isdigit() or code.strip() in parts:
            problems.append(
                FieldProblem(
                    field="part",
                    record=item.strip(),
                    message=t(
                        "harus KODE=NILAI (bilangan bulat >= 0, kode tidak berulang)",
                        "expected CODE=VALUE (a whole number >= 0, codes not repeated)",
                    ),
                )
            )
            continue
        parts[code.strip()] = int(number)
    return parts, problems


def parse_period(year: int, text: str | None) -> Period:
    """The period of ``year`` that ``text`` names: empty or ``year`` for the whole year,
    ``Q1``-``Q4``, a month number ``1``-``12`` or ``YYYY-MM``, or a range ``YYYY-MM..YYYY-MM``
    inside the year. Raises ``ValueError`` with a readable reason."""
    raw = (text or "").strip()
    if raw in ("", "year", str(year)):
        return Period.whole_year(year)
    if match := _QUARTER_RE.match(raw.upper()):
        quarter = int(match.group(1))
        first = Month(year, quarter * 3 - 2)
        return Period(year, first, first + 2)
    if _MONTH_NUMBER_RE.match(raw):
        month = Month(year, int(raw))
        return Period(year, month, month)
    if match := _RANGE_RE.match(raw):
        first, last = Month.parse(match.group(1)), Month.parse(match.group(2))
    else:
        try:
            first = last = Month.parse(raw)
        except ValueError:
            raise ValueError(
                f"expected empty (whole year), Q1-Q4, a month 1-12 or YYYY-MM, "
                f"or YYYY-MM..YYYY-MM, got {raw!r}"
            ) from None
    if first.year != year or last.year != year:
        raise ValueError(f"period {raw!r} is not inside the year {year}")
    if last < first:
        raise ValueError(f"period {raw!r} ends before it starts")
    return Period(year, first, last)


def week_start(day: date) -> date:
    """The Monday of the week ``day`` falls in (reviews run Monday to Sunday)."""
    return day - timedelta(days=day.weekday())


# --- figure rows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureRow:
    """One valid row of a figures file: the cell, and the target and/or realization a source
    states for it."""

    office_code: str
    period: Period
    segment: str
    metric: str
    target: int | None
    realization: int | None
    source: str
    stated_percent: str | None = None

    def figures(self) -> list[tuple[str, int]]:
        """``(kind, value)`` for each figure the row states."""
        out: list[tuple[str, int]] = []
        if self.target is not None:
            out.append(("target", self.target))
        if self.realization is not None:
            out.append(("realization", self.realization))
        return out


def _problem(row: int, field_name: str, message: Text) -> FieldProblem:
    return FieldProblem(field=field_name, message=message, row=row)


def _parse_count(row: int, field_name: str, raw: str, problems: list[FieldProblem]) -> int | None:
    text = raw.strip().replace(" ", "")
    if text == "":
        return None
    if not text.isdigit():
        problems.append(
            _problem(
                row,
                field_name,
                t(
                    "harus bilangan bulat >= 0 tanpa pemisah ribuan, didapat {got!r}",
                    "expected a whole number >= 0 without thousands separators, got {got!r}",
                ).format(got=raw),
            )
        )
        return None
    return int(text)


def parse_figure_row(row: int, values: Mapping[str, str | None]) -> FigureRow | list[FieldProblem]:
    """Validate one row of a figures file (``row`` is its 1-based data row number); every
    problem of the row is reported, each naming the field, what was expected and what came."""
    problems: list[FieldProblem] = []

    def get(name: str) -> str:
        return (values.get(name) or "").strip()

    office = get("office_code").upper()
    if not _OFFICE_RE.match(office):
        problems.append(
            _problem(
                row,
                "office_code",
                t(
                    "harus kode kantor (2-20 huruf/angka, mis. PLG, SUMBAGSEL, NATIONAL), "
                    "didapat {got!r}",
                    "expected an office code (2-20 letters/digits, e.g. PLG, SUMBAGSEL, "
                    "NATIONAL), got {got!r}",
                ).format(got=get("office_code")),
            )
        )
    year_text = get("year")
    year: int | None = None
    if re.fullmatch(r"\d{4}", year_text) and 1990 <= int(year_text) <= 2100:
        year = int(year_text)
    else:
        problems.append(
            _problem(
                row,
                "year",
                t(
                    "harus tahun YYYY (1990-2100), didapat {got!r}",
                    "expected a year YYYY (1990-2100), got {got!r}",
                ).format(got=year_text),
            )
        )
    segment = get("segment").upper()
    if segment not in SEGMENTS:
        problems.append(
            _problem(
                row,
                "segment",
                t(
                    "harus salah satu dari {options}, didapat {got!r}",
                    "expected one of {options}, got {got!r}",
                ).format(options=", ".join(SEGMENTS), got=get("segment")),
            )
        )
    metric = get("metric").lower()
    if metric not in METRICS:
        problems.append(
            _problem(
                row,
                "metric",
                t(
                    "harus salah satu dari {options}, didapat {got!r}",
                    "expected one of {options}, got {got!r}",
                ).format(options=", ".join(METRICS), got=get("metric")),
            )
        )
    target = _parse_count(row, "target", get("target"), problems)
    realization = _parse_count(row, "realization", get("realization"), problems)
    stated = get("achievement_percent")
    stated_percent: str | None = None
    if stated:
        match = _PERCENT_RE.match(stated)
        if match:
            stated_percent = match.group(1) + (f".{match.group(2)}" if match.group(2) else "")
        else:
            problems.append(
                _problem(
                    row,
                    "achievement_percent",
                    t(
                        "harus persentase seperti 97.4 atau 102 (maks. 2 desimal), didapat {got!r}",
                        "expected a percentage such as 97.4 or 102 (at most 2 decimals), got {got!r}",
                    ).format(got=stated),
                )
            )
    if get("target") == "" and get("realization") == "" and not stated:
        problems.append(
            _problem(
                row,
                "target",
                t(
                    "target, realisasi atau persentase capaian harus diisi (semua kosong)",
                    "a target, a realization or an achievement percentage is required "
                    "(all are empty)",
                ),
            )
        )
    source = get("source")
    if not source or len(source) > 200:
        problems.append(
            _problem(
                row,
                "source",
                t(
                    "harus nama sumber angka (1-200 karakter), didapat {got!r}",
                    "expected the name of the figures' source (1-200 characters), got {got!r}",
                ).format(got=source),
            )
        )
    period: Period | None = None
    if year is not None:
        try:
            period = parse_period(year, get("period"))
        except ValueError as exc:
            problems.append(_problem(row, "period", t("{msg}", "{msg}").format(msg=str(exc))))
    if problems or period is None:
        return problems
    return FigureRow(office, period, segment, metric, target, realization, source, stated_percent)


# --- resolving a cell ----------------------------------------------------------------------


@dataclass(frozen=True)
class SourcedValue:
    value: int
    source: str


@dataclass(frozen=True)
class Resolved:
    """A cell's figure of one kind: the agreed value (all sources say the same), or None with
    the disagreeing values listed in ``conflict``."""

    value: int | None
    sources: tuple[str, ...] = ()
    conflict: tuple[SourcedValue, ...] = ()
    #: the source a person chose to count when the sources disagree (its value is ``value``;
    #: the conflict stays listed)
    chosen: str | None = None

    @property
    def is_conflict(self) -> bool:
        return bool(self.conflict)


def resolve(figures: Iterable[SourcedValue], chosen: str | None = None) -> Resolved:
    """Agreement of the sources of one figure: a value when every source gives the same one,
    else no value and every source's value (sorted by value, then source). Never picks one by
    itself: when sources disagree and a person chose ``chosen`` (one of them), its value counts
    and the other figures stay listed."""
    items = sorted(figures, key=lambda f: (f.value, f.source))
    if not items:
        return Resolved(None)
    if len({f.value for f in items}) == 1:
        return Resolved(items[0].value, tuple(f.source for f in items))
    picked = [f for f in items if f.source == chosen]
    value = picked[0].value if picked else None
    return Resolved(value, tuple(f.source for f in items), tuple(items), chosen if picked else None)


def achievement_percent(realization: int | None, target: int | None) -> float | None:
    """Realization / target in percent, one decimal, half up; None when either is unknown or
    the target is zero."""
    if realization is None or target is None:
        return None
    return ratio_percent(realization, target, 1)


@dataclass(frozen=True)
class StatedCheck:
    """One pair of a cell's target and realization figures against a stated percentage."""

    target: SourcedValue
    realization: SourcedValue
    computed_percent: float | None
    consistent: bool


def stated_matches(stated: str, realization: int, target: int) -> bool:
    """Whether a percentage as a source prints it (``"97.4"``, ``"102"``) can come from these
    figures: it differs from the exact ratio by less than one unit of its last printed digit
    (so both rounding and truncation by the source are accepted)."""
    if target == 0:
        return False
    value = Decimal(stated)
    exponent = value.as_tuple().exponent
    unit = Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)
    exact = Decimal(realization) * 100 / Decimal(target)
    return abs(exact - value) < unit


def check_stated(
    stated: str, targets: Sequence[SourcedValue], realizations: Sequence[SourcedValue]
) -> list[StatedCheck]:
    """Every (target, realization) pair of the cell's sources against a stated percentage: which
    figures the percentage is consistent with (a hint for which source of a conflict is right)."""
    return [
        StatedCheck(
            target,
            realization,
            achievement_percent(realization.value, target.value),
            stated_matches(stated, realization.value, target.value),
        )
        for target in sorted(targets, key=lambda f: (f.value, f.source))
        for realization in sorted(realizations, key=lambda f: (f.value, f.source))
    ]


# --- splits --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SplitCheck:
    part_kind: str
    parts: tuple[tuple[str, int], ...]
    parts_total: int
    whole: int | None
    #: None when the whole is unknown or in conflict, or some part is in conflict
    difference: int | None
    #: parts whose own target is in conflict between sources (not counted in the total)
    unresolved: tuple[str, ...] = ()

    @property
    def balanced(self) -> bool:
        return self.difference == 0


def check_split(
    part_kind: str,
    parts: Mapping[str, int],
    whole: int | None,
    unresolved: Sequence[str] = (),
) -> SplitCheck:
    """How the parts of one kind compare with the whole target: their total and the difference
    still unassigned (positive) or over-assigned (negative); no difference when the whole is
    unknown or a part's own target is in conflict (``unresolved``)."""
    ordered = tuple(sorted(parts.items()))
    total = sum(parts.values())
    difference = None if whole is None or unresolved else whole - total
    return SplitCheck(part_kind, ordered, total, whole, difference, tuple(sorted(unresolved)))


def prorate(value: int, days: int, of_days: int) -> int:
    """``value`` scaled to ``days`` out of ``of_days`` (whole units, half up)."""
    if of_days <= 0:
        return 0
    return round_half_up(Decimal(value) * days / Decimal(of_days))


# --- trend and projection ------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    year: int
    target: int | None
    realization: int | None
    achievement_percent: float | None
    realization_change_percent: float | None  # vs the previous year in the series


def trend(points: Sequence[tuple[int, int | None, int | None]]) -> list[TrendPoint]:
    """Year-by-year series ``(year, target, realization)`` with achievement and the change of the
    realization against the previous year present in the series (None when unknown)."""
    out: list[TrendPoint] = []
    previous: int | None = None
    for year, target, realization in sorted(points):
        change = None
        if previous is not None and realization is not None and previous != 0:
            change = ratio_percent(realization - previous, previous, 1)
        out.append(
            TrendPoint(year, target, realization, achievement_percent(realization, target), change)
        )
        previous = realization
    return out


@dataclass(frozen=True)
class Projection:
    through_month: int
    year_to_date: int
    projected: int
    method: str
    seasonal_share_percent: float | None = None
    prior_years_used: tuple[int, ...] = field(default_factory=tuple)


def project_year_end(
    metric: str,
    this_year: Sequence[int],
    prior_years: Mapping[int, Sequence[int]] | None = None,
) -> Projection:
    """Projected year-end realization from the monthly figures of the year so far.

    ``this_year`` holds one figure per month from January (a flow for counted metrics: new
    participants, contributions, re-acquired; the month-end stock for active participants).

    - Stock metric (``active_participants``): the latest month-end value ("carry forward").
    - Flow metrics with complete prior years (12 figures, January and December not zero, so a
      year in which the ledger went live part-way is left out): seasonal run-rate. The share of a
      year's total that the prior years had reached by the same month (their totals summed) is
      the seasonal share; projected = year to date / share.
    - Otherwise (or when prior years give no share): linear run-rate, year to date * 12 / months.
    Results are whole units, rounded half up.
    """
    months = len(this_year)
    if not 1 <= months <= 12:
        raise ValueError(f"expected 1-12 monthly figures, got {months}")
    if metric not in FLOW_METRICS:
        return Projection(months, this_year[-1], this_year[-1], "carry_forward")
    ytd = sum(this_year)
    usable = {
        year: list(series)
        for year, series in (prior_years or {}).items()
        if len(series) == 12 and series[0] > 0 and series[-1] > 0
    }
    if usable and months < 12:
        reached = sum(sum(series[:months]) for series in usable.values())
        total = sum(sum(series) for series in usable.values())
        if reached > 0:
            share = Decimal(reached) / Decimal(total)
            projected = round_half_up(Decimal(ytd) / share)
            return Projection(
                months,
                ytd,
                projected,
                "seasonal_run_rate",
                float((share * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)),
                tuple(sorted(usable)),
            )
    projected = round_half_up(Decimal(ytd) * 12 / Decimal(months))
    return Projection(months, ytd, projected, "linear_run_rate")


# --- weekly review -------------------------------------------------------------------------


def carried_over(
    raised_week: date, closed_week: date | None, review_week: date
) -> Literal["raised", "carried", "closed_here", "not_shown"]:
    """Where an action stands on the review of ``review_week``: raised in it, carried over
    (raised earlier and still open then), closed in it, or not on it (raised later or closed in
    an earlier review)."""
    if raised_week > review_week:
        return "not_shown"
    if closed_week is not None and closed_week < review_week:
        return "not_shown"
    if closed_week == review_week:
        return "closed_here"
    return "raised" if raised_week == review_week else "carried"


@dataclass(frozen=True)
class AssessmentLine:
    """One staff member's or partner's week: planned, done and registered against target."""

    assignee_kind: str
    assignee_code: str
    expected_registrations: int
    logged_registrations: int
    ledger_registrations: int | None
    weekly_target: int | None
    activities_done: int

    @property
    def realization(self) -> int:
        """Registrations credited to the week: the ledger's when it is available, else the
        execution log's."""
        return (
            self.ledger_registrations
            if self.ledger_registrations is not None
            else self.logged_registrations
        )

    @property
    def vs_plan_percent(self) -> float | None:
        return achievement_percent(self.realization, self.expected_registrations or None)

    @property
    def vs_target_percent(self) -> float | None:
        return achievement_percent(self.realization, self.weekly_target or None)
