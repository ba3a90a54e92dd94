"""The registry's write path: registrations, changes, payments and reversals.

Every action validates, writes and audits inside the caller's transaction (the caller commits;
raising :class:`~cakupan.errors.CakupanError` leaves the transaction to be rolled back). The batch
engines (:func:`post_payments`, :func:`register_participants`) are what the CSV imports and the
partner API use; the single-record actions run the same engine on one row, so a file row and a
form are checked by exactly the same code.

Speed: rows are handled in chunks; per chunk a fixed number of queries loads the state of every
NIK of the chunk (``SELECT ... FOR UPDATE`` of their memberships on PostgreSQL, in id order),
the ledger is computed in memory with the cached :class:`PolicyBook`, and the writes are
executemany on SQLite and ``COPY`` / array updates on PostgreSQL. No per-row SELECT.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

import psycopg
from sqlalchemy import Connection, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.contributions import PolicyBook, load_policy_book
from cakupan.dates import JAKARTA, Clock, Month, SystemClock, today
from cakupan.db import is_postgres
from cakupan.errors import CakupanError, ErrorKind, FieldProblem, conflict, invalid, not_found
from cakupan.i18n import Text, t
from cakupan.imports import ImportResult, in_batches
from cakupan.registry.inputs import (
    ParsedPayment,
    ParsedRegistration,
    PaymentRow,
    PaymentValues,
    Problems,
    RawPayment,
    RegistrationRow,
    expected_amounts_text,
    owner_needs_jht_text,
    parse_choice,
    parse_code,
    parse_registration_row,
    parse_rupiah,
    payment_values,
    raw_payment,
    text_or_none,
)
from cakupan.registry.late import queue_late_months
from cakupan.registry.models import (
    Membership,
    Occupation,
    Participant,
    ParticipantChange,
    ParticipantTerms,
    Payment,
    PaymentReversal,
)
from cakupan.registry.nik import NikCheck, check_nik
from cakupan.registry.occupation_terms import jht_required
from cakupan.registry.rules import (
    ARREARS_MONTHS,
    FUNDINGS,
    MAX_MONTHS_PER_PAYMENT,
    PROGRAMS,
    SECTORS,
    VOID_AFTER_MONTHS,
    Allocation,
    EpisodeAction,
    PaymentEntry,
    Refusal,
    RefusalReason,
    Status,
    allocate_payment,
    card_number,
    check_reversal,
    eligibility_problem,
    kode_penetapan,
    month_at,
    payment_code_valid_until,
    project,
    status_on,
)

__all__ = [
    "BatchResult",
    "IssuedCode",
    "PaymentRow",
    "PostedPayment",
    "Registration",
    "RegistrationRow",
    "ReversedPayment",
    "change_participant",
    "post_payment",
    "post_payments",
    "register_participant",
    "register_participants",
    "reverse_payment",
]

#: The answer of a batch: ``accepted``, ``duplicates``, ``rejected`` and per-row ``errors``
#: (the same shape as every import, :class:`cakupan.imports.ImportResult`).
BatchResult = ImportResult

#: Rows per chunk: one round of state queries and bulk writes.
CHUNK_ROWS = 5000
#: Payment rows per chunk: a payment row is small (a few hundred bytes in memory), so a chunk of
#: a settlement file is large: fewer rounds of state queries and longer bulk writes.
PAYMENT_CHUNK_ROWS = 50_000


# -- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedCode:
    """A kode penetapan: pay exactly ``amount`` for ``months`` months from ``first_month`` by
    ``valid_until`` (inclusive)."""

    code: str
    amount: int
    first_month: Month
    months: int
    valid_until: date

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "amount": self.amount,
            "first_month": str(self.first_month),
            "months": self.months,
            "valid_until": self.valid_until.isoformat(),
        }


@dataclass(frozen=True)
class Registration:
    """What a registration produced: the participant, the episode and the kode penetapan."""

    participant_id: int
    nik: str
    name: str
    membership_id: int
    episode_no: int
    start_month: Month
    branch_code: str | None
    payment_code: IssuedCode | None

    def as_json(self) -> dict[str, Any]:
        return {
            "participant_id": self.participant_id,
            "nik": self.nik,
            "name": self.name,
            "episode": self.episode_no,
            "start_month": str(self.start_month),
            "branch_code": self.branch_code,
            "payment_code": None if self.payment_code is None else self.payment_code.as_json(),
        }


@dataclass(frozen=True)
class PostedPayment:
    """A posted payment (or, with ``duplicate``, the one already posted under its reference)."""

    payment_id: int
    channel: str
    reference: str
    nik: str
    amount: int
    paid_on: date
    first_month: Month
    months: int
    episode_no: int
    paid_through: Month | None
    card_number: str | None
    duplicate: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "result": "duplicate" if self.duplicate else "posted",
            "payment_id": self.payment_id,
            "channel": self.channel,
            "reference": self.reference,
            "nik": self.nik,
            "amount": self.amount,
            "paid_on": self.paid_on.isoformat(),
            "first_month": str(self.first_month),
            "months": self.months,
            "episode": self.episode_no,
            "paid_through": None if self.paid_through is None else str(self.paid_through),
            "card_number": self.card_number,
        }


@dataclass(frozen=True)
class ReversedPayment:
    """A reversal: the payment, the months it no longer covers and the episode's new state."""

    payment_id: int
    channel: str
    reference: str
    nik: str
    episode_no: int
    uncovered_first: Month
    uncovered_months: int
    paid_through: Month | None
    months_paid: int
    reversed_on: date

    def as_json(self) -> dict[str, Any]:
        return {
            "payment_id": self.payment_id,
            "channel": self.channel,
            "reference": self.reference,
            "nik": self.nik,
            "episode": self.episode_no,
            "uncovered": [str(self.uncovered_first + i) for i in range(self.uncovered_months)],
            "paid_through": None if self.paid_through is None else str(self.paid_through),
            "months_paid_in_episode": self.months_paid,
            "reversed_on": self.reversed_on.isoformat(),
        }


# -- shared in-memory state --------------------------------------------------------------------------


@dataclass
class _Episode:
    """The latest membership episode of a participant, as loaded and as changed in memory."""

    membership_id: int | None  # None until allocated (a new episode of this chunk)
    episode_no: int
    start_month: Month
    registered_on: date
    paid_through: Month | None
    months_paid: int
    first_paid_on: date | None
    last_paid_on: date | None
    card_number: str | None
    reacquisition: bool
    channel: str = ""
    partner_code: str | None = None
    agent_code: str | None = None
    is_new: bool = False
    dirty: bool = False

    def status_on(self, day: date) -> Status:
        """D-3 status on ``day`` (what :func:`allocate_payment` reads, with the fields above)."""
        return status_on(day, self.start_month, self.paid_through)


@dataclass
class _Terms:
    """A participant's contribution terms by effective month (sorted)."""

    months: list[int] = field(default_factory=list)
    values: list[tuple[int, str, str, str]] = field(default_factory=list)

    def add(self, month: Month, income: int, programs: str, sector: str, funding: str) -> None:
        index = bisect.bisect_left(self.months, month.index)
        if index < len(self.months) and self.months[index] == month.index:
            self.values[index] = (income, programs, sector, funding)
            return
        self.months.insert(index, month.index)
        self.values.insert(index, (income, programs, sector, funding))

    def at(self, month: Month) -> tuple[int, str, str, str]:
        index = bisect.bisect_right(self.months, month.index) - 1
        return self.values[max(index, 0)]

    def amount_for(
        self, book: PolicyBook, memo: dict[tuple[int, int, str, str, str], int] | None = None
    ) -> Callable[[Month], int]:
        """The contribution of a month under these terms; ``memo`` (shared by a whole batch)
        keeps the amounts already priced, keyed by plain values."""
        cache = {} if memo is None else memo
        if len(self.values) <= 1:  # one set of terms (the common case): no search per month
            fixed = self.values[0] if self.values else None

            def fixed_amount(month: Month) -> int:
                terms = fixed if fixed is not None else self.at(month)
                key = (month.index, *terms)
                due = cache.get(key)
                if due is None:
                    income, programs, sector, funding = terms
                    due = cache[key] = book.monthly_total(
                        income=income,
                        programs=programs,
                        month=month,
                        sector=sector,
                        funding=funding,
                    )
                return due

            return fixed_amount

        def amount(month: Month) -> int:
            terms = self.at(month)
            key = (month.index, *terms)
            due = cache.get(key)
            if due is None:
                income, programs, sector, funding = terms
                due = cache[key] = book.monthly_total(
                    income=income, programs=programs, month=month, sector=sector, funding=funding
                )
            return due

        return amount


@dataclass
class _Holder:
    participant_id: int
    nik: str
    registered_on: date
    episode: _Episode
    terms: _Terms
    open_codes: bool = False  # an unpaid kode penetapan exists


def _claim_writer(session: Session) -> None:
    """On SQLite, take the write lock now (a no-op UPDATE): ids read next are then ours, and the
    driver has really begun the transaction before any SAVEPOINT."""
    if not is_postgres(session):
        session.connection().exec_driver_sql("UPDATE membership SET id = id WHERE 1 = 0")


def _in_list(
    session: Session, values: Sequence[object], *, pg_type: str = "text"
) -> tuple[str, object]:
    """``IN`` over many values as ONE parameter (no statement with thousands of placeholders):
    a JSON array, read by ``json_array_elements_text`` on PostgreSQL (cast to ``pg_type``) and
    ``json_each`` on SQLite. One JSON text is encoded in C; a driver-level array of tens of
    thousands of values is encoded value by value in Python. A few values (one posting) go as
    an array, whose size the planner knows (it then walks the indexes). One value (a single
    posting) goes as ``= value``: PostgreSQL plans ``= ANY($1)`` afresh at every execution of the
    prepared statement (a generic plan cannot know the array's size; planning the state query
    cost more than running it), while ``= $1`` on a unique index keeps its generic plan."""
    if is_postgres(session):
        if len(values) == 1:
            return f"= %s::{pg_type}", values[0]
        if len(values) <= _SMALL_INSERT:
            return f"= ANY(%s::{pg_type}[])", list(values)
        return (
            f"IN (SELECT value::{pg_type} FROM json_array_elements_text(%s::json))",
            json.dumps(list(values)),
        )
    return "IN (SELECT value FROM json_each(?))", json.dumps(list(values))


def _raw(session: Session, sql: str, *params: object) -> list[Any]:
    """Run driver-level SQL (``%s`` placeholders, rewritten to ``?`` on SQLite)."""
    if not is_postgres(session):
        sql = sql.replace("%s", "?")
    return list(session.connection().exec_driver_sql(sql, tuple(params)).all())


