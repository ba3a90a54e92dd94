"""Late data in closed months (issue 21, item 11), on SQLite and PostgreSQL: a back-dated
payments import is reported and its closed months are closed again right after it (statuses,
transitions, KPI pre-aggregates: ``kpi verify`` passes); single postings, back-dated reversals
and registrations queue the months, which the dashboard and ``kpi verify`` name until
``cakupan close --late`` or the worker's ``reclose`` job closes them; a rejected all-or-nothing
import queues nothing; re-runs change nothing; every re-close is audited."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cakupan.audit import AuditEntry
from cakupan.auth import Actor
from cakupan.db import transaction
from cakupan.registry import (
    RegistrationRow,
    post_payment,
    register_participants,
    reverse_payment,
)
from cakupan.registry.close_models import MonthClose, MonthReclose, StatusSnapshot
from cakupan.registry.models import Participant
from cakupan.users import create_user
from cakupan.web import create_app
from tests.conftest import CliResult
from tests.integration.test_dashboard import PASSWORD
from tests.integration.test_dashboard import _login as login

ACTOR = Actor.system("test-late")
FLOOR = 16_800  # JKK+JKM at base Rp 1.000.000 before PP 50/2025 (August-October 2026)
HEADER = "reference,nik,amount,paid_on"


def nik(serial: int) -> str:
    return f"167101010190{serial:04d}"


A, B, C = nik(1), nik(2), nik(3)


def _setup(engine: Engine, cli: Callable[..., CliResult]) -> None:
    """A and B registered in August 2026; A pays August; August-October closed; the test clock
    is 26 November 2026 (October is the last closed month)."""
    rows = [
        RegistrationRow(
            row=i,
            nik=n,
            name=f"Peserta {i}",
            phone="081234567890",
            occupation="farmer",
            reported_income=1_000_000,
            programs="JKK+JKM",
            registered_on="2026-08-05",
            district_code="16.71.01",
        )
        for i, n in enumerate((A, B), start=1)
    ]
    with transaction(engine) as session:
        assert register_participants(session, ACTOR, rows).rejected == 0
        post_payment(
            session,
            ACTOR,
            nik=A,
            amount=FLOOR,
            paid_on="2026-08-10",
            reference="A-AUG",
            channel="bank",
        )
    for month in ("2026-08", "2026-09", "2026-10"):
        assert cli("close", "--month", month).exit_code == 0
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(MonthReclose)) == 0


def _status(engine: Engine, who: str, month: str) -> str:
    with transaction(engine) as session:
        participant = session.scalars(select(Participant.id).where(Participant.nik == who)).one()
        closed = session.scalar(select(MonthClose.month).where(MonthClose.month == _m(month)))
        assert closed is not None
        return session.scalars(
            select(StatusSnapshot.status).where(
                StatusSnapshot.month == closed, StatusSnapshot.participant_id == participant
            )
        ).one()


def _m(text_month: str) -> object:
    from cakupan.dates import Month

    return Month.parse(text_month)


def _queued(engine: Engine) -> list[str]:
    with transaction(engine) as session:
        return [
            str(m) for m in session.scalars(select(MonthReclose.month).order_by(MonthReclose.month))
        ]


def _verify(cli: Callable[..., CliResult]) -> dict[str, object]:
    result = cli("kpi", "verify", "--json")
    report: dict[str, object] = json.loads(result.stdout)
    assert result.exit_code == (0 if report["match"] else 1), result.stderr
    return report


def test_a_back_dated_import_is_reported_and_its_closed_months_closed_again(
    engine: Engine, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    _setup(engine, cli)
    assert _status(engine, B, "2026-09") == "pending"
    september = json.loads(cli("kpi", "verify", "--month", "2026-09", "--json").stdout)
    paid_before = september["months"][0]["kpi"]
    file = tmp_path / "late.csv"
    file.write_text(f"{HEADER}\nB-LATE,{B},{FLOOR},2026-09-15\n")

    result = cli("payments", "import", str(file), "--json")

    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["accepted"] == 1
    # September's payment changes September and every later closed month, not August.
    assert answer["late_months"] == ["2026-09", "2026-10"]
    assert answer["reclosed_months"] == ["2026-09", "2026-10"]
    assert _queued(engine) == []
    assert _status(engine, B, "2026-08") == "pending"
    # one month paid on 15 September: active at September's end, in arrears at October's
    assert (_status(engine, B, "2026-09"), _status(engine, B, "2026-10")) == ("active", "arrears")
    report = _verify(cli)
    assert report["match"] is True
    assert report["late_months"] == []
    after = next(m for m in report["months"] if m["month"] == "2026-09")["kpi"]  # type: ignore[attr-defined]
    assert after != paid_before  # the KPI pre-aggregates moved with the ledger
    with transaction(engine) as session:
        audits = session.scalars(
            select(AuditEntry.entity_id)
            .where(AuditEntry.action == "registry.reclose_late")
            .order_by(AuditEntry.id)
        ).all()
        assert audits == ["2026-09", "2026-10"]
        counts = {
            m: session.get(MonthClose, _m(m)).counts  # type: ignore[union-attr]
            for m in ("2026-09", "2026-10")
        }

    # The same file again: a duplicate, nothing queued, nothing closed again, same figures.
    again = cli("payments", "import", str(file), "--json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout) == {
        "accepted": 0,
        "duplicates": 1,
        "rejected": 0,
        "errors": [],
    }
    assert cli("close", "--late", "--json").stdout.strip() == '{"reclosed": []}'
    with transaction(engine) as session:
        assert {m: session.get(MonthClose, _m(m)).counts for m in counts} == counts  # type: ignore[union-attr]
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "registry.reclose_late")
            )
            == 2
        )


def test_a_rejected_all_or_nothing_import_queues_nothing(
    engine: Engine, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    _setup(engine, cli)
    file = tmp_path / "late-bad.csv"
    file.write_text(f"{HEADER}\nB-LATE,{B},{FLOOR},2026-09-15\nX-1,{C},{FLOOR},2026-09-15\n")
    result = cli("payments", "import", str(file), "--json")
    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert answer["accepted"] == 0
    assert answer["rejected"] == 1
    assert "late_months" not in answer
    assert _queued(engine) == []
    assert _status(engine, B, "2026-09") == "pending"


def test_single_postings_reversals_and_registrations_queue_until_closed_again(
    engine: Engine, cli: Callable[..., CliResult], client: TestClient
) -> None:
    _setup(engine, cli)
    # The current month's month-to-date close (the worker's hourly refresh) is not "late":
    # a payment of today never queues it.
    assert cli("close", "--month", "2026-11").exit_code == 0
    with transaction(engine) as session:
        post_payment(
            session,
            ACTOR,
            nik=A,
            amount=FLOOR,
            paid_on="2026-11-20",
            reference="A-NOV",
            channel="bank",
        )
    assert _queued(engine) == []

    assert _status(engine, B, "2026-10") == "pending"
    with transaction(engine) as session:  # a back-dated counter posting
        post_payment(
            session,
            ACTOR,
            nik=B,
            amount=FLOOR,
            paid_on="2026-10-02",
            reference="B-OCT",
            channel="bank",
        )
    assert _queued(engine) == ["2026-10"]
    stale = _verify(cli)
    assert stale["match"] is False  # the pre-aggregates are stale, and it says which
    assert stale["late_months"] == ["2026-10"]

    _login_admin(client)
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert 'data-testid="late-months"' in page.text
    assert "2026-10" in page.text

    with transaction(engine) as session:  # a reversal dated today (the default)
        reverse_payment(session, ACTOR, "A-NOV", reason="salah posting")
    assert _queued(engine) == ["2026-10"]  # no closed month is touched
    with transaction(engine) as session:
        register_participants(
            session,
            ACTOR,
            [
                RegistrationRow(
                    row=1,
                    nik=C,
                    name="Peserta Tiga",
                    phone="081234567893",
                    occupation="farmer",
                    reported_income=1_000_000,
                    programs="JKK+JKM",
                    registered_on="2026-09-01",
                    district_code="16.71.01",
                )
            ],
        )
    assert _queued(engine) == ["2026-09", "2026-10"]

    done = cli("close", "--late", "--json")
    assert done.exit_code == 0, done.stderr
    reclosed = json.loads(done.stdout)["reclosed"]
    assert [item["month"] for item in reclosed] == ["2026-09", "2026-10"]
    assert all(item["changed"] for item in reclosed)
    assert _queued(engine) == []
    assert _status(engine, C, "2026-09") == "pending"
    assert _status(engine, B, "2026-10") == "arrears"  # was pending: one month paid on 2 October
    assert _verify(cli)["match"] is True
    assert 'data-testid="late-months"' not in client.get("/dashboard").text


def test_the_worker_job_closes_the_queued_months(
    engine: Engine, cli: Callable[..., CliResult]
) -> None:
    _setup(engine, cli)
    with transaction(engine) as session:
        reverse_payment(
            session, ACTOR, "A-AUG", reason="dibatalkan bank", reversed_on=date(2026, 10, 31)
        )
    assert _queued(engine) == ["2026-10"]
    assert _status(engine, A, "2026-10") == "arrears"
    run = cli("jobs", "run", "reclose", "--json")
    assert run.exit_code == 0, run.stderr + run.stdout
    report = json.loads(run.stdout)
    assert report["outcome"] == "ok"
    assert report["counts"] == {"reclosed": 1, "months": ["2026-10"]}
    assert _queued(engine) == []
    idle = json.loads(cli("jobs", "run", "reclose", "--json").stdout)
    assert idle["outcome"] == "idle"  # nothing queued: nothing done, nothing recorded
    assert _status(engine, A, "2026-10") == "pending"  # nothing paid any more as of October 31
    assert _status(engine, A, "2026-09") == "active"  # the reversal is dated after September
    assert _verify(cli)["match"] is True


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with transaction(engine) as session:
        create_user(session, ACTOR, username="admin.late", role="admin", password=PASSWORD)
    with TestClient(create_app(engine, secret_key="test"), raise_server_exceptions=False) as c:
        yield c


def _login_admin(client: TestClient) -> None:
    login(client, "admin.late")
