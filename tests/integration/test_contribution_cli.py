"""``cakupan contribution`` contracts, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.conftest import CliResult

Cli = Callable[..., CliResult]


def quote(cli: Cli, *args: str) -> dict[str, object]:
    result = cli("contribution", *args, "--json")
    assert result.exit_code == 0, result.stderr
    payload: dict[str, object] = json.loads(result.stdout)
    return payload


def test_contract_november_2026_two_programs(cli: Cli) -> None:
    payload = quote(cli, "--income", "1200000", "--programs", "JKK,JKM", "--month", "2026-11")
    assert payload == {
        "month": "2026-11",
        "base_income": 1_200_000,
        "lines": [
            {
                "program": "JKK",
                "amount": 6_000,
                "policies": ["pp44-2015/bands", "pp44-2015/jkk", "pp50-2025/jkk-other"],
            },
            {
                "program": "JKM",
                "amount": 3_400,
                "policies": ["pp44-2015/jkm", "pp50-2025/jkm-other"],
            },
        ],
        "total": 9_400,
    }


def test_contract_three_programs_defaults_and_options(cli: Cli) -> None:
    full = quote(cli, "--income", "8200000", "--programs", "JKK,JKM,JHT", "--month", "2025-12")
    assert full["base_income"] == 8_700_000
    assert [(line["program"], line["amount"]) for line in full["lines"]] == [  # type: ignore[attr-defined]
        ("JKK", 87_000),
        ("JKM", 6_800),
        ("JHT", 174_000),
    ]
    assert full["total"] == 267_800
    transport = quote(
        cli, "--income", "0", "--programs", "JKK+JKM", "--month", "2026-01", "--sector", "transport"
    )
    assert transport["total"] == 8_400
    apbd = quote(
        cli,
        "--income", "0", "--programs", "JKK,JKM", "--month", "2026-01",
        "--sector", "transport", "--funding", "apbd",
    )  # fmt: skip
    assert apbd["total"] == 16_800
    other = quote(cli, "--income", "0", "--programs", "JKK,JKM", "--month", "2026-01")
    assert other["total"] == 16_800


def test_readable_output_uses_rupiah(cli: Cli) -> None:
    result = cli("--lang", "en", "contribution", "--income", "20200000", "--programs", "JKK,JKM,JHT", "--month", "2027-04")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "Rp 20.700.000" in result.stdout
    assert "Rp 207.000" in result.stdout  # 6,800 + 207,000 + 414,000 = 627,800 in total
    assert "Rp 627.800" in result.stdout


GOOD = {"--income": "1500000", "--programs": "JKK,JKM", "--month": "2026-11"}


@pytest.mark.parametrize(
    ("option", "value", "field", "expected"),
    [
        ("--income", "abc", "income", "whole number of rupiah"),
        ("--income", "-5", "income", "whole number of rupiah"),
        ("--income", "1.5", "income", "whole number of rupiah"),
        ("--income", "", "income", "required"),
        ("--programs", "JKK,XYZ", "programs", "unknown program XYZ"),
        ("--programs", "JKK,JHT", "programs", "JKK+JKM or JKK+JKM+JHT"),
        ("--programs", "JKM", "programs", "JKK+JKM or JKK+JKM+JHT"),
        ("--month", "2026-13", "month", "YYYY-MM"),
        ("--month", "Nov 2026", "month", "YYYY-MM"),
        ("--month", "2015-06", "month", "no income band table"),
        ("--sector", "farming", "sector", "transport, other"),
        ("--funding", "bank", "funding", "self, apbn, apbd"),
    ],
)
@pytest.mark.parametrize("as_json", [True, False])
def test_bad_input_exits_2_with_the_field_named(
    cli: Cli, option: str, value: str, field: str, expected: str, as_json: bool
) -> None:
    args = {**GOOD, option: value}
    argv = ["--lang", "en", "contribution", *(x for pair in args.items() for x in pair)]
    result = cli(*argv, *(["--json"] if as_json else []))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert field in result.stderr
    assert expected in result.stderr
    if as_json:
        problem = json.loads(result.stderr)
        assert [error["field"] for error in problem["errors"]] == [field]


def test_every_bad_field_is_reported_at_once(cli: Cli) -> None:
    result = cli("contribution", "--income", "x", "--programs", "JHT", "--month", "26-11", "--sector", "sea")  # fmt: skip
    assert result.exit_code == 2
    assert result.stdout == ""
    for field in ("income", "programs", "month", "sector"):
        assert f"{field}:" in result.stderr


def test_missing_options_exit_2(cli: Cli) -> None:
    result = cli("contribution", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    fields = [error["field"] for error in json.loads(result.stderr)["errors"]]
    assert fields == ["income", "programs", "month"]


def test_table_prints_all_33_bands(cli: Cli) -> None:
    result = cli("contribution", "table", "--month", "2026-11", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    bands = payload["bands"]
    assert len(bands) == 33
    assert bands[0] == {
        "band": 1,
        "income_from": 0,
        "income_to": 1_099_999,
        "base_income": 1_000_000,
        "jkk": 5_000,
        "jkm": 3_400,
        "jht": 20_000,
        "total_jkk_jkm": 8_400,
        "total_jkk_jkm_jht": 28_400,
    }
    assert bands[9]["income_from"] == 2_700_000
    assert bands[9]["jkk"] == 14_750
    assert bands[-1]["income_to"] is None
    assert bands[-1]["total_jkk_jkm_jht"] == 103_500 + 3_400 + 414_000
    assert "pp50-2025/jkk-other" in payload["policies"]

    apbn = json.loads(cli("contribution", "table", "--month", "2026-11", "--funding", "apbn", "--json").stdout)  # fmt: skip
    assert apbn["bands"][0]["total_jkk_jkm"] == 16_800

    readable = cli("contribution", "table", "--month", "2026-11")
    assert readable.exit_code == 0
    assert ">= 20.200.000" in readable.stdout
    assert "1.100.000 – 1.299.999" in readable.stdout
    assert "520.900" in readable.stdout


def test_table_bad_input(cli: Cli) -> None:
    for args, field in (
        (["--month", "2026/11"], "month"),
        ([], "month"),
        (["--month", "2010-01"], "month"),
        (["--month", "2026-11", "--sector", "x"], "sector"),
    ):
        result = cli("contribution", "table", *args)
        assert result.exit_code == 2, args
        assert result.stdout == ""
        assert field in result.stderr
