"""Partner API benchmark (issue 9): sustained single-payment posting through ``POST
/api/v1/payments`` on PostgreSQL, load generated on loopback by an httpx asyncio client.

    .venv/bin/python -m benchmarks.bench_api --seconds 300 --concurrency 16

Target: >= 500 requests/s with p95 <= 50 ms and 0 errors over a 5-minute run.

Set-up (not timed): a fresh PostgreSQL database, one partner client with an API token, and
enough participants registered today by that partner (the registry's batch engine) for every
request to be a real, new payment: each participant is paid for up to three months in order
(amounts from the shipped policy book), each by its own Idempotency-Key. The server is uvicorn
(``--workers`` processes) on ``create_app``, access log off, rate limit raised out of the way.
Every answer is checked (200 and ``"result": "posted"``); afterwards the ledger must hold
exactly the payments answered. Results: ``benchmarks/results/api.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select

from benchmarks.common import WORK, fresh_database, machine, machine_markdown, write_results
from cakupan.auth import Actor
from cakupan.bootstrap import ensure_ready
from cakupan.contributions import load_policy_book
from cakupan.dates import Month, SystemClock, today
from cakupan.db import make_engine, transaction
from cakupan.registry import RegistrationRow, register_participants
from cakupan.registry.models import Payment
from cakupan.users import create_user, issue_token, user_by_username

PARTNER = "MITRA-BENCH"
MONTHS_EACH = 3


def make_app() -> Any:
    """The app for uvicorn's ``--factory`` (database from ``CAKUPAN_DATABASE_URL``)."""
    from cakupan.web import create_app

    engine = make_engine(os.environ["CAKUPAN_DATABASE_URL"], pool_size=20, max_overflow=20)
    return create_app(engine)


