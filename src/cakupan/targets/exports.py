"""XLSX exports (openpyxl) of the target/realization report and the weekly review: Indonesian
headers, numbers as numbers (rupiah format for contributions), conflicts spelled out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from cakupan.money import format_number
from cakupan.targets.queries import ReportRow, ReviewView, SplitReport
from cakupan.xlsx import new_workbook

RUPIAH_FORMAT = '"Rp" #,##0'
COUNT_FORMAT = "#,##0"
PERCENT_FORMAT = "0.0"

METRIC_LABELS = {
    "new_participants": "Peserta baru",
    "active_participants": "Peserta aktif",
    "contributions": "Iuran (Rp)",
    "reacquired": "Peserta kembali (reakuisisi)",
}
SOURCE_LABELS = {"ledger": "Buku besar", "reported": "Dilaporkan"}
FIELD_LABELS = {"target": "Target", "realization": "Realisasi"}
NOTE_LABELS = {"problem": "Masalah", "solution": "Solusi", "decision": "Keputusan"}
STATUS_LABELS = {"raised": "Baru", "carried": "Lanjutan", "closed_here": "Ditutup"}
ASSIGNEE_LABELS = {"staff": "Staf", "agent": "Agen", "partner": "Mitra"}

REPORT_HEADERS = (
    "Kantor",
    "Tahun",
    "Periode",
    "Segmen",
    "Indikator",
    "Target",
    "Realisasi",
    "Capaian (%)",
    "Sumber Realisasi",
    "Konflik Antar Sumber",
    "Capaian Menurut Sumber",
)


def _header(sheet: Worksheet, headers: Sequence[str]) -> None:
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"


def _conflict_text(row: ReportRow) -> str:
    parts = []
    for conflict in row.conflicts:
        values = " / ".join(
            f"{format_number(v['value'])} ({v['source']})" for v in conflict["values"]
        )
        parts.append(f"{FIELD_LABELS[conflict['field']]}: {values}")
    return "; ".join(parts)


def _stated_text(row: ReportRow) -> str:
    verdicts = {True: "cocok", False: "tidak cocok dengan angkanya", None: "tidak dapat diperiksa"}
    return "; ".join(
        f"{view.percent}% ({view.source}): {verdicts[view.consistent]}" for view in row.stated
    )


def report_workbook(rows: Sequence[ReportRow], splits: Sequence[SplitReport] = ()) -> Workbook:
    """Sheet "Target vs Realisasi" (one line per cell) and, when there are splits, sheet
    "Pembagian Target" (parts per staff/partner/district with the difference to the whole)."""
    workbook = new_workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Target vs Realisasi"
    _header(sheet, REPORT_HEADERS)
    for row in rows:
        number_format = RUPIAH_FORMAT if row.metric == "contributions" else COUNT_FORMAT
        sheet.append(
            [
                row.office_code,
                row.period.year,
                row.period.label,
                row.segment,
                METRIC_LABELS[row.metric],
                row.target.value,
                row.realization.value,
                row.achievement_percent,
                SOURCE_LABELS[row.realization_source],
                _conflict_text(row) or None,
                _stated_text(row) or None,
            ]
        )
        line = sheet.max_row
        sheet.cell(line, 6).number_format = number_format
        sheet.cell(line, 7).number_format = number_format
        sheet.cell(line, 8).number_format = PERCENT_FORMAT
    _widths(sheet, (10, 7, 12, 8, 28, 16, 16, 12, 16, 60, 50))
    if splits:
        parts = workbook.create_sheet("Pembagian Target")
        _header(
            parts,
            ("Kantor", "Periode", "Segmen", "Indikator", "Jenis Bagian", "Kode", "Target Bagian"),
        )
        for split in splits:
            number_format = RUPIAH_FORMAT if split.metric == "contributions" else COUNT_FORMAT
            base = [
                split.office_code,
                split.period.label,
                split.segment,
                METRIC_LABELS[split.metric],
            ]
            for check in split.checks:
                kind = {
                    "staff": "Staf",
                    "partner": "Mitra",
                    "district": "Kecamatan",
                    "branch": "Kantor Cabang",
                    "region": "Kantor Wilayah",
                }[check.part_kind]
                for code, value in check.parts:
                    parts.append([*base, kind, code, value])
                    parts.cell(parts.max_row, 7).number_format = number_format
                for label, amount in (
                    ("Jumlah bagian", check.parts_total),
                    ("Target keseluruhan", check.whole),
                    ("Selisih (belum dibagi)", check.difference),
                ):
                    parts.append([*base, kind, label, amount])
                    parts.cell(parts.max_row, 6).font = Font(bold=True)
                    parts.cell(parts.max_row, 7).number_format = number_format
        _widths(parts, (10, 12, 8, 28, 14, 24, 16))
    return workbook


def review_workbook(view: ReviewView) -> Workbook:
    """Sheets "Ringkasan", "Catatan" (problems, solutions, decisions), "Tindak Lanjut" (actions
    raised, carried over and closed) and "Penilaian" (the week's assessment)."""
    review = view.review
    data: dict[str, Any] = view.as_json()
    workbook = new_workbook()
    summary = workbook.active
    assert summary is not None
    summary.title = "Ringkasan"
    for label, value in (
        ("Kantor", review.office_code),
        ("Minggu", f"{data['week_start']} s/d {data['week_end']}"),
        ("Tanggal rapat", review.held_on),
        ("Dipimpin oleh", review.led_by),
        ("Tindak lanjut terbuka", sum(1 for a in data["actions"] if a["status"] != "closed_here")),
    ):
        summary.append([label, value])
        summary.cell(summary.max_row, 1).font = Font(bold=True)
    summary.cell(3, 2).number_format = "DD/MM/YYYY"
    _widths(summary, (24, 40))

    notes = workbook.create_sheet("Catatan")
    _header(notes, ("No", "Jenis", "Uraian"))
    for number, note in enumerate(view.notes, start=1):
        notes.append([number, NOTE_LABELS[note.kind], note.text])
    _widths(notes, (5, 12, 80))

    actions = workbook.create_sheet("Tindak Lanjut")
    _header(
        actions,
        (
            "No",
            "Uraian",
            "Penanggung Jawab",
            "Tenggat",
            "Minggu Diangkat",
            "Status",
            "Terlambat",
            "Penyelesaian",
        ),
    )
    for number, (action, status, raised_week) in enumerate(view.actions, start=1):
        overdue = action.closed_on is None and action.due_on < review.week_start
        actions.append(
            [
                number,
                action.description,
                action.owner_code,
                action.due_on,
                raised_week,
                STATUS_LABELS[status],
                "Ya" if overdue else "Tidak",
                action.resolution,
            ]
        )
        actions.cell(actions.max_row, 4).number_format = "DD/MM/YYYY"
        actions.cell(actions.max_row, 5).number_format = "DD/MM/YYYY"
    _widths(actions, (5, 60, 18, 12, 16, 10, 10, 40))

    assessment = workbook.create_sheet("Penilaian")
    _header(
        assessment,
        (
            "Jenis",
            "Kode",
            "Rencana Pendaftaran",
            "Pendaftaran Tercatat",
            "Pendaftaran Buku Besar",
            "Realisasi",
            "Target Mingguan",
            "Capaian Rencana (%)",
            "Capaian Target (%)",
            "Kegiatan Dilakukan",
        ),
    )
    for line in view.assessment:
        assessment.append(
            [
                ASSIGNEE_LABELS[line.assignee_kind],
                line.assignee_code,
                line.expected_registrations,
                line.logged_registrations,
                line.ledger_registrations,
                line.realization,
                line.weekly_target,
                line.vs_plan_percent,
                line.vs_target_percent,
                line.activities_done,
            ]
        )
        for col in (8, 9):
            assessment.cell(assessment.max_row, col).number_format = PERCENT_FORMAT
    _widths(assessment, (8, 14, 12, 12, 12, 10, 12, 12, 12, 12))
    return workbook


def save(workbook: Workbook, path: Path | str) -> Path:
    """Write the workbook (the folder must exist); returns the path written."""
    target = Path(path)
    workbook.save(target)
    return target


def _widths(sheet: Worksheet, widths: Sequence[int]) -> None:
    from openpyxl.utils import get_column_letter

    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
