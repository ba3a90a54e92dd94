"""The one XLSX writer of every export (issue 21): text that a spreadsheet would run as a
formula is written as text.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (a payment
reference ``=HYPERLINK(...)``, a review note ``+cmd``) is stored as a string cell with Excel's
quote prefix, so Excel, LibreOffice and Google Sheets show it as typed and never evaluate it.
Every export builds its workbook with :func:`new_workbook`, whose ``save`` neutralises every
sheet first (pages stream it, the CLI writes a file; both go through the same ``save``).
"""

from __future__ import annotations

from typing import IO, Any

from openpyxl import Workbook

__all__ = ["FORMULA_LEADS", "SafeWorkbook", "neutralise", "new_workbook"]

#: First characters that make a spreadsheet read text as a formula (OWASP CSV injection).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


class SafeWorkbook(Workbook):  # type: ignore[misc]
    """An openpyxl workbook whose ``save`` writes formula-leading text as text."""

    def save(self, filename: str | IO[bytes] | Any) -> None:
        neutralise(self)
        super().save(filename)


def new_workbook() -> SafeWorkbook:
    """A new workbook for an export (one sheet, as ``openpyxl.Workbook()``)."""
    return SafeWorkbook()


def neutralise(workbook: Workbook) -> int:
    """Turn every formula-leading text cell of ``workbook`` into a quoted string cell; returns
    how many cells changed. No export writes real formulas."""
    changed = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str) and value.startswith(FORMULA_LEADS):
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    changed += 1
    return changed
