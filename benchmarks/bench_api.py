"""Partner API benchmark (issue 9): sustained single-payment posting through ``POST
/api/v1/payments`` on PostgreSQL, load generated on loopback by ``wrk`` (Debian package ``wrk``:
``apt-get install -y wrk``; a C load generator leaves the two cores to the server and PostgreSQL,
where a Python one would take half of them).

    .venv/bin/python -m benchmarks.bench_api --seconds 300 --connections 32 --workers 3

Target: >= 500 requests/s with p95 <= 50 ms and 0 errors over a 5-minute run.

Set-up (not timed): a fresh PostgreSQL database, one partner client with an API token and a
webhook subscription (so every posting also writes its outbox event), and enough participants
registered today by that partner (the registry's batch engine) for every request to be a real,
new payment: request i pays participant i mod N for its next month (amounts from the shipped
policy book), each under its own Idempotency-Key and reference (``benchmarks/bench_api.lua``).
The server is uvicorn (``--workers`` processes, uvloop and httptools, access log off) on
``create_app``, rate limit raised out of the way. Every answer is checked (200 and ``"result":
"posted"``); afterwards the ledger must hold exactly the payments answered. The 1-minute load
average is sampled every 5 s during the run, and the CPU time taken by the server processes,
PostgreSQL's backends and wrk is reported (the machine is shared). Results:
``benchmarks/results/<name>.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text

from benchmarks.common import WORK, fresh_database, machine, machine_markdown, write_results
from cakupan.auth import Actor
from cakupan.bootstrap import ensure_ready
from cakupan.contributions import load_policy_book
from cakupan.dates import Month, SystemClock, today
from cakupan.db import make_engine, transaction
from cakupan.integration.models import WebhookEvent, WebhookSubscription
from cakupan.registry import RegistrationRow, register_participants
from cakupan.registry.models import Payment
from cakupan.users import create_user, issue_token, user_by_username

PARTNER = "MITRA-BENCH"
MONTHS_EACH = 3
LUA = Path(__file__).with_name("bench_api.lua")


def make_app() -> Any:
    """The app for uvicorn's ``--factory`` (database from ``CAKUPAN_DATABASE_URL``; pool size
    from ``BENCH_POOL_SIZE``: enough for every request a process may serve at once, so no
    connection is closed and opened again during the run)."""
    from cakupan.web import create_app

    pool = int(os.environ.get("BENCH_POOL_SIZE", "10"))
    engine = make_engine(os.environ["CAKUPAN_DATABASE_URL"], pool_size=pool, max_overflow=0)
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
        client = user_by_username(session, "bench.partner")
        token = issue_token(session, actor, client.id, "bench").plain
        # A subscription: every posting then writes its outbox event, as in production.
        session.add(
            WebhookSubscription(
                partner_code=PARTNER,
                url="http://127.0.0.1:9/bench-hook",
                secret="whsec_bench",
                events=["payment.posted"],
                active=True,
                created_at=SystemClock().now(),
                created_by="bench",
            )
        )
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(url: str, workers: int, pool_size: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "CAKUPAN_DATABASE_URL": url,
        "CAKUPAN_SECRET_KEY": "bench-secret",
        "CAKUPAN_API_RATE_PER_SECOND": "1000000",
        "CAKUPAN_API_BURST": "1000000",
        "CAKUPAN_AUTO_MIGRATE": "false",
        "BENCH_POOL_SIZE": str(pool_size),
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
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--no-proxy-headers",  # as ``cakupan serve`` (proxy_headers=False)
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


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds used so far by each of the processes ``pids`` still alive."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    return used


def _cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two :func:`_cpu_seconds` (a process started in between counts
    from zero; one that ended in between is not counted)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _children(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        for kid in kids:
            found += _children(int(kid))
    return found


def _backends(database: str) -> list[int]:
    """PostgreSQL backend processes serving ``database`` (by their process title)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {database} " in title:
            pids.append(int(proc.name))
    return pids


