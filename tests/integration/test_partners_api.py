"""``/api/v1/partners`` and ``/api/v1/incentives``: reads scoped by the caller's role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cakupan.auth import Actor
from cakupan.db import transaction
from cakupan.users import create_user, issue_token, user_by_username
from cakupan.web import create_app
from tests.conftest import CliResult
from tests.integration.test_incentives_run import MONTH, NO_JHT, Ledger
from tests.integration.test_partners import NETWORK

Cli = Callable[..., CliResult]
SCOPES = {
    "u.admin": {"role": "admin"},
    "u.wadah": {"role": "partner", "partner_code": "PLG-W1"},
    "u.kabid": {"role": "kabid", "branch_code": "BDL"},
    "u.agent": {"role": "agent", "partner_code": "PLG-W1", "agent_code": "PLG-W1-P1"},
}


@pytest.fixture
def client(engine: Engine, cli: Cli, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    path = tmp_path / "partners.csv"
    path.write_text(NETWORK, encoding="utf-8")
    assert cli("partners", "import", str(path)).exit_code == 0
    ledger = Ledger(engine)
    for agent, partner in (("PLG-W1-P1", "PLG-W1"), ("PLG-W1-P2", "PLG-W1"), (None, "BDL-K1")):
        nik = ledger.register("2025-03-02", NO_JHT, partner=partner, agent=agent)
        ledger.pay(nik, MONTH[NO_JHT], "2025-03-03", f"R-{nik[-4:]}")
    assert cli("incentives", "run", "--period", "2025-03").exit_code == 0
    tokens = {}
    with transaction(engine) as session:
        for username, scope in SCOPES.items():
            create_user(
                session,
                Actor.system("test"),
                username=username,
                password="kopi-tubruk-2026",
                **scope,
            )
            tokens[username] = issue_token(
                session, Actor.system("test"), user_by_username(session, username).id, "test"
            ).plain
    with TestClient(
        create_app(engine, secret_key="test-secret"), raise_server_exceptions=False
    ) as test_client:
        yield test_client, tokens


def _get(client: tuple[TestClient, dict[str, str]], user: str, path: str) -> tuple[int, object]:
    test_client, tokens = client
    response = test_client.get(path, headers={"Authorization": f"Bearer {tokens[user]}"})
    return response.status_code, response.json()


def test_partner_lists_are_scoped(client: tuple[TestClient, dict[str, str]]) -> None:
    status, body = _get(client, "u.admin", "/api/v1/partners")
    assert status == 200
    assert len(body) == 8  # type: ignore[arg-type]
    _, wadah = _get(client, "u.wadah", "/api/v1/partners")
    assert [p["code"] for p in wadah] == ["PLG-W1", "PLG-W1-P1", "PLG-W1-P2"]  # type: ignore[union-attr,index]
    _, kabid = _get(client, "u.kabid", "/api/v1/partners")
    assert [p["code"] for p in kabid] == ["BDL-A1", "BDL-K1"]  # type: ignore[union-attr,index]
    status, shown = _get(client, "u.wadah", "/api/v1/partners/PLG-W1")
    assert status == 200
    assert shown["agents_under"] == ["PLG-W1-P1", "PLG-W1-P2"]  # type: ignore[index]
    hidden, problem = _get(client, "u.wadah", "/api/v1/partners/BDL-K1")
    assert hidden == 404
    assert problem["code"] == "partner-not-found"  # type: ignore[index]
    status, risk = _get(client, "u.agent", "/api/v1/partners/at-risk?month=2025-06")
    assert status == 200
    assert [a["code"] for a in risk["agents"]] == ["PLG-W1-P1"]  # type: ignore[index]


def test_statements_are_scoped(client: tuple[TestClient, dict[str, str]]) -> None:
    _, national = _get(client, "u.admin", "/api/v1/incentives/statements?period=2025-03")
    codes = {s["partner_code"] for s in national["statements"]}  # type: ignore[index]
    assert codes == {"BDL-K1", "BDL-A1", "PLG-W1", "PLG-W1-P1", "PLG-W1-P2"}  # with lines or fees
    _, kabid = _get(client, "u.kabid", "/api/v1/incentives/statements?period=2025-03")
    assert {s["partner_code"] for s in kabid["statements"]} == {"BDL-A1", "BDL-K1"}  # type: ignore[index]
    _, agent = _get(client, "u.agent", "/api/v1/incentives/statements?period=2025-03")
    assert [s["partner_code"] for s in agent["statements"]] == ["PLG-W1-P1"]  # type: ignore[index]
    status, _ = _get(client, "u.admin", "/api/v1/incentives/statements?period=2025-13")
    assert status == 422
    status, schemes = _get(client, "u.agent", "/api/v1/incentives/schemes")
    assert status == 200
    # The six shipped presets; three of them also in version 2 (registrations count once their
    # first month is paid, issue 19).
    versions = sorted((s["name"], s["version"]) for s in schemes)  # type: ignore[union-attr,index]
    assert len({name for name, _ in versions}) == 6
    assert [name for name, version in versions if version == 2] == [
        "agen46-2024",
        "perisai-2022",
        "pos-2024",
    ]
