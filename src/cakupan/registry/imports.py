"""The participants and payments file imports: thin over the registry's batch actions.

A file is read as a stream (:func:`cakupan.imports.open_records`), its rows are handed to
:func:`~cakupan.registry.actions.register_participants` or
:func:`~cakupan.registry.actions.post_payments` in chunks, one :class:`ImportBatch` row records the
file, and one audit row records the import (:func:`cakupan.imports.post_file`). All-or-nothing
unless ``partial``. Row numbers in errors are 1-based data rows (the header is not counted).

On PostgreSQL, concurrent imports of overlapping files may deadlock or collide on the unique
indexes; the losing transaction has rolled back entirely, so the import is simply run again (the
rows the winner posted then count as duplicates).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from cakupan.auth import Actor
from cakupan.dates import Clock, SystemClock
from cakupan.i18n import t
from cakupan.imports import (
    MAX_LISTED_ERRORS,
    ImportResult,
    Record,
    RecordFile,
    open_records,
    post_file,
)
from cakupan.registry.actions import post_payments, register_participants
from cakupan.registry.inputs import RawPayment, RegistrationRow
from cakupan.registry.late import late_months_of
from cakupan.registry.models import ImportBatch

__all__ = [
    "IMPORT_PAYMENT_CHANNEL",
    "PARTICIPANT_COLUMNS",
    "PARTICIPANT_OPTIONAL_COLUMNS",
    "PAYMENT_COLUMNS",
    "PAYMENT_OPTIONAL_COLUMNS",
    "import_participants",
    "import_payments",
]

PARTICIPANT_COLUMNS = (
    "nik",
    "name",
    "phone",
    "occupation",
    "reported_income",
    "programs",
    "registered_on",
)
PARTICIPANT_OPTIONAL_COLUMNS = (
    "sex",
    "birth_date",
    "email",
    "village_code",
    "district_code",
    "sector",
    "funding",
    "channel",
    "branch_code",
    "partner_code",
    "agent_code",
)
PAYMENT_COLUMNS = ("reference", "nik", "amount", "paid_on")
PAYMENT_OPTIONAL_COLUMNS = ("channel", "partner_code", "agent_code")

#: The channel of a settlement-file row without a ``channel`` cell: files come from banks.
IMPORT_PAYMENT_CHANNEL = "bank"

#: How many times an import that lost a PostgreSQL deadlock or unique-index race is run again.
_ATTEMPTS = 5
#: SQLSTATEs after which the whole import is safely re-run: deadlock, serialization failure,
#: unique violation (a concurrent poster committed the same reference first).
_RETRYABLE = {"40P01", "40001", "23505"}

Progress = Callable[[int], None]
#: Posts a file's rows in the import's transaction: (session, records, result, batch id).
PostRows = Callable[[Session, RecordFile, ImportResult, int], ImportResult]


def import_participants(
    engine: Engine,
    actor: Actor,
    path: Path | str,
    *,
    partial: bool = False,
    clock: Clock | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Register every row of a participants file (columns: :data:`PARTICIPANT_COLUMNS`, optional
    :data:`PARTICIPANT_OPTIONAL_COLUMNS`). A row identical to a registration already recorded
    counts as a duplicate. Raises ``CakupanError`` (INVALID) when the file itself is unusable."""
    clock = clock or SystemClock()

    def rows(records: Iterator[Record], result: ImportResult) -> Iterator[RegistrationRow]:
        for record in records:
            row = record.row
            problems = record.shape_problems()
            if not record["registered_on"]:
                problems.append(
                    (
                        "registered_on",
                        t(
                            "tanggal daftar wajib diisi (YYYY-MM-DD)",
                            "a registration date is required (YYYY-MM-DD)",
                        ),
                    )
                )
            if problems:
                result.reject(row, problems)
                continue
            yield RegistrationRow(
                row=row,
                nik=record["nik"],
                name=record["name"],
                phone=record["phone"],
                occupation=record["occupation"],
                reported_income=record["reported_income"],
                programs=record["programs"],
                registered_on=record["registered_on"],
                **{column: record[column] or None for column in PARTICIPANT_OPTIONAL_COLUMNS},
            )

    def post(
        session: Session, records: RecordFile, result: ImportResult, batch_id: int
    ) -> ImportResult:
        del batch_id  # registrations carry no batch column; the batch row records the file
        return register_participants(
            session,
            actor,
            rows(iter(records), result),
            partial=partial,
            clock=clock,
            audit=False,
            progress=progress,
        )

    return _import(
        engine,
        actor,
        "participants",
        path,
        PARTICIPANT_COLUMNS,
        PARTICIPANT_OPTIONAL_COLUMNS,
        post,
        partial=partial,
        clock=clock,
    )