def _pipelined(session: Session, statements: Sequence[tuple[str, tuple[object, ...]]]) -> list[Any]:
    """Run driver-level statements (PostgreSQL) in one round trip with psycopg's pipeline mode;
    the rows of the last one. A driver error is raised as SQLAlchemy's ``DBAPIError`` (as
    :func:`_raw` would), so callers retry deadlocks and races the same way."""
    raw: Any = session.connection().connection.driver_connection
    try:
        with raw.pipeline():
            cursors = [raw.cursor() for _ in statements]
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params)  # queued; fetching syncs and reads every result
            rows = list(cursors[-1].fetchall())
            for cursor in cursors:
                cursor.close()
            return rows
    except psycopg.Error as error:
        raise DBAPIError.instance(
            statements[-1][0], statements[-1][1], error, psycopg.Error
        ) from error


def _month(index: int | None) -> Month | None:
    return None if index is None else month_at(index)


def _day(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _load_holders(
    session: Session,
    niks: Iterable[str],
    *,
    lock: bool,
    reference: tuple[str, str] | None = None,
    known: dict[tuple[str, str], str] | None = None,
) -> dict[str, _Holder]:
    """The latest episode, the terms and whether an unpaid kode penetapan exists, for each
    registered NIK among ``niks`` (1 query, 2 with ``lock``). With ``lock`` (PostgreSQL) every
    membership of those participants is locked first, in id order, so concurrent posters
    serialise per participant without deadlocks; the state is read after the locks are held.
    With ``reference`` (channel, reference) the same query also reads the fingerprint of a
    payment already posted under it into ``known`` (when any NIK was found): one round trip
    less for a single posting."""
    nik_list = sorted(set(niks))
    if not nik_list:
        return {}
    in_niks, nik_param = _in_list(session, nik_list)
    lock_sql = (
        "SELECT m.id FROM membership m JOIN participant p ON p.id = m.participant_id"
        f" WHERE p.nik {in_niks} ORDER BY m.id FOR UPDATE OF m"
    )
    state_sql = (
        "SELECT p.id, p.nik, p.registered_on, m.id, m.episode_no, m.start_month,"
        " m.registered_on, m.paid_through_month, m.months_paid, m.first_paid_on,"
        " m.last_paid_on, m.card_number, m.channel, m.partner_code, m.agent_code,"
        " t.effective_month, t.reported_income, t.programs, t.sector, t.funding,"
        " EXISTS (SELECT 1 FROM payment_code c WHERE c.participant_id = p.id"
        " AND c.payment_id IS NULL)"
        + (
            ", (SELECT y.fingerprint FROM payment y WHERE y.channel = %s AND y.reference = %s)"
            if reference is not None
            else ""
        )
        + " FROM participant p JOIN membership m ON m.participant_id = p.id"
        " LEFT JOIN participant_terms t ON t.participant_id = p.id"
        f" WHERE p.nik {in_niks} ORDER BY p.id, m.episode_no, t.effective_month"
    )
    state_params = (*reference, nik_param) if reference is not None else (nik_param,)
    if lock and len(nik_list) <= _SMALL_INSERT and is_postgres(session):
        # A posting: the lock and the read go in one round trip (psycopg pipeline; with the
        # transaction's BEGIN when it is the first statement). The server runs them in order,
        # so the read still starts after the locks are held and sees what was committed before.
        rows = _pipelined(session, [(lock_sql, (nik_param,)), (state_sql, state_params)])
    else:
        if lock:
            _raw(session, lock_sql, nik_param)
        rows = _raw(session, state_sql, *state_params)
    if reference is not None and rows and known is not None and rows[0][21] is not None:
        known[reference] = rows[0][21]
    holders: dict[str, _Holder] = {}
    for r in rows:  # (episode x terms) rows, ordered: the last episode seen is the latest
        holder = holders.get(r[1])
        if holder is not None and holder.episode.episode_no == r[4]:
            if r[15] is not None and (not holder.terms.months or holder.terms.months[-1] < r[15]):
                holder.terms.months.append(r[15])
                holder.terms.values.append((r[16], r[17], r[18], r[19]))
            continue
        participant_registered = _day(r[2])
        episode_registered = _day(r[6])
        assert participant_registered is not None
        assert episode_registered is not None
        episode = _Episode(
            membership_id=r[3],
            episode_no=r[4],
            start_month=month_at(r[5]),
            registered_on=episode_registered,
            paid_through=_month(r[7]),
            months_paid=r[8],
            first_paid_on=_day(r[9]),
            last_paid_on=_day(r[10]),
            card_number=r[11],
            reacquisition=episode_registered > participant_registered,
            channel=r[12],
            partner_code=r[13],
            agent_code=r[14],
        )
        terms = _Terms()
        if r[15] is not None:
            terms.months.append(r[15])
            terms.values.append((r[16], r[17], r[18], r[19]))
        holders[r[1]] = _Holder(
            r[0], r[1], participant_registered, episode, terms, open_codes=bool(r[20])
        )
    return holders


class _Ids:
    """Ids for rows we insert ourselves: a sequence range on PostgreSQL, max(id)+n on SQLite
    (safe there: the write lock is held, see :func:`_claim_writer`)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = is_postgres(session)
        self.next_sqlite: dict[str, int] = {}

    def take(self, table: str, count: int) -> list[int]:
        if count == 0:
            return []
        if self.postgres:
            return [
                row[0]
                for row in _raw(
                    self.session,
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    table,
                    count,
                )
            ]
        start = self.next_sqlite.get(table)
        if start is None:
            start = _raw(self.session, f"SELECT COALESCE(MAX(id), 0) FROM {table}")[0][0] + 1
        self.next_sqlite[table] = start + count
        return list(range(start, start + count))


def _sqlite_instant(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


_SQLITE_CONVERTERS: dict[type, Callable[[Any], object]] = {
    datetime: _sqlite_instant,
    date: date.isoformat,
    bool: int,
    Month: lambda month: month.index,
}
_PG_CONVERTERS: dict[type, Callable[[Any], object]] = {Month: lambda month: month.index}


def _converted(
    rows: Sequence[Sequence[object]], converters: dict[type, Callable[[Any], object]]
) -> list[tuple[object, ...]]:
    """Rows with the values the driver needs, converted column by column (a column's type is
    that of its first non-null value)."""
    columns: list[Sequence[object]] = list(zip(*rows, strict=True))
    for index, column in enumerate(columns):
        sample = next((value for value in column if value is not None), None)
        convert = converters.get(type(sample))
        if convert is not None:
            columns[index] = [None if value is None else convert(value) for value in column]
    return list(zip(*columns, strict=True))


_SMALL_INSERT = 50
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, Month):
        return str(value.index)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


#: COPY text of a value by its exact type (one dict lookup per field; other types: _copy_field).
_COPY_BY_TYPE: dict[type, Callable[[Any], str]] = {
    int: str,
    str: lambda value: value.translate(_COPY_ESCAPES),
    type(None): lambda _: "\\N",
    bool: lambda value: "t" if value else "f",
    date: date.isoformat,
    datetime: datetime.isoformat,
}


def _copy_text(rows: Sequence[Sequence[object]]) -> str:
    """Rows in PostgreSQL's COPY text format (tab-separated, ``\\N`` for NULL, escaped)."""
    get = _COPY_BY_TYPE.get
    return "".join(
        "\t".join([get(type(value), _copy_field)(value) for value in row]) + "\n" for row in rows
    )


def _insert_ready(
    session: Session,
    table: str,
    columns: Sequence[str],
    pg_types: Sequence[str],
    rows: Sequence[Sequence[object]],
) -> None:
    """Insert rows whose values are already what the driver takes (ints for months, ISO
    strings for dates on SQLite): binary COPY on PostgreSQL with the columns' ``pg_types``
    (rows encoded by the driver's C code; a multi-row INSERT for a few rows), executemany on
    SQLite. No per-value conversion pass in Python."""
    if not rows:
        return
    connection: Connection = session.connection()
    if is_postgres(session):
        if len(rows) <= _SMALL_INSERT:
            one = "(" + ", ".join("%s" for _ in columns) + ")"
            connection.exec_driver_sql(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                + ", ".join(one for _ in rows),
                tuple(value for row in rows for value in row),
            )
            return
        raw: Any = connection.connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(list(pg_types))
            write_row = copy.write_row
            for row in rows:
                write_row(row)
        return
    placeholders = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", list(rows)
    )


