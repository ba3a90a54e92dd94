"""The suite's clock (docs/time.md): every test reads TEST_NOW, never the machine's date; the pin
is Python-only and nothing in the package sets it; a subprocess runs on the clock it is given."""

from __future__ import annotations

import ast
import json
import re
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cakupan.dates import JAKARTA, FixedClock, SystemClock, pinned_system_clock, today
from tests.clock_support import TEST_NOW, TestClock, clocked_command

ROOT = Path(__file__).resolve().parents[2]
# Born 1 January of '27: 1927 while "today" is before 2027-01-01, 2027 from then on.
NIK_BORN_27 = "1671010101270001"


def test_every_test_starts_at_test_now(test_clock: TestClock) -> None:
    assert today(SystemClock()) == TEST_NOW.date()
    assert test_clock.now() - TEST_NOW < timedelta(minutes=5)


def test_the_test_clock_moves_and_the_system_clock_follows(test_clock: TestClock) -> None:
    test_clock.set(datetime(2026, 12, 31, 23, 30, tzinfo=JAKARTA))
    assert today(SystemClock()).isoformat() == "2026-12-31"
    test_clock.advance(timedelta(hours=1))
    assert today(SystemClock()).isoformat() == "2027-01-01"


def test_a_pin_nests_and_restores() -> None:
    outer = SystemClock().now()
    with pinned_system_clock(FixedClock(datetime(2030, 5, 1, 12, 0, tzinfo=JAKARTA))):
        assert SystemClock().now() == datetime(2030, 5, 1, 12, 0, tzinfo=JAKARTA)
    assert abs(SystemClock().now() - outer) < timedelta(minutes=5)


def test_nothing_in_the_package_pins_the_clock() -> None:
    """Only the test suite may pin the clock: no module of the package calls the pin (so no
    setting, variable or option can switch it on)."""
    callers = []
    for path in (ROOT / "src" / "cakupan").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name == "pinned_system_clock":
                    callers.append(str(path.relative_to(ROOT)))
    assert callers == []


@pytest.mark.one_engine
def test_a_subprocess_runs_on_the_clock_it_is_given(database_url: str) -> None:
    def birth_date(at: datetime) -> str:
        proc = subprocess.run(
            [
                *clocked_command(at),
                "--database-url",
                database_url,
                "nik",
                "check",
                NIK_BORN_27,
                "--json",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        return str(json.loads(proc.stdout)["birth_date"])

    assert birth_date(TEST_NOW) == "1927-01-01"
    assert birth_date(datetime(2031, 1, 15, 9, 0, tzinfo=JAKARTA)) == "2027-01-01"


def test_no_test_reads_the_machine_date() -> None:
    """Tests take "now" from TEST_NOW or the test_clock fixture, never from the machine:
    ``date.today()``, ``datetime.now()`` and ``datetime.utcnow()`` are not called in tests/."""
    readers = []
    for path in (ROOT / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"today", "now", "utcnow"}
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in {"date", "datetime"}
            ):
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert readers == []


def test_no_sql_reads_the_database_servers_clock() -> None:
    """Business dates come from the injected clock, never from the database server's clock
    (which a test cannot move, and which may differ from Asia/Jakarta): no ``now()``,
    ``CURRENT_DATE`` or ``CURRENT_TIMESTAMP`` in the package's SQL."""
    pattern = re.compile(
        r"func\.(now|current_date|current_timestamp|localtimestamp)\b"
        r"|\bCURRENT_(DATE|TIMESTAMP)\b|(?<![.\w])now\(\)|\bLOCALTIMESTAMP\b",
    )
    readers = []
    for path in (ROOT / "src" / "cakupan").rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                readers.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert readers == []
