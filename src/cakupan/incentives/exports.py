"""A partner's monthly incentive statement as a spreadsheet (XLSX) or a printable PDF, in Bahasa
Indonesia with rupiah formatting (``Rp 1.234.567``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cakupan.money import format_rupiah

#: Bahasa Indonesia names of the line kinds.
KIND_LABELS = {
    "milestone_1": "Iuran bulan ke-1 terbayar",
    "milestone_3": "Iuran bulan ke-3 terbayar",
    "milestone_6": "Iuran bulan ke-6 terbayar",
    "commission": "Komisi iuran",
    "acquisition": "Peserta baru",
    "contribution_share": "Bagian iuran diterima",
    "override": "Insentif Wadah (override)",
    "threshold": "Ambang pendaftaran tercapai",
    "clawback": "Pengembalian (pembayaran dibatalkan)",
}
STATUS_LABELS = {
    "draft": "Draf",
    "approved": "Disetujui",
    "paid": "Dibayar",
    "disputed": "Disanggah",
}
HEADER = ("No", "NIK", "Jenis", "Referensi", "Jumlah")


def kind_label(kind: str) -> str:
    if kind.startswith("milestone_") and kind not in KIND_LABELS:
        return f"Iuran bulan ke-{kind.removeprefix('milestone_')} terbayar"
    return KIND_LABELS.get(kind, kind)


def _title_lines(statement: dict[str, Any], period: str, partner_name: str) -> list[str]:
    lines = [
        f"Mitra: {statement['partner_code']} - {partner_name}",
        f"Periode: {period}",
        f"Skema: {statement['scheme']} versi {statement['scheme_version']}",
        f"Status: {STATUS_LABELS.get(statement['status'], statement['status'])}",
    ]
    return lines


def _fee_line(statement: dict[str, Any]) -> str | None:
    fees = statement.get("fees")
    if not fees:
        return None
    return (
        f"Biaya transaksi dibayar peserta (tidak termasuk jumlah): {fees['registrations']} "
        f"pendaftaran, {fees['payments']} pembayaran, {format_rupiah(fees['amount'])}"
    )


def write_xlsx(statement: dict[str, Any], period: str, partner_name: str, path: Path) -> None:
    """The statement as an XLSX workbook: title block, one row per line (amounts as numbers
    formatted as rupiah), the total."""
    from openpyxl.styles import Font

    from cakupan.xlsx import new_workbook

    workbook = new_workbook()
    sheet = workbook.active
    sheet.title = "Laporan insentif"
    sheet.append(["Laporan Insentif Mitra BPJS Ketenagakerjaan"])
    sheet["A1"].font = Font(bold=True, size=14)
    for text in _title_lines(statement, period, partner_name):
        sheet.append([text])
    sheet.append([])
    sheet.append(list(HEADER))
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    rupiah = '"Rp" #,##0;-"Rp" #,##0'
    for number, line in enumerate(statement["lines"], start=1):
        sheet.append(
            [
                number,
                line["nik"] or "",
                kind_label(line["kind"]),
                line["reference"] or "",
                line["amount"],
            ]
        )
        sheet.cell(row=sheet.max_row, column=5).number_format = rupiah
    sheet.append([None, None, None, "Jumlah", statement["total"]])
    sheet.cell(row=sheet.max_row, column=4).font = Font(bold=True)
    total_cell = sheet.cell(row=sheet.max_row, column=5)
    total_cell.number_format = rupiah
    total_cell.font = Font(bold=True)
    fee = _fee_line(statement)
    if fee:
        sheet.append([])
        sheet.append([fee])
    for column, width in zip("ABCDE", (6, 20, 36, 28, 16), strict=True):
        sheet.column_dimensions[column].width = width
    workbook.save(path)


def write_pdf(statement: dict[str, Any], period: str, partner_name: str, path: Path) -> None:
    """The statement as a printable A4 PDF."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"Laporan insentif {statement['partner_code']} {period}")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 14)
    pdf.cell(0, 9, "Laporan Insentif Mitra BPJS Ketenagakerjaan", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    for text in _title_lines(statement, period, partner_name):
        pdf.cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("helvetica", size=9)
    with pdf.table(
        col_widths=(10, 38, 62, 40, 30),
        text_align=("RIGHT", "LEFT", "LEFT", "LEFT", "RIGHT"),
        first_row_as_headings=True,
    ) as table:
        row = table.row()
        for heading in HEADER:
            row.cell(heading)
        for number, line in enumerate(statement["lines"], start=1):
            row = table.row()
            for value in (
                str(number),
                line["nik"] or "",
                kind_label(line["kind"]),
                line["reference"] or "",
                format_rupiah(line["amount"]),
            ):
                row.cell(_latin1(value))
        row = table.row()
        for value in ("", "", "", "Jumlah", format_rupiah(statement["total"])):
            row.cell(value)
    fee = _fee_line(statement)
    if fee:
        pdf.ln(3)
        pdf.multi_cell(0, 5, _latin1(fee))
    pdf.output(str(path))


def _latin1(text: str) -> str:
    """The core PDF fonts are Latin-1: replace what they cannot draw."""
    return text.encode("latin-1", "replace").decode("latin-1")