def _bulk_insert(
    session: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    """Insert ``rows`` (values in ``columns`` order): COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    connection: Connection = session.connection()
    if is_postgres(session) and len(rows) <= _SMALL_INSERT:
        # a few rows (one posting): one multi-row INSERT is one round trip, COPY is several
        converted = _converted(rows, _PG_CONVERTERS)
        one = "(" + ", ".join("%s" for _ in columns) + ")"
        connection.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
            + ", ".join(one for _ in converted),
            tuple(value for row in converted for value in row),
        )
        return
    if is_postgres(session):
        raw: Any = connection.connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            copy.write(_copy_text(rows))
        return
    placeholders = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
        _converted(rows, _SQLITE_CONVERTERS),
    )


_MEMBERSHIP_COLUMNS = (
    "id",
    "participant_id",
    "episode_no",
    "registered_on",
    "start_month",
    "channel",
    "partner_code",
    "agent_code",
    "card_number",
    "first_paid_on",
    "last_paid_on",
    "paid_through_month",
    "months_paid",
)


def _membership_row(participant_id: int, ep: _Episode) -> tuple[object, ...]:
    return (
        ep.membership_id,
        participant_id,
        ep.episode_no,
        ep.registered_on,
        ep.start_month,
        ep.channel,
        ep.partner_code,
        ep.agent_code,
        ep.card_number,
        ep.first_paid_on,
        ep.last_paid_on,
        ep.paid_through,
        ep.months_paid,
    )


def _update_memberships(session: Session, episodes: Sequence[_Episode]) -> None:
    """Write the in-memory projection (and a re-used episode's new start) of existing episodes:
    one UPDATE from a JSON array of rows on PostgreSQL (one text parameter: no per-value array
    encoding in Python), one executemany on SQLite. Dates go as ISO strings, converted once per
    distinct date."""
    if not episodes:
        return
    days: dict[date, str] = {}

    def iso(day: date | None) -> str | None:
        if day is None:
            return None
        text_day = days.get(day)
        if text_day is None:
            text_day = days[day] = day.isoformat()
        return text_day

    values = [
        (
            ep.paid_through.index if ep.paid_through is not None else None,
            ep.months_paid,
            iso(ep.first_paid_on),
            iso(ep.last_paid_on),
            ep.card_number,
            ep.start_month.index,
            iso(ep.registered_on),
            ep.membership_id,
        )
        for ep in episodes
    ]
    connection = session.connection()
    if is_postgres(session):
        connection.exec_driver_sql(
            "UPDATE membership AS m SET paid_through_month = (v->>0)::int,"
            " months_paid = (v->>1)::int, first_paid_on = (v->>2)::date,"
            " last_paid_on = (v->>3)::date, card_number = v->>4, start_month = (v->>5)::int,"
            " registered_on = (v->>6)::date"
            " FROM json_array_elements(%s::json) AS v WHERE m.id = (v->>7)::bigint",
            (json.dumps(values),),
        )
        return
    connection.exec_driver_sql(
        "UPDATE membership SET paid_through_month = ?, months_paid = ?, first_paid_on = ?,"
        " last_paid_on = ?, card_number = ?, start_month = ?, registered_on = ? WHERE id = ?",
        values,
    )


# -- payments ------------------------------------------------------------------------------------------


def post_payments(
    session: Session,
    actor: Actor,
    rows: Iterable[PaymentRow | RawPayment],
    *,
    partial: bool = False,
    clock: Clock | None = None,
    batch_id: int | None = None,
    book: PolicyBook | None = None,
    audit: bool = True,
    progress: Callable[[int], None] | None = None,
) -> BatchResult:
    """Post many payments (a settlement file, a partner API call) in the caller's transaction.

    Every row is checked (row number, field, reason). A (channel, reference) already posted with
    the same content counts as a duplicate and changes nothing; with other content it is rejected
    as a conflict. Unless ``partial``, nothing is posted when any row is rejected (``accepted`` is
    then 0). Rows of one participant are applied in the order given. ``batch_id`` links the
    payments to their :class:`ImportBatch`. One audit row for the whole batch unless ``audit`` is
    False (the import audits the file instead). ``progress`` is called with the rows done.
    """
    result, _ = _post_payment_rows(
        session,
        actor,
        rows,
        partial=partial,
        clock=clock or SystemClock(),
        batch_id=batch_id,
        book=book,
        keep_outcomes=False,
        progress=progress,
    )
    if audit:
        _audit_batch(
            session,
            actor,
            "payment.post_batch",
            ("import_batch", batch_id) if batch_id is not None else ("payment", None),
            result,
            partial=partial,
            clock=clock,
        )
    return result


def _audit_batch(
    session: Session,
    actor: Actor,
    action: str,
    entity: tuple[str, int | None],
    result: BatchResult,
    *,
    partial: bool,
    clock: Clock | None,
) -> None:
    """The one audit row of a batch (registrations or payments): its counts and its mode."""
    record_audit(
        session,
        actor,
        action,
        entity[0],
        entity[1],
        after={
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "rejected": result.rejected,
            "mode": "partial" if partial else "all-or-nothing",
        },
        at=(clock or SystemClock()).now(),
    )


def post_payment(
    session: Session,
    actor: Actor,
    *,
    nik: str,
    amount: int | str,
    paid_on: date | str,
    reference: str,
    channel: str | None = None,
    partner_code: str | None = None,
    agent_code: str | None = None,
    clock: Clock | None = None,
    book: PolicyBook | None = None,
) -> PostedPayment:
    """Post one payment (D-2/D-4) and audit it; a repeat of an already-posted payment returns it
    with ``duplicate=True``. Raises INVALID (bad field, wrong amount with the expected amounts,
    void registration), NOT_FOUND (unknown NIK) or CONFLICT (reference reused)."""
    clock = clock or SystemClock()
    row = PaymentRow(1, reference, nik, amount, paid_on, channel, partner_code, agent_code)
    _, outcomes = _post_payment_rows(
        session,
        actor,
        [row],
        partial=True,
        clock=clock,
        batch_id=None,
        book=book,
        keep_outcomes=True,
        progress=None,
    )
    outcome = outcomes[0]
    if outcome.status == "rejected":
        raise _row_error(
            outcome.problems,
            outcome.kind or ErrorKind.INVALID,
            t("Pembayaran ditolak", "Payment refused"),
        )
    parsed = outcome.parsed
    assert parsed is not None
    if outcome.status == "duplicate":
        existing = session.execute(
            select(Payment, Membership)
            .join(Membership, Membership.id == Payment.membership_id)
            .where(Payment.channel == parsed.channel, Payment.reference == parsed.reference)
        ).one()
        payment, membership = existing
        return PostedPayment(
            payment.id,
            payment.channel,
            payment.reference,
            parsed.nik,
            payment.amount,
            payment.paid_on,
            payment.first_month,
            payment.months,
            membership.episode_no,
            membership.paid_through_month,
            membership.card_number,
            duplicate=True,
        )
    allocation, holder = outcome.allocation, outcome.holder
    assert allocation is not None
    assert holder is not None
    assert outcome.payment_index is not None
    episode = holder.episode
    posted = PostedPayment(
        outcome.payment_index,
        parsed.channel,
        parsed.reference,
        parsed.nik,
        parsed.amount,
        parsed.paid_on,
        allocation.first_month,
        allocation.months,
        episode.episode_no,
        episode.paid_through,
        episode.card_number,
    )
    if not outcome.audited:
        record_audit(
            session,
            actor,
            "payment.post",
            "payment",
            posted.payment_id,
            after=posted.as_json(),
            at=clock.now(),
        )
    return posted


def _row_error(problems: Problems, kind: ErrorKind, title: Text) -> CakupanError:
    return CakupanError(
        title=title,
        problems=[FieldProblem(field=name, message=message) for name, message in problems],
        kind=kind,
        code={
            ErrorKind.CONFLICT: "conflict",
            ErrorKind.NOT_FOUND: "not-found",
        }.get(kind, "invalid"),
    )


@dataclass
class _RowOutcome:
    row: int
    status: str  # posted | duplicate | rejected
    kind: ErrorKind | None = None
    problems: Problems = field(default_factory=list)
    payment_index: int | None = None
    parsed: ParsedPayment | None = None
    allocation: Allocation | None = None
    holder: _Holder | None = None
    audited: bool = False  # its audit row was written with it (one posting on PostgreSQL)


#: One payment allocated in memory and not yet written: (checked values, fingerprint, holder,
#: episode paid, index of its first month, the months' amounts).
_Pending = tuple[PaymentValues, str, _Holder, _Episode, int, tuple[int, ...]]

#: How many participants' state a batch keeps in memory between chunks (a participant's later
#: payments in a date-ordered file then need no new state query). Bounded, so that memory stays
#: bounded whatever the file size: when full, the state is read again from the database.
HOLDER_CACHE = 200_000


#: SQLite page cache of a large payments batch (negative: KiB), 256 MiB.
_BULK_CACHE_KIB = -262_144


class _Batch:
    """What one batch keeps across its chunks: the engine, caches of plain values, ids."""

    def __init__(
        self, session: Session, book: PolicyBook, now: datetime, batch_id: int | None
    ) -> None:
        self.session = session
        self.postgres = is_postgres(session)
        self.book = book
        self.now = now
        self.business_today = now.astimezone(JAKARTA).date()
        self.batch_id = batch_id
        self.ids = _Ids(session)
        self.memo: dict[tuple[int, int, str, str, str], int] = {}
        self.holders: dict[str, _Holder] = {}
        self.iso: dict[date, str] = {}
        self.month_index: dict[date, int] = {}
        #: Who posts, when one posting's audit row is written with it (post_payment).
        self.audit_actor: Actor | None = None
        self.audited = False


def _post_payment_rows(
    session: Session,
    actor: Actor,
    rows: Iterable[PaymentRow | RawPayment],
    *,
    partial: bool,
    clock: Clock,
    batch_id: int | None,
    book: PolicyBook | None,
    keep_outcomes: bool,
    progress: Callable[[int], None] | None,
) -> tuple[BatchResult, list[_RowOutcome]]:
    batch = _Batch(session, book or load_policy_book(session), clock.now(), batch_id)
    if keep_outcomes:  # one posting (post_payment): its audit row may go with its write
        batch.audit_actor = actor
    _claim_writer(session)
    savepoint = None if partial else session.begin_nested()
    result = BatchResult()
    outcomes: list[_RowOutcome] = []
    done = 0
    cache_before: int | None = None
    try:
        for chunk in in_batches(rows, PAYMENT_CHUNK_ROWS):
            if cache_before is None and not batch.postgres and len(chunk) == PAYMENT_CHUNK_ROWS:
                # A large file on SQLite: the ledger's indexes outgrow the connection's page cache
                # (64 MiB); a larger cache for this batch only (memory, not durability).
                cache_before = _raw(session, "PRAGMA cache_size")[0][0]
                session.connection().exec_driver_sql(f"PRAGMA cache_size = {_BULK_CACHE_KIB}")
            _post_payment_chunk(batch, chunk, result, outcomes, keep_outcomes)
            done += len(chunk)
            if progress is not None:
                progress(done)
    finally:
        if cache_before is not None:
            session.connection().exec_driver_sql(f"PRAGMA cache_size = {int(cache_before)}")
    if savepoint is not None:
        if result.rejected:
            savepoint.rollback()
            result.accepted = 0
        else:
            savepoint.commit()
    return result, outcomes


def _parsed(values: PaymentValues) -> ParsedPayment:
    return ParsedPayment(*values)


def _post_payment_chunk(
    batch: _Batch,
    chunk: Sequence[PaymentRow | RawPayment],
    result: BatchResult,
    outcomes: list[_RowOutcome],
    keep: bool,
) -> None:
    """One chunk in one fused loop over plain values: shape checks (a fast path for clean rows),
    duplicates, state, allocation (a fast path for the common case: the next months of the
    current episode at the exact amount; anything else through :func:`allocate_payment`), then
    one bulk write."""

    def reject(row: int, problems: Problems, kind: ErrorKind = ErrorKind.INVALID) -> None:
        result.reject(row, problems)
        if keep:
            outcomes.append(_RowOutcome(row, "rejected", kind, problems))

    parsed: list[PaymentValues] = []
    append = parsed.append
    for raw in chunk:
        value, problems = payment_values(raw if type(raw) is tuple else raw_payment(raw))  # type: ignore[arg-type]
        if value is None:
            reject(raw[0] if type(raw) is tuple else raw.row, problems)  # type: ignore[union-attr]
        else:
            append(value)
    if not parsed:
        return
    session, postgres, holders = batch.session, batch.postgres, batch.holders
    # References already posted first: a re-imported file then needs no other query. On
    # PostgreSQL the references of the remaining rows are read again once their participants
    # are locked, so a concurrent poster of the same reference is seen (no lost duplicate).
    # State read in an earlier chunk of this batch is still ours (memberships locked on
    # PostgreSQL, the write lock held on SQLite) and up to date (written by this batch).
    if postgres and len(parsed) == 1:  # one posting: lock, then state and reference at once
        single = parsed[0]
        known: dict[tuple[str, str], str] = {}
        holders.update(
            _load_holders(
                session, [single[2]], lock=True, reference=(single[5], single[1]), known=known
            )
        )
        if single[2] not in holders:  # unknown NIK: a reference conflict is still reported first
            known = _existing_fingerprints(session, parsed)
    elif postgres and len(parsed) <= _SMALL_INSERT:  # a few postings: lock first, one lookup
        holders.update(
            _load_holders(session, {p[2] for p in parsed if p[2] not in holders}, lock=True)
        )
        known = _existing_fingerprints(session, parsed)
    else:
        known = _existing_fingerprints(session, parsed)
        fresh = [p for p in parsed if (p[5], p[1]) not in known]
        wanted = {p[2] for p in fresh}
        if len(holders) + len(wanted) > HOLDER_CACHE:
            holders.clear()
        missing = [nik for nik in wanted if nik not in holders]
        if missing:
            holders.update(_load_holders(session, missing, lock=postgres))
        if postgres and fresh:
            known.update(_existing_fingerprints(session, fresh))
    book, memo, today = batch.book, batch.memo, batch.business_today
    iso_of, month_of_day = batch.iso, batch.month_index
    sha256 = hashlib.sha256
    pending: list[_Pending] = []
    pending_outcomes: list[_RowOutcome] = []
    for p in parsed:
        row, reference, nik, amount, day, channel, partner, agent = p
        iso = iso_of.get(day)
        if iso is None:
            iso = iso_of[day] = day.isoformat()
        # = payment_fingerprint(nik, amount, day, partner, agent), without a call per row
        fingerprint = sha256(
            f"{nik}|{amount}|{iso}|{partner or ''}|{agent or ''}".encode()
        ).hexdigest()
        key = (channel, reference)
        previous = known.get(key)
        if previous is not None:
            if previous == fingerprint:
                result.duplicates += 1
                if keep:
                    outcomes.append(_RowOutcome(row, "duplicate", parsed=_parsed(p)))
                continue
            reject(row, [("reference", _reference_conflict(_parsed(p)))], ErrorKind.CONFLICT)
            continue
        if day > today:
            reject(
                row,
                [
                    (
                        "paid_on",
                        t(
                            "tanggal bayar {d} di masa depan (hari ini {h})",
                            "paid_on {d} is in the future (today is {h})",
                        ).format(d=iso, h=today.isoformat()),
                    )
                ],
            )
            continue
        holder = holders.get(nik)
        if holder is None:
            reject(
                row,
                [
                    (
                        "nik",
                        t(
                            "NIK {n} belum terdaftar; daftarkan peserta lebih dulu",
                            "NIK {n} is not registered; register the participant first",
                        ).format(n=nik),
                    )
                ],
                ErrorKind.NOT_FOUND,
            )
            continue
        episode = holder.episode
        amounts = _fast_allocation(holder, episode, p, book, memo, month_of_day)
        if amounts is not None:  # the next months of the current episode (CONTINUE)
            first = amounts[0]
            amounts = amounts[1:]
            episode.paid_through = month_at(first + len(amounts) - 1)
            episode.months_paid += len(amounts)
            if episode.first_paid_on is None or day < episode.first_paid_on:
                episode.first_paid_on = day
            if episode.last_paid_on is None or day > episode.last_paid_on:
                episode.last_paid_on = day
            episode.dirty = True
            allocation: Allocation | None = None
        else:
            one = _parsed(p)
            try:
                found = _allocate(episode, one, holder.terms.amount_for(book, memo))
            except CakupanError as error:
                reject(
                    row, [("paid_on", error.title)] + [(x.field, x.message) for x in error.problems]
                )
                continue
            if isinstance(found, Refusal):
                reject(row, [_refusal_problem(found, one, episode)])
                continue
            allocation = found
            episode = _apply_allocation(holder, allocation, one)
            first, amounts = allocation.first_month.index, allocation.amounts
        known[key] = fingerprint
        pending.append((p, fingerprint, holder, episode, first, amounts))
        result.accepted += 1
        if keep:
            if allocation is None:
                allocation = Allocation(
                    month_at(first),
                    amounts,
                    EpisodeAction.CONTINUE,
                    episode.episode_no,
                    episode.start_month,
                )
            outcome = _RowOutcome(
                row, "posted", parsed=_parsed(p), allocation=allocation, holder=holder
            )
            outcomes.append(outcome)
            pending_outcomes.append(outcome)
    if not pending:
        return
    payment_ids = _write_payments(batch, pending)
    if keep:
        for outcome, payment_id in zip(pending_outcomes, payment_ids, strict=True):
            outcome.payment_index = payment_id
            outcome.audited = batch.audited


def _fast_allocation(
    holder: _Holder,
    episode: _Episode,
    p: PaymentValues,
    book: PolicyBook,
    memo: dict[tuple[int, int, str, str, str], int],
    month_of_day: dict[date, int],
) -> tuple[int, ...] | None:
    """The common case of :func:`allocate_payment` on plain ints: a pending, active or arrears
    episode paid the exact amount of its next 1-12 months. Returns (first month index, amount of
    each month...), or None for everything else (a refusal, a new or re-used episode, a price
    that cannot be computed), which then goes through :func:`allocate_payment` itself."""
    day, amount = p[4], p[3]
    if day < episode.registered_on and episode.months_paid == 0:
        return None
    month = month_of_day.get(day)
    if month is None:
        month = month_of_day[day] = day.year * 12 + day.month - 1
    through = episode.paid_through
    if through is None:
        first = episode.start_month.index
        if month >= first + VOID_AFTER_MONTHS:
            return None
    else:
        if month > through.index + ARREARS_MONTHS:
            return None
        first = through.index + 1
    values = holder.terms.values
    if not values:
        return None
    single = values[0] if len(values) == 1 else None
    amounts = [first]
    total = 0
    for index in range(first, first + MAX_MONTHS_PER_PAYMENT):
        terms = single if single is not None else holder.terms.at(month_at(index))
        key = (index, *terms)
        due = memo.get(key)
        if due is None:
            income, programs, sector, funding = terms
            try:
                due = memo[key] = book.monthly_total(
                    income=income,
                    programs=programs,
                    month=month_at(index),
                    sector=sector,
                    funding=funding,
                )
            except CakupanError:
                return None
        amounts.append(due)
        total += due
        if total == amount:
            return tuple(amounts)
        if total > amount:
            return None
    return None


def _allocate(
    episode: _Episode, p: ParsedPayment, amount_for: Callable[[Month], int]
) -> Allocation | Refusal:
    return allocate_payment(episode, p.paid_on, p.amount, amount_for)


def _apply_allocation(holder: _Holder, allocation: Allocation, p: ParsedPayment) -> _Episode:
    """Move the in-memory episode state on by one allocated payment; returns the episode paid."""
    episode = holder.episode
    if allocation.action is EpisodeAction.NEW_EPISODE:
        episode = _Episode(
            membership_id=None,
            episode_no=allocation.episode_no,
            start_month=allocation.start_month,
            registered_on=p.paid_on,
            paid_through=None,
            months_paid=0,
            first_paid_on=None,
            last_paid_on=None,
            card_number=None,
            reacquisition=True,
            channel=p.channel[:12],
            partner_code=p.partner_code,
            agent_code=p.agent_code,
            is_new=True,
        )
        holder.episode = episode
    elif allocation.action is EpisodeAction.REUSE_EPISODE:
        episode.start_month = allocation.start_month
        episode.registered_on = p.paid_on
    episode.paid_through = allocation.last_month
    episode.months_paid += allocation.months
    episode.first_paid_on = min(episode.first_paid_on or p.paid_on, p.paid_on)
    episode.last_paid_on = max(episode.last_paid_on or p.paid_on, p.paid_on)
    episode.dirty = True
    return episode


def _existing_fingerprints(
    session: Session, parsed: Sequence[PaymentValues]
) -> dict[tuple[str, str], str]:
    """Fingerprints of the (channel, reference) pairs of ``parsed`` already posted (one query
    per channel present, on the unique index)."""
    by_channel: dict[str, set[str]] = {}
    for p in parsed:
        by_channel.setdefault(p[5], set()).add(p[1])
    known: dict[tuple[str, str], str] = {}
    if is_postgres(session) and len(parsed) > _SMALL_INSERT:
        # Within a batch the payment table grows by the rows written so far, which the
        # planner's statistics do not count (an empty table at the last ANALYZE looks empty): it
        # then joined with the JSON list on the INNER side of a nested loop, re-reading 50,000
        # values per payment row (20 s per chunk). So: the list outside (LATERAL), one probe of
        # the unique index per reference, sequential scans off for this statement only.
        connection = session.connection()
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        for channel, references in by_channel.items():
            for reference, fingerprint in _raw(
                session,
                "SELECT y.reference, y.fingerprint FROM json_array_elements_text(%s::json)"
                " AS v(value) JOIN LATERAL (SELECT reference, fingerprint FROM payment"
                " WHERE channel = %s AND reference = v.value) AS y ON true",
                json.dumps(sorted(references)),
                channel,
            ):
                known[(channel, reference)] = fingerprint
        connection.exec_driver_sql("SET LOCAL enable_seqscan = on")
        return known
    for channel, references in by_channel.items():
        in_refs, ref_param = _in_list(session, sorted(references))
        for reference, fingerprint in _raw(
            session,
            f"SELECT reference, fingerprint FROM payment WHERE channel = %s AND reference {in_refs}",
            channel,
            ref_param,
        ):
            known[(channel, reference)] = fingerprint
    return known


def _reference_conflict(p: ParsedPayment) -> Text:
    return t(
        "referensi {r} pada kanal {c} sudah dipakai untuk pembayaran lain (NIK, jumlah, tanggal "
        "atau kode berbeda)",
        "reference {r} on channel {c} was already posted with different content (NIK, amount, "
        "date or codes differ)",
    ).format(r=p.reference, c=p.channel)


def _refusal_problem(refusal: Refusal, p: ParsedPayment, episode: _Episode) -> tuple[str, Text]:
    if refusal.reason is RefusalReason.AMOUNT:
        assert refusal.first_month is not None
        message = expected_amounts_text(refusal.expected, p.amount)
        return (
            "amount",
            t(
                f"bulan pertama yang belum dibayar {refusal.first_month}: {message.id}",
                f"first unpaid month {refusal.first_month}: {message.en}",
            ),
        )
    if refusal.reason is RefusalReason.VOID:
        return (
            "nik",
            t(
                "pendaftaran NIK {n} (episode {e}, mulai {s}) sudah batal karena tidak dibayar "
                "sampai akhir bulan ketiganya; daftarkan ulang lalu bayar",
                "the registration of NIK {n} (episode {e}, from {s}) is void: nothing was paid "
                "by the end of its third month; register again, then pay",
            ).format(n=p.nik, e=episode.episode_no, s=str(episode.start_month)),
        )
    return (
        "paid_on",
        t(
            "tanggal bayar {d} sebelum tanggal pendaftaran {r}",
            "paid_on {d} is before the registration date {r}",
        ).format(d=p.paid_on.isoformat(), r=episode.registered_on.isoformat()),
    )


_PAYMENT_COLUMNS = (
    "id",
    "channel",
    "reference",
    "participant_id",
    "membership_id",
    "amount",
    "paid_on",
    "first_month",
    "months",
    "partner_code",
    "agent_code",
    "fingerprint",
    "posted_at",
    "batch_id",
)
_COVERED_COLUMNS = ("payment_id", "month", "membership_id", "participant_id", "amount", "reversed")
#: PostgreSQL types of those columns, for binary COPY (values must match them exactly).
_PAYMENT_PG_TYPES = (
    "int8",
    "text",
    "text",
    "int8",
    "int8",
    "int8",
    "date",
    "int4",
    "int4",
    "text",
    "text",
    "text",
    "timestamptz",
    "int8",
)
_COVERED_PG_TYPES = ("int8", "int4", "int8", "int8", "int8", "bool")


def _write_payments(batch: _Batch, pending: Sequence[_Pending]) -> list[int]:
    """Write a chunk's allocated payments: new episodes, payment and covered-month rows (built
    ready for the driver: month indexes, ISO dates on SQLite, one conversion per distinct date),
    the projection of the episodes paid, the kode penetapan settled. Returns the payment ids."""
    session, postgres, ids = batch.session, batch.postgres, batch.ids
    if pending:  # a payment dated in a month already closed: queue its re-close (issue 21)
        earliest = Month.of(min(item[0][4] for item in pending))
        if earliest < Month.of(batch.business_today):
            queue_late_months(session, earliest, batch.now, "payment")
    new_episodes: dict[int, tuple[int, _Episode]] = {}
    touched: dict[int, _Episode] = {}
    for item in pending:
        episode = item[3]
        if episode.is_new:
            new_episodes[id(episode)] = (item[2].participant_id, episode)
        else:
            touched[id(episode)] = episode
    fresh = list(new_episodes.values())
    for (_, ep), membership_id in zip(fresh, ids.take("membership", len(fresh)), strict=True):
        ep.membership_id = membership_id
    for item in pending:  # the card is issued at the episode's first payment (D-2)
        ep = item[3]
        if ep.card_number is None and ep.first_paid_on is not None:
            assert ep.membership_id is not None
            ep.card_number = card_number(ep.first_paid_on, ep.membership_id)
    for _, ep in fresh:
        ep.is_new = False
    _bulk_insert(
        session, "membership", _MEMBERSHIP_COLUMNS, [_membership_row(pid, ep) for pid, ep in fresh]
    )
    if len(pending) == 1 and not fresh and postgres:
        return [_write_one_postgres(batch, pending[0])]  # its kode penetapan settled there too
    payment_rows: list[tuple[object, ...]] = []
    covered_rows: list[tuple[object, ...]] = []
    append_payment, append_covered = payment_rows.append, covered_rows.append
    posted_at: object = batch.now if postgres else _sqlite_instant(batch.now)  # once, not per row
    batch_id, iso = batch.batch_id, batch.iso
    payment_ids = ids.take("payment", len(pending))
    for (p, fingerprint, holder, episode, first, amounts), payment_id in zip(
        pending, payment_ids, strict=True
    ):
        episode_id = episode.membership_id
        participant_id = holder.participant_id
        append_payment(
            (
                payment_id,
                p[5],
                p[1],
                participant_id,
                episode_id,
                p[3],
                p[4] if postgres else iso[p[4]],
                first,
                len(amounts),
                p[6],
                p[7],
                fingerprint,
                posted_at,
                batch_id,
            )
        )
        month = first
        for due in amounts:
            append_covered((payment_id, month, episode_id, participant_id, due, False))
            month += 1
    _insert_ready(session, "payment", _PAYMENT_COLUMNS, _PAYMENT_PG_TYPES, payment_rows)
    _insert_ready(session, "covered_month", _COVERED_COLUMNS, _COVERED_PG_TYPES, covered_rows)
    _update_memberships(session, list(touched.values()))
    _link_payment_codes(session, pending, payment_ids)
    return payment_ids


def _write_one_postgres(batch: _Batch, item: _Pending) -> int:
    """One posting of an existing episode on PostgreSQL in ONE statement (one round trip): the
    payment row with its id from the sequence, its covered months, the episode's projection
    and, when the participant has an unpaid kode penetapan, the settling of the code this
    payment buys (:func:`_link_payment_codes`' rule), as data-modifying CTEs (the same rows
    :func:`_write_payments` writes for a batch)."""
    p, fingerprint, holder, ep, first, amounts = item
    code_sql, code_params = "", cast(tuple[object, ...], ())
    if holder.open_codes:
        # The code of this episode for exactly these months and this amount, still valid on the
        # payment day (the latest issued, should there be several alike).
        code_sql = (
            ", k AS (UPDATE payment_code SET payment_id = p.id FROM p WHERE payment_code.id = ("
            "SELECT c.id FROM payment_code c WHERE c.payment_id IS NULL AND c.participant_id = %s"
            " AND c.membership_id = %s AND c.first_month = %s AND c.months = %s"
            " AND c.amount = %s AND c.valid_until >= %s ORDER BY c.id DESC LIMIT 1))"
        )
        code_params = (holder.participant_id, ep.membership_id, first, len(amounts), p[3], p[4])
    audit_sql, audit_params = "", cast(tuple[object, ...], ())
    actor = batch.audit_actor
    if actor is not None:
        # The audit row of post_payment (what record_audit writes: action payment.post, the
        # posted payment as PostedPayment.as_json()) in the same statement: no ORM flush.
        audit_sql = (
            ", a AS (INSERT INTO audit_log (at, actor, role, action, entity_type, entity_id,"
            " after) SELECT %s, %s, %s, 'payment.post', 'payment', p.id::text,"
            " json_build_object('result', 'posted', 'payment_id', p.id, 'channel', %s::text,"
            " 'reference', %s::text, 'nik', %s::text, 'amount', %s::bigint, 'paid_on', %s::text,"
            " 'first_month', %s::text, 'months', %s::int, 'episode', %s::int,"
            " 'paid_through', %s::text, 'card_number', %s::text) FROM p)"
        )
        audit_params = (
            batch.now,
            actor.name,
            str(actor.role),
            p[5],
            p[1],
            p[2],
            p[3],
            p[4].isoformat(),
            str(month_at(first)),
            len(amounts),
            ep.episode_no,
            None if ep.paid_through is None else str(ep.paid_through),
            ep.card_number,
        )
        batch.audited = True
    payment_id: int = (
        batch.session.connection()
        .exec_driver_sql(
            "WITH p AS (INSERT INTO payment (id, channel, reference, participant_id,"
            " membership_id, amount, paid_on, first_month, months, partner_code, agent_code,"
            " fingerprint, posted_at, batch_id) VALUES (nextval(pg_get_serial_sequence("
            "'payment', 'id')), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id),"
            " c AS (INSERT INTO covered_month (payment_id, month, membership_id, participant_id,"
            " amount, reversed) SELECT p.id, %s + v.o - 1, %s, %s, v.a, false"
            " FROM p, unnest(%s::bigint[]) WITH ORDINALITY AS v(a, o)),"
            " m AS (UPDATE membership SET paid_through_month = %s, months_paid = %s,"
            " first_paid_on = %s, last_paid_on = %s, card_number = %s, start_month = %s,"
            " registered_on = %s WHERE id = %s)" + code_sql + audit_sql + " SELECT id FROM p",
            (
                p[5],
                p[1],
                holder.participant_id,
                ep.membership_id,
                p[3],
                p[4],
                first,
                len(amounts),
                p[6],
                p[7],
                fingerprint,
                batch.now,
                batch.batch_id,
                first,
                ep.membership_id,
                holder.participant_id,
                list(amounts),
                ep.paid_through.index if ep.paid_through is not None else None,
                ep.months_paid,
                ep.first_paid_on,
                ep.last_paid_on,
                ep.card_number,
                ep.start_month.index,
                ep.registered_on,
                ep.membership_id,
                *code_params,
                *audit_params,
            ),
        )
        .scalar_one()
    )
    return payment_id


def _link_payment_codes(
    session: Session, pending: Sequence[_Pending], payment_ids: Sequence[int]
) -> None:
    """A kode penetapan is settled by the first payment of its episode that buys exactly its
    months for exactly its amount by its last valid day."""
    with_codes = {item[2].participant_id for item in pending if item[2].open_codes}
    if not with_codes:
        return
    in_ids, id_param = _in_list(session, sorted(with_codes), pg_type="bigint")
    codes = _raw(
        session,
        "SELECT id, membership_id, first_month, months, amount, valid_until FROM payment_code"
        f" WHERE payment_id IS NULL AND participant_id {in_ids}",
        id_param,
    )
    if not codes:
        return
    open_codes = {(c[1], c[2], c[3], c[4]): (c[0], _day(c[5])) for c in codes}
    links: list[dict[str, int]] = []
    for (p, _, _, episode, first, amounts), payment_id in zip(pending, payment_ids, strict=True):
        found = open_codes.pop((episode.membership_id, first, len(amounts), p[3]), None)
        if found is not None and found[1] is not None and p[4] <= found[1]:
            links.append({"code_id": found[0], "payment_id": payment_id})
    if links:
        session.execute(
            text("UPDATE payment_code SET payment_id = :payment_id WHERE id = :code_id"), links
        )


# -- reversal ------------------------------------------------------------------------------------------


def reverse_payment(
    session: Session,
    actor: Actor,
    reference: str,
    *,
    reason: str,
    channel: str | None = None,
    reversed_on: date | None = None,
    clock: Clock | None = None,
) -> ReversedPayment:
    """Reverse one payment: a new :class:`PaymentReversal` entry, its months un-covered and the
    episode's projection recomputed. Only the latest non-reversed payment of an episode may be
    reversed (CONFLICT naming the later references otherwise). A reference used on several
    channels needs ``channel`` (INVALID otherwise). Reversing the payment that opened a
    re-acquisition episode leaves that episode empty; the next payment re-uses it."""
    clock = clock or SystemClock()
    reference = (reference or "").strip()
    reason = " ".join((reason or "").split())
    if not reason:
        raise invalid("reason", t("alasan pembatalan wajib diisi", "a reason is required"))
    if len(reason) > 400:
        raise invalid("reason", t("alasan paling banyak 400 karakter", "at most 400 characters"))
    query = select(Payment).where(Payment.reference == reference)
    if channel:
        query = query.where(Payment.channel == channel.strip().lower())
    candidates = list(session.execute(query).scalars())
    if not candidates:
        raise not_found(
            t(
                "Pembayaran dengan referensi {r}{c} tidak ditemukan",
                "No payment with reference {r}{c}",
            ).format(r=reference, c=f" ({channel})" if channel else "")
        )
    if len(candidates) > 1:
        channels = ", ".join(sorted(p.channel for p in candidates))
        raise invalid(
            "channel",
            t(
                "referensi {r} dipakai di beberapa kanal ({c}); sebutkan --channel",
                "reference {r} is used on several channels ({c}); give --channel",
            ).format(r=reference, c=channels),
            code="ambiguous-reference",
        )
    payment = candidates[0]
    if is_postgres(session):
        session.execute(
            select(Membership.id)
            .where(Membership.participant_id == payment.participant_id)
            .order_by(Membership.id)
            .with_for_update()
        ).all()
    day = reversed_on or today(clock)
    if day < payment.paid_on:
        raise invalid(
            "reversed_on",
            t(
                "tanggal pembatalan {d} sebelum tanggal bayar {p}",
                "the reversal date {d} is before the payment date {p}",
            ).format(d=day.isoformat(), p=payment.paid_on.isoformat()),
        )
    episode_payments = session.execute(
        select(
            Payment.id, Payment.reference, Payment.first_month, Payment.months, PaymentReversal.id
        )
        .outerjoin(PaymentReversal, PaymentReversal.payment_id == Payment.id)
        .where(Payment.membership_id == payment.membership_id)
    ).all()
    entries = [
        PaymentEntry(r[0], r[1], r[2], r[3], reversed=r[4] is not None) for r in episode_payments
    ]
    target = next(e for e in entries if e.payment_id == payment.id)
    check = check_reversal(target, entries)
    if check.already_reversed:
        raise conflict(
            t(
                "Pembayaran {r} sudah dibatalkan sebelumnya",
                "Payment {r} has already been reversed",
            ).format(r=reference),
            code="already-reversed",
        )
    if not check.allowed:
        raise conflict(
            t(
                "Pembayaran {r} bukan pembayaran terakhir episodenya; batalkan dulu: {l}",
                "Payment {r} is not the latest of its episode; reverse these first: {l}",
            ).format(r=reference, l=", ".join(check.reverse_first)),
            code="reverse-later-first",
        )
    later_episode_payments = (
        session.execute(
            select(Payment.reference)
            .join(Membership, Membership.id == Payment.membership_id)
            .outerjoin(PaymentReversal, PaymentReversal.payment_id == Payment.id)
            .where(
                Membership.participant_id == payment.participant_id,
                Membership.id != payment.membership_id,
                Membership.episode_no
                > select(Membership.episode_no)
                .where(Membership.id == payment.membership_id)
                .scalar_subquery(),
                PaymentReversal.id.is_(None),
            )
            .order_by(Payment.id.desc())
        )
        .scalars()
        .all()
    )
    if later_episode_payments:
        raise conflict(
            t(
                "Peserta sudah membayar di episode berikutnya; batalkan dulu: {l}",
                "The participant has paid in a later episode; reverse these first: {l}",
            ).format(l=", ".join(later_episode_payments)),
            code="reverse-later-first",
        )
    membership = session.get(Membership, payment.membership_id)
    assert membership is not None
    before = _projection_json(membership)
    session.add(
        PaymentReversal(
            payment_id=payment.id,
            reason=reason,
            reversed_on=day,
            recorded_at=clock.now(),
            actor=actor.name,
        )
    )
    session.flush()
    queue_late_months(session, day, clock.now(), "reversal")  # a back-dated reversal (issue 21)
    session.execute(
        text("UPDATE covered_month SET reversed = :yes WHERE payment_id = :p"),
        {"yes": True, "p": payment.id},
    )
    _recompute_projection(session, membership)
    nik = session.execute(
        select(Participant.nik).where(Participant.id == payment.participant_id)
    ).scalar_one()
    reversed_ = ReversedPayment(
        payment_id=payment.id,
        channel=payment.channel,
        reference=payment.reference,
        nik=nik,
        episode_no=membership.episode_no,
        uncovered_first=payment.first_month,
        uncovered_months=payment.months,
        paid_through=membership.paid_through_month,
        months_paid=membership.months_paid,
        reversed_on=day,
    )
    record_audit(
        session,
        actor,
        "payment.reverse",
        "payment",
        payment.id,
        before=before,
        after={**_projection_json(membership), "reason": reason, "reversed_on": day.isoformat()},
        at=clock.now(),
    )
    return reversed_


def _projection_json(membership: Membership) -> dict[str, Any]:
    return {
        "membership_id": membership.id,
        "episode": membership.episode_no,
        "paid_through": None
        if membership.paid_through_month is None
        else str(membership.paid_through_month),
        "months_paid": membership.months_paid,
    }


def _recompute_projection(session: Session, membership: Membership) -> None:
    """The episode's projection from its non-reversed payments (the ledger is the truth)."""
    row = session.execute(
        select(Payment.first_month, Payment.months, Payment.paid_on)
        .outerjoin(PaymentReversal, PaymentReversal.payment_id == Payment.id)
        .where(Payment.membership_id == membership.id, PaymentReversal.id.is_(None))
    ).all()
    projection = project([(r[0], r[1], r[2]) for r in row])
    membership.paid_through_month = projection.paid_through
    membership.months_paid = projection.months_paid
    membership.first_paid_on = projection.first_paid_on
    membership.last_paid_on = projection.last_paid_on
    session.flush()


# -- registration --------------------------------------------------------------------------------------


@dataclass
class _RegistrationContext:
    """What registrations are checked against, loaded once per batch."""

    known_districts: frozenset[str]
    occupations: frozenset[str]
    branch_of_regency: dict[str, str]
    branches: frozenset[str]


def _registration_context(session: Session) -> _RegistrationContext:
    from cakupan.regions import district_codes, list_offices

    branch_of_regency: dict[str, str] = {}
    branches: set[str] = set()
    for region in list_offices(session):
        for branch in region.branches:
            branches.add(branch.code)
            for regency in branch.regency_codes:
                branch_of_regency[regency] = branch.code
    occupations = frozenset(
        session.execute(select(Occupation.code).where(Occupation.active.is_(True))).scalars()
    )
    return _RegistrationContext(
        frozenset(district_codes(session)), occupations, branch_of_regency, frozenset(branches)
    )


def _villages(session: Session, codes: Iterable[str]) -> frozenset[str]:
    from cakupan.regions.models import Village

    wanted = sorted(set(codes))
    if not wanted:
        return frozenset()
    return frozenset(
        session.execute(select(Village.code).where(Village.code.in_(wanted))).scalars()
    )


def _dotted_district(code: str) -> str:
    digits = code.replace(".", "")
    return f"{digits[:2]}.{digits[2:4]}.{digits[4:6]}" if len(digits) == 6 else code


@dataclass
class _NewRegistration:
    parsed: ParsedRegistration
    registered_on: date
    sex: str
    birth_date: date
    village_code: str | None
    district_code: str | None
    regency_code: str | None
    branch_code: str | None
    holder: _Holder | None  # an existing participant registering again
    participant_id: int = 0
    membership_id: int = 0
    episode_no: int = 1
    code: IssuedCode | None = None


@dataclass
class _RegOutcome:
    row: int
    status: str
    kind: ErrorKind | None = None
    problems: Problems = field(default_factory=list)
    registration: _NewRegistration | None = None


def register_participants(
    session: Session,
    actor: Actor,
    rows: Iterable[RegistrationRow],
    *,
    partial: bool = False,
    clock: Clock | None = None,
    issue_codes: bool = False,
    book: PolicyBook | None = None,
    audit: bool = True,
    progress: Callable[[int], None] | None = None,
) -> BatchResult:
    """Register many participants (a participants file) in the caller's transaction, with the same
    checks as :func:`register_participant`. A NIK with an open membership (pending, active or in
    arrears on the registration date) is rejected; a row identical to the participant already
    registered with that NIK on that date counts as a duplicate. Unless ``partial``, nothing is
    written when any row is rejected. ``issue_codes`` also issues a kode penetapan per row."""
    result, _ = _register_rows(
        session,
        rows,
        partial=partial,
        clock=clock or SystemClock(),
        issue_codes=issue_codes,
        book=book,
        actor=actor,
        keep_outcomes=False,
        progress=progress,
    )
    if audit:
        _audit_batch(
            session,
            actor,
            "participant.register_batch",
            ("participant", None),
            result,
            partial=partial,
            clock=clock,
        )
    return result


def register_participant(
    session: Session,
    actor: Actor,
    row: RegistrationRow,
    *,
    clock: Clock | None = None,
    book: PolicyBook | None = None,
) -> Registration:
    """Register one participant (online or on site) and issue a kode penetapan for the chosen
    months (``row.months_to_pay``, 1-12). Raises INVALID with every problem found (NIK checks,
    age 65 or over, unknown village/district/occupation/branch, bad fields) or CONFLICT when the
    NIK already holds an open membership."""
    clock = clock or SystemClock()
    _, outcomes = _register_rows(
        session,
        [row],
        partial=True,
        clock=clock,
        issue_codes=True,
        book=book,
        actor=actor,
        keep_outcomes=True,
        progress=None,
    )
    outcome = outcomes[0]
    if outcome.status != "registered":
        raise _row_error(
            outcome.problems
            or [("nik", t("NIK ini sudah terdaftar dengan data yang sama", "already registered"))],
            outcome.kind or ErrorKind.CONFLICT,
            t("Pendaftaran ditolak", "Registration refused"),
        )
    new = outcome.registration
    assert new is not None
    registration = Registration(
        participant_id=new.participant_id,
        nik=new.parsed.nik,
        name=new.parsed.name,
        membership_id=new.membership_id,
        episode_no=new.episode_no,
        start_month=Month.of(new.registered_on),
        branch_code=new.branch_code,
        payment_code=new.code,
    )
    record_audit(
        session,
        actor,
        "participant.register",
        "participant",
        new.participant_id,
        after=registration.as_json(),
        at=clock.now(),
    )
    return registration


def _register_rows(
    session: Session,
    rows: Iterable[RegistrationRow],
    *,
    partial: bool,
    clock: Clock,
    issue_codes: bool,
    book: PolicyBook | None,
    actor: Actor,
    keep_outcomes: bool,
    progress: Callable[[int], None] | None,
) -> tuple[BatchResult, list[_RegOutcome]]:
    context = _registration_context(session)
    if issue_codes and book is None:
        book = load_policy_book(session)
    _claim_writer(session)
    savepoint = None if partial else session.begin_nested()
    result = BatchResult()
    outcomes: list[_RegOutcome] = []
    ids = _Ids(session)
    done = 0
    for chunk in in_batches(rows, CHUNK_ROWS):
        _register_chunk(
            session,
            chunk,
            context,
            clock,
            book if issue_codes else None,  # a book here means "issue codes"
            ids,
            result,
            outcomes,
            keep_outcomes,
            actor,
        )
        done += len(chunk)
        if progress is not None:
            progress(done)
    if savepoint is not None:
        if result.rejected:
            savepoint.rollback()
            result.accepted = 0
        else:
            savepoint.commit()
    return result, outcomes


def _register_chunk(
    session: Session,
    chunk: Sequence[RegistrationRow],
    context: _RegistrationContext,
    clock: Clock,
    book: PolicyBook | None,
    ids: _Ids,
    result: BatchResult,
    outcomes: list[_RegOutcome],
    keep: bool,
    actor: Actor,
) -> None:
    def reject(row: int, problems: Problems, kind: ErrorKind = ErrorKind.INVALID) -> None:
        result.reject(row, problems)
        if keep:
            outcomes.append(_RegOutcome(row, "rejected", kind, problems))

    business_today = today(clock)
    parsed: list[tuple[ParsedRegistration, NikCheck]] = []
    for row in chunk:
        value, shape_problems = parse_registration_row(row)
        day = value.registered_on if value and value.registered_on else business_today
        checked = check_nik(str(row.nik or ""), known_districts=context.known_districts, today=day)
        nik_problems: Problems = [("nik", m) for m in _nik_messages(checked.errors)]
        if value is None or nik_problems:
            reject(row.row, nik_problems + shape_problems)
        else:
            parsed.append((value, checked))
    if not parsed:
        return
    villages = _villages(session, (p.village_code for p, _ in parsed if p.village_code))
    holders = _load_holders(session, (p.nik for p, _ in parsed), lock=is_postgres(session))
    existing = _participant_snapshots(session, [h.participant_id for h in holders.values()])
    accepted: list[_NewRegistration] = []
    seen: dict[str, int] = {}
    for p, nik_check in parsed:
        problems: Problems = []
        registered_on = p.registered_on or business_today
        if registered_on > business_today:
            problems.append(
                (
                    "registered_on",
                    t(
                        "tanggal daftar {d} di masa depan (hari ini {h})",
                        "registration date {d} is in the future (today is {h})",
                    ).format(d=registered_on.isoformat(), h=business_today.isoformat()),
                )
            )
        sex = p.sex or nik_check.sex
        birth_date = p.birth_date or nik_check.birth_date
        if p.occupation not in context.occupations:
            problems.append(
                (
                    "occupation",
                    t(
                        "pekerjaan {v!r} tidak ada dalam daftar; yang sah: {c}",
                        "unknown occupation {v!r}; expected one of {c}",
                    ).format(v=p.occupation, c=", ".join(sorted(context.occupations))),
                )
            )
        village, district, regency, branch = _address(p, context, villages, nik_check, problems)
        if birth_date is not None:
            age = eligibility_problem(birth_date, registered_on)
            if age is not None:
                problems.append(
                    (
                        "birth_date",
                        t(
                            "umur {a} tahun pada tanggal daftar {d}: peserta BPU harus di bawah "
                            "65 tahun",
                            "aged {a} on the registration date {d}: BPU participants must be "
                            "under 65",
                        ).format(a=age, d=registered_on.isoformat()),
                    )
                )
        if problems:
            reject(p.row, problems)
            continue
        assert sex is not None
        assert birth_date is not None
        earlier_row = seen.get(p.nik)
        if earlier_row is not None:
            reject(
                p.row,
                [
                    (
                        "nik",
                        t(
                            "NIK {n} sudah didaftarkan di baris {r} berkas ini",
                            "NIK {n} is already registered by row {r} of this file",
                        ).format(n=p.nik, r=earlier_row),
                    )
                ],
                ErrorKind.CONFLICT,
            )
            continue
        holder = holders.get(p.nik)
        if holder is not None:
            snapshot = existing.get(holder.participant_id, {})
            if _same_registration(snapshot, p, registered_on):
                result.duplicates += 1
                if keep:
                    outcomes.append(_RegOutcome(p.row, "duplicate"))
                continue
            status = status_on(
                registered_on, holder.episode.start_month, holder.episode.paid_through
            )
            if status in (Status.PENDING, Status.ACTIVE, Status.ARREARS):
                reject(
                    p.row,
                    [
                        (
                            "nik",
                            t(
                                "NIK {n} sudah memiliki kepesertaan BPU yang masih berjalan "
                                "(episode {e}, status {s}); satu NIK hanya boleh satu",
                                "NIK {n} already holds an open BPU membership (episode {e}, "
                                "status {s}); one NIK may hold only one",
                            ).format(n=p.nik, e=holder.episode.episode_no, s=str(status)),
                        )
                    ],
                    ErrorKind.CONFLICT,
                )
                continue
        seen[p.nik] = p.row
        accepted.append(
            _NewRegistration(
                p, registered_on, sex, birth_date, village, district, regency, branch, holder
            )
        )
        result.accepted += 1
    if accepted:
        _write_registrations(
            session, accepted, clock, book, ids, actor, issue_codes=book is not None
        )
        earliest = min(new.registered_on for new in accepted)
        if earliest < business_today.replace(day=1):  # registered in a closed month (issue 21)
            queue_late_months(session, earliest, clock.now(), "registration")
    if keep:
        for new in accepted:
            outcomes.append(_RegOutcome(new.parsed.row, "registered", registration=new))
        outcomes.sort(key=lambda o: o.row)


def _nik_messages(errors: Iterable[object]) -> list[Text]:
    messages: list[Text] = []
    for error in errors:
        message = getattr(error, "message", None)
        if isinstance(message, Text):
            messages.append(message)
        elif isinstance(error, Text):
            messages.append(error)
        elif isinstance(error, FieldProblem):
            messages.append(error.message)
        elif isinstance(error, tuple) and len(error) == 2 and isinstance(error[1], Text):
            messages.append(error[1])
        else:
            messages.append(t(str(error), str(error)))
    return messages


def _address(
    p: ParsedRegistration,
    context: _RegistrationContext,
    villages: frozenset[str],
    nik_check: Any,
    problems: Problems,
) -> tuple[str | None, str | None, str | None, str | None]:
    """Village, district, regency and branch of a registration: the address decides the branch
    (overridable by ``branch_code``); without an address, the NIK's district does."""
    from cakupan.regions import district_of, regency_of

    village, district = p.village_code, p.district_code
    if village is not None:
        if village not in villages:
            problems.append(
                (
                    "village_code",
                    t(
                        "kode desa/kelurahan {v!r} tidak dikenal (format PP.RR.DD.VVVV)",
                        "unknown village code {v!r} (format PP.RR.DD.VVVV)",
                    ).format(v=village),
                )
            )
            village = None
        else:
            village_district = district_of(village)
            if district is not None and district != village_district:
                problems.append(
                    (
                        "district_code",
                        t(
                            "kecamatan {d} tidak sesuai dengan desa {v} (kecamatan {x})",
                            "district {d} does not match village {v} (district {x})",
                        ).format(d=district, v=village, x=village_district),
                    )
                )
            district = village_district
    if district is not None and district not in context.known_districts:
        problems.append(
            (
                "district_code",
                t(
                    "kode kecamatan {v!r} tidak dikenal (format PP.RR.DD)",
                    "unknown district code {v!r} (format PP.RR.DD)",
                ).format(v=district),
            )
        )
        district = None
    regency = regency_of(district) if district is not None else None
    branch = p.branch_code
    if branch is not None:
        if branch not in context.branches:
            problems.append(
                (
                    "branch_code",
                    t("kantor cabang {v!r} tidak dikenal", "unknown branch office {v!r}").format(
                        v=branch
                    ),
                )
            )
    elif regency is not None:
        branch = context.branch_of_regency.get(regency)
    elif getattr(nik_check, "district_code", None):
        try:
            branch = context.branch_of_regency.get(
                regency_of(_dotted_district(str(nik_check.district_code)))
            )
        except ValueError:
            branch = None
    return village, district, regency, branch


_SNAPSHOT_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "phone",
    "email",
    "village_code",
    "district_code",
    "regency_code",
    "branch_code",
    "occupation",
    "reported_income",
    "programs",
    "sector",
    "funding",
    "channel",
    "partner_code",
    "agent_code",
    "registered_on",
)


