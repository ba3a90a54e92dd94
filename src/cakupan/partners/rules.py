"""Pure rules of the partners area: kinds and hierarchy, field parsing, the agent lifecycle and
idleness. No database, no clock."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from cakupan.dates import Month, parse_date
from cakupan.i18n import Text, t
from cakupan.partners.models import PARTNER_KINDS, PARTNER_STATUSES

#: Kinds whose partners are individual agents (the agent lifecycle applies to them).
AGENT_KINDS = frozenset({"perisai", "agen46", "brilink"})

#: The kinds a partner of each kind may sit under (empty: top of the hierarchy).
ALLOWED_PARENT_KINDS: dict[str, frozenset[str]] = {
    "wadah": frozenset(),
    "perisai": frozenset({"wadah"}),
    "korporasi": frozenset(),
    "agen46": frozenset({"korporasi"}),
    "brilink": frozenset({"korporasi"}),
    "pos_kc": frozenset({"pos_regional"}),
    "pos_regional": frozenset(),
    "pemda": frozenset(),
    "institution": frozenset(),
}
#: Kinds that must have a parent (a Perisai is a member of a Wadah).
PARENT_REQUIRED = frozenset({"perisai"})

_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")

#: Lifecycle: which status may follow which (``terminated`` is final).
TRANSITIONS: dict[str, frozenset[str]] = {
    "recruited": frozenset({"trained", "terminated"}),
    "trained": frozenset({"active", "terminated"}),
    "active": frozenset({"suspended", "terminated"}),
    "suspended": frozenset({"active", "terminated"}),
    "terminated": frozenset(),
}
assert set(TRANSITIONS) == set(PARTNER_STATUSES)

#: Months between two evaluations of an agent.
EVALUATION_INTERVAL_MONTHS = 6


def code_problem(code: str) -> Text | None:
    """Why ``code`` is not a usable partner code, or None."""
    if not code:
        return t("kode wajib diisi", "a code is required")
    if not _CODE_RE.match(code):
        return t(
            "kode harus 1-40 huruf, angka, titik, garis bawah atau tanda hubung, ditemukan {c!r}",
            "expected 1-40 letters, digits, dots, underscores or dashes, got {c!r}",
        ).format(c=code)
    return None


def kind_problem(kind: str) -> Text | None:
    """Why ``kind`` is not a partner kind, or None."""
    if kind in PARTNER_KINDS:
        return None
    return t(
        "jenis harus salah satu dari {k}, ditemukan {v!r}",
        "expected one of {k}, got {v!r}",
    ).format(k=", ".join(PARTNER_KINDS), v=kind)


def parent_problem(kind: str, parent_code: str | None, parent_kind: str | None) -> Text | None:
    """Why a partner of ``kind`` may not sit under a parent of ``parent_kind``, or None.
    ``parent_kind`` is None when there is no parent."""
    if parent_code is None:
        if kind in PARENT_REQUIRED:
            allowed = ", ".join(sorted(ALLOWED_PARENT_KINDS[kind]))
            return t(
                "{k} harus berada di bawah induk berjenis {a}",
                "a {k} must have a parent of kind {a}",
            ).format(k=kind, a=allowed)
        return None
    allowed_kinds = ALLOWED_PARENT_KINDS.get(kind, frozenset())
    if parent_kind in allowed_kinds:
        return None
    if not allowed_kinds:
        return t(
            "{k} tidak boleh mempunyai induk, ditemukan {p} ({pk})",
            "a {k} has no parent, got {p} ({pk})",
        ).format(k=kind, p=parent_code, pk=parent_kind)
    return t(
        "induk {k} harus berjenis {a}, ditemukan {p} berjenis {pk}",
        "the parent of a {k} must be of kind {a}, got {p} of kind {pk}",
    ).format(k=kind, a=", ".join(sorted(allowed_kinds)), p=parent_code, pk=parent_kind)


def parse_rate_percent(text: str) -> Decimal:
    """A decimal percentage such as ``3`` or ``2.5`` (a comma is accepted as the decimal mark);
    ``ValueError`` with a readable reason otherwise."""
    cleaned = text.strip().removesuffix("%").strip().replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"expected a decimal percentage such as 3 or 2.5, got {text!r}") from None
    if not value.is_finite() or value < 0 or value > 100:
        raise ValueError(f"expected a percentage between 0 and 100, got {text!r}")
    return value


def rate_text(value: Decimal) -> str:
    """The canonical text of a rate: ``3``, ``2.5`` (no exponent, no trailing zeros)."""
    return format(value.normalize(), "f")


def parse_optional_date(text: str) -> date | None:
    """``YYYY-MM-DD`` or empty."""
    return parse_date(text) if text.strip() else None


def transition_problem(current: str, new: str) -> Text | None:
    """Why an agent may not move from ``current`` to ``new``, or None."""
    if new in TRANSITIONS.get(current, frozenset()):
        return None
    from cakupan.labels import label

    return Text(
        id="status tidak dapat berubah dari {c} ke {n}".format(
            c=label("partner_status", current, "id"), n=label("partner_status", new, "id")
        ),
        en="the status cannot change from {c} to {n}".format(
            c=label("partner_status", current, "en"), n=label("partner_status", new, "en")
        ),
    )


def idle_months(last_activity: Month | None, since: Month, as_of: Month) -> int:
    """Consecutive whole calendar months without acquisition or transaction up to and including
    ``as_of``: counted from the month after the last activity, or from ``since`` (the month the
    agent started) when it never had any. Never negative."""
    first_idle = since if last_activity is None else max(last_activity + 1, since)
    return max(0, as_of - first_idle + 1)


def termination_standing(idle: int, at_risk_months: int, idle_months_limit: int) -> str | None:
    """``"due"`` when ``idle`` reaches the limit, ``"at_risk"`` when it reaches the warning
    level, else None."""
    if idle >= idle_months_limit:
        return "due"
    if idle >= at_risk_months:
        return "at_risk"
    return None


def next_evaluation_due(last_period_to: date | None, started_on: date) -> date:
    """The date an agent's next six-monthly evaluation is due: six months after the end of the
    last evaluated period, or after the start when never evaluated (same day of month, clipped
    to the month's end)."""
    base = last_period_to or started_on
    target = Month.of(base) + EVALUATION_INTERVAL_MONTHS
    return date(target.year, target.month, min(base.day, target.last_day.day))
