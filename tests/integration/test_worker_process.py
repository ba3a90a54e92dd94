"""``cakupan serve --with-worker``: the server and the scheduled worker in one process; the
worker's catch-up round runs and records every periodic job at start, and one Ctrl+C (SIGINT)
stops both."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from cakupan.db import make_engine
from cakupan.scheduling.models import JobRun
from tests.clock_support import clocked_command
from tests.integration.test_serve import _free_port

ROOT = Path(__file__).resolve().parents[2]
PERIODIC = {"refresh", "close", "incentives", "reminders", "snapshot"}


def test_serve_with_worker_catches_up_and_stops_on_ctrl_c(
    database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    log = (tmp_path / "serve.log").open("w+")
    env = {**os.environ, "CAKUPAN_SECRET_KEY": "serve-test-secret", "HOME": str(tmp_path)}
    argv = [  # on the test clock: the worker's catch-up closes "last month" of TEST_NOW
        *clocked_command(),
        "serve",
        "--with-worker",
        "--port",
        str(port),
        "--no-access-log",
        "--database-url",
        database_url,
    ]
    server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    engine = make_engine(database_url)
    try:
        deadline = time.monotonic() + 180
        jobs: set[str] = set()
        page_ok = False
        while time.monotonic() < deadline and not (page_ok and jobs >= PERIODIC):
            with contextlib.suppress(httpx.TransportError):
                page_ok = (
                    page_ok
                    or httpx.get(f"http://127.0.0.1:{port}/login", timeout=5).status_code == 200
                )
            try:
                with engine.connect() as conn:
                    jobs = set(conn.scalars(select(JobRun.job).where(JobRun.outcome == "ok")).all())
            except Exception:  # the schema may not exist yet
                jobs = set()
            time.sleep(0.5)
        assert page_ok, Path(log.name).read_text()
        assert jobs >= PERIODIC, (jobs, Path(log.name).read_text())
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0, Path(log.name).read_text()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        engine.dispose()
