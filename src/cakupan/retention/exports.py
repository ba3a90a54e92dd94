"""XLSX export of a worklist: exactly the filtered rows, Indonesian headers, rupiah as numbers."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl.styles import Font

from cakupan.xlsx import new_workbook

RUPIAH_FORMAT = '"Rp" #,##0'
HEADERS = (
    "NIK",
    "Nama",
    "Telepon",
    "Lunas s.d.",
    "Bulan dibayar",
    "Jumlah tagihan (Rp)",
    "Risiko berhenti",
    "Alasan",
    "Pemilik",
    "Kontak terakhir",
    "Hasil terakhir",
    "Tindak lanjut",
    "Saluran",
    "Mitra",
    "Agen",
    "Desa/kelurahan",
    "Pekerjaan",
)


def worklist_xlsx(list_label: str, rows: Sequence[dict[str, Any]]) -> bytes:
    """The rows (as :func:`cakupan.retention.queries.worklist` returns them) as an XLSX file."""
    workbook = new_workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = list_label[:31]
    sheet.append(list(HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for r in rows:
        sheet.append(
            [
                r["nik"],
                r["name"],
                r["phone"],
                r["paid_through"] or "",
                r["months_paid"],
                r["amount_due"],
                r["risk"],
                "; ".join(r["reasons"]),
                r["owner"] or "",
                r["last_contact"] or "",
                r["last_outcome_label"] or "",
                r["follow_up"] or "",
                r["channel"],
                r["partner_code"] or "",
                r["agent_code"] or "",
                r["village_code"] or "",
                r["occupation"],
            ]
        )
        sheet.cell(row=sheet.max_row, column=6).number_format = RUPIAH_FORMAT
        sheet.cell(row=sheet.max_row, column=7).number_format = "0%"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