class LoadSampler:
    """The 1-minute load average every ``every`` seconds, in a thread."""

    def __init__(self, every: float = 5.0) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.samples.append(round(os.getloadavg()[0], 2))

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _short_participants(session: Any, niks: list[str], answered: int) -> list[dict[str, Any]]:
    """The run's participants holding fewer payments than the answered requests that paid
    them (request i pays NIK i mod N; requests past ``answered`` were in flight at the stop,
    and may or may not have been posted). Each with the references it holds: empty when every
    answered payment is in the ledger."""
    count = len(niks)
    rows = session.execute(
        text(
            "SELECT p.nik, count(y.id), array_agg(y.reference) FROM participant p"
            " LEFT JOIN payment y ON y.participant_id = p.id WHERE p.nik = ANY(:niks)"
            " GROUP BY p.nik"
        ),
        {"niks": niks},
    ).all()
    held = {nik: (int(n), sorted(r for r in refs if r)) for nik, n, refs in rows}
    short = []
    for k, nik in enumerate(niks):
        expected = (answered - 1 - k) // count + 1 if k < answered else 0
        n, refs = held.get(nik, (0, []))
        if n < expected:
            short.append({"index": k, "nik": nik, "expected": expected, "held": n, "refs": refs})
    return short


def run_wrk(
    base: str,
    niks_file: Path,
    amounts: list[int],
    day: str,
    token: str,
    *,
    tag: str,
    seconds: float,
    connections: int,
    threads: int,
) -> tuple[dict[str, Any], str, float]:
    """One wrk run; its JSON summary, the first refused answer (if any) and wrk's CPU time."""
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds:.0f}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"{base}/api/v1/payments",
        "--",
        str(niks_file),
        ",".join(str(a) for a in amounts),
        day,
        tag,
        token,
        str(threads),
    ]
    before = os.times()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr[-2000:]}")
    found = re.search(r"^WRKJSON (.*)$", done.stdout, re.MULTILINE)
    if found is None:
        raise SystemExit(f"no summary from wrk:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    first_bad = re.search(r"^WRKFIRSTBAD (.*)$", done.stdout, re.MULTILINE)
    return json.loads(found.group(1)), (first_bad.group(1) if first_bad else "").strip(), cpu


#: What a payment request runs through.
_REQUEST_PATH = (
    "registry",
    "integration",
    "web",
    "users",
    "audit",
    "contributions",
    "access",
    "db.py",
)


def _code_state() -> dict[str, Any]:
    """The commit measured, and the files of the request's path that differed from it (the
    tree is shared with others at work)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
        return done.stdout.rstrip("\n")

    request_path = [f"src/cakupan/{part}" for part in _REQUEST_PATH]
    changed = [line[3:] for line in git("status", "--porcelain", *request_path).splitlines()]
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted_in_src": changed}


def _ms(microseconds: float) -> float:
    return round(microseconds / 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=3, help="uvicorn worker processes")
    parser.add_argument("--participants", type=int, default=0, help="of the run; default: enough")
    parser.add_argument("--rate", type=float, default=800, help="expected req/s (sizing)")
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--name", default="api")
    parser.add_argument("--note", default="", help="a sentence on the conditions, for the md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    # Each NIK is paid MONTHS_EACH times (one month each); the run never wraps past that.
    warm_count = int(args.warmup * args.rate / MONTHS_EACH) + 500
    run_count = args.participants or int(args.seconds * args.rate / MONTHS_EACH) + 2000
    participants = warm_count + run_count
    # Opened as needed and kept: a process never holds more than the requests it serves at once.
    pool_size = args.connections
    code = _code_state()
    database = fresh_database("postgresql", "api")
    database_name = database.url.rsplit("/", 1)[1]
    short: list[dict[str, Any]] = []
    try:
        print(f"preparing {participants:,} participants ...", flush=True)
        token, niks, amounts, day = prepare(database.url, participants)
        work_dir = Path(tempfile.mkdtemp(prefix="bench_api_", dir=WORK))
        warm_file, run_file = work_dir / "warm.txt", work_dir / "run.txt"
        warm_file.write_text("\n".join(niks[:warm_count]) + "\n")
        run_file.write_text("\n".join(niks[warm_count:]) + "\n")
        process, base = serve(database.url, args.workers, pool_size)
        try:
            print(f"warming up {args.warmup:.0f} s ...", flush=True)
            warm, _, _ = run_wrk(
                base,
                warm_file,
                amounts,
                day,
                token,
                tag="W",
                seconds=args.warmup,
                connections=args.connections,
                threads=args.threads,
            )
            server_before = _cpu_seconds(_children(process.pid))
            pg_before = _cpu_seconds(_backends(database_name))
            load_before = round(os.getloadavg()[0], 2)
            print(
                f"running {args.seconds:.0f} s, {args.connections} connections, "
                f"{args.workers} workers (load {load_before}) ...",
                flush=True,
            )
            with LoadSampler() as sampler:
                summary, first_bad, wrk_cpu = run_wrk(
                    base,
                    run_file,
                    amounts,
                    day,
                    token,
                    tag="R",
                    seconds=args.seconds,
                    connections=args.connections,
                    threads=args.threads,
                )
            load_after = round(os.getloadavg()[0], 2)
            pg_pids = _backends(database_name)
            server_cpu = _cpu_since(server_before, _cpu_seconds(_children(process.pid)))
            pg_cpu = _cpu_since(pg_before, _cpu_seconds(pg_pids))
        finally:
            process.terminate()
            process.wait(30)
            shutil.rmtree(work_dir, ignore_errors=True)
        engine = make_engine(database.url)
        with transaction(engine) as session:
            in_ledger = int(session.scalar(select(func.count()).select_from(Payment)) or 0)
            events = int(session.scalar(select(func.count()).select_from(WebhookEvent)) or 0)
            # The last request of each connection may still have been in flight at the stop.
            answered_run = int(summary["requests"]) - args.connections
            # The file's last NIK is the spare of bench_api.lua, outside the cycle.
            short = _short_participants(session, niks[warm_count:-1], answered_run)
        engine.dispose()
    finally:
        if short and os.environ.get("BENCH_KEEP_DATABASE") == "1":
            print(f"kept database {database_name} for inspection", flush=True)
        else:
            database.drop()
    elapsed = summary["duration_us"] / 1e6
    requests = int(summary["requests"])
    errors = (
        int(summary["bad"])
        + int(summary["connect"])
        + int(summary["read"])
        + int(summary["write"])
        + int(summary["timeout"])
    )
    answered = int(warm["posted"]) + int(summary["posted"])
    if short:
        print(f"participants holding fewer payments than answered: {short[:5]}", flush=True)
    samples = sampler.samples or [load_before]
    result: dict[str, Any] = {
        "machine": machine(),
        "code": code,
        "engine": "postgresql",
        "load_generator": "wrk (benchmarks/bench_api.lua)",
        "server": (
            f"uvicorn --workers {args.workers} --loop uvloop --http httptools --no-proxy-headers"
        ),
        "server_workers": args.workers,
        "connections": args.connections,
        "wrk_threads": args.threads,
        "pool_size_per_worker": pool_size,
        "postgresql_backends": len(pg_pids),
        "seconds": round(elapsed, 1),
        "participants": participants,
        "requests": requests,
        "requests_per_second": round(requests / elapsed, 1),
        "latency_ms": {
            "p50": _ms(summary["p50_us"]),
            "p90": _ms(summary["p90_us"]),
            "p95": _ms(summary["p95_us"]),
            "p99": _ms(summary["p99_us"]),
            "max": _ms(summary["max_us"]),
            "mean": _ms(summary["mean_us"]),
        },
        "errors": errors,
        "error_detail": {
            k: summary[k] for k in ("bad", "status", "connect", "read", "write", "timeout")
        },
        "first_refused_answer": first_bad,
        "posted": int(summary["posted"]),
        "payments_in_ledger_after_warmup_and_run": in_ledger,
        "payments_answered_posted_warmup_and_run": answered,
        # wrk stops with requests in flight (at most one per connection, twice: warm-up and
        # run); the server still completes them.
        "ledger_matches_answers": 0 <= in_ledger - answered <= 2 * args.connections and not short,
        "participants_short_of_their_answered_payments": short[:20],
        "outbox_events": events,
        "cpu_seconds": {
            "server": round(server_cpu, 1),
            "postgresql_backends": round(pg_cpu, 1),
            "wrk": round(wrk_cpu, 1),
            "available_2_cores": round(elapsed * (os.cpu_count() or 1), 1),
        },
        "load_average_1min": {
            "before": load_before,
            "after": load_after,
            "min": min(samples),
            "median": sorted(samples)[len(samples) // 2],
            "max": max(samples),
        },
        "targets": {"requests_per_second": 500, "p95_ms": 50, "errors": 0, "seconds": 300},
        "note": args.note,
    }
    met = (
        result["requests_per_second"] >= 500
        and result["latency_ms"]["p95"] <= 50
        and errors == 0
        and elapsed >= 299
        and result["ledger_matches_answers"]
    )
    result["target_met"] = met
    cpu = result["cpu_seconds"]
    load = result["load_average_1min"]
    markdown = (
        f"# Partner API benchmark ({args.name})\n\n"
        + machine_markdown(result["machine"])
        + f"\nSingle payments through `POST /api/v1/payments` (Idempotency-Key, partner token, "
        f"rate limiter on, webhook subscription: one outbox event per posting) on PostgreSQL; "
        f"{result['server']}; wrk with {args.connections} connections ({args.threads} thread) "
        f"on loopback, on the same machine.\n\n"
        "| run | requests | requests/s | p50 | p90 | p95 | p99 | max | errors |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        f"| {result['seconds']} s | {requests:,} | {result['requests_per_second']} | "
        f"{result['latency_ms']['p50']} ms | {result['latency_ms']['p90']} ms | "
        f"{result['latency_ms']['p95']} ms | {result['latency_ms']['p99']} ms | "
        f"{result['latency_ms']['max']} ms | {errors} |\n\n"
        f"Every answer checked (200 and `posted`). Ledger afterwards: {in_ledger:,} payments "
        f"for {answered:,} answered `posted` (warm-up included) and "
        f"{in_ledger - answered} requests still in flight when wrk stopped (at most one per "
        f"connection at each stop), and every participant of the run holds every payment "
        f"answered for it ({len(short)} short): "
        f"{'consistent' if result['ledger_matches_answers'] else 'NOT CONSISTENT'}; "
        f"{events:,} outbox events (one per payment).\n\n"
        f"CPU time during the run: server {cpu['server']} s, PostgreSQL backends "
        f"{cpu['postgresql_backends']} s, wrk {cpu['wrk']} s, of {cpu['available_2_cores']} s "
        f"that the machine's cores had. 1-minute load average: {load['before']} before, "
        f"{load['after']} after, during the run min {load['min']}, median {load['median']}, "
        f"max {load['max']} (sampled every 5 s).\n\n"
        + f"Code: commit {code['commit']}"
        + (
            f" plus uncommitted changes (shared tree) in {', '.join(code['uncommitted_in_src'])}"
            if code["uncommitted_in_src"]
            else ""
        )
        + ".\n\n"
        + (f"{args.note}\n\n" if args.note else "")
        + "Target (issue 9): >= 500 requests/s, p95 <= 50 ms, 0 errors over 300 s: "
        f"**{'met' if met else 'not met'}**.\n\n"
        f"Reproduce: `.venv/bin/python -m benchmarks.bench_api --seconds {args.seconds:.0f} "
        f"--connections {args.connections} --workers {args.workers} --name {args.name}`.\n"
    )
    write_results(args.name, result, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
