"""The partner API served by a real uvicorn process (``cakupan serve``): 8 concurrent clients
posting overlapping payments and batches with retries (PostgreSQL), and a kill -9 of the server
in the middle of a batch (both engines): after the retry every payment is in the ledger exactly
once."""

from __future__ import annotations

import os
import random
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, text

from cakupan.contributions import load_policy_book
from cakupan.dates import Month
from cakupan.db import is_postgres, transaction
from cakupan.integration.models import IdempotentRequest
from cakupan.registry import RegistrationRow, register_participants
from cakupan.registry.models import CoveredMonth, Payment
from tests.clock_support import TEST_NOW, clocked_command
from tests.integration.partner_api_support import ACTOR, make_clients, nik

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(database_url: str, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``cakupan serve`` on a free loopback port; yields (base URL, process); stopped after."""
    port = _free_port()
    env = {
        **os.environ,
        "CAKUPAN_SECRET_KEY": "test-secret",
        "CAKUPAN_API_RATE_PER_SECOND": "100000",
        "CAKUPAN_API_BURST": "100000",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*clocked_command(), "--database-url", database_url, "serve", "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Ledger:
    serials: list[int]
    amount: int
    day: str


def _register(engine: Engine, count: int) -> Ledger:
    """``count`` participants registered today by partner MITRA-A (the registry's batch
    engine), and the amount of their first month."""
    day = TEST_NOW.date()  # the served process runs on the same test clock
    rows = [
        RegistrationRow(
            row=i,
            nik=nik(i % 9000 + 1, birth=f"{(i // 9000) + 1:02d}0190"),
            name=f"Peserta {i}",
            phone="081234567890",
            occupation="farmer",
            reported_income=1_000_000,
            programs="JKK+JKM",
            registered_on=day,
            district_code="16.71.01",
            channel="partner",
            partner_code="MITRA-A",
        )
        for i in range(count)
    ]
    with transaction(engine) as session:
        result = register_participants(session, ACTOR, rows)
        assert result.rejected == 0, result.as_json()
        amount = load_policy_book(session).monthly_total(
            income=1_000_000, programs="JKK+JKM", month=Month.of(day)
        )
    return Ledger(list(range(count)), amount, day.isoformat())


def _payment(ledger: Ledger, i: int) -> dict[str, Any]:
    return {
        "nik": nik(i % 9000 + 1, birth=f"{(i // 9000) + 1:02d}0190"),
        "amount": ledger.amount,
        "paid_on": ledger.day,
        "reference": f"SETTLE-{i:06d}",
        "channel": "brilink",
    }


def _counts(engine: Engine) -> tuple[int, int, int]:
    with transaction(engine) as session:
        payments = session.scalar(select(func.count()).select_from(Payment)) or 0
        distinct = session.scalar(select(func.count(func.distinct(Payment.reference)))) or 0
        months = session.scalar(select(func.count()).select_from(CoveredMonth)) or 0
    return int(payments), int(distinct), int(months)


def _post_with_retries(
    client: httpx.Client, path: str, body: Any, key: str, attempts: int = 20
) -> httpx.Response:
    for attempt in range(attempts):
        try:
            response = client.post(path, json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            time.sleep(0.05 * (attempt + 1))
            continue
        if response.status_code < 500 and response.status_code != 429:
            return response
        time.sleep(0.05 * (attempt + 1))
    raise AssertionError(f"{path} {key}: no answer after {attempts} attempts")


@pytest.mark.postgres_only
def test_eight_clients_posting_overlapping_payments_post_each_exactly_once(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    assert is_postgres(engine)
    token = make_clients(engine)["mitra.a"]
    ledger = _register(engine, 240)
    posted_reports: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client_run(number: int, base: str) -> None:
        rng = random.Random(number)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            order = ledger.serials[:]
            rng.shuffle(order)
            position = 0
            request_no = 0
            while position < len(order):
                request_no += 1
                key = f"client{number}-{request_no}"
                if rng.random() < 0.5:
                    chunk = order[position : position + 1]
                    response = _post_with_retries(
                        client, "/api/v1/payments", _payment(ledger, chunk[0]), key
                    )
                    results = [response.json().get("result")]
                    ids = [response.json().get("payment_id")]
                else:
                    chunk = order[position : position + rng.randint(5, 30)]
                    body = {"partial": True, "rows": [_payment(ledger, i) for i in chunk]}
                    response = _post_with_retries(client, "/api/v1/payments/batches", body, key)
                    results = [row["result"] for row in response.json().get("rows", [])]
                    ids = [row["payment_id"] for row in response.json().get("rows", [])]
                if response.status_code != 200 or len(results) != len(chunk):
                    with lock:
                        failures.append(f"{key}: {response.status_code} {response.text[:300]}")
                    return
                if rng.random() < 0.2:  # the answer "got lost": the client retries the key
                    again = _post_with_retries(
                        client,
                        "/api/v1/payments"
                        if len(chunk) == 1 and "rows" not in response.text
                        else "/api/v1/payments/batches",
                        _payment(ledger, chunk[0])
                        if "rows" not in response.text
                        else {"partial": True, "rows": [_payment(ledger, i) for i in chunk]},
                        key,
                    )
                    if again.content != response.content:
                        with lock:
                            failures.append(f"{key}: replay differs")
                with lock:
                    for result, payment_id in zip(results, ids, strict=True):
                        if result == "posted":
                            posted_reports.append(payment_id)
                        elif result != "duplicate":
                            failures.append(f"{key}: {result}")
                position += len(chunk)

    with served(database_url, tmp_path / "server.log") as (base, _):
        threads = [threading.Thread(target=client_run, args=(n, base)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
    assert failures == []
    payments, distinct, months = _counts(engine)
    assert (payments, distinct, months) == (240, 240, 240)
    # Each payment was reported "posted" to exactly one client request.
    assert len(posted_reports) == 240
    assert len(set(posted_reports)) == 240


def _writing(engine: Engine, database_url: str) -> bool:
    """Whether another connection is inside a write transaction right now."""
    if is_postgres(engine):
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
                    )
                ).scalar()
            )
    path = database_url.removeprefix("sqlite:///")
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def test_killing_the_server_mid_batch_loses_and_duplicates_nothing(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    token = make_clients(engine)["mitra.a"]
    ledger = _register(engine, 4000)
    body = {"rows": [_payment(ledger, i) for i in ledger.serials]}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "settlement-2026-11-26"}
    outcome: dict[str, Any] = {}

    def send(base: str) -> None:
        try:
            outcome["response"] = httpx.post(
                f"{base}/api/v1/payments/batches", json=body, headers=headers, timeout=120
            )
        except httpx.HTTPError as error:
            outcome["error"] = error

    with served(database_url, tmp_path / "server.log") as (base, process):
        sender = threading.Thread(target=send, args=(base,))
        sender.start()
        deadline = time.monotonic() + 60
        while not _writing(engine, database_url):
            assert time.monotonic() < deadline, "the batch never started writing"
            assert sender.is_alive(), f"the batch finished before the kill: {outcome}"
            time.sleep(0.002)
        process.kill()  # SIGKILL: no clean-up, mid-transaction
        process.wait()
        sender.join(30)
    assert "error" in outcome  # the client saw the connection drop
    assert _counts(engine) == (0, 0, 0)
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(IdempotentRequest)) == 0

    with served(database_url, tmp_path / "server.log") as (base, _):
        retried = httpx.post(
            f"{base}/api/v1/payments/batches", json=body, headers=headers, timeout=120
        )
        assert retried.status_code == 200, retried.text
        assert retried.json()["accepted"] == 4000
        replay = httpx.post(
            f"{base}/api/v1/payments/batches", json=body, headers=headers, timeout=120
        )
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.content == retried.content
    assert _counts(engine) == (4000, 4000, 4000)
