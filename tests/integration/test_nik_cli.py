"""``cakupan nik check`` contract, on SQLite and PostgreSQL (districts from the reference data)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from cakupan.registry.nik import compose_nik
from tests.conftest import CliResult, run_cli

Cli = Callable[..., CliResult]
KEYS = ["nik", "valid", "errors", "district_code", "birth_date", "sex"]


def test_valid_nik_json(cli: Cli) -> None:
    result = cli("nik", "check", "1671015205900001", "--json", "--today", "2026-11-26")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert list(payload) == KEYS
    assert payload == {
        "nik": "1671015205900001",
        "valid": True,
        "errors": [],
        "district_code": "16.71.01",
        "birth_date": "1990-05-12",
        "sex": "F",
    }


def test_invalid_nik_json_reports_every_problem(cli: Cli) -> None:
    result = cli("nik", "check", "9999993104900000", "--json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert list(payload) == KEYS
    assert payload["valid"] is False
    assert [e["code"] for e in payload["errors"]] == [
        "nik.district_unknown",
        "nik.birth_date_invalid",
        "nik.serial_zero",
    ]
    assert all(isinstance(e["message"], str) and e["message"] for e in payload["errors"])
    assert (payload["district_code"], payload["birth_date"], payload["sex"]) == (None, None, "M")


def test_district_is_checked_against_the_reference_data(cli: Cli) -> None:
    # 35.77.03 is a district of Kota Madiun; 35.77.09 does not exist.
    known = cli("nik", "check", "3577030101800001", "--json")
    assert json.loads(known.stdout)["district_code"] == "35.77.03"
    unknown = cli("nik", "check", "3577090101800001", "--json")
    assert unknown.exit_code == 1
    assert [e["code"] for e in json.loads(unknown.stdout)["errors"]] == ["nik.district_unknown"]


def test_readable_line_in_both_languages(cli: Cli) -> None:
    nik = compose_nik("16.71.01", date(1990, 5, 12), "M", 1)
    indonesian = cli("nik", "check", nik)
    assert indonesian.exit_code == 0
    assert indonesian.stdout.strip() == (
        f"NIK {nik} sah: kecamatan 16.71.01 Ilir Barat Dua, lahir 1990-05-12, laki-laki"
    )
    english = cli("--lang", "en", "nik", "check", "167101120590000")
    assert english.exit_code == 1
    assert english.stdout.splitlines() == [
        "NIK 167101120590000 is not valid:",
        "  - a NIK must have 16 digits, got 15 characters [nik.length]",
    ]


def test_bad_today_option_exits_2(cli: Cli) -> None:
    result = cli("nik", "check", "1671011205900001", "--today", "26-11-2026")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--today" in result.stderr


def test_works_on_a_new_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = run_cli(
        ["cakupan", "--database-url", url, "nik", "check", "1671011205900001", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["district_code"] == "16.71.01"