def import_payments(
    engine: Engine,
    actor: Actor,
    path: Path | str,
    *,
    partial: bool = False,
    clock: Clock | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Post every row of a payments settlement file (columns: :data:`PAYMENT_COLUMNS`, optional
    :data:`PAYMENT_OPTIONAL_COLUMNS`; channel :data:`IMPORT_PAYMENT_CHANNEL` when not given).
    A (channel, reference) already posted with the same content is a duplicate; with other content
    the row is rejected as a conflict. Raises ``CakupanError`` (INVALID) when the file itself is
    unusable."""
    clock = clock or SystemClock()

    wanted = (*PAYMENT_COLUMNS, *PAYMENT_OPTIONAL_COLUMNS)

    def rows(records: RecordFile, result: ImportResult) -> Iterator[RawPayment]:
        # The hot loop of a settlement file: plain tuples from the CSV reader, no object per row.
        numeric = records.numeric  # identifiers given as XLSX numbers, filled as rows are read
        for row, values, extra in records.cells(wanted):
            if extra or row in numeric:
                record = Record(
                    row, dict(zip(wanted, values, strict=True)), extra, numeric.get(row, ())
                )
                result.reject(row, record.shape_problems())
                continue
            reference, nik, amount, paid_on, channel, partner, agent = values
            yield (
                row,
                reference,
                nik,
                amount,
                paid_on,
                channel or IMPORT_PAYMENT_CHANNEL,
                partner or None,
                agent or None,
            )

    def post(
        session: Session, records: RecordFile, result: ImportResult, batch_id: int
    ) -> ImportResult:
        return post_payments(
            session,
            actor,
            rows(records, result),
            partial=partial,
            clock=clock,
            batch_id=batch_id,
            audit=False,
            progress=progress,
        )

    return _import(
        engine,
        actor,
        "payments",
        path,
        PAYMENT_COLUMNS,
        PAYMENT_OPTIONAL_COLUMNS,
        post,
        partial=partial,
        clock=clock,
    )


def _import(
    engine: Engine,
    actor: Actor,
    kind: str,
    path: Path | str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    post_rows: PostRows,
    *,
    partial: bool,
    clock: Clock,
) -> ImportResult:
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            with open_records(path, required=required, optional=optional) as records:
                return _import_once(
                    engine, actor, kind, records, post_rows, partial=partial, clock=clock
                )
        except DBAPIError as error:
            if attempt == _ATTEMPTS or _sqlstate(error) not in _RETRYABLE:
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _import_once(
    engine: Engine,
    actor: Actor,
    kind: str,
    records: RecordFile,
    post_rows: PostRows,
    *,
    partial: bool,
    clock: Clock,
) -> ImportResult:
    source = records.source

    def post(session: Session, result: ImportResult) -> None:
        batch = ImportBatch(
            kind=kind,
            file_name=source.name[:400],
            file_hash=source.sha256,
            accepted=0,
            duplicates=0,
            rejected=0,
            at=clock.now(),
            actor=actor.name,
        )
        session.add(batch)
        session.flush()
        _merge(result, post_rows(session, records, result, batch.id))
        result.late_months = [str(month) for month in late_months_of(session)]
        batch.accepted = 0 if result.rejected and not partial else result.accepted
        batch.duplicates, batch.rejected = result.duplicates, result.rejected
        session.flush()

    return post_file(engine, actor, kind, source, post, partial=partial)


def _merge(result: ImportResult, posted: ImportResult) -> None:
    """Add the action's counts to the file-level result (which already holds the rows rejected
    for their shape), errors in row order."""
    result.accepted += posted.accepted
    result.duplicates += posted.duplicates
    result.rejected += posted.rejected
    errors = sorted([*result.errors, *posted.errors], key=lambda error: error.row)
    result.errors = errors[:MAX_LISTED_ERRORS]


def _sqlstate(error: DBAPIError) -> str | None:
    state = getattr(error.orig, "sqlstate", None)
    return state if isinstance(state, str) else None
