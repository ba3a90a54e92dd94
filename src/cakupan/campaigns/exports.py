"""XLSX downloads of the campaign list and the prospect worklist, as shown on their pages (the
same scoped reads, phones masked as on the page), with headers and code labels in the page's
language; written by the one XLSX writer (:func:`cakupan.xlsx.new_workbook`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook

from cakupan import labels
from cakupan.campaigns.prospects import ProspectView
from cakupan.campaigns.rules import LABELS
from cakupan.i18n import Lang, Text, t
from cakupan.xlsx import new_workbook

__all__ = ["campaigns_workbook", "prospects_workbook"]

RUPIAH_FORMAT = '"Rp" #,##0'

Column = tuple[Text, Callable[[Any, Lang], Any]]


def _sheet(title: Text, columns: Sequence[Column], rows: Sequence[Any], lang: Lang) -> Workbook:
    workbook = new_workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title.render(lang)[:31]
    sheet.append([header.render(lang) for header, _ in columns])
    for row in rows:
        sheet.append([value(row, lang) for _, value in columns])
    sheet.freeze_panes = "A2"
    return workbook


def campaigns_workbook(campaigns: Sequence[Mapping[str, Any]], lang: Lang) -> Workbook:
    """Sheet "Kampanye": one line per campaign the actor sees (code, name, type, medium, dates,
    branch, budget, actual cost, partners), as on /campaigns."""
    columns: list[Column] = [
        (t("Kode", "Code"), lambda c, _: c["code"]),
        (t("Nama", "Name"), lambda c, _: c["name"]),
        (t("Jenis", "Type"), lambda c, lang: labels.label("campaign_type", c["type"], lang)),
        (
            t("Media", "Medium"),
            lambda c, lang: labels.label("medium", c["medium"], lang) if c["medium"] else "",
        ),
        (t("Mulai", "Starts"), lambda c, _: date.fromisoformat(c["start_on"])),
        (t("Selesai", "Ends"), lambda c, _: date.fromisoformat(c["end_on"])),
        (t("Cabang", "Branch"), lambda c, _: c["branch_code"] or ""),
        (t("Anggaran (Rp)", "Budget (Rp)"), lambda c, _: c["budget"]),
        (t("Biaya aktual (Rp)", "Actual cost (Rp)"), lambda c, _: c["actual_cost"]),
        (t("Mitra", "Partners"), lambda c, _: ", ".join(c["partners"])),
    ]
    workbook = _sheet(t("Kampanye", "Campaigns"), columns, campaigns, lang)
    sheet = workbook.active
    assert sheet is not None
    for column in ("E", "F"):
        for cell in sheet[column][1:]:
            cell.number_format = "DD/MM/YYYY"
    for column in ("H", "I"):
        for cell in sheet[column][1:]:
            cell.number_format = RUPIAH_FORMAT
    return workbook


def prospects_workbook(
    views: Sequence[ProspectView], phones: Mapping[int, str], lang: Lang
) -> Workbook:
    """Sheet "Prospek": the worklist as filtered on /prospects (name, phone as shown there:
    masked unless the actor may see it, district, campaign, assigned to, attempts, last
    outcome, stage)."""

    def _label(code: str | None, lang: Lang) -> str:
        found = LABELS.get(code or "")
        return "" if code is None else (code if found is None else found.render(lang))

    columns: list[Column] = [
        (t("Nama", "Name"), lambda v, _: v.name),
        (t("Telepon", "Phone"), lambda v, _: phones.get(v.id, "")),
        (t("Kecamatan", "District"), lambda v, _: v.district_code or ""),
        (t("Kampanye", "Campaign"), lambda v, _: v.campaign_code or ""),
        (t("Ditugaskan ke", "Assigned to"), lambda v, _: v.assigned_to or ""),
        (t("Percobaan", "Attempts"), lambda v, _: v.attempts),
        (t("Hasil terakhir", "Last outcome"), lambda v, lang: _label(v.last_outcome, lang)),
        (t("Tahap", "Stage"), lambda v, lang: _label(v.stage.value, lang)),
    ]
    return _sheet(t("Prospek", "Prospects"), columns, views, lang)
