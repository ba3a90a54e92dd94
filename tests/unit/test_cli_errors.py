"""The CLI's error contract: usage errors exit 2 with a short message, never a stack trace."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import run_cli


def test_missing_argument_exits_2_without_traceback() -> None:
    result = run_cli(["cakupan", "nik", "check"])
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "nik" in (result.stderr + result.stdout).lower()


def test_unknown_command_exits_2() -> None:
    result = run_cli(["cakupan", "no-such-command"])
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


def test_unknown_language_exits_2() -> None:
    result = run_cli(["cakupan", "--lang", "fr", "db", "status"])
    assert result.exit_code == 2
    assert "--lang" in result.stderr


def test_installed_entry_point_runs() -> None:
    cakupan = Path(sys.executable).with_name("cakupan")
    proc = subprocess.run([str(cakupan), "--help"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert "cakupan" in proc.stdout


def test_bad_date_option_names_the_field_and_the_value() -> None:
    result = run_cli(["cakupan", "seed", "--participants", "1", "--as-of", "2026-02-30"])
    assert result.exit_code == 2
    assert "as_of" in result.stderr
    assert "2026-02-30" in result.stderr
    assert result.stdout == ""
