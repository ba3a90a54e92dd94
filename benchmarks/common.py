"""Shared helpers of the benchmarks: machine description, fresh databases, timed subprocesses,
and result files (``benchmarks/results/<name>.json`` and ``.md``, committed with the code)."""

from __future__ import annotations

import json
import os
import platform
import secrets
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
WORK = ROOT / "benchmarks" / ".work"
PG_ADMIN_URL = os.environ.get(
    "CAKUPAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CAKUPAN = str(Path(sys.executable).with_name("cakupan"))


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    pg_version = None
    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            pg_version = conn.execute(text("SHOW server_version")).scalar_one()
        engine.dispose()
    except Exception:
        pg_version = None
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg_version,
        "platform": platform.platform(),
    }


@dataclass
class Database:
    engine: str
    url: str
    cleanup_name: str | None = None

    def drop(self) -> None:
        if self.cleanup_name:
            _pg_admin(f'DROP DATABASE IF EXISTS "{self.cleanup_name}" WITH (FORCE)')


def _pg_admin(sql: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def fresh_database(kind: str, label: str) -> Database:
    """An empty database of ``kind`` (sqlite file under benchmarks/.work, or a new PG database)."""
    WORK.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        path = WORK / f"{label}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return Database("sqlite", f"sqlite:///{path}")
    name = f"ck_bench_{label}_{secrets.token_hex(3)}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return Database("postgresql", url, cleanup_name=name)


@dataclass
class Run:
    seconds: float
    max_rss_mib: float
    stdout: str
    stderr: str
    returncode: int
    #: user + system CPU time of that process: on a shared, loaded machine the wall time also
    #: counts the time spent waiting for a core.
    cpu_seconds: float = 0.0


def run_measured(*args: str) -> Run:
    """Run the installed ``cakupan`` command; wall time and the peak RSS of that process (``os.wait4``)."""
    started = time.perf_counter()
    # Per-run files: benchmarks running at the same time must not overwrite each other's output.
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    out_path, err_path = WORK / f"stdout-{token}.txt", WORK / f"stderr-{token}.txt"
    WORK.mkdir(parents=True, exist_ok=True)
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen([CAKUPAN, *args], stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    run = Run(
        seconds,
        usage.ru_maxrss / 1024,
        out_path.read_text(),
        err_path.read_text(),
        proc.returncode,
        usage.ru_utime + usage.ru_stime,
    )
    out_path.unlink(missing_ok=True)
    err_path.unlink(missing_ok=True)
    return run


def check(run: Run, what: str) -> dict[str, Any]:
    if run.returncode != 0:
        raise SystemExit(
            f"{what} failed ({run.returncode}):\n{run.stderr[-4000:]}\n{run.stdout[-2000:]}"
        )
    try:
        return dict(json.loads(run.stdout)) if run.stdout.strip() else {}
    except json.JSONDecodeError:
        return {}


def write_results(name: str, payload: dict[str, Any], markdown: str) -> None:
    """Save ``benchmarks/results/<name>.json`` and ``.md``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)


def machine_markdown(info: dict[str, Any]) -> str:
    return (
        f"Measured {info['date']} on {info['cpu']} ({info['cores']} cores, {info['memory_gib']} GiB), "
        f"Python {info['python']}, SQLite {info['sqlite']}, PostgreSQL {info['postgresql']}.\n"
    )
