"""Schema migrations: idempotent, complete (models == migrations) on both engines."""

from __future__ import annotations

import json
from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from cakupan.bootstrap import current_revisions, head_revisions, upgrade_schema
from cakupan.schema import metadata
from tests.conftest import CliResult


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
