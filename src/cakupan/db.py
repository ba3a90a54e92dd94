"""The one database entry point: declarative base, column types, engines and sessions, and
schema upgrades (Alembic) with reference data.

SQLite is the embedded default; PostgreSQL (psycopg 3) is the production database. Everything
here works on both.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, DateTime, Engine, Integer, MetaData, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.types import TypeDecorator

from cakupan.dates import JAKARTA, Month, SystemClock

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: Primary-key type for large tables: BIGINT on PostgreSQL, the rowid alias INTEGER on SQLite.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class MonthType(TypeDecorator[Month]):
    """A :class:`~cakupan.dates.Month` stored as ``year * 12 + month - 1`` (an integer)."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Month | int | None, dialect: Dialect) -> int | None:
        if value is None or isinstance(value, int):
            return value
        return value.index

    def process_result_value(self, value: int | None, dialect: Dialect) -> Month | None:
        return None if value is None else Month.from_index(value)


class AwareDateTime(TypeDecorator[datetime]):
    """An instant stored in UTC, read back as an aware datetime in Asia/Jakarta."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware instant is required")
        converted = value.astimezone(UTC)
        return converted.replace(tzinfo=None) if dialect.name == "sqlite" else converted

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(JAKARTA)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    # Read pages through a memory map (up to SQLite's 2 GiB build limit): random lookups into
    # large tables (the close, the dashboard's drill-downs) cost a memory access instead of a
    # read() call and a copy into the page cache.
    cursor.execute("PRAGMA mmap_size=2147418112")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created when missing. SQL parameters are
    left out of error messages and SQL logs (``hide_parameters``: they hold NIKs, issue 21)."""
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    ping_idle = kwargs.pop("ping_idle", None)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS if ping_idle is None else ping_idle)
    return engine


#: A pooled PostgreSQL connection unused for longer than this is checked (one ``SELECT 1``)
#: before it is handed out; one in steady use is not.
PING_AFTER_IDLE_SECONDS = 2.0


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Pessimistic disconnect handling for the connections that can have gone stale: a
    connection back from the pool after ``idle_seconds`` or more (a server restart, a
    firewall's idle timeout) is pinged and, if dead, replaced before anyone uses it (the pool
    retries the check-out on :class:`~sqlalchemy.exc.DisconnectionError`). SQLAlchemy's
    ``pool_pre_ping`` pings at every check-out: two round trips (the transaction's BEGIN and
    the ``SELECT 1``) per single posting, a fifth of its cost; a connection in steady use was
    alive milliseconds ago. A connection lost within ``idle_seconds`` of its last use (the
    server restarted under load) fails the one statement that meets it, as a connection lost
    mid-request always does, and the pool replaces it; the partner API's writes then run again
    on a new connection (``cakupan.integration.idempotency``: their key makes that safe).
    ``pool_pre_ping=True`` brings back the check at every check-out."""

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(
        dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
    ) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < idle_seconds:
            return  # new (just connected) or in steady use
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_connection.rollback()  # leave it as the pool gave it: no transaction open
        except Exception as error:
            raise DisconnectionError(f"stale pooled connection: {error}") from error


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """The one session factory shape: no autoflush surprises, objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error. (The
    session is made directly, with :func:`make_session_factory`'s settings: building a
    sessionmaker builds a class, a measurable cost on the single-posting path.)"""
    with Session(bind=engine, expire_on_commit=False) as session, session.begin():
        yield session


def is_postgres(engine_or_session: Engine | Session) -> bool:
    """Whether the bound database is PostgreSQL (for dialect-specific fast paths)."""
    bind = (
        engine_or_session.get_bind()
        if isinstance(engine_or_session, Session)
        else engine_or_session
    )
    return bind.dialect.name == "postgresql"


def now_utc() -> datetime:
    """The current instant (for audit rows written outside an injected clock)."""
    return SystemClock().now().astimezone(UTC)
