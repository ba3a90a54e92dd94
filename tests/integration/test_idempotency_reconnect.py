"""A partner write that meets a connection the server has dropped (a restart, an idle timeout)
is retried on a new connection: posting is idempotent, so trying again is safe."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from cakupan.auth import Actor
from cakupan.dates import FixedClock
from cakupan.db import make_engine, transaction
from cakupan.integration.idempotency import Answer, driver_row, run_once
from cakupan.integration.models import IdempotentRequest
from cakupan.users import create_user
from tests.conftest import terminate_backend


@pytest.mark.postgres_only
def test_run_once_retries_on_a_connection_the_server_dropped(database_url: str) -> None:
    # Pings only after a minute idle: the pooled connection is handed out unchecked, as one in
    # steady use is (cakupan.db.PING_AFTER_IDLE_SECONDS).
    engine = make_engine(database_url, pool_size=1, max_overflow=0, ping_idle=60.0)
    try:
        with transaction(engine) as session:
            user = create_user(
                session, Actor.system("test"), username="mitra-a", role="admin", password=None
            )
            user_id = user.user.id
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        terminate_backend(database_url, pid)

        works: list[int] = []

        def work() -> Answer:
            works.append(driver_row(session, "SELECT pg_backend_pid()", {})[0])  # type: ignore[index]
            return Answer({"result": "posted"}, [])

        with Session(engine) as session:
            outcome = run_once(
                session,
                user_id=user_id,
                key="K-1",
                endpoint="payments",
                request_hash="h",
                lookup=lambda: driver_row(session, "SELECT NULL", {}) and None,
                work=work,
                clock=FixedClock(datetime(2026, 11, 26, 3, tzinfo=UTC)),
            )
        assert outcome.status_code == 200
        assert not outcome.replayed
        assert len(works) == 1  # the first attempt failed at its lookup, before the work
        assert works[0] != pid  # the work ran on a new connection
        with transaction(engine) as session:
            stored = session.scalar(
                select(func.count())
                .select_from(IdempotentRequest)
                .where(IdempotentRequest.key == "K-1")
            )
        assert stored == 1
    finally:
        engine.dispose()
