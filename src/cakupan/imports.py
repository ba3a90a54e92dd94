"""Reading record files (CSV, XLSX) row by row, and the one result shape of every import.

Every ``cakupan ... import FILE`` command (offices, participants, payments, partners, targets)
uses this module so that files behave the same everywhere:

* :func:`open_records` checks the file before anything is written (it exists, it is ``.csv`` or
  ``.xlsx``, a CSV is UTF-8, the header holds every required column, no unknown or repeated
  column) and raises :class:`~cakupan.errors.CakupanError` (INVALID, CLI exit 2) when the file
  itself is unusable. It then streams :class:`Record` values one at a time, so a file of a million
  rows never sits in memory.
* Row numbers count data rows from 1 (the header is not counted), the contract of every import
  (issue 4): row 1 is the first line under the header. Entirely blank rows are skipped (but still
  counted in the numbering).
* Cells are strings with surrounding whitespace removed; an empty cell is ``""``. XLSX numbers
  that are whole become ``"123"``, dates become ``"YYYY-MM-DD"``. An XLSX *number* in an
  identifier column (:func:`identifier_column`: NIK, phone, reference, any code or number) is
  refused for its row with "format the column as text" (issue 21): Excel keeps 15 significant
  digits, so a 16-digit NIK typed as a number is silently another person's NIK.
* :class:`ImportResult` is the one answer shape:
  ``{"accepted": int, "duplicates": int, "rejected": int, "errors": [{"row", "field", "message"}]}``
  and :attr:`ImportResult.exit_code` maps it to the CLI exit code (0 nothing rejected, 1 otherwise).
* :func:`post_file` runs an import in one transaction: with ``partial=False`` (the default,
  all-or-nothing) any rejected row rolls back every write and ``accepted`` is reported as 0; with
  ``partial=True`` the valid rows are posted. Either way one audit row records the file name, its
  SHA-256, the counts and the mode (:func:`audit_import`).

Typical use in an area's ``actions.py``::

    def import_things(engine, actor, path, *, partial=False) -> ImportResult:
        with open_records(path, required=("code", "name")) as records:
            def post(session: Session, result: ImportResult) -> None:
                for batch in in_batches(records, 1000):
                    ...  # check each record (record.shape_problems() too), then
                         # result.reject(record.row, problems) or write it and count it
            return post_file(engine, actor, "thing", records.source, post, partial=partial)
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.db import make_session_factory
from cakupan.errors import CakupanError, ErrorKind, FieldProblem
from cakupan.i18n import Lang, Text, current_lang, t
from cakupan.text import text_problem

__all__ = [
    "MAX_LISTED_ERRORS",
    "ImportResult",
    "NumericCell",
    "Record",
    "RecordFile",
    "RowError",
    "SourceFile",
    "audit_import",
    "file_unusable",
    "identifier_column",
    "in_batches",
    "numeric_identifier_problems",
    "open_records",
    "post_file",
]

#: How many row errors an :class:`ImportResult` lists; further ones are only counted (a file of a
#: million bad rows must not build a million messages).
MAX_LISTED_ERRORS = 1000

_SUFFIXES = (".csv", ".xlsx")
_DELIMITERS = (",", ";", "\t")
_CHUNK = 1 << 20
_T = TypeVar("_T")


@dataclass(frozen=True)
class RowError:
    """One problem with one field of one row of a file."""

    row: int
    field: str
    message: Text

    def as_json(self, lang: Lang | None = None) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message.render(lang)}


@dataclass
class ImportResult:
    """What an import did. ``rejected`` counts rows (a row with two bad fields counts once and
    lists two errors); ``duplicates`` counts rows that were already present and changed nothing."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: closed months the posted rows are dated in or before (late data, issue 21): queued for a
    #: re-close in the import's transaction ...
    late_months: list[str] = field(default_factory=list)
    #: ... and those closed again right after it (the rest stay queued for the worker)
    reclosed_months: list[str] = field(default_factory=list)

    def reject(self, row: int, problems: Sequence[tuple[str, Text]]) -> None:
        """Count row ``row`` as rejected, with one ``(field, message)`` per problem found."""
        self.rejected += 1
        for field_name, message in problems:
            if len(self.errors) < MAX_LISTED_ERRORS:
                self.errors.append(RowError(row, field_name, message))

    @property
    def exit_code(self) -> int:
        """CLI exit code: 0 when nothing was rejected, 1 otherwise."""
        return 0 if self.rejected == 0 else 1

    def as_json(self, lang: Lang | None = None) -> dict[str, Any]:
        """The one answer shape of every import (``--json``); ``late_months`` and
        ``reclosed_months`` are added when the file touched closed months."""
        answer: dict[str, Any] = {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "errors": [error.as_json(lang) for error in self.errors],
        }
        if self.late_months:
            answer["late_months"] = list(self.late_months)
            answer["reclosed_months"] = list(self.reclosed_months)
        return answer

    def late_notice(self) -> Text | None:
        """The warning about closed months touched by the file, or None."""
        if not self.late_months:
            return None
        waiting = [m for m in self.late_months if m not in self.reclosed_months]
        if not waiting:
            return t(
                "Data terlambat untuk bulan yang sudah ditutup ({m}): bulan itu sudah ditutup"
                " ulang (status, KPI dasbor, draf insentif).",
                "Late data for closed months ({m}): those months were closed again (statuses,"
                " dashboard KPIs, draft incentive statements).",
            ).format(m=", ".join(self.late_months))
        return t(
            "Data terlambat untuk bulan yang sudah ditutup ({m}): {w} menunggu ditutup ulang"
            " (pekerjaan 'reclose' atau 'cakupan close --late').",
            "Late data for closed months ({m}): {w} wait to be closed again (job 'reclose' or"
            " 'cakupan close --late').",
        ).format(m=", ".join(self.late_months), w=", ".join(waiting))

    def render(self, lang: Lang | None = None) -> str:
        """A short human summary followed by one line per listed error."""
        lang = lang or current_lang()
        summary = t(
            "diterima {a}, duplikat {d}, ditolak {r}", "accepted {a}, duplicates {d}, rejected {r}"
        ).format(a=self.accepted, d=self.duplicates, r=self.rejected)
        row_word = "row" if lang == "en" else "baris"
        lines = [summary.render(lang)]
        notice = self.late_notice()
        if notice is not None:
            lines.append(notice.render(lang))
        lines += [f"  {row_word} {e.row}, {e.field}: {e.message.render(lang)}" for e in self.errors]
        hidden = self.rejected and len(self.errors) >= MAX_LISTED_ERRORS
        if hidden:
            lines.append(
                t(
                    "  (hanya {n} kesalahan pertama yang ditampilkan)",
                    "  (only the first {n} errors are listed)",
                )
                .format(n=MAX_LISTED_ERRORS)
                .render(lang)
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class SourceFile:
    """The identity of an imported file, as audited: its name, size and SHA-256."""

    path: Path
    sha256: str
    size: int

    @property
    def name(self) -> str:
        return self.path.name


#: Identifier columns by exact name; any column ending in ``_code``, ``code``, ``_number``,
#: ``_id`` or ``reference`` is one too (:func:`identifier_column`).
IDENTIFIER_COLUMNS = frozenset({"nik", "phone", "reference", "kode_penetapan", "npwp", "kpj"})


def identifier_column(column: str) -> bool:
    """Whether ``column`` holds an identifier that must be text (leading zeros, 16 digits)."""
    name = column.strip().lower()
    return name in IDENTIFIER_COLUMNS or name.endswith(
        ("_code", "code", "_number", "_id", "reference", "phone", "nik")
    )


class NumericCell(str):
    """The text of an XLSX cell that held a number (see :func:`numeric_identifier_problems`)."""

    __slots__ = ()


def numeric_identifier_problems(columns: Iterable[str]) -> list[tuple[str, Text]]:
    """One row problem per identifier column whose XLSX cell was a number."""
    return [
        (
            column,
            t(
                "sel berisi angka, bukan teks: format kolom {c} sebagai Teks di Excel lalu ketik "
                "ulang nilainya (angka 16 digit dibulatkan Excel menjadi NIK/nomor lain)",
                "the cell holds a number, not text: format the column {c} as Text in Excel and "
                "type the values again (Excel rounds 16-digit numbers into another NIK/number)",
            ).format(c=column),
        )
        for column in columns
    ]


@dataclass(frozen=True)
class Record:
    """One data row: its data-row number (1 = first row under the header), its cells by column name (missing trailing
    cells are ``""``), any non-empty cells beyond the header (``extra``) and the identifier
    columns whose XLSX cell was a number (``numeric``)."""

    row: int
    values: dict[str, str]
    extra: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")

    def shape_problems(self) -> list[tuple[str, Text]]:
        """``[(field, message)]`` when the row has more cells than the header or an identifier
        given as an XLSX number, or a cell holding a control, zero-width or bidi character
        (:mod:`cakupan.text`, issue 21: in every column of every import, not only names and
        references; a NUL ended a whole import on PostgreSQL), else ``[]``."""
        problems = numeric_identifier_problems(self.numeric)
        for column, value in self.values.items():
            problem = text_problem(value, t(f"kolom {column}", f"column {column}"))
            if problem is not None:
                problems.append((column, problem))
        if not self.extra:
            return problems
        return [
            (
                "row",
                t(
                    "baris berisi {n} sel lebih banyak dari kepala kolom: {v}",
                    "the row has {n} more cells than the header: {v}",
                ).format(n=len(self.extra), v=", ".join(self.extra)),
            ),
            *problems,
        ]


class RecordFile:
    """An opened, checked file: its :class:`SourceFile`, its columns, and its rows (iterate once,
    either as :class:`Record` values or, for large files, as plain tuples with :meth:`cells`)."""

    def __init__(
        self,
        source: SourceFile,
        columns: tuple[str, ...],
        rows: Iterator[Record],
        cells: Iterable[Sequence[str]] | None = None,
        *,
        xlsx: bool = False,
    ):
        self.source = source
        self.columns = columns
        self._rows = rows
        self._cells = cells
        #: Data-row number -> identifier columns given as XLSX numbers (filled while reading).
        self.numeric: dict[int, tuple[str, ...]] = {}
        self._xlsx = xlsx

    def __iter__(self) -> Iterator[Record]:
        return self._rows

    def cells(
        self, wanted: Sequence[str]
    ) -> Iterator[tuple[int, tuple[str, ...], tuple[str, ...]]]:
        """The same rows as iterating the file (same numbering, trimming and blank-row skipping),
        as ``(row, values, extra)``: ``values`` holds the cells of the ``wanted`` columns in that
        order (``""`` for a column the file does not have or a row too short), ``extra`` the
        non-empty cells beyond the header. No dict or :class:`Record` per row: the hot path of a
        file of a million rows. Iterate once, instead of iterating the file itself."""
        if self._cells is None:  # a file given as records only: derive from them
            for record in self._rows:
                get = record.values.get
                yield record.row, tuple(get(column, "") for column in wanted), record.extra
            return
        header = list(self.columns)
        width = len(header)
        positions = [header.index(column) if column in header else -1 for column in wanted]
        absent = -1 in positions
        pick = None if absent or not positions else operator.itemgetter(*positions)
        identifiers = (
            [i for i, c in enumerate(header) if identifier_column(c)] if self._xlsx else []
        )
        for number, raw in enumerate(self._cells, start=1):
            if identifiers:
                _note_numeric(self.numeric, number, header, identifiers, raw)
            if len(raw) == width:  # the common case: every cell present, nothing extra
                stripped = [cell.strip() for cell in raw]
                if pick is not None and any(stripped):
                    picked = pick(stripped)
                    yield number, picked if len(positions) > 1 else (picked,), ()
                    continue
            else:
                stripped = [cell.strip() for cell in raw]
            if not any(stripped):
                continue
            if len(stripped) < width:
                stripped += [""] * (width - len(stripped))
            extra = tuple(cell for cell in stripped[width:] if cell)
            yield number, tuple(stripped[i] if i >= 0 else "" for i in positions), extra


def file_unusable(path: Path, message: Text, code: str = "import.file_unusable") -> CakupanError:
    """The error for a file that cannot be read at all (CLI exit 2)."""
    return CakupanError(
        title=t("Berkas tidak dapat dipakai", "The file cannot be used"),
        problems=[FieldProblem(field="file", record=path.name, message=message, code=code)],
        kind=ErrorKind.INVALID,
        code=code,
    )


@contextmanager
def open_records(
    path: Path | str,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    allow_unknown: bool = False,
) -> Iterator[RecordFile]:
    """Open a ``.csv`` or ``.xlsx`` file of records and check it (see the module docstring).

    Column names are matched case-insensitively after trimming. Raises ``CakupanError`` (INVALID)
    when the file is missing, of another type, not UTF-8, has no header, misses a required column,
    repeats a column, or (unless ``allow_unknown``) has a column not in ``required + optional``.
    A CSV may use ``,``, ``;`` or tab as delimiter (detected from the header line). A line the CSV
    parser cannot read (e.g. an oversized field) raises the same error while the rows are streamed,
    which rolls back the caller's transaction.
    """
    path = Path(path)
    if not path.is_file():
        raise file_unusable(
            path,
            t("berkas {p} tidak ditemukan", "file {p} not found").format(p=str(path)),
            "import.file_missing",
        )
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise file_unusable(
            path,
            t(
                "jenis berkas harus .csv atau .xlsx, ditemukan {s!r}",
                "expected a .csv or .xlsx file, got {s!r}",
            ).format(s=path.suffix or "(none)"),
            "import.file_type",
        )
    source = _inspect(path, check_utf8=suffix == ".csv")
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first_line = handle.readline()
            handle.seek(0)
            delimiter = max(_DELIMITERS, key=first_line.count)
            yield _checked(
                path,
                source,
                _csv_rows(path, csv.reader(handle, delimiter=delimiter)),
                required,
                optional,
                allow_unknown,
            )
        return
    workbook = _open_workbook(path)
    try:
        sheet = workbook.worksheets[0]
        cells: Iterator[Sequence[Any]] = sheet.iter_rows(values_only=True)
        rows = ([_cell_text(value) for value in row] for row in cells)
        yield _checked(path, source, rows, required, optional, allow_unknown, xlsx=True)
    finally:
        workbook.close()


def in_batches(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    """Consecutive lists of at most ``size`` items (for executemany / set-based SQL per batch)."""
    batch: list[_T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def post_file(
    engine: Engine,
    actor: Actor,
    kind: str,
    source: SourceFile,
    post: Callable[[Session, ImportResult], None],
    *,
    partial: bool = False,
) -> ImportResult:
    """Run ``post`` (which streams the file, writes the valid rows and fills the result) in one
    transaction, then audit once. All-or-nothing unless ``partial``: when any row was rejected
    every write of ``post`` is rolled back and ``accepted`` becomes 0; only the audit row of the
    attempt is committed. Any exception raised by ``post`` rolls everything back and propagates.
    """
    factory = make_session_factory(engine)
    result = ImportResult()
    with factory() as session:  # closing the session rolls back whatever was not committed
        session.begin()
        post(session, result)
        if partial or result.rejected == 0:
            audit_import(session, actor, kind, source, result, partial=partial)
            session.commit()
            return result
        session.rollback()
        result.accepted = 0
        result.late_months = []  # rolled back with the rows that queued them
        session.begin()
        audit_import(session, actor, kind, source, result, partial=partial)
        session.commit()
    return result


def audit_import(
    session: Session,
    actor: Actor,
    kind: str,
    source: SourceFile,
    result: ImportResult,
    *,
    partial: bool,
) -> None:
    """The one audit row of an import: action ``<kind>.import``, the file and the counts."""
    record_audit(
        session,
        actor,
        f"{kind}.import",
        "import",
        source.name,
        after={
            "file": source.name,
            "sha256": source.sha256,
            "size": source.size,
            "mode": "partial" if partial else "all-or-nothing",
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "rejected": result.rejected,
        },
    )


# -- internals -----------------------------------------------------------------------------------


def _inspect(path: Path, *, check_utf8: bool) -> SourceFile:
    """Hash the file in chunks; for a CSV also check it decodes as UTF-8 (streaming, one pass)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    size = 0
    line = 1
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if check_utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as error:
                    raise _not_utf8(path, line + chunk[: error.start].count(b"\n")) from None
                line += chunk.count(b"\n")
        if check_utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise _not_utf8(path, line) from None
    return SourceFile(path=path, sha256=digest.hexdigest(), size=size)


def _not_utf8(path: Path, line: int) -> CakupanError:
    return file_unusable(
        path,
        t(
            "berkas harus berenkode UTF-8; baris {n} bukan UTF-8 (simpan ulang sebagai CSV UTF-8)",
            "the file must be UTF-8 encoded; line {n} is not (save it again as CSV UTF-8)",
        ).format(n=line),
        "import.encoding",
    )


def _open_workbook(path: Path) -> Any:
    from zipfile import BadZipFile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError) as error:
        raise file_unusable(
            path,
            t(
                "bukan buku kerja Excel (.xlsx) yang dapat dibaca: {e}",
                "not a readable Excel (.xlsx) workbook: {e}",
            ).format(e=type(error).__name__),
            "import.file_type",
        ) from None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return NumericCell(int(value))
    if isinstance(value, int | float):
        return NumericCell(value)
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _checked(
    path: Path,
    source: SourceFile,
    rows: Iterator[Sequence[str]],
    required: Sequence[str],
    optional: Sequence[str],
    allow_unknown: bool,
    *,
    xlsx: bool = False,
) -> RecordFile:
    header_cells = next(rows, None)
    if header_cells is None or not any(cell.strip() for cell in header_cells):
        raise file_unusable(
            path,
            t(
                "berkas kosong; baris pertama harus berisi kolom: {c}",
                "the file is empty; the first row must name the columns: {c}",
            ).format(c=", ".join(required)),
            "import.header",
        )
    header = [cell.strip().lower() for cell in header_cells]
    while header and header[-1] == "":  # trailing empty cells of a spreadsheet
        header.pop()
    known = [c.lower() for c in (*required, *optional)]
    problems: list[Text] = []
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        problems.append(
            t("kolom berulang: {c}", "repeated columns: {c}").format(c=", ".join(repeated))
        )
    if "" in header:
        problems.append(t("ada kolom tanpa nama", "a column has no name"))
    missing = [c for c in required if c.lower() not in header]
    if missing:
        problems.append(
            t("kolom wajib tidak ada: {m}", "required columns missing: {m}").format(
                m=", ".join(missing)
            )
        )
    unknown = [c for c in header if c and c not in known]
    if unknown and not allow_unknown:
        problems.append(
            t("kolom tidak dikenal: {u}", "unknown columns: {u}").format(u=", ".join(unknown))
        )
    if problems:
        expected = ", ".join(required) + (f" [{', '.join(optional)}]" if optional else "")
        detail = "; ".join(p.id for p in problems), "; ".join(p.en for p in problems)
        raise file_unusable(
            path,
            t(
                "kepala kolom tidak sesuai ({d}); diharapkan {x}, ditemukan {f}",
                "wrong header ({e}); expected {x}, found {f}",
            ).format(d=detail[0], e=detail[1], x=expected, f=", ".join(header_cells)),
            "import.header",
        )
    shared = _Once(rows)
    record_file = RecordFile(source, tuple(header), iter(()), shared, xlsx=xlsx)
    record_file._rows = _records(header, shared, record_file.numeric if xlsx else None)
    return record_file


class _Once:
    """The data rows after the header, read by whichever of the two views is iterated."""

    def __init__(self, rows: Iterator[Sequence[str]]):
        self._rows = rows

    def __iter__(self) -> Iterator[Sequence[str]]:
        return self._rows


def _csv_rows(path: Path, reader: Any) -> Iterator[Sequence[str]]:
    """The CSV reader's rows; a malformed line (NUL byte, oversized field) makes the file unusable."""
    try:
        yield from reader
    except csv.Error as error:
        raise file_unusable(
            path,
            t(
                "baris {n} bukan CSV yang sah: {e}",
                "line {n} is not valid CSV: {e}",
            ).format(n=reader.line_num, e=str(error)),
            "import.malformed",
        ) from None


def _note_numeric(
    numeric: dict[int, tuple[str, ...]],
    number: int,
    header: Sequence[str],
    identifiers: Sequence[int],
    cells: Sequence[str],
) -> None:
    found = tuple(
        header[i] for i in identifiers if i < len(cells) and isinstance(cells[i], NumericCell)
    )
    if found:
        numeric[number] = found


def _records(
    header: list[str],
    rows: Iterable[Sequence[str]],
    numeric: dict[int, tuple[str, ...]] | None = None,
) -> Iterator[Record]:
    width = len(header)
    identifiers = [i for i, c in enumerate(header) if identifier_column(c)]
    for number, cells in enumerate(rows, start=1):
        if numeric is not None:
            _note_numeric(numeric, number, header, identifiers, cells)
        stripped = [cell.strip() for cell in cells]
        if not any(stripped):
            continue
        values = dict(zip(header, stripped, strict=False))
        for column in header[len(stripped) :]:
            values[column] = ""
        extra = tuple(cell for cell in stripped[width:] if cell)
        yield Record(number, values, extra, () if numeric is None else numeric.get(number, ()))
