"""XLSX downloads of the dashboard's tables exactly as filtered on the page (league, early
warnings, the records behind a figure, the worklists): the same scoped, masked queries, every
page of them, with the headers and code labels of the page's language."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from openpyxl import Workbook
from sqlalchemy.orm import Session

from cakupan import figures, labels
from cakupan.auth import Actor
from cakupan.dashboard import queries
from cakupan.dashboard.queries import Filters
from cakupan.dates import Month
from cakupan.formats import format_month
from cakupan.i18n import Lang, Text, t
from cakupan.xlsx import new_workbook

#: Rows one download may hold (a larger list is cut there, and says so in its last row).
MAX_ROWS = 50_000
RUPIAH_FORMAT = '"Rp" #,##0'
PERCENT_FORMAT = "0.0"

Column = tuple[Text, Callable[[dict[str, Any], Lang], Any]]


def _month(value: Any, lang: Lang) -> str:
    return "" if not value else format_month(str(value), lang)


def _people_columns(extra: list[Column]) -> list[Column]:
    return [
        (t("NIK", "NIK"), lambda r, _: r["nik"]),
        (t("Nama", "Name"), lambda r, _: r["name"]),
        (t("Telepon", "Phone"), lambda r, _: r["phone"]),
        (t("Cabang", "Branch"), lambda r, _: r.get("branch_code") or ""),
        (
            t("Pekerjaan", "Occupation"),
            lambda r, lang: labels.label("occupation", r["occupation"], lang),
        ),
        (t("Mitra", "Partner"), lambda r, _: r.get("partner_code") or ""),
        (t("Agen", "Agent"), lambda r, _: r.get("agent_code") or ""),
        *extra,
    ]


def _pages(fetch: Callable[[int, int | None], dict[str, Any]]) -> Iterator[dict[str, Any]]:
    after: int | None = None
    page = 1
    count = 0
    while True:
        result = fetch(page, after)
        for row in result["rows"]:
            if count >= MAX_ROWS:
                return
            count += 1
            yield row
        after = result.get("next_after")
        if after is None:
            return
        page += 1


def _sheet(
    title: str, columns: list[Column], rows: Iterator[dict[str, Any]], lang: Lang
) -> Workbook:
    workbook = new_workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append([header.render(lang) for header, _ in columns])
    for row in rows:
        sheet.append([value(row, lang) for _, value in columns])
    sheet.freeze_panes = "A2"
    return workbook


def records_workbook(
    session: Session,
    actor: Actor,
    kpi: str,
    month: Month | None,
    filters: Filters,
    lang: Lang,
    *,
    cohort: Month | None = None,
) -> tuple[Workbook, str]:
    """Every record behind one figure (all pages); ``cohort`` for a heatmap cell."""
    extra: list[Column]
    if kpi == "payments":
        extra = [
            (t("Referensi", "Reference"), lambda r, _: r["reference"]),
            (t("Jumlah (Rp)", "Amount (Rp)"), lambda r, _: r["amount"]),
            (t("Tanggal bayar", "Paid on"), lambda r, _: r["paid_on"]),
            (t("Bulan pertama", "First month"), lambda r, lang: _month(r["first_month"], lang)),
            (t("Jumlah bulan", "Months"), lambda r, _: r["months"]),
        ]
    else:
        extra = [
            (
                t("Lunas s.d.", "Paid through"),
                lambda r, lang: _month(r.get("paid_through_month"), lang),
            )
        ]
    first = queries.drill_down(session, actor, kpi, month, filters, cohort=cohort)
    rows = _pages(
        lambda page, after: (
            first
            if page == 1
            else queries.drill_down(
                session, actor, kpi, month, filters, page=page, after=after, cohort=cohort
            )
        )
    )
    name = f"{figures.label(kpi, lang)} {first['month'] or ''}".strip()
    return _sheet(name, _people_columns(extra), rows, lang), f"data-{kpi}-{first['month']}.xlsx"


def worklist_workbook(
    session: Session, actor: Actor, kind: str, filters: Filters, lang: Lang
) -> tuple[Workbook, str]:
    """The whole worklist (all pages) with the latest contact."""
    extra: list[Column] = [
        (
            t("Lunas s.d.", "Paid through"),
            lambda r, lang: _month(r.get("paid_through_month"), lang),
        ),
        (t("Bulan belum dibayar", "Unpaid months"), lambda r, _: r.get("unpaid_months")),
        (
            t("Kontak terakhir", "Last contact"),
            lambda r, lang: (
                ""
                if not r.get("last_contact")
                else labels.label("outcome", r["last_contact"]["outcome"], lang)
            ),
        ),
    ]
    first = queries.worklist(session, actor, kind, filters)
    rows = _pages(
        lambda page, after: (
            first
            if page == 1
            else queries.worklist(session, actor, kind, filters, page=page, after=after)
        )
    )
    title = labels.label("status", "arrears" if kind == "arrears" else "closed", lang)
    return _sheet(title, _people_columns(extra), rows, lang), f"daftar-{kind}-{first['month']}.xlsx"


def league_workbook(
    session: Session, actor: Actor, filters: Filters, lang: Lang
) -> tuple[Workbook, str]:
    table = queries.league(session, actor, filters)

    def percent(key: str) -> Callable[[dict[str, Any], Lang], Any]:
        return lambda r, _: r[key]["percent"]

    columns: list[Column] = [
        (t("Peringkat", "Rank"), lambda r, _: r["rank"]),
        (t("Mitra", "Partner"), lambda r, _: r["name"]),
        (t("Retensi bln 6 (%)", "Retention m6 (%)"), percent("retention_m6")),
        (t("Retensi bln 3 (%)", "Retention m3 (%)"), percent("retention_m3")),
        (t("Kepatuhan (%)", "Compliance (%)"), percent("compliance")),
        (figures.figure("new_registrations").label, lambda r, _: r["new_registrations"]),
        (t("Iuran (Rp)", "Contributions (Rp)"), lambda r, _: r["contributions_collected"]),
    ]
    return _sheet("Peringkat", columns, iter(table["partners"]), lang), "peringkat-mitra.xlsx"


def warnings_workbook(
    session: Session, actor: Actor, filters: Filters, lang: Lang
) -> tuple[Workbook, str]:
    found = queries.warnings(session, actor, filters)
    columns: list[Column] = [
        (t("Indikator", "Metric"), lambda r, lang: figures.label(r["metric"], lang)),
        (
            t("Dimensi", "Dimension"),
            lambda r, lang: labels.label("warning_dimension", r["dimension"], lang),
        ),
        (
            t("Nilai", "Value"),
            lambda r, lang: (
                labels.label("occupation", r["label"], lang)
                if r["dimension"] == "occupation"
                else r["label"]
            ),
        ),
        (t("Periode", "Period"), lambda r, lang: _month(r["period"], lang)),
        (t("Terakhir (%)", "Latest (%)"), lambda r, _: r["latest_percent"]),
        (t("Rata-rata sebelumnya (%)", "Trailing average (%)"), lambda r, _: r["trailing_percent"]),
        (t("Turun (poin)", "Drop (points)"), lambda r, _: r["drop_points"]),
    ]
    return _sheet("Peringatan", columns, iter(found["warnings"]), lang), "peringatan-dini.xlsx"