def _participant_snapshots(session: Session, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    columns = [getattr(Participant, name) for name in _SNAPSHOT_FIELDS]
    return {
        row[0]: dict(zip(_SNAPSHOT_FIELDS, row[1:], strict=True))
        for row in session.execute(
            select(Participant.id, *columns).where(Participant.id.in_(sorted(ids)))
        )
    }


def _same_registration(snapshot: dict[str, Any], p: ParsedRegistration, day: date) -> bool:
    """A re-imported row: same registration date, name, income, programs and channel."""
    return bool(
        snapshot
        and snapshot["registered_on"] == day
        and snapshot["name"] == p.name
        and snapshot["reported_income"] == p.reported_income
        and snapshot["programs"] == p.programs
        and snapshot["channel"] == p.channel
        and snapshot["phone"] == p.phone
    )


_PARTICIPANT_COLUMNS = ("id", "nik", *_SNAPSHOT_FIELDS, "created_at")
_TERMS_COLUMNS = (
    "participant_id",
    "effective_month",
    "reported_income",
    "programs",
    "sector",
    "funding",
    "recorded_at",
)
_CODE_COLUMNS = (
    "id",
    "code",
    "participant_id",
    "membership_id",
    "first_month",
    "months",
    "amount",
    "issued_at",
    "valid_until",
    "payment_id",
)


def _registration_values(new: _NewRegistration) -> dict[str, Any]:
    p = new.parsed
    return {
        "name": p.name,
        "sex": new.sex,
        "birth_date": new.birth_date,
        "phone": p.phone,
        "email": p.email,
        "village_code": new.village_code,
        "district_code": new.district_code,
        "regency_code": new.regency_code,
        "branch_code": new.branch_code,
        "occupation": p.occupation,
        "reported_income": p.reported_income,
        "programs": p.programs,
        "sector": p.sector,
        "funding": p.funding,
        "channel": p.channel,
        "partner_code": p.partner_code,
        "agent_code": p.agent_code,
        "registered_on": new.registered_on,
    }


def _write_registrations(
    session: Session,
    accepted: Sequence[_NewRegistration],
    clock: Clock,
    book: PolicyBook | None,
    ids: _Ids,
    actor: Actor,
    *,
    issue_codes: bool,
) -> None:
    now = clock.now()
    fresh = [new for new in accepted if new.holder is None]
    again = [new for new in accepted if new.holder is not None]
    for new, participant_id in zip(fresh, ids.take("participant", len(fresh)), strict=True):
        new.participant_id = participant_id
    for new, membership_id in zip(accepted, ids.take("membership", len(accepted)), strict=True):
        new.membership_id = membership_id
    _bulk_insert(
        session,
        "participant",
        _PARTICIPANT_COLUMNS,
        [
            (new.participant_id, new.parsed.nik, *_registration_values(new).values(), now)
            for new in fresh
        ],
    )
    if again:
        _write_reregistrations(session, again, now, actor)
    membership_rows = []
    for new in accepted:
        p = new.parsed
        episode = _Episode(
            membership_id=new.membership_id,
            episode_no=new.episode_no,
            start_month=Month.of(new.registered_on),
            registered_on=new.registered_on,
            paid_through=None,
            months_paid=0,
            first_paid_on=None,
            last_paid_on=None,
            card_number=None,
            reacquisition=False,
            channel=p.channel,
            partner_code=p.partner_code,
            agent_code=p.agent_code,
        )
        membership_rows.append(_membership_row(new.participant_id, episode))
    _bulk_insert(session, "membership", _MEMBERSHIP_COLUMNS, membership_rows)
    if again:  # a terms row may already exist for the start month: the new one replaces it
        session.execute(
            text(
                "DELETE FROM participant_terms WHERE participant_id = :p AND effective_month = :m"
            ),
            [{"p": new.participant_id, "m": Month.of(new.registered_on).index} for new in again],
        )
    _bulk_insert(
        session,
        "participant_terms",
        _TERMS_COLUMNS,
        [
            (
                new.participant_id,
                Month.of(new.registered_on),
                new.parsed.reported_income,
                new.parsed.programs,
                new.parsed.sector,
                new.parsed.funding,
                now,
            )
            for new in accepted
        ],
    )
    if issue_codes:
        assert book is not None
        _issue_codes(session, accepted, now, book, ids)


def _write_reregistrations(
    session: Session, again: Sequence[_NewRegistration], now: datetime, actor: Actor
) -> None:
    """A participant registering again after a closed or void episode: the participant row takes
    the new values (each changed field kept in the history) and a new episode starts."""
    snapshots = _participant_snapshots(
        session, [new.holder.participant_id for new in again if new.holder]
    )
    changes: list[tuple[object, ...]] = []
    for new in again:
        assert new.holder is not None
        new.participant_id = new.holder.participant_id
        new.episode_no = new.holder.episode.episode_no + 1
        values = _registration_values(new)
        old = snapshots[new.participant_id]
        for name, value in values.items():
            if old.get(name) != value:
                changes.append(
                    (
                        new.participant_id,
                        Month.of(new.registered_on),
                        name,
                        _text_value(old.get(name)),
                        _text_value(value),
                        now,
                        actor.name,
                    )
                )
        session.execute(
            update(Participant).where(Participant.id == new.participant_id).values(**values)
        )
    _bulk_insert(
        session,
        "participant_change",
        (
            "participant_id",
            "effective_month",
            "field",
            "old_value",
            "new_value",
            "recorded_at",
            "actor",
        ),
        changes,
    )


def _text_value(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _issue_codes(
    session: Session,
    accepted: Sequence[_NewRegistration],
    now: datetime,
    book: PolicyBook,
    ids: _Ids,
) -> None:
    issued_on = now.astimezone(JAKARTA).date()
    rows = []
    for new, code_id in zip(accepted, ids.take("payment_code", len(accepted)), strict=True):
        p = new.parsed
        first = Month.of(new.registered_on)
        amount = sum(
            book.monthly_total(
                income=p.reported_income,
                programs=p.programs,
                month=first + offset,
                sector=p.sector,
                funding=p.funding,
            )
            for offset in range(p.months_to_pay)
        )
        new.code = IssuedCode(
            code=kode_penetapan(issued_on, code_id),
            amount=amount,
            first_month=first,
            months=p.months_to_pay,
            valid_until=payment_code_valid_until(issued_on),
        )
        rows.append(
            (
                code_id,
                new.code.code,
                new.participant_id,
                new.membership_id,
                first,
                p.months_to_pay,
                amount,
                now,
                new.code.valid_until,
                None,
            )
        )
    _bulk_insert(session, "payment_code", _CODE_COLUMNS, rows)


# -- changes -------------------------------------------------------------------------------------------

_CONTACT_FIELDS = ("name", "phone", "email", "village_code", "district_code", "branch_code")
_TERMS_FIELDS = ("reported_income", "programs", "sector", "funding")


def change_participant(
    session: Session,
    actor: Actor,
    nik: str,
    *,
    effective_month: Month,
    changes: dict[str, str | int | None],
    clock: Clock | None = None,
) -> dict[str, tuple[str | None, str | None]]:
    """Change a participant's contact (name, phone, e-mail), address (village, district), branch
    or contribution terms (reported_income, programs, sector, funding) from ``effective_month``.

    The participant row keeps the current values; every changed field is kept in
    ``participant_change`` (what was true when) and terms get a ``participant_terms`` row, so
    contributions of months before ``effective_month`` keep the old terms. Terms cannot change
    for months already paid. Returns ``{field: (old, new)}`` of what changed."""
    clock = clock or SystemClock()
    allowed = set(_CONTACT_FIELDS) | set(_TERMS_FIELDS)
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise invalid(
            unknown[0],
            t(
                "kolom ini tidak dapat diubah; yang dapat: {c}",
                "this field cannot be changed; changeable: {c}",
            ).format(c=", ".join(sorted(allowed))),
        )
    participant = session.execute(
        select(Participant).where(Participant.nik == (nik or "").strip())
    ).scalar_one_or_none()
    if participant is None:
        raise not_found(t("NIK {n} tidak terdaftar", "NIK {n} is not registered").format(n=nik))
    if is_postgres(session):
        session.execute(
            select(Membership.id)
            .where(Membership.participant_id == participant.id)
            .order_by(Membership.id)
            .with_for_update()
        ).all()
    problems: Problems = []
    new_values = _checked_changes(session, participant, changes, problems)
    if problems:
        raise _row_error(problems, ErrorKind.INVALID, t("Perubahan ditolak", "Change refused"))
    terms_change = {k: v for k, v in new_values.items() if k in _TERMS_FIELDS}
    if terms_change:
        paid = session.execute(
            select(Membership.paid_through_month, Membership.episode_no)
            .where(Membership.participant_id == participant.id)
            .order_by(Membership.episode_no.desc())
            .limit(1)
        ).one()
        if paid[0] is not None and effective_month <= paid[0]:
            raise conflict(
                t(
                    "Bulan sampai {m} sudah dibayar dengan ketentuan lama; perubahan iuran paling "
                    "cepat berlaku {n}",
                    "Months up to {m} are already paid under the old terms; a change of "
                    "contribution terms can take effect from {n} at the earliest",
                ).format(m=str(paid[0]), n=str(paid[0] + 1)),
                code="months-already-paid",
            )
    changed: dict[str, tuple[str | None, str | None]] = {}
    now = clock.now()
    for name, value in new_values.items():
        old = getattr(participant, name)
        if old == value:
            continue
        changed[name] = (_text_value(old), _text_value(value))
        session.add(
            ParticipantChange(
                participant_id=participant.id,
                effective_month=effective_month,
                field=name,
                old_value=_text_value(old),
                new_value=_text_value(value),
                recorded_at=now,
                actor=actor.name,
            )
        )
    if not changed:
        return changed
    if any(name in _TERMS_FIELDS for name in changed):
        terms = _Terms()
        for row in session.execute(
            select(ParticipantTerms).where(ParticipantTerms.participant_id == participant.id)
        ).scalars():
            terms.add(
                row.effective_month, row.reported_income, row.programs, row.sector, row.funding
            )
        income, programs, sector, funding = terms.at(effective_month)
        merged = {
            "reported_income": income,
            "programs": programs,
            "sector": sector,
            "funding": funding,
            **terms_change,
        }
        existing = session.get(ParticipantTerms, (participant.id, effective_month))
        if existing is None:
            session.add(
                ParticipantTerms(
                    participant_id=participant.id,
                    effective_month=effective_month,
                    recorded_at=now,
                    **merged,
                )
            )
        else:
            for name, value in merged.items():
                setattr(existing, name, value)
            existing.recorded_at = now
    for name, value in new_values.items():
        setattr(participant, name, value)
    if "district_code" in new_values or "village_code" in new_values:
        from cakupan.regions import regency_of

        participant.regency_code = (
            regency_of(participant.district_code) if participant.district_code else None
        )
    session.flush()
    record_audit(
        session,
        actor,
        "participant.change",
        "participant",
        participant.id,
        before={name: old for name, (old, _) in changed.items()},
        after={
            **{name: new for name, (_, new) in changed.items()},
            "effective_month": str(effective_month),
        },
        at=now,
    )
    return changed


def _checked_changes(
    session: Session,
    participant: Participant,
    changes: dict[str, str | int | None],
    problems: Problems,
) -> dict[str, Any]:
    """Parse and look up the changed fields (same rules as registration)."""
    values: dict[str, Any] = {}
    probe = RegistrationRow(
        row=1,
        nik=participant.nik,
        name=str(changes.get("name") or participant.name),
        phone=str(changes.get("phone") or participant.phone),
        occupation=participant.occupation,
        reported_income=participant.reported_income,
        programs=participant.programs,
        email=str(changes["email"]) if changes.get("email") else None,
    )
    parsed, shape = parse_registration_row(probe)
    problems += [(f, m) for f, m in shape if f in changes]
    if parsed is not None:
        for name in ("name", "phone"):
            if name in changes:
                values[name] = getattr(parsed, name)
        if "email" in changes:
            values["email"] = parsed.email
    if "reported_income" in changes:
        income = parse_rupiah(
            changes["reported_income"] or "", "reported_income", problems, positive=False
        )
        if income is not None:
            values["reported_income"] = income
    for name, choices in (("programs", PROGRAMS), ("sector", SECTORS), ("funding", FUNDINGS)):
        if name in changes:
            before = len(problems)
            choice = parse_choice(str(changes[name] or ""), name, choices, "", problems)
            if len(problems) == before and choice:
                values[name] = choice
            elif len(problems) == before:
                problems.append((name, t("wajib diisi", "required")))
    if values.get("programs") == "JKK+JKM" and jht_required(participant.occupation):
        problems.append(("programs", owner_needs_jht_text(participant.occupation)))
    if "branch_code" in changes:
        branch = parse_code(
            str(changes["branch_code"]) if changes["branch_code"] else None,
            "branch_code",
            problems,
        )
        context = _registration_context(session)
        if branch is not None and branch not in context.branches:
            problems.append(
                (
                    "branch_code",
                    t("kantor cabang {v!r} tidak dikenal", "unknown branch {v!r}").format(v=branch),
                )
            )
        else:
            values["branch_code"] = branch
    if "village_code" in changes or "district_code" in changes:
        context = _registration_context(session)
        village = text_or_none(str(changes.get("village_code") or "")) or None
        district = text_or_none(str(changes.get("district_code") or "")) or None
        probe_parsed = ParsedRegistration(
            row=1,
            nik=participant.nik,
            name=participant.name,
            phone=participant.phone,
            occupation=participant.occupation,
            reported_income=participant.reported_income,
            programs=participant.programs,
            registered_on=None,
            sex=None,
            birth_date=None,
            email=None,
            village_code=village,
            district_code=district,
            sector="other",
            funding="self",
            channel="branch",
            branch_code=None,
            partner_code=None,
            agent_code=None,
            months_to_pay=1,
        )
        villages = _villages(session, [village] if village else [])
        v, d, _, b = _address(probe_parsed, context, villages, None, problems)
        values["village_code"] = v
        values["district_code"] = d
        if "branch_code" not in changes and b is not None:
            values["branch_code"] = b
    return values
