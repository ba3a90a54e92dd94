"""A short-lived, per-application cache of API token -> user (the partner API's hot path).

Without it every API request costs a token lookup (and, for a write, a commit of that read)
before any work. Tokens are stored as SHA-256 digests; the cache is keyed by that digest too, so
no plain token is kept in memory longer than the request.

Safety:

* an entry lives :data:`TOKEN_CACHE_SECONDS` at most: a token revoked, or a user deactivated or
  changed, by another process (e.g. ``cakupan users token revoke`` on the command line) stops
  working there within that time;
* in this process any committed change of a token's ``revoked_at`` or of a user's scope, role or
  ``active`` flag made through the ORM (as the users' actions do) empties every cache at once
  (a generation counter bumped by session events), so a revocation through the pages or the
  API takes effect immediately;
* what is cached is a snapshot of the user's columns; each request gets its own detached
  ``User`` built from it (never a shared, session-bound instance).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, UOWTransaction

from cakupan.users import User
from cakupan.users.models import ApiToken

__all__ = ["TOKEN_CACHE_SECONDS", "TokenCache", "invalidate_all"]

#: How long a token -> user answer is reused (seconds).
TOKEN_CACHE_SECONDS = 5.0
#: Entries kept at most (each client has one or a few tokens).
MAX_ENTRIES = 10_000

_USER_COLUMNS: tuple[str, ...] = tuple(c.key for c in inspect(User).column_attrs)
#: Changes that must end cached answers at once.
_WATCHED: dict[type, tuple[str, ...]] = {
    ApiToken: ("revoked_at", "user_id", "token_hash"),
    User: (
        "active",
        "role",
        "username",
        "region_code",
        "branch_code",
        "partner_code",
        "agent_code",
        "lang",
        "full_name",
    ),
}

_generation = 0
_generation_lock = threading.Lock()
_FLAG = "cakupan_token_cache_stale"


def generation() -> int:
    """The current cache generation (entries of an older one are stale)."""
    return _generation


def invalidate_all() -> None:
    """Make every cached token answer stale (every cache, every app in this process)."""
    global _generation
    with _generation_lock:
        _generation += 1


def _touches_auth(objects: Iterable[object]) -> bool:
    for obj in objects:
        watched = _WATCHED.get(type(obj))
        if watched is None:
            continue
        state = inspect(obj)
        if any(state.attrs[name].history.has_changes() for name in watched):
            return True
    return False


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    deleted = any(type(o) in _WATCHED for o in session.deleted)
    if deleted or (session.dirty and _touches_auth(session.dirty)):
        session.info[_FLAG] = True
        invalidate_all()  # now, and again at commit (a lookup in between may cache old state)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_FLAG, False):
        invalidate_all()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_FLAG, None)


@dataclass(frozen=True)
class _Entry:
    values: dict[str, Any]
    expires: float
    generation: int


class TokenCache:
    """Token digest -> user snapshot, for :data:`TOKEN_CACHE_SECONDS`; thread-safe."""

    def __init__(self, ttl: float = TOKEN_CACHE_SECONDS) -> None:
        self.ttl = ttl
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> User | None:
        """A fresh detached user for a cached, still valid digest; None otherwise."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry.generation != _generation or entry.expires <= time.monotonic():
            with self._lock:
                self._entries.pop(digest, None)
            return None
        return User(**entry.values)

    def put(self, digest: str, user: User, looked_up_in: int) -> None:
        """Remember ``user`` for ``digest``; ``looked_up_in`` is :func:`generation` read BEFORE
        the lookup (a change committed meanwhile makes the entry stale at once)."""
        values = {name: getattr(user, name) for name in _USER_COLUMNS}
        entry = _Entry(values, time.monotonic() + self.ttl, looked_up_in)
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest] = entry
