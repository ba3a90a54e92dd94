"""Running a partner API write once per ``Idempotency-Key``.

The key's row is inserted FIRST (``INSERT ... ON CONFLICT DO NOTHING``) and the stored response
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
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from cakupan.dates import Clock
from cakupan.db import is_postgres
from cakupan.errors import conflict
from cakupan.i18n import t
from cakupan.integration.models import IdempotentRequest

__all__ = ["Outcome", "run_idempotent"]

#: Attempts of one request on transient database failures.
ATTEMPTS = 6


@dataclass(frozen=True)
class Outcome:
    """What to answer: HTTP status, the JSON body as text, whether it is a stored replay."""

    status_code: int
    body: str
    replayed: bool


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
    if row[0] != request_hash:
        raise conflict(
            t(
                "Idempotency-Key {k} sudah dipakai untuk permintaan lain (isi berbeda)",
                "Idempotency-Key {k} was already used for a different request (other body)",
            ).format(k=key),
            code="idempotency-key-reused",
        )
    return Outcome(int(row[1]), str(row[2]), replayed=True)


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


def _transient(error: DBAPIError) -> bool:
    if isinstance(error, IntegrityError):
        return True
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    if code in {"40001", "40P01"}:  # serialization failure, deadlock
        return True
    return isinstance(error, OperationalError) and "locked" in str(error.orig).lower()


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
            session.rollback()
            if not _transient(error) or attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.005 * 2**attempt)
        except BaseException:
            session.rollback()
            raise
    raise AssertionError("unreachable")  # pragma: no cover
