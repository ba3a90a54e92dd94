"""The README's demo command: seeds synthetic data once, creates demo users, prints logins."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

from sqlalchemy import Engine, func, select

from cakupan.claims.models import Claim
from cakupan.db import make_session_factory
from cakupan.registry.models import Participant, Payment
from cakupan.registry.queries import status_of
from tests.conftest import CliResult


def test_demo_seeds_once_and_prints_logins(cli: Callable[..., CliResult], engine: Engine) -> None:
    first = cli("demo", "--no-serve", "--participants", "300", "--seed", "3")
    assert first.exit_code == 0, first.stderr
    assert "admin" in first.stdout
    assert "http://127.0.0.1:8000/" in first.stdout
    with engine.connect() as conn:
        participants = conn.execute(select(func.count()).select_from(Participant)).scalar_one()
        payments = conn.execute(select(func.count()).select_from(Payment)).scalar_one()
    assert participants == 300
    report = cli(
        "targets", "report", "--office", "PLG", "--year", "2020", "--segment", "BPU", "--json"
    )
    rows = {r["metric"]: r for r in json.loads(report.stdout)["rows"]}
    # The paper's Palembang figures ship with the demo: BPU 2020 20,651 / 33,350 = 61.9%.
    assert rows["new_participants"]["achievement_percent"] == 61.9
    assert payments > participants  # most participants pay, many more than once
    # Claims of each type in each workflow state, on participants whose event month is covered.
    with engine.connect() as conn:
        claims = set(conn.execute(select(Claim.claim_type, Claim.state)).all())
    assert claims == {
        (kind, state)
        for kind in ("jht", "jkm", "jkk")
        for state in ("submitted", "verified", "approved", "rejected", "paid")
    }

    second = cli("demo", "--no-serve", "--participants", "300", "--seed", "3")
    assert second.exit_code == 0, second.stderr
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Participant)).scalar_one() == 300


def test_seed_is_deterministic_and_valid(cli: Callable[..., CliResult], engine: Engine) -> None:
    result = cli("seed", "--participants", "200", "--seed", "5", "--as-of", "2026-10-31", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["participants"] == 200
    assert summary["closed_months"][-1] == "2026-10"
    again = cli("seed", "--participants", "200", "--seed", "5", "--as-of", "2026-10-31", "--json")
    repeat = json.loads(again.stdout)
    assert repeat["participants"] == 0
    assert repeat["payments"] == 0
    assert repeat["duplicates"] >= summary["participants"] + summary["payments"]

    with make_session_factory(engine)() as session:
        niks = list(session.scalars(select(Participant.nik).limit(50)))
        statuses = {status_of(session, nik, date(2026, 10, 31)).status for nik in niks}
    # A year of synthetic behaviour leaves participants in several states at once.
    assert len(statuses) >= 3
