"""Ordinary requests while a large web upload is posted (issue 21, item 12): the p95 latency of
``GET /api/v1/health``, the sign-in page, a signed-in page (``/imports``) and the upload's own
progress poll, measured from outside while a 100,000-row participants file is uploaded to
``POST /imports`` and posted by the server.

    .venv/bin/python -m benchmarks.bench_upload --rows 100000 --engine sqlite

Targets: the partner API's p95 <= 50 ms (docs/partner-api.md) for the API probes and the
dashboard's p95 <= 200 ms (docs/dashboard.md) for the pages.

Set-up (not timed): a fresh database, one ``pap`` user, a CSV of ``--rows`` new participants
registered today. The server is one uvicorn process (``cakupan serve``'s default: one worker,
the import in a thread of that process). One prober sends the four requests one after another
(``--gap`` seconds apart) for ``--baseline`` seconds without an upload, then again during the
upload until its answer arrives; the upload is sent by another client. The load average is
recorded before and after: the machine is shared, so every figure is a figure under that load.
Results: ``benchmarks/results/<name>.{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import WORK, fresh_database, machine, machine_markdown, write_results
from cakupan.auth import Actor
from cakupan.bootstrap import ensure_ready
from cakupan.dates import SystemClock, today
from cakupan.db import make_engine, transaction
from cakupan.users import create_user

PASSWORD = "bench-upload-2026"
USER = "pap.bench"
TARGET_API_MS = 50.0
TARGET_PAGE_MS = 200.0
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app() -> Any:
    """The app for uvicorn's ``--factory`` (database from ``CAKUPAN_DATABASE_URL``)."""
    from cakupan.web import create_app

    return create_app(make_engine(os.environ["CAKUPAN_DATABASE_URL"]))


