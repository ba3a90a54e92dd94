"""Schema migrations: idempotent, complete (models == migrations) on both engines."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import OperationalError

from cakupan.bootstrap import current_revisions, head_revisions, upgrade_schema
from cakupan.db import make_engine
from cakupan.schema import metadata
from tests.conftest import CliResult, terminate_backend


def test_upgrade_is_idempotent(engine: Engine) -> None:
    assert current_revisions(engine) == head_revisions()
    assert upgrade_schema(engine) is False
    assert current_revisions(engine) == head_revisions()


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": False}), metadata
        )
    assert diff == [], f"models and migrations differ: {diff}"


def test_every_table_has_a_primary_key(engine: Engine) -> None:
    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        assert inspector.get_pk_constraint(table.name)["constrained_columns"], table.name


def test_cli_db_upgrade_twice(cli: Callable[..., CliResult]) -> None:
    first = cli("db", "upgrade", "--json")
    assert first.exit_code == 0, first.stderr
    second = cli("db", "upgrade", "--json")
    assert second.exit_code == 0, second.stderr
    payload = json.loads(second.stdout)
    assert payload["migrated"] is False
    assert payload["reference_loaded"] == {}
    assert set(payload["revisions"]) == head_revisions()


@pytest.mark.postgres_only
def test_idle_pooled_connection_killed_by_the_server_is_replaced(database_url: str) -> None:
    # A pooled connection whose backend the server ended (a restart, an idle timeout) is
    # checked at check-out once it has been idle long enough (here: any time) and replaced.
    engine = make_engine(database_url, pool_size=1, max_overflow=0, ping_idle=0.0)
    try:
        with engine.connect() as conn:
            first_pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        terminate_backend(database_url, first_pid)
        with engine.connect() as conn:
            second_pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            assert conn.exec_driver_sql("SELECT 41 + 1").scalar_one() == 42
        assert second_pid != first_pid
    finally:
        engine.dispose()


@pytest.mark.postgres_only
def test_connection_in_steady_use_is_not_pinged(database_url: str) -> None:
    # The other side of the trade: a connection returned moments ago is handed out unchecked,
    # so a backend killed in between fails the one statement that meets it; the pool then
    # replaces the connection.
    engine = make_engine(database_url, pool_size=1, max_overflow=0, ping_idle=60.0)
    try:
        with engine.connect() as conn:
            first_pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        terminate_backend(database_url, first_pid)
        with pytest.raises(OperationalError), engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() != first_pid
    finally:
        engine.dispose()
