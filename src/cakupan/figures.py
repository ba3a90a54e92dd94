"""One figure, one definition: every figure the dashboard, targets, analytics, exports and the
API show is defined here once (code, label in both languages, definition, unit, as-of rule), and
shown with the one number/date format of :mod:`cakupan.formats`.

The as-of rule is the same for every page: figures count through the **latest closed month**
(the monthly close has fixed its statuses); a stock (active participants) is read on that
month's last day and a flow (new participants, contributions) is summed from the period's
first month through it. A page says so beside the figure: "per 30 Nov 2026".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from cakupan.dates import Month
from cakupan.i18n import Lang, Text, t

Unit = Literal["count", "rupiah", "percent"]
#: ``stock``: read on the as-of day; ``flow``: summed over the months of the period up to it.
AsOfRule = Literal["stock", "flow"]


@dataclass(frozen=True, slots=True)
class Figure:
    code: str
    label: Text
    definition: Text
    unit: Unit
    as_of: AsOfRule

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "label": {"id": self.label.id, "en": self.label.en},
            "definition": {"id": self.definition.id, "en": self.definition.en},
            "unit": self.unit,
            "as_of_rule": self.as_of,
        }


_FIGURES = (
    Figure(
        "new_registrations",
        t("Pendaftaran baru", "New registrations"),
        t(
            "Kepesertaan baru yang didaftarkan dalam periode, dibayar atau belum.",
            "Membership episodes registered in the period, paid or not.",
        ),
        "count",
        "flow",
    ),
    Figure(
        "new_participants",
        t("Peserta baru (bulan pertama dibayar)", "New participants (first month paid)"),
        t(
            "Kepesertaan pertama yang didaftarkan dalam periode dan bulan pertamanya dibayar "
            "(pembayaran tidak dibatalkan) sampai tanggal per.",
            "First membership episodes registered in the period whose first month is paid "
            "(payment not reversed) by the as-of date.",
        ),
        "count",
        "flow",
    ),
    Figure(
        "active_participants",
        t("Peserta aktif", "Active participants"),
        t(
            "Peserta yang bulannya sudah dibayar pada hari terakhir bulan per (D-3).",
            "Participants whose month is paid on the last day of the as-of month (D-3).",
        ),
        "count",
        "stock",
    ),
    Figure(
        "arrears_participants",
        t("Menunggak", "In arrears"),
        t(
            "Peserta 1-3 bulan setelah bulan terakhir yang dibayar, pada bulan per.",
            "Participants 1-3 months past their last paid month, in the as-of month.",
        ),
        "count",
        "stock",
    ),
    Figure(
        "first_month_paid",
        t("Bayar bulan pertama", "First month paid"),
        t(
            "Bagian pendaftaran periode yang membayar bulan pertamanya (final pada umur 2 bulan).",
            "Share of the period's registrations that paid their first month (final at age 2).",
        ),
        "percent",
        "flow",
    ),
    Figure(
        "retention",
        t("Retensi", "Retention"),
        t(
            "Bagian kohort pendaftaran yang masih membayar pada umur bulan ke-n.",
            "Share of a registration cohort still paying at month n of age.",
        ),
        "percent",
        "flow",
    ),
    Figure(
        "retention_m3",
        t("Retensi bulan ke-3", "Month-3 retention"),
        t(
            "Bagian kohort pendaftaran yang masih membayar pada bulan ketiga.",
            "Share of a registration cohort still paying in its third month.",
        ),
        "percent",
        "flow",
    ),
    Figure(
        "compliance",
        t("Kepatuhan iuran", "Contribution compliance"),
        t(
            "Bulan yang dibayar dibagi bulan yang jatuh tempo (aktif, menunggak, menunggu).",
            "Months paid over months due (active, arrears, pending).",
        ),
        "percent",
        "flow",
    ),
    Figure(
        "contributions",
        t("Iuran terkumpul", "Contributions collected"),
        t(
            "Rupiah pembayaran dalam periode, dikurangi yang dibatalkan sampai tanggal per.",
            "Rupiah of payments made in the period, less those reversed by the as-of date.",
        ),
        "rupiah",
        "flow",
    ),
    Figure(
        "payments",
        t("Pembayaran", "Payments"),
        t("Jumlah pembayaran dalam periode.", "Number of payments made in the period."),
        "count",
        "flow",
    ),
    Figure(
        "closed_by_system",
        t("Ditutup sistem", "Closed by system"),
        t(
            "Kepesertaan yang ditutup setelah tiga bulan penuh tidak dibayar.",
            "Memberships closed after three whole months unpaid.",
        ),
        "count",
        "flow",
    ),
    Figure(
        "reacquired",
        t("Peserta kembali (reakuisisi)", "Re-acquired"),
        t(
            "Kepesertaan lanjutan (D-4) yang bulan pertamanya dibayar dalam periode.",
            "Later membership episodes (D-4) whose first month was paid in the period.",
        ),
        "count",
        "flow",
    ),
    Figure(
        "benefits_paid",
        t("Manfaat dibayar", "Benefits paid"),
        t("Rupiah klaim yang dibayar dalam periode.", "Rupiah of claims paid in the period."),
        "rupiah",
        "flow",
    ),
)

FIGURES: dict[str, Figure] = {figure.code: figure for figure in _FIGURES}
#: Other names the pages and the API use for the same figures (the drill-down's ``kpi``).
ALIASES = {
    "active": "active_participants",
    "arrears": "arrears_participants",
    "contributions_collected": "contributions",
    "retained": "retention",
}
#: The targets area's metrics are figures of this registry under the same codes.
TARGET_METRIC_FIGURES = ("new_participants", "active_participants", "contributions", "reacquired")


def figure(code: str) -> Figure:
    """The figure of ``code`` (KeyError for an unknown code: a programming error)."""
    return FIGURES[code]


def label(code: str, lang: Lang = "id") -> str:
    """The figure's label, or the code itself when it is not a figure."""
    found = FIGURES.get(ALIASES.get(code, code))
    return code if found is None else found.label.render(lang)


def as_of_day(month: Month) -> str:
    """The as-of date of figures counted through ``month``: its last day (ISO)."""
    return month.last_day.isoformat()


def as_of_text(value: Month | date | str | None, lang: Lang = "id") -> str:
    """``per 30 Nov 2026`` / ``as of 30 Nov 2026`` for a month (its last day), a day or an ISO
    day; empty when there is none (nothing closed yet)."""
    if value is None or value == "":
        return ""
    from cakupan.formats import format_day_short

    if isinstance(value, Month):
        value = value.last_day
    elif isinstance(value, str):
        value = date.fromisoformat(value)
    day = format_day_short(value, lang)
    return f"per {day}" if lang == "id" else f"as of {day}"
