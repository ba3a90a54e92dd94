"""Bringing a database up to date: schema migrations (Alembic, every branch head) and the reference
data the product ships (regions, offices, contribution policies). Both are idempotent."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from cakupan.db import make_session_factory
from cakupan.reference import REFERENCE_LOADERS

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def upgrade_schema(engine: Engine) -> bool:
    """Migrate to every head. Returns whether anything was applied."""
    if current_revisions(engine) == head_revisions():
        return False
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "heads")
    return True


def load_reference_data(engine: Engine, *, only_missing: bool = True) -> dict[str, int]:
    """Run every reference loader (those already loaded are skipped when ``only_missing``)."""
    added: dict[str, int] = {}
    factory = make_session_factory(engine)
    for loader in REFERENCE_LOADERS:
        with factory() as session, session.begin():
            if only_missing and loader.is_loaded(session):
                continue
            added[loader.name] = loader.load(session)
    return added


def ensure_ready(engine: Engine) -> None:
    """Schema at head and reference data present: what every command needs before it starts."""
    upgrade_schema(engine)
    load_reference_data(engine)
