"""Issue 21, item 4: no NIK reaches a log. A real ``cakupan serve`` (uvicorn, access log on)
answers requests carrying NIKs in paths, query strings and bodies (signed out, signed in with a
partner token, a NIK-shaped id that fails validation); its whole output is then searched for
any 16-digit number and for ``--- Logging error ---``. SQL errors never carry their parameters.
SQLite and PostgreSQL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from cakupan.db import make_engine, transaction
from cakupan.users import create_user, issue_token
from tests.integration.partner_api_support import ACTOR
from tests.integration.test_serve import CAKUPAN, _free_port

NIK = "1671010101900001"
SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")


def _token(engine: Engine) -> str:
    with transaction(engine) as session:
        user = create_user(
            session,
            ACTOR,
            username="mitra.log",
            role="partner",
            partner_code="MITRA-LOG",
            password="kopi-tubruk-2026",
        )
        return issue_token(session, ACTOR, user.user.id, "log test").plain


def test_a_served_run_logs_no_nik(database_url: str, engine: Engine, tmp_path: Path) -> None:
    token = _token(engine)
    port = _free_port()
    log_path = tmp_path / "serve.log"
    env = {**os.environ, "CAKUPAN_SECRET_KEY": "log-test-secret", "HOME": str(tmp_path)}
    with log_path.open("w+") as log:
        server = subprocess.Popen(
            [CAKUPAN, "serve", "--port", str(port), "--database-url", database_url],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=10) as client:
                for _ in range(240):
                    try:
                        client.get("/login")
                        break
                    except httpx.TransportError:
                        import time

                        time.sleep(0.5)
                auth = {"Authorization": f"Bearer {token}"}
                answers = [
                    client.get(f"/participants?q={NIK}"),  # signed out: LoginRequiredError
                    client.get(f"/participants/{NIK}"),
                    client.get(f"/api/v1/dashboard/contacts/{NIK}"),
                    client.get(f"/api/v1/dashboard/contacts/{NIK}", headers=auth),
                    client.post("/api/v1/participants/status", json={"nik": NIK}, headers=auth),
                    client.post(
                        "/api/v1/payments",
                        json={
                            "nik": NIK,
                            "amount": 8400,
                            "paid_on": "2026-11-26",
                            "reference": NIK,
                        },
                        headers={**auth, "Idempotency-Key": NIK},
                    ),
                    client.get(f"/api/v1/reconciliation?date={NIK}", headers=auth),
                ]
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
    output = log_path.read_text()
    assert all(answer.status_code < 500 for answer in answers), [a.status_code for a in answers]
    assert "Logging error" not in output
    assert SIXTEEN_DIGITS.findall(output) == [], output
    # The request lines were logged, masked (proof the access log ran).
    assert output.count("1671********0001") >= 5, output


@pytest.mark.parametrize("statement", ["SELECT no_such_column WHERE :nik = 1"])
def test_sql_errors_do_not_carry_their_parameters(database_url: str, statement: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn, pytest.raises(DBAPIError) as raised:
            conn.execute(text(statement), {"nik": NIK})
    finally:
        engine.dispose()
    assert NIK not in str(raised.value)
    assert "hidden due to hide_parameters" in str(raised.value)
