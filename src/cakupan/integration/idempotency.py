"""Running a partner API write once per ``Idempotency-Key``.

Two ways, with the same guarantees for the client.

:func:`run_idempotent` (registrations, batches): the key's row is inserted FIRST (``INSERT ... ON CONFLICT DO NOTHING``) and the stored response
written LAST, in the same transaction
as the business write. So:

* a committed key always has its response, and a key without a row means nothing was written
  (a request killed half-way left nothing; its retry simply runs);
* the same key again with the same body (same request hash) returns the stored response, with a
  different body 409;
* two requests with the same key at once: the second one's INSERT waits for the first
  transaction (PostgreSQL's unique index; SQLite's single writer) and then finds the stored
  response.

Transient database failures (a unique violation lost in a race, a deadlock, a serialization
failure) roll back and run the whole request again, a few times.

:func:`run_once` (single payments, the hot path): the stored response is looked up with the
request's other reads (one query, see :func:`cakupan.integration.queries.payment_context`), the
work runs, and the key's row is inserted LAST with its response, together with the outbox rows
(one statement on PostgreSQL). A twin running at the same time gets past the look-up, but the
registry never posts a (channel, reference) twice (the twin waits on the participant's lock and
finds the payment posted), and its key INSERT then finds the first request's row: it rolls back
and answers the stored response (or 409 for another body). A key row is still written in the
same transaction as the payment, so a request cut off half-way left nothing behind.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from cakupan.audit.models import AuditEntry
from cakupan.dates import Clock
from cakupan.db import is_postgres
from cakupan.errors import conflict
from cakupan.i18n import t
from cakupan.integration.models import IdempotentRequest, WebhookEvent

__all__ = ["Answer", "Outcome", "Stored", "run_idempotent", "run_once"]

#: Attempts of one request on transient database failures.
ATTEMPTS = 6


@dataclass(frozen=True)
class Outcome:
    """What to answer: HTTP status, the JSON body as text, whether it is a stored replay."""

    status_code: int
    body: str
    replayed: bool


@dataclass(frozen=True)
class Stored:
    """A key's stored row: the request's fingerprint and the response given."""

    request_hash: str
    status_code: int
    response: str


@dataclass(frozen=True)
class Answer:
    """What a :func:`run_once` work returns: the response body and the outbox rows to write
    with the stored response (``webhook_event`` values: partner_code, event_type, payload)."""

    body: dict[str, Any]
    outbox: list[dict[str, Any]]


def _dump(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _stored(session: Session, user_id: int, key: str, request_hash: str) -> Outcome | None:
    row = session.execute(
        select(
            IdempotentRequest.request_hash,
            IdempotentRequest.status_code,
            IdempotentRequest.response,
        ).where(IdempotentRequest.user_id == user_id, IdempotentRequest.key == key)
    ).first()
    if row is None:
        return None
    return _replay(Stored(str(row[0]), int(row[1]), str(row[2])), key, request_hash)


def _replay(stored: Stored, key: str, request_hash: str) -> Outcome:
    """The stored answer for a repeat with the same body; 409 for another body."""
    if stored.request_hash != request_hash:
        raise conflict(
            t(
                "Idempotency-Key {k} sudah dipakai untuk permintaan lain (isi berbeda)",
                "Idempotency-Key {k} was already used for a different request (other body)",
            ).format(k=key),
            code="idempotency-key-reused",
        )
    return Outcome(stored.status_code, stored.response, replayed=True)


def _claim(
    session: Session, user_id: int, key: str, endpoint: str, request_hash: str, clock: Clock
) -> bool:
    """Insert the key's row (one round trip); False when the key is already taken. A concurrent
    twin's uncommitted row makes this wait until that transaction ends."""
    insert = pg_insert if is_postgres(session) else sqlite_insert
    statement = (
        insert(IdempotentRequest)
        .values(
            user_id=user_id,
            key=key,
            endpoint=endpoint,
            request_hash=request_hash,
            status_code=0,
            response="",
            created_at=clock.now(),
        )
        .on_conflict_do_nothing()
        .returning(IdempotentRequest.user_id)
    )
    return session.execute(statement).first() is not None


