"""Dashboard benchmark (issue 7): p95 of the dashboard API under 8 concurrent clients on
loopback, on SQLite and PostgreSQL, over a synthetic ledger with a year of payments.

    .venv/bin/python -m benchmarks.bench_dashboard --participants 1000000

Steps per engine: a fresh database; ``cakupan seed --participants N`` (the synthetic generator
through the real imports, then the monthly close of every complete month, which writes the KPI
pre-aggregates); users of three scopes (national admin, a branch head, a partner) with API
tokens; the app served by uvicorn in a separate process; 8 client threads each sending every
endpoint in turn with keep-alive. Results: ``benchmarks/results/dashboard.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from benchmarks.common import fresh_database, machine, machine_markdown, write_results
from cakupan.auth import Actor
from cakupan.dashboard.models import KpiCohort, KpiMonthly
from cakupan.db import make_engine, transaction
from cakupan.registry.models import Membership, Participant, Payment
from cakupan.users import User, create_user
from cakupan.users.actions import issue_token

CAKUPAN = str(Path(sys.executable).with_name("cakupan"))
TARGET_P95_MS = 200.0
ENDPOINTS = (
    "summary",
    "trend",
    "cohorts",
    "league",
    "warnings",
    "records?kpi=active",
    "worklist?kind=arrears",
)
AS_OF = "2026-10-31"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _seed(url: str, participants: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            CAKUPAN,
            "seed",
            "--participants",
            str(participants),
            "--as-of",
            AS_OF,
            "--database-url",
            url,
            "--json",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def _users_and_tokens(url: str) -> tuple[dict[str, str], dict[str, int]]:
    """Tokens of an admin, a kabid of the busiest branch and a partner user of the busiest
    partner; and the sizes of the ledger and the pre-aggregates."""
    engine = make_engine(url)
    system = Actor.system("bench")
    tokens: dict[str, str] = {}
    with transaction(engine) as session:
        branch = session.execute(
            select(Participant.branch_code, func.count())
            .group_by(Participant.branch_code)
            .order_by(func.count().desc())
            .limit(1)
        ).one()[0]
        partner = session.execute(
            select(Membership.partner_code, func.count())
            .where(Membership.partner_code.is_not(None))
            .group_by(Membership.partner_code)
            .order_by(func.count().desc())
            .limit(1)
        ).one()[0]
        for username, role, scope in (
            ("bench.admin", "admin", {}),
            ("bench.kabid", "kabid", {"branch_code": branch}),
            ("bench.mitra", "partner", {"partner_code": partner}),
        ):
            user_id = session.scalar(select(User.id).where(User.username == username))
            if user_id is None:
                user_id = create_user(
                    session,
                    system,
                    username=username,
                    role=role,
                    full_name=username,
                    password="bench-password-2026",
                    **scope,
                ).user.id
            tokens[role] = issue_token(session, system, user_id, "bench").plain
        sizes = {
            "participants": int(session.scalar(select(func.count()).select_from(Participant)) or 0),
            "payments": int(session.scalar(select(func.count()).select_from(Payment)) or 0),
            "kpi_monthly_rows": int(
                session.scalar(select(func.count()).select_from(KpiMonthly)) or 0
            ),
            "kpi_cohort_rows": int(
                session.scalar(select(func.count()).select_from(KpiCohort)) or 0
            ),
        }
    engine.dispose()
    return tokens, sizes


def _serve(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    """``workers`` uvicorn worker processes (the app factory on ``url``)."""
    env = {
        **os.environ,
        "CAKUPAN_DATABASE_URL": url,
        "CAKUPAN_SECRET_KEY": "bench-secret-key-not-for-production",
        "CAKUPAN_AUTO_MIGRATE": "false",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "cakupan.web.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


def _load(port: int, tokens: dict[str, str], clients: int, rounds: int) -> dict[str, Any]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        rng = random.Random(index)
        role = ("admin", "kabid", "partner")[index % 3]
        headers = {"Authorization": f"Bearer {tokens[role]}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as http:
            for _ in range(rounds):
                order = list(ENDPOINTS)
                rng.shuffle(order)
                for endpoint in order:
                    started = time.perf_counter()
                    response = http.get(f"/api/v1/dashboard/{endpoint}")
                    elapsed = (time.perf_counter() - started) * 1000
                    with lock:
                        if response.status_code != 200:
                            errors.append(f"{endpoint} {response.status_code}")
                        latencies[endpoint.split("?")[0]].append(elapsed)
                        latencies[f"{endpoint.split('?')[0]} ({role})"].append(elapsed)

    # warm-up: one pass per role
    threads = [threading.Thread(target=client, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.clear()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    load_after = os.getloadavg()[0]
    result: dict[str, Any] = {
        "load_average_1min": {"before": round(load_before, 2), "after": round(load_after, 2)},
        "errors": errors[:10],
        "error_count": len(errors),
        "wall_s": round(wall, 2),
    }
    per: dict[str, Any] = {}
    for endpoint, values in sorted(latencies.items()):
        values.sort()
        per[endpoint] = {
            "requests": len(values),
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(values[int(0.95 * (len(values) - 1))], 1),
            "max_ms": round(values[-1], 1),
        }
    result["endpoints"] = per
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--name", default="dashboard")
    parser.add_argument(
        "--data", default="", help="how reused databases were made (written to the results)"
    )
    parser.add_argument(
        "--render",
        metavar="JSON",
        help="only write the markdown of an earlier run's results file (e.g. after a fix)",
    )
    parser.add_argument(
        "--reuse",
        action="append",
        default=[],
        metavar="ENGINE=URL",
        help="use an already seeded database for ENGINE (e.g. sqlite=sqlite:///x.db) instead of"
        " seeding a fresh one (its seeding time is then not measured)",
    )
    args = parser.parse_args()
    if args.render:
        earlier = json.loads(Path(args.render).read_text())
        if args.data:
            earlier["data"] = args.data
        write_results(args.name, earlier, _markdown(earlier))
        return
    reuse = dict(item.split("=", 1) for item in args.reuse)
    results: dict[str, Any] = {
        "machine": machine(),
        "participants": args.participants,
        "clients": args.clients,
        "rounds": args.rounds,
        "workers": args.workers,
        "target_p95_ms": TARGET_P95_MS,
        "data": args.data,
        "engines": {},
    }
    for kind in args.engines.split(","):
        database = None
        if kind in reuse:
            url, seed_s = reuse[kind], None
        else:
            database = fresh_database(kind, f"dashboard_{args.participants}")
            url, seed_s = database.url, round(_seed(database.url, args.participants), 1)
        tokens, sizes = _users_and_tokens(url)
        port = _free_port()
        server = _serve(url, port, args.workers)
        try:
            load = _load(port, tokens, args.clients, args.rounds)
        finally:
            server.terminate()
            server.wait(timeout=30)
        results["engines"][kind] = {
            "seed_s": seed_s,
            "reused_database": kind in reuse,
            **sizes,
            **load,
        }
        print(json.dumps({kind: results["engines"][kind]}, indent=1), flush=True)
        if database is not None and os.environ.get("BENCH_KEEP") != "1":
            database.drop()
    write_results(args.name, results, _markdown(results))


def _markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Dashboard benchmark",
        machine_markdown(results["machine"]),
        f"Data: {results['participants']:,} synthetic participants (`cakupan seed`, a year of payments"
        f" to {AS_OF}, every complete month closed). Load: {results['clients']} concurrent clients"
        f" on loopback (national admin, branch head and partner tokens in turn), {results['rounds']}"
        f" rounds of every endpoint per client; the app served by {results['workers']} uvicorn"
        " worker processes. Rows 'endpoint (role)' split the same requests by the caller's"
        f" scope. Target: p95 <= {TARGET_P95_MS:.0f} ms.",
        "",
    ]
    if results.get("data"):
        lines += [f"How the databases were made: {results['data']}", ""]
    for kind, data in results["engines"].items():
        lines += [
            f"## {kind}",
            "",
            f"Participants {data['participants']:,}, payments {data['payments']:,},"
            f" kpi_monthly rows {data['kpi_monthly_rows']:,}, kpi_cohort rows"
            f" {data['kpi_cohort_rows']:,}; "
            + (
                f"seeding took {data['seed_s']:,} s"
                if data["seed_s"] is not None
                else "database seeded beforehand with the same `cakupan seed` command"
            )
            + f"; errors {data['error_count']}. 1-minute load average of the (shared)"
            f" machine before/after the load phase: {data['load_average_1min']['before']} /"
            f" {data['load_average_1min']['after']}.",
            "",
            "| endpoint | requests | p50 ms | p95 ms | max ms | p95 <= target |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for endpoint, figures in data["endpoints"].items():
            ok = "yes" if figures["p95_ms"] <= TARGET_P95_MS else "**no**"
            lines.append(
                f"| {endpoint} | {figures['requests']} | {figures['p50_ms']} | {figures['p95_ms']}"
                f" | {figures['max_ms']} | {ok} |"
            )
        lines.append("")
    lines.append(
        "Reproduce: `.venv/bin/python -m benchmarks.bench_dashboard --participants"
        f" {results['participants']}` (seeds a fresh database per engine), or with"
        " `--reuse sqlite=sqlite:///FILE --reuse postgresql=URL` on databases prepared"
        " beforehand (`cakupan seed`, `benchmarks/sqlite_to_postgres.py`)."
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
