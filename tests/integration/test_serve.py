"""``cakupan serve --workers N``: several server processes over one database, each building the
app from the environment (same database, same signing key, no second migration)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

CAKUPAN = str(Path(sys.executable).with_name("cakupan"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_with_two_workers(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    log = (tmp_path / "serve.log").open("w+")
    env = {**os.environ, "CAKUPAN_SECRET_KEY": "serve-test-secret", "HOME": str(tmp_path)}
    server = subprocess.Popen(
        [
            CAKUPAN,
            "serve",
            "--workers",
            "2",
            "--port",
            str(port),
            "--no-access-log",
            "--database-url",
            database_url,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        pages: list[httpx.Response] = []
        while time.monotonic() < deadline and len(pages) < 6:
            try:
                pages.append(httpx.get(f"http://127.0.0.1:{port}/login", timeout=5))
            except httpx.TransportError:
                time.sleep(0.5)
        assert len(pages) == 6, Path(log.name).read_text()
        assert all(page.status_code == 200 and "Masuk" in page.text for page in pages)
        # an API call without a token is refused the same way by every worker
        refused = httpx.get(f"http://127.0.0.1:{port}/api/v1/dashboard/summary", timeout=5)
        assert refused.status_code == 401
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    output = Path(log.name).read_text()
    started = set(re.findall(r"Started server process \[(\d+)\]", output))
    assert len(started) == 2, output
    assert "Traceback" not in output
    assert "GET /login" not in output  # --no-access-log
