"""Pure calculations of the dashboard: rates, the early-warning rule, league ranking and the
anonymised names of peers. No database, no clock."""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from typing import Any

from cakupan.money import ratio_percent

__all__ = [
    "LeagueEntry",
    "Ratio",
    "WarningRule",
    "anonymous_name",
    "drop_warning",
    "load_warning_rules",
    "month_label",
    "rank_league",
    "rule_in_force",
]

#: The retention months the dashboard reports (months after the registration month).
RETENTION_AGES: tuple[int, ...] = (1, 3, 6, 12)
#: The age at which first-month-paid conversion is final: a pending registration is void from
#: the start of its fourth month (D-3), so the close of month +2 is the last chance to pay.
CONVERSION_AGE = 2

#: Short month names for chart axes and legends ("Jan 2026", "Okt 2026"; English when switched).
SHORT_MONTHS: dict[str, tuple[str, ...]] = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


def month_label(month: str, lang: str = "id") -> str:
    """``2026-10`` -> ``Okt 2026`` (Indonesian, the default) or ``Oct 2026`` (``lang="en"``)."""
    year, number = month.split("-")
    names = SHORT_MONTHS["en" if lang == "en" else "id"]
    return f"{names[int(number) - 1]} {year}"


@dataclass(frozen=True)
class Ratio:
    """A count out of a base; ``percent`` is None when the base is empty."""

    part: int
    base: int

    @property
    def percent(self) -> float | None:
        return ratio_percent(self.part, self.base)

    def __add__(self, other: Ratio) -> Ratio:
        return Ratio(self.part + other.part, self.base + other.base)

    def as_json(self) -> dict[str, Any]:
        return {"part": self.part, "base": self.base, "percent": self.percent}


@dataclass(frozen=True)
class WarningRule:
    """A dated early-warning threshold: warn when ``metric`` of the latest period is more than
    ``drop_points`` percentage points below the average of the ``trailing`` periods before it,
    and the latest period's base is at least ``min_base``."""

    valid_from: date
    metric: str  # "retention_m3" or "compliance"
    drop_points: Decimal
    trailing: int
    min_base: int
    source: str

    def as_json(self) -> dict[str, Any]:
        return {
            "valid_from": self.valid_from.isoformat(),
            "metric": self.metric,
            "drop_points": float(self.drop_points),
            "trailing": self.trailing,
            "min_base": self.min_base,
            "source": self.source,
        }


def load_warning_rules(text: str | None = None) -> list[WarningRule]:
    """The warning rules shipped in ``dashboard/data/warning_rules.json`` (or given as JSON)."""
    if text is None:
        text = (
            resources.files("cakupan.dashboard")
            .joinpath("data/warning_rules.json")
            .read_text("utf-8")
        )
    document = json.loads(text)
    rules = [
        WarningRule(
            valid_from=date.fromisoformat(item["valid_from"]),
            metric=str(item["metric"]),
            drop_points=Decimal(str(item["drop_points"])),
            trailing=int(item["trailing"]),
            min_base=int(item["min_base"]),
            source=str(item.get("source") or document.get("source", "")),
        )
        for item in document["rules"]
    ]
    return sorted(rules, key=lambda rule: (rule.metric, rule.valid_from))


def rule_in_force(rules: Sequence[WarningRule], metric: str, on: date) -> WarningRule | None:
    """The rule for ``metric`` in force on ``on`` (the latest ``valid_from`` not after it)."""
    found = None
    for rule in rules:
        if (
            rule.metric == metric
            and rule.valid_from <= on
            and (found is None or rule.valid_from >= found.valid_from)
        ):
            found = rule
    return found


@dataclass(frozen=True)
class DropWarning:
    """The figures behind one warning."""

    latest_percent: float
    trailing_percent: float
    drop_points: float

    def as_json(self) -> dict[str, Any]:
        return {
            "latest_percent": self.latest_percent,
            "trailing_percent": self.trailing_percent,
            "drop_points": self.drop_points,
        }


def drop_warning(latest: Ratio, trailing: Sequence[Ratio], rule: WarningRule) -> DropWarning | None:
    """A warning when ``latest`` is more than ``rule.drop_points`` below the plain average of
    the ``trailing`` rates (each period weighs the same; periods with an empty base are left
    out; all ``rule.trailing`` periods must have a rate). None when there is no drop, the
    latest base is below ``rule.min_base`` or the history is too short."""
    if latest.base < rule.min_base or latest.base == 0:
        return None
    rates = [Decimal(r.part) * 100 / Decimal(r.base) for r in trailing if r.base > 0]
    if len(rates) < rule.trailing:
        return None
    average = sum(rates, Decimal(0)) / len(rates)
    current = Decimal(latest.part) * 100 / Decimal(latest.base)
    drop = average - current
    if drop <= rule.drop_points:
        return None
    one = Decimal("0.1")
    return DropWarning(
        latest_percent=float(current.quantize(one, ROUND_HALF_UP)),
        trailing_percent=float(average.quantize(one, ROUND_HALF_UP)),
        drop_points=float(drop.quantize(one, ROUND_HALF_UP)),
    )


@dataclass(frozen=True)
class LeagueEntry:
    """One partner's figures for the league table (before ranking)."""

    partner_code: str
    registrations: int
    retention_m3: Ratio
    retention_m6: Ratio
    compliance: Ratio
    contributions: int


def _sort_key(entry: LeagueEntry) -> tuple[float, float, float, int, str]:
    def rate(ratio: Ratio) -> float:
        percent = ratio.percent
        return -1.0 if percent is None else percent

    return (
        -rate(entry.retention_m6),
        -rate(entry.retention_m3),
        -rate(entry.compliance),
        -entry.registrations,
        entry.partner_code,
    )


def rank_league(entries: Sequence[LeagueEntry]) -> list[tuple[int, LeagueEntry]]:
    """Rank partners on keeping participants, not on volume: month-6 retention, then month-3
    retention, then compliance (a partner without a rate ranks after those with one), then
    registrations, then code. Ranks are 1..n, one per partner (no shared ranks)."""
    ordered = sorted(entries, key=_sort_key)
    return [(position, entry) for position, entry in enumerate(ordered, start=1)]


def anonymous_name(index: int) -> str:
    """Peers' names shown to a partner: 0 -> "Mitra A", 25 -> "Mitra Z", 26 -> "Mitra AA"."""
    letters = string.ascii_uppercase
    label = ""
    number = index + 1
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        label = letters[remainder] + label
    return f"Mitra {label}"