def _nik(i: int) -> str:
    # District 16.71.01; birth dates 1-28, months 1-12, years 1970-1999 (men); serials 1-9999.
    serial, block = i % 9999 + 1, i // 9999
    day, month, year = block % 28 + 1, (block // 28) % 12 + 1, 70 + (block // 336) % 30
    return f"167101{day:02d}{month:02d}{year:02d}{serial:04d}"


def write_file(path: Path, rows: int) -> None:
    day = today(SystemClock()).isoformat()
    with path.open("w", encoding="utf-8") as out:
        out.write(
            "nik,name,phone,occupation,reported_income,programs,registered_on,district_code\n"
        )
        for i in range(rows):
            out.write(
                f"{_nik(i)},Peserta {i},0812{i % 10_000_000:07d}0,farmer,1000000,JKK+JKM,"
                f"{day},16.71.01\n"
            )


def serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {
        **os.environ,
        "CAKUPAN_DATABASE_URL": url,
        "CAKUPAN_SECRET_KEY": "bench-secret",
        "CAKUPAN_AUTO_MIGRATE": "false",
    }
    WORK.mkdir(parents=True, exist_ok=True)
    log = (WORK / "bench_upload_server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "benchmarks.bench_upload:make_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
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
    raise SystemExit("the server did not start; see benchmarks/.work/bench_upload_server.log")


def sign_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=None)
    match = _CSRF.search(client.get("/login").text)
    assert match
    answer = client.post(
        "/login",
        data={"csrf_token": match.group(1), "username": USER, "password": PASSWORD, "next": "/"},
    )
    assert answer.status_code in (200, 303), answer.text[:500]
    return client


class Prober:
    """Sends the probes one after another until stopped; latencies per probe in ms."""

    def __init__(self, base: str, cookies: httpx.Cookies, key: str, gap: float) -> None:
        self.client = httpx.Client(base_url=base, cookies=cookies, timeout=60)
        self.anonymous = httpx.Client(base_url=base, timeout=60)  # the sign-in page, the API
        self.key = key
        self.gap = gap
        self.stop = threading.Event()
        self.samples: dict[str, list[float]] = {
            "api_health": [],
            "upload_progress": [],
            "page_login": [],
            "page_imports": [],
        }
        self.errors = 0

    def run(self) -> None:
        paths = {
            "api_health": "/api/v1/health",
            "upload_progress": f"/imports/progress/{self.key}",
            "page_login": "/login",
            "page_imports": "/imports",
        }
        while not self.stop.is_set():
            for name, path in paths.items():
                started = time.perf_counter()
                try:
                    who = self.anonymous if name in ("api_health", "page_login") else self.client
                    answer = who.get(path)
                    ok = answer.status_code in (200, 404)  # progress: 404 before/after the upload
                except httpx.HTTPError:
                    ok = False
                self.samples[name].append((time.perf_counter() - started) * 1000)
                self.errors += 0 if ok else 1
                time.sleep(self.gap)

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for name, values in self.samples.items():
            if len(values) < 2:
                continue
            cuts = statistics.quantiles(values, n=100, method="inclusive")
            out[name] = {
                "count": len(values),
                "p50_ms": round(statistics.median(values), 1),
                "p95_ms": round(cuts[94], 1),
                "p99_ms": round(cuts[98], 1),
                "max_ms": round(max(values), 1),
            }
        return out


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--baseline", type=float, default=15.0)
    parser.add_argument("--gap", type=float, default=0.05)
    parser.add_argument("--name", default=None)
    args = parser.parse_args()
    name = args.name or f"upload-{args.rows // 1000}k-{args.engine}"

    database = fresh_database(args.engine, "upload")
    process = None
    try:
        engine = make_engine(database.url)
        ensure_ready(engine)
        with transaction(engine) as session:
            create_user(
                session,
                Actor.system("bench"),
                username=USER,
                role="pap",
                branch_code="PLG",
                password=PASSWORD,
            )
        engine.dispose()
        file = WORK / f"upload-{args.rows}.csv"
        WORK.mkdir(parents=True, exist_ok=True)
        write_file(file, args.rows)
        process, base = serve(database.url)
        uploader = sign_in(base)
        key = secrets.token_hex(16)

        load_before = _load()
        quiet = Prober(base, uploader.cookies, key, args.gap)
        thread = threading.Thread(target=quiet.run)
        thread.start()
        time.sleep(args.baseline)
        quiet.stop.set()
        thread.join()

        busy = Prober(base, uploader.cookies, key, args.gap)
        thread = threading.Thread(target=busy.run)
        csrf = _CSRF.search(uploader.get("/imports").text)
        assert csrf
        load_start = _load()
        thread.start()
        started = time.perf_counter()
        with file.open("rb") as handle:
            answer = uploader.post(
                "/imports",
                data={"csrf_token": csrf.group(1), "kind": "participants", "progress_id": key},
                files={"file": (file.name, handle, "text/csv")},
            )
        upload_seconds = time.perf_counter() - started
        busy.stop.set()
        thread.join()
        load_after = _load()
        accepted = re.search(r'data-testid="accepted">(\d+)<', answer.text)
        if answer.status_code != 200 or accepted is None:
            raise SystemExit(f"the upload failed ({answer.status_code}): {answer.text[-2000:]}")

        info = machine()
        payload = {
            "machine": info,
            "engine": args.engine,
            "rows": args.rows,
            "file_mib": round(file.stat().st_size / 2**20, 1),
            "accepted": int(accepted.group(1)),
            "upload_and_post_seconds": round(upload_seconds, 1),
            "load_1min": {"before": load_before, "at_upload": load_start, "after": load_after},
            "baseline": quiet.summary(),
            "during_upload": busy.summary(),
            "errors": {"baseline": quiet.errors, "during_upload": busy.errors},
            "targets_ms": {"api_p95": TARGET_API_MS, "page_p95": TARGET_PAGE_MS},
            "server": "uvicorn, 1 process (cakupan serve's default), import in a worker thread",
            "note": "shared machine (2 cores, other sessions' tests and benchmarks running)",
        }
        lines = [
            f"# Requests during a {args.rows:,}-row web upload ({args.engine})\n",
            machine_markdown(info),
            f"Shared machine: 1-minute load {load_before} before, {load_start} at the upload's"
            f" start, {load_after} after (2 cores; other sessions were running tests).\n",
            f"Upload of {payload['file_mib']} MiB, {payload['accepted']:,} participants"
            f" registered: {payload['upload_and_post_seconds']} s. Server: {payload['server']}.\n",
            "| probe | baseline p50 / p95 / max ms | during upload p50 / p95 / p99 / max ms |"
            " target p95 | met |",
            "| --- | --- | --- | --- | --- |",
        ]
        for probe, during in busy.summary().items():
            before = quiet.summary().get(probe, {})
            target = TARGET_API_MS if probe in ("api_health", "upload_progress") else TARGET_PAGE_MS
            lines.append(
                f"| {probe} | {before.get('p50_ms')} / {before.get('p95_ms')} /"
                f" {before.get('max_ms')} | {during['p50_ms']} / {during['p95_ms']} /"
                f" {during['p99_ms']} / {during['max_ms']} ({during['count']:.0f} requests) |"
                f" {target:.0f} | {'yes' if during['p95_ms'] <= target else 'NO'} |"
            )
        lines.append(f"\nErrors: {quiet.errors} (baseline), {busy.errors} (during the upload).\n")
        write_results(name, payload, "\n".join(lines))
        print("\n".join(lines))
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        database.drop()


if __name__ == "__main__":
    main()