def _nik(i: int) -> str:
    # District 16.71.01, birth dates 1-28 Jan/Feb 1970-1999 (men), serials 1-9999.
    serial = i % 9999 + 1
    block = i // 9999
    day, month, year = block % 28 + 1, (block // 28) % 2 + 1, 70 + (block // 56) % 30
    return f"167101{day:02d}{month:02d}{year:02d}{serial:04d}"


def prepare(url: str, participants: int) -> tuple[str, list[str], list[int], str]:
    """Schema, a partner client token, ``participants`` registered today; amounts per month."""
    engine = make_engine(url)
    ensure_ready(engine)
    actor = Actor.system("bench")
    day = today(SystemClock())
    with transaction(engine) as session:
        create_user(session, actor, username="bench.partner", role="partner", partner_code=PARTNER)
        token = issue_token(
            session, actor, user_by_username(session, "bench.partner").id, "bench"
        ).plain
    niks = [_nik(i) for i in range(participants)]
    for start in range(0, participants, 20_000):
        rows = [
            RegistrationRow(
                row=i + 1,
                nik=niks[i],
                name=f"Peserta {i}",
                phone="081234567890",
                occupation="farmer",
                reported_income=1_000_000,
                programs="JKK+JKM",
                registered_on=day,
                district_code="16.71.01",
                channel="partner",
                partner_code=PARTNER,
            )
            for i in range(start, min(start + 20_000, participants))
        ]
        with transaction(engine) as session:
            result = register_participants(session, actor, rows)
            assert result.rejected == 0, result.as_json()["errors"][:3]
    with transaction(engine) as session:
        book = load_policy_book(session)
        amounts = [
            book.monthly_total(income=1_000_000, programs="JKK+JKM", month=Month.of(day) + k)
            for k in range(MONTHS_EACH)
        ]
    engine.dispose()
    return token, niks, amounts, day.isoformat()


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    posted: int = 0


async def generate(
    base: str,
    token: str,
    niks: list[str],
    amounts: list[int],
    day: str,
    seconds: float,
    concurrency: int,
    tag: str,
) -> tuple[Load, float]:
    """``concurrency`` closed-loop clients for ``seconds``; each owns a slice of the
    participants and pays them month by month (never two requests for one participant at
    once)."""
    load = Load()
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {token}"}

    async def worker(number: int, client: httpx.AsyncClient) -> None:
        mine = niks[number::concurrency]
        for month in range(MONTHS_EACH):
            for index, nik in enumerate(mine):
                if time.perf_counter() >= deadline:
                    return
                reference = f"{tag}{number:03d}-{month}-{index:07d}"
                body = {
                    "nik": nik,
                    "amount": amounts[month],
                    "paid_on": day,
                    "reference": reference,
                    "channel": "brilink",
                }
                started = time.perf_counter()
                try:
                    response = await client.post(
                        "/api/v1/payments",
                        json=body,
                        headers={"Idempotency-Key": reference},
                    )
                except httpx.HTTPError as error:
                    load.errors.append(f"{type(error).__name__}: {error}")
                    continue
                load.latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or response.json().get("result") != "posted":
                    load.errors.append(f"{response.status_code}: {response.text[:200]}")
                else:
                    load.posted += 1
        load.errors.append(f"worker {number} ran out of participants")

    started = time.perf_counter()
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=30
    ) as client:
        await asyncio.gather(*(worker(n, client) for n in range(concurrency)))
    return load, time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(url: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "CAKUPAN_DATABASE_URL": url,
        "CAKUPAN_SECRET_KEY": "bench-secret",
        "CAKUPAN_API_RATE_PER_SECOND": "1000000",
        "CAKUPAN_API_BURST": "1000000",
        "CAKUPAN_AUTO_MIGRATE": "false",
    }
    WORK.mkdir(parents=True, exist_ok=True)
    log = (WORK / "bench_api_server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "benchmarks.bench_api:make_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start; see benchmarks/.work/bench_api_server.log")


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--participants", type=int, default=0, help="default: enough")
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--name", default="api")
    args = parser.parse_args()
    participants = args.participants or int(
        (args.seconds + args.warmup) * 700 / MONTHS_EACH + args.concurrency * 10
    )
    database = fresh_database("postgresql", "api")
    try:
        print(f"preparing {participants:,} participants ...", flush=True)
        token, niks, amounts, day = prepare(database.url, participants)
        process, base = serve(database.url, args.workers)
        try:
            warm = niks[: len(niks) // 50]
            rest = niks[len(warm) :]
            asyncio.run(
                generate(base, token, warm, amounts, day, args.warmup, args.concurrency, "W")
            )
            print(f"running {args.seconds:.0f} s at concurrency {args.concurrency} ...", flush=True)
            load, elapsed = asyncio.run(
                generate(base, token, rest, amounts, day, args.seconds, args.concurrency, "R")
            )
        finally:
            process.terminate()
            process.wait(30)
        engine = make_engine(database.url)
        with transaction(engine) as session:
            in_ledger = int(session.scalar(select(func.count()).select_from(Payment)) or 0)
        engine.dispose()
    finally:
        database.drop()
    latencies = sorted(load.latencies)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    requests = len(latencies)
    result = {
        "machine": machine(),
        "engine": "postgresql",
        "server_workers": args.workers,
        "concurrency": args.concurrency,
        "seconds": round(elapsed, 1),
        "participants": participants,
        "requests": requests,
        "requests_per_second": round(requests / elapsed, 1),
        "latency_ms": {
            "p50": _ms(quantiles[49]),
            "p95": _ms(quantiles[94]),
            "p99": _ms(quantiles[98]),
            "max": _ms(latencies[-1]) if latencies else 0.0,
        },
        "errors": len(load.errors),
        "first_errors": load.errors[:5],
        "posted": load.posted,
        "payments_in_ledger_after_warmup_and_run": in_ledger,
        "targets": {"requests_per_second": 500, "p95_ms": 50, "errors": 0, "seconds": 300},
    }
    met = (
        result["requests_per_second"] >= 500
        and result["latency_ms"]["p95"] <= 50  # type: ignore[index]
        and result["errors"] == 0
    )
    markdown = (
        "# Partner API benchmark\n\n"
        + machine_markdown(result["machine"])  # type: ignore[arg-type]
        + f"\nSingle payments through `POST /api/v1/payments` (Idempotency-Key, partner token, "
        f"rate limiter on) on PostgreSQL; uvicorn with {args.workers} worker process(es); "
        f"{args.concurrency} closed-loop httpx asyncio clients on loopback, on the same machine.\n\n"
        "| run | requests | requests/s | p50 | p95 | p99 | max | errors |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
        f"| {result['seconds']} s | {requests:,} | {result['requests_per_second']} | "
        f"{result['latency_ms']['p50']} ms | {result['latency_ms']['p95']} ms | "  # type: ignore[index]
        f"{result['latency_ms']['p99']} ms | {result['latency_ms']['max']} ms | "  # type: ignore[index]
        f"{result['errors']} |\n\n"
        f"Ledger afterwards: {in_ledger:,} payments (warm-up included), every answer checked.\n\n"
        f"Target (issue 9): >= 500 requests/s, p95 <= 50 ms, 0 errors over 300 s: "
        f"**{'met' if met else 'not met'}**.\n\n"
        f"Reproduce: `.venv/bin/python -m benchmarks.bench_api --seconds {args.seconds:.0f} "
        f"--concurrency {args.concurrency} --workers {args.workers}`.\n"
    )
    write_results(args.name, result, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
