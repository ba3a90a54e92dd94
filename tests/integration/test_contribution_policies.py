"""The policy registry: shipped data in the database, user imports, the book read back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from cakupan.audit import AuditEntry
from cakupan.bootstrap import load_reference_data
from cakupan.contributions import ProgramSet, Sector, load_policy_book, shipped_policy_book
from cakupan.contributions.models import ContributionBand, ContributionPolicy
from cakupan.dates import Month
from tests.conftest import CliResult

Cli = Callable[..., CliResult]

NEW_REGULATION = """
# A hypothetical regulation: JKM Rp 10,000 for contribution months 2028-01 .. 2028-06.
[[policy]]
code = "pp99-2027/jkm"
version = 1
kind = "flat"
program = "JKM"
amount = 10_000
valid_from = "2028-01"
valid_to = "2028-06"
source = "PP 99/2027"
title = "JKM naik / JKM raised"
"""


def total(cli: Cli, month: str, programs: str = "JKK,JKM", *extra: str) -> int:
    result = cli(
        "contribution", "--income", "0", "--programs", programs, "--month", month, *extra, "--json"
    )
    assert result.exit_code == 0, result.stderr
    value: int = json.loads(result.stdout)["total"]
    return value


def test_shipped_policies_are_in_the_database(session: Session) -> None:
    book = load_policy_book(session)
    shipped = shipped_policy_book()
    assert book.records == shipped.records
    assert session.scalar(select(func.count()).select_from(ContributionBand)) == 33
    for month in (Month(2025, 12), Month(2026, 2), Month(2026, 11), Month(2027, 4)):
        for sector in Sector:
            for income in (0, 1_100_000, 5_000_000, 25_000_000):
                args = {"income": income, "month": month, "sector": sector}
                assert book.quote(programs=ProgramSet.JKK_JKM_JHT, **args) == shipped.quote(
                    programs=ProgramSet.JKK_JKM_JHT, **args
                )


def test_loading_the_book_takes_two_queries(engine: Engine, session: Session) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        book = load_policy_book(session)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2
    assert len(book.records) == 8


def test_reference_loader_is_idempotent(engine: Engine) -> None:
    assert load_reference_data(engine) == {}
    added = load_reference_data(engine, only_missing=False)
    assert added["contribution_policies"] == 0
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ContributionPolicy)) == 8


def test_imported_regulation_changes_only_its_months(cli: Cli, tmp_path: Path) -> None:
    before = {m: total(cli, m) for m in ("2027-12", "2028-01", "2028-06", "2028-07")}
    assert set(before.values()) == {16_800}
    path = tmp_path / "pp99.toml"
    path.write_text(NEW_REGULATION, encoding="utf-8")

    result = cli("contribution", "policies", "import", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert (payload["added"], payload["unchanged"]) == (1, 0)
    assert payload["added_policies"] == ["pp99-2027/jkm@1"]

    after = {m: total(cli, m) for m in before}
    assert after == {"2027-12": 16_800, "2028-01": 20_000, "2028-06": 20_000, "2028-07": 16_800}
    detail = json.loads(
        cli(
            "contribution", "--income", "0", "--programs", "JKK,JKM", "--month", "2028-03", "--json"
        ).stdout
    )
    assert detail["lines"][1] == {"program": "JKM", "amount": 10_000, "policies": ["pp99-2027/jkm"]}

    again = cli("contribution", "policies", "import", str(path), "--json")
    assert again.exit_code == 0, again.stderr
    assert (json.loads(again.stdout)["added"], json.loads(again.stdout)["unchanged"]) == (0, 1)

    listed = json.loads(
        cli("contribution", "policies", "list", "--month", "2028-02", "--json").stdout
    )
    codes = [p["code"] for p in listed["policies"]]
    assert "pp99-2027/jkm" in codes
    assert "pp50-2025/jkk-other" not in codes


def test_import_is_audited_once_per_file(cli: Cli, tmp_path: Path, session: Session) -> None:
    path = tmp_path / "pp99.toml"
    path.write_text(NEW_REGULATION, encoding="utf-8")
    assert cli("contribution", "policies", "import", str(path)).exit_code == 0
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "contribution.policies.import")
    ).all()
    user_entries = [e for e in entries if (e.after or {}).get("file") == "pp99.toml"]
    assert len(user_entries) == 1
    after = user_entries[0].after or {}
    assert after["added"] == 1
    assert len(after["sha256"]) == 64
    assert user_entries[0].actor.startswith("cli:")


def test_changed_content_under_the_same_version_is_refused(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "pp99.toml"
    path.write_text(NEW_REGULATION, encoding="utf-8")
    assert cli("contribution", "policies", "import", str(path)).exit_code == 0
    changed = tmp_path / "pp99-changed.toml"
    changed.write_text(
        NEW_REGULATION.replace("10_000", "11_000")
        + NEW_REGULATION.replace("pp99-2027/jkm", "pp98-2027/jkk")
        .replace('"JKM"', '"JKK"')
        .replace("flat", "rate")
        .replace("amount = 10_000", 'percent = "2"'),
        encoding="utf-8",
    )
    result = cli("--lang", "en", "contribution", "policies", "import", str(changed))
    assert result.exit_code == 1
    assert "pp99-2027/jkm version 1 is already stored" in result.stderr
    assert "version 2" in result.stderr
    # All or nothing: the valid pp98 record was not stored either.
    assert total(cli, "2028-02") == 20_000
    listed = json.loads(cli("contribution", "policies", "list", "--all", "--json").stdout)
    assert "pp98-2027/jkk" not in [p["code"] for p in listed["policies"]]


def test_new_version_supersedes(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "pp99.toml"
    path.write_text(NEW_REGULATION, encoding="utf-8")
    assert cli("contribution", "policies", "import", str(path)).exit_code == 0
    v2 = tmp_path / "pp99-v2.toml"
    v2.write_text(NEW_REGULATION.replace("version = 1", "version = 2").replace("10_000", "9_000"))
    assert cli("contribution", "policies", "import", str(v2)).exit_code == 0
    assert total(cli, "2028-02") == 10_000 + 9_000
    listed = json.loads(cli("contribution", "policies", "list", "--all", "--json").stdout)
    versions = {(p["code"], p["version"]): p["superseded"] for p in listed["policies"]}
    assert versions[("pp99-2027/jkm", 1)] is True
    assert versions[("pp99-2027/jkm", 2)] is False


def test_competing_policy_is_refused(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "rival.toml"
    path.write_text(
        NEW_REGULATION.replace("pp99-2027/jkm", "rival/jkm").replace(
            'valid_from = "2028-01"', 'valid_from = "2015-07"'
        ),
        encoding="utf-8",
    )
    result = cli("--lang", "en", "contribution", "policies", "import", str(path))
    assert result.exit_code == 1
    assert "rival/jkm" in result.stderr
    assert "pp44-2015/jkm" in result.stderr


def test_invalid_file_names_record_and_field(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        NEW_REGULATION.replace('program = "JKM"', 'program = "JKX"').replace(
            '"2028-06"', '"2028-6"'
        ),
        encoding="utf-8",
    )
    result = cli("--lang", "en", "contribution", "policies", "import", str(path), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    errors = json.loads(result.stderr)["errors"]
    assert {(e["record"], e["field"]) for e in errors} == {
        ("policy 1 (pp99-2027/jkm)", "program"),
        ("policy 1 (pp99-2027/jkm)", "valid_to"),
    }
    syntax = tmp_path / "syntax.toml"
    syntax.write_text("[[policy]\ncode = 1", encoding="utf-8")
    result = cli("contribution", "policies", "import", str(syntax))
    assert result.exit_code == 2
    assert "syntax.toml" in result.stderr
    missing = cli("contribution", "policies", "import", str(tmp_path / "nope.toml"))
    assert missing.exit_code == 2
    assert "nope.toml" in missing.stderr


def test_readable_policy_list(cli: Cli) -> None:
    result = cli("contribution", "policies", "list")
    assert result.exit_code == 0, result.stderr
    assert "pp50-2025/jkk-transport" in result.stdout
    assert "2026-01..2027-03" in result.stdout
    assert "Rp 6.800" in result.stdout
    bare = cli("contribution", "policies")
    assert bare.exit_code == 0
    assert "import" in bare.stdout