def _transient(error: DBAPIError | psycopg.Error) -> bool:
    """A failure that running the request again may not meet (the driver's own errors come
    from :func:`driver_row`)."""
    orig = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(error, IntegrityError) or isinstance(orig, psycopg.IntegrityError):
        return True
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in {"40001", "40P01"}:  # serialization failure, deadlock
        return True
    return isinstance(error, OperationalError) and "locked" in str(orig).lower()


def _connection_lost(session: Session, error: DBAPIError | psycopg.Error) -> bool:
    """Whether ``error`` came from a connection the server dropped (a restart, an idle
    timeout, a kill): SQLAlchemy says so for what it ran, psycopg's connection for the
    driver-level statements of the hot path. The connection is then invalidated (the pool
    opens a new one)."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    try:
        connection = session.connection()
    except SQLAlchemyError:  # the session's transaction is already being rolled back
        return False
    raw: Any = connection.connection.driver_connection
    if raw is None or not (raw.broken or raw.closed):
        return False
    connection.invalidate()
    return True


def _recover(session: Session, error: DBAPIError | psycopg.Error, *, safe_to_repeat: bool) -> bool:
    """Roll back after ``error``; True when running the request again may succeed: a race or
    deadlock, or (when ``safe_to_repeat``: the key or the registry de-duplicates a repeat,
    even of a commit that did reach the server) a lost connection."""
    lost = _connection_lost(session, error)
    session.rollback()
    return _transient(error) or (lost and safe_to_repeat)


def run_idempotent(
    session: Session,
    *,
    user_id: int,
    key: str | None,
    endpoint: str,
    request_hash: str,
    work: Callable[[], dict[str, Any]],
    clock: Clock,
    status_code: int = 200,
) -> Outcome:
    """Run ``work`` (a write in ``session``) and commit, at most once per (user, ``key``); the
    answer is ``status_code`` with ``work``'s result. A :class:`~cakupan.errors.CakupanError`
    from ``work`` rolls back (the key stays unused) and propagates."""
    for attempt in range(ATTEMPTS):
        try:
            if key is not None and not _claim(session, user_id, key, endpoint, request_hash, clock):
                stored = _stored(session, user_id, key, request_hash)
                session.rollback()
                if stored is not None:
                    return stored
                continue  # the twin rolled back after all: claim again
            body = _dump(work())
            if key is not None:
                session.execute(
                    update(IdempotentRequest)
                    .where(IdempotentRequest.user_id == user_id, IdempotentRequest.key == key)
                    .values(status_code=status_code, response=body)
                )
            session.commit()
            return Outcome(status_code, body, replayed=False)
        except DBAPIError as error:
            # Without a key a repeat of a commit that did reach the server would write twice.
            again = _recover(session, error, safe_to_repeat=key is not None)
            if not again or attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.005 * 2**attempt)
        except BaseException:
            session.rollback()
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def _insert_events(session: Session, outbox: list[dict[str, Any]], at: Any) -> None:
    if outbox:
        session.execute(
            insert(WebhookEvent),
            [{**row, "occurred_at": at, "dispatched": False} for row in outbox],
        )


_PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def driver_sql(sql: str) -> str:
    """``sql`` with SQLAlchemy's ``:name`` placeholders written as psycopg's ``%(name)s``."""
    return _PLACEHOLDER.sub(r"%(\1)s", sql.replace("%", "%%"))


def driver_row(session: Session, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """The first row of ``sql`` run by the driver itself on the session's connection, in its
    transaction (PostgreSQL; the hot path's few statements skip SQLAlchemy's result layer)."""
    connection = session.connection().connection.driver_connection
    assert connection is not None
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row: tuple[Any, ...] | None = cursor.fetchone()
    return row


#: PostgreSQL: the audit rows, the outbox rows and the key's row with its response, in one
#: statement.
_STORE_PG_DRIVER = driver_sql(
    "WITH audit AS (INSERT INTO audit_log"
    " (at, actor, role, action, entity_type, entity_id, before, after)"
    " SELECT a.at, a.actor, a.role, a.action, a.entity_type, a.entity_id, a.before, a.after"
    " FROM json_to_recordset(CAST(:audit AS json)) AS a(at timestamptz, actor text, role text,"
    " action text, entity_type text, entity_id text, before json, after json)),"
    " events AS (INSERT INTO webhook_event"
    " (partner_code, event_type, payload, occurred_at, dispatched)"
    " SELECT e.partner_code, e.event_type, e.payload, :at, false"
    " FROM json_to_recordset(CAST(:events AS json))"
    " AS e(partner_code text, event_type text, payload json))"
    " INSERT INTO idempotent_request"
    " (user_id, key, endpoint, request_hash, status_code, response, created_at)"
    " VALUES (:user_id, :key, :endpoint, :request_hash, :status_code, :response, :at)"
    " ON CONFLICT DO NOTHING RETURNING user_id"
)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _pending_audit(session: Session) -> list[AuditEntry]:
    """The audit rows added to the session by the work (``record_audit``) and not yet
    flushed, in the order they were added."""
    return [entry for entry in session.new if isinstance(entry, AuditEntry)]


def _store(
    session: Session,
    *,
    user_id: int,
    key: str,
    endpoint: str,
    request_hash: str,
    status_code: int,
    response: str,
    outbox: list[dict[str, Any]],
    clock: Clock,
) -> bool:
    """Write the outbox rows and the key's row with its response; False when the key is
    already taken (a twin committed first: nothing must be kept).

    On PostgreSQL any audit rows the work left pending in the session (``record_audit`` adds
    them for the next flush) go into the same statement: the same rows, in the same
    transaction, one round trip instead of an ORM flush. (The registry's single posting now
    writes its audit row with the payment itself.)"""
    now = clock.now()
    values = {
        "user_id": user_id,
        "key": key,
        "endpoint": endpoint,
        "request_hash": request_hash,
        "status_code": status_code,
        "response": response,
    }
    if is_postgres(session):
        entries = _pending_audit(session)
        audit = [
            {
                "at": entry.at.isoformat(),
                "actor": entry.actor,
                "role": entry.role,
                "action": entry.action,
                "entity_type": entry.entity_type,
                "entity_id": entry.entity_id,
                "before": entry.before,
                "after": entry.after,
            }
            for entry in entries
        ]
        with session.no_autoflush:
            row = driver_row(
                session,
                _STORE_PG_DRIVER,
                {**values, "audit": _json(audit), "events": _json(outbox), "at": now},
            )
        for entry in entries:
            session.expunge(entry)  # written above; the ORM must not insert it again
        return row is not None
    _insert_events(session, outbox, now)
    statement = (
        sqlite_insert(IdempotentRequest)
        .values(**values, created_at=now)
        .on_conflict_do_nothing()
        .returning(IdempotentRequest.user_id)
    )
    return session.execute(statement).first() is not None


def run_once(
    session: Session,
    *,
    user_id: int,
    key: str,
    endpoint: str,
    request_hash: str,
    lookup: Callable[[], Stored | None],
    work: Callable[[], Answer],
    clock: Clock,
    status_code: int = 200,
) -> Outcome:
    """Run ``work`` (a write in ``session`` that the registry de-duplicates by itself, like a
    payment) and commit, at most once per (user, ``key``). ``lookup`` runs first in the
    transaction and returns the key's stored row if any (the caller folds it into a query it
    makes anyway). The response and ``work``'s outbox rows are written last, in one statement
    on PostgreSQL. A :class:`~cakupan.errors.CakupanError` from ``work`` rolls back (the key
    stays unused) and propagates."""
    for attempt in range(ATTEMPTS):
        try:
            stored = lookup()
            if stored is not None:
                session.rollback()
                return _replay(stored, key, request_hash)
            answer = work()
            body = _dump(answer.body)
            if not _store(
                session,
                user_id=user_id,
                key=key,
                endpoint=endpoint,
                request_hash=request_hash,
                status_code=status_code,
                response=body,
                outbox=answer.outbox,
                clock=clock,
            ):
                session.rollback()  # a twin committed first: its answer, not ours
                replay = _stored(session, user_id, key, request_hash)
                session.rollback()
                if replay is not None:
                    return replay
                continue
            session.commit()
            return Outcome(status_code, body, replayed=False)
        except (DBAPIError, psycopg.Error) as error:
            if not _recover(session, error, safe_to_repeat=True) or attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.005 * 2**attempt)
        except BaseException:
            session.rollback()
            raise
    raise AssertionError("unreachable")  # pragma: no cover
