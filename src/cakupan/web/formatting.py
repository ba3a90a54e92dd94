"""How pages show numbers, money and dates: Indonesian first (``Rp 1.234.567``, ``26 November
2026``), instants in Asia/Jakarta (WIB)."""

from __future__ import annotations

from datetime import date, datetime

from cakupan.dates import JAKARTA
from cakupan.i18n import Lang

MONTH_NAMES: dict[Lang, tuple[str, ...]] = {
    "id": (
        "Januari", "Februari", "Maret", "April", "Mei", "Juni",
        "Juli", "Agustus", "September", "Oktober", "November", "Desember",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip


def format_date(value: date | datetime | str | None, lang: Lang = "id") -> str:
    """``26 November 2026`` (Indonesian month names by default); an instant is read in Jakarta;
    an ISO day (``2026-11-26``, as JSON rows carry it) is read as that day."""
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        value = value.astimezone(JAKARTA).date() if value.tzinfo else value.date()
    return f"{value.day} {MONTH_NAMES[lang][value.month - 1]} {value.year}"


def format_datetime(value: datetime | None, lang: Lang = "id") -> str:
    """``26 November 2026 14:05 WIB``: an instant in Asia/Jakarta."""
    if value is None:
        return "-"
    local = value.astimezone(JAKARTA) if value.tzinfo else value.replace(tzinfo=JAKARTA)
    return f"{format_date(local.date(), lang)} {local:%H:%M} WIB"
