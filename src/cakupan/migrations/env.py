"""Alembic environment. Run through ``cakupan db upgrade`` (see ``cakupan.bootstrap``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from cakupan.db import make_engine
from cakupan.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)


if context.is_offline_mode():  # pragma: no cover - we only migrate online
    raise SystemExit("offline migrations are not supported; use `cakupan db upgrade`")
run_migrations_online()
