"""One number and date format for everything a user reads (Babel, locale ``id_ID`` or ``en``):
percentages ``54,2%``, months ``Nov 2026``, days ``30 Nov 2026``, counts ``12.000``; and the
reverse for what people type: ``1.500.000`` / ``Rp 1.500.000`` as an amount of rupiah."""

from __future__ import annotations

import re
from datetime import date

from babel.dates import format_date as _babel_date
from babel.numbers import format_decimal, format_percent

from cakupan.dates import Month
from cakupan.i18n import Lang

LOCALES: dict[Lang, str] = {"id": "id_ID", "en": "en_GB"}


def format_pct(value: float | None, lang: Lang = "id", places: int = 1) -> str:
    """A percentage already multiplied by 100 (``54.2`` -> ``54,2%``); ``–`` for None."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * places if places else "") + "%"
    return format_percent(value / 100, pattern, locale=LOCALES[lang])


def format_count(value: int | float | None, lang: Lang = "id") -> str:
    """``12.000`` (Indonesian grouping) or ``12,000``; ``–`` for None."""
    if value is None:
        return "–"
    return format_decimal(value, locale=LOCALES[lang])


def format_month(value: Month | str | None, lang: Lang = "id") -> str:
    """``Nov 2026`` / ``Des 2026`` from a month (or its ``YYYY-MM`` text)."""
    if value is None or value == "":
        return "–"
    month = Month.parse(value) if isinstance(value, str) else value
    return _babel_date(month.first_day, "MMM yyyy", locale=LOCALES[lang])


def format_day_short(value: date, lang: Lang = "id") -> str:
    """``30 Nov 2026``."""
    return _babel_date(value, "d MMM yyyy", locale=LOCALES[lang])


_RUPIAH_RE = re.compile(r"^(?:rp\.?)?\s*(\d{1,3}(?:\.\d{3})+|\d+)(?:,0{1,2})?$", re.IGNORECASE)


def parse_rupiah(text: str) -> int | None:
    """Rupiah as people type them: ``1500000``, ``1.500.000``, ``Rp 1.500.000``, ``Rp1.500.000,00``;
    None when the text is not such an amount (the caller names the field)."""
    match = _RUPIAH_RE.match(text.strip().replace("\u00a0", " "))
    if match is None:
        return None
    return int(match.group(1).replace(".", ""))
