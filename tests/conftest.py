"""Shared fixtures: every data-layer test runs on SQLite and on PostgreSQL.

Each test gets its own freshly migrated database with the shipped reference data, cloned from a
template made once per run: a copied file for SQLite, ``CREATE DATABASE ... TEMPLATE`` for
PostgreSQL (``CAKUPAN_TEST_POSTGRES_URL``, default the local server's ``test`` database). Database
names carry the process id and a random token, so concurrent runs cannot collide. With
``CI=true`` an unreachable PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from cakupan.bootstrap import ensure_ready
from cakupan.dates import pinned_system_clock
from cakupan.db import make_engine, make_session_factory
from tests.clock_support import TEST_NOW, TestClock

# Speed is measured by benchmarks/, never by tests: no per-example deadline (on a loaded 2-core
# machine a pure-rules example can take longer than hypothesis's default 200 ms).
settings.register_profile("cakupan", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("cakupan")

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ENGINES = ("sqlite", "postgresql")
_RUN_TOKEN = f"ck_{os.getpid()}_{secrets.token_hex(3)}"


def _pg_admin_url() -> str:
    return os.environ.get("CAKUPAN_TEST_POSTGRES_URL", DEFAULT_PG_URL)


def _pg_url_for(database: str) -> str:
    return make_url(_pg_admin_url()).set(database=database).render_as_string(hide_password=False)


def _pg_admin_execute(sql: str) -> None:
    engine = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def suite_clock() -> Iterator[TestClock]:
    """The process clock of the whole run: every ``SystemClock()`` (CLI, pages, actions given no
    clock, the browser tests' server) reads the test's time, never the machine's date."""
    clock = TestClock(TEST_NOW)
    with pinned_system_clock(clock):
        yield clock


@pytest.fixture(autouse=True)
def test_clock(suite_clock: TestClock) -> TestClock:
    """The clock of this test, set to :data:`TEST_NOW` when it starts; ``set``/``advance`` move it."""
    suite_clock.set(TEST_NOW)
    return suite_clock


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres_only`` (concurrent writers: SQLite has one writer by design) or
    ``one_engine`` (the subject does not read the database, e.g. Spark over a snapshot) run on
    PostgreSQL only: their SQLite variants are not collected, rather than skipped."""
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("database_url") == "sqlite"
        once = item.get_closest_marker("postgres_only") or item.get_closest_marker("one_engine")
        (dropped if on_sqlite and once else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@dataclass
class Templates:
    sqlite_path: Path
    pg_database: str | None
    pg_error: str | None


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    sqlite_path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{sqlite_path}")
    ensure_ready(engine)
    engine.dispose()

    pg_database: str | None = f"{_RUN_TOKEN}_tpl"
    pg_error = None
    try:
        _pg_admin_execute(f'CREATE DATABASE "{pg_database}"')
        engine = make_engine(_pg_url_for(pg_database))  # type: ignore[arg-type]
        ensure_ready(engine)
        engine.dispose()
    except Exception as exc:
        pg_error = f"{type(exc).__name__}: {exc}"
        pg_database = None
    yield Templates(sqlite_path, pg_database, pg_error)
    if pg_database:
        with contextlib.suppress(Exception):
            _pg_admin_execute(f'DROP DATABASE IF EXISTS "{pg_database}" WITH (FORCE)')


def _postgres_unavailable(templates: Templates) -> None:
    message = f"PostgreSQL is not reachable at {_pg_admin_url()}: {templates.pg_error}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(params=ENGINES)
def database_url(
    request: pytest.FixtureRequest, _templates: Templates, tmp_path: Path
) -> Iterator[str]:
    """URL of a fresh, migrated database with reference data, on each engine in turn."""
    if request.param == "sqlite":
        path = tmp_path / "cakupan.db"
        shutil.copyfile(_templates.sqlite_path, path)
        yield f"sqlite:///{path}"
        return
    if _templates.pg_database is None:
        _postgres_unavailable(_templates)
    name = f"{_RUN_TOKEN}_{secrets.token_hex(4)}"
    _pg_admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{_templates.pg_database}"')
    try:
        yield _pg_url_for(name)
    finally:
        _pg_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on this test's database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on this test's database (the test commits or not as the code under test does)."""
    with make_session_factory(engine)() as session:
        yield session


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(database_url: str) -> Callable[..., CliResult]:
    """Run ``cakupan ...`` in-process against this test's database; returns exit code and output."""

    def run(*args: str, database: bool = True) -> CliResult:
        argv = ["cakupan", *(("--database-url", database_url) if database else ()), *args]
        return run_cli(argv)

    return run


def run_cli(argv: list[str]) -> CliResult:
    """Invoke the real entry point (``cakupan.cli.main:main``) with ``argv``; capture everything."""
    from cakupan.cli import common
    from cakupan.cli.main import main
    from cakupan.i18n import _current

    out, err = io.StringIO(), io.StringIO()
    saved_argv = sys.argv
    common.GLOBAL.database_url = None
    token = _current.set(None)
    sys.argv = argv
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.argv = saved_argv
        _current.reset(token)
    return CliResult(code, out.getvalue(), err.getvalue())


#: The Redis of the rate-limit tests (every machine, CI's included, runs one).
REDIS_URL = os.environ.get("CAKUPAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A Redis key prefix of this test's own (runs sharing one Redis cannot meet); its keys
    are removed afterwards. With ``CI=true`` an unreachable Redis fails instead of skipping."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        message = f"Redis is not reachable at {REDIS_URL}: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    value = f"cakupan-test:{secrets.token_hex(6)}:"
    yield value
    for key in client.scan_iter(f"{value}*"):
        client.delete(key)
    client.close()


_T = TypeVar("_T")


def run_coroutine(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coroutine`` to its end on a new event loop in a thread of its own: the browser
    tests (Playwright's sync API) leave an event loop running in the main thread, where
    ``asyncio.run`` then refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def terminate_backend(database_url: str, pid: int) -> None:
    """End PostgreSQL backend ``pid`` from another connection, as a server restart or an idle
    timeout would: the pooled connection that used it is then dead."""
    other = make_engine(database_url, poolclass=NullPool)
    with other.begin() as conn:
        conn.exec_driver_sql("SELECT pg_terminate_backend(%s)", (pid,))
    other.dispose()
