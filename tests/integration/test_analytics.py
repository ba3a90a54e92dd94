"""National analytics (docs/analytics.md): a pseudonymous Parquet snapshot of the ledger, the
national report on DuckDB, and the same report on Spark.

The report's figures are checked against the ledger itself (``dashboard.queries.ledger_summary``,
the independent check behind ``cakupan kpi verify``) and against the close's cohort
pre-aggregates, on SQLite and PostgreSQL sources."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cakupan.audit import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.dashboard.models import GRAIN_BRANCH, KpiCohort
from cakupan.dashboard.queries import ledger_summary
from cakupan.dates import Month
from cakupan.db import transaction
from cakupan.money import format_number, format_rupiah
from cakupan.registry import reverse_payment
from cakupan.registry.models import Payment, PaymentReversal
from cakupan.web import create_app
from tests.conftest import CliResult, run_cli
from tests.integration.test_web import PASSWORD, SCOPES, login, username_for
from tests.users_support import create_role_users

AS_OF = "2026-10-31"
MID_YEAR = date(2026, 6, 15)
Cli = Callable[..., CliResult]


def _ok(result: CliResult) -> dict[str, Any]:
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _seeded_report(cli: Cli, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    _ok(cli("seed", "--participants", "300", "--as-of", AS_OF, "--json"))
    snapshot = tmp_path / "snapshot"
    _ok(cli("analytics", "snapshot", "--out", str(snapshot), "--as-of", AS_OF, "--json"))
    report = _ok(cli("analytics", "national", "--snapshot", str(snapshot), "--json"))
    return report, snapshot


def test_national_report_equals_the_ledger(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    report, _ = _seeded_report(cli, tmp_path)
    assert report["engine"] == "duckdb"
    assert (report["first_month"], report["last_month"]) == ("2025-11", "2026-10")
    assert [row["month"] for row in report["national"]] == [
        str(Month(2025, 11) + i) for i in range(12)
    ]
    with transaction(engine) as session:
        for row in report["national"]:
            ledger = ledger_summary(session, Month.parse(row["month"]))
            assert {key: row[key] for key in ledger} == ledger, row["month"]
    # the seed produced real activity: the comparison above is not between zeros
    assert sum(row["active_participants"] for row in report["national"]) > 300
    assert sum(row["reacquired_episodes"] for row in report["national"]) > 0

    # provinces and branches partition the national figures month by month
    for part in ("provinces", "branches"):
        totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for row in report[part]:
            for key in ("new_registrations", "payments", "contributions_collected"):
                totals[row["month"]][key] += row[key]
            totals[row["month"]]["active_participants"] += row["active_participants"]
        for row in report["national"]:
            for key, value in totals[row["month"]].items():
                assert row[key] == value, (part, row["month"], key)
    named = {row["province"] for row in report["provinces"]}
    assert "SUMATERA SELATAN" in named  # provinces carry their official names
    assert sum(row["registered"] for row in report["regencies"]) == 300


def test_cohort_retention_equals_the_close_pre_aggregates(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    """Retention at n months from the snapshot's payments equals what the monthly close counted
    (``kpi_cohort``: members and paying at age n), cohort by cohort."""
    report, _ = _seeded_report(cli, tmp_path)
    with transaction(engine) as session:
        rows = session.execute(
            select(
                KpiCohort.cohort_month,
                KpiCohort.age,
                func.sum(KpiCohort.members),
                func.sum(KpiCohort.paying),
            )
            .where(KpiCohort.grain == GRAIN_BRANCH, KpiCohort.age.in_((1, 3, 6, 12)))
            .group_by(KpiCohort.cohort_month, KpiCohort.age)
        ).all()
    closed = {(str(c), int(age)): (int(m), int(p)) for c, age, m, p in rows}
    checked = 0
    for row in report["cohorts"]:
        assert closed[(row["cohort"], row["n"])] == (row["base"], row["retained"]), row
        checked += 1
    assert checked >= 20  # 12 cohorts at ages 1/3/6 inside the window
    assert any(row["n"] == 6 and 0 < row["retained"] < row["base"] for row in report["cohorts"])


def test_snapshot_is_pseudonymous_dated_and_audited(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    _ok(cli("seed", "--participants", "120", "--as-of", AS_OF, "--json"))
    with transaction(engine) as session:  # two reversals: one before mid-year, one after it
        last_of_episode = (
            select(func.max(Payment.id)).group_by(Payment.membership_id).scalar_subquery()
        )
        early = session.execute(
            select(Payment.channel, Payment.reference)
            .where(Payment.id.in_(last_of_episode), Payment.paid_on < date(2026, 5, 1))
            .order_by(Payment.id)
            .limit(2)
        ).all()
        assert len(early) == 2
        for (channel, reference), reversed_on in zip(
            early, (date(2026, 5, 20), date(2026, 9, 1)), strict=True
        ):
            reverse_payment(
                session,
                Actor.system(),
                reference,
                channel=channel,
                reason="bank returned the transfer",
                reversed_on=reversed_on,
            )
    out = tmp_path / "mid-year"
    manifest = _ok(
        cli("analytics", "snapshot", "--out", str(out), "--as-of", "2026-06-15", "--json")
    )
    con = duckdb.connect()
    columns = {
        name
        for table in manifest["rows"]
        for (name,) in con.execute(
            f"SELECT name FROM parquet_schema('{out / (table + '.parquet')}')"
        ).fetchall()
    }
    assert not columns & {"nik", "name", "phone", "email", "village_code", "birth_date"}
    # as of 2026-06-15: later payments are left out, later reversals are not reversals yet
    with transaction(engine) as session:
        paid = session.scalar(
            select(func.count()).select_from(Payment).where(Payment.paid_on <= MID_YEAR)
        )
        later = session.scalar(select(func.count()).select_from(Payment))
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "analytics.snapshot")
        ).all()
        reversed_by = session.scalar(
            select(func.count())
            .select_from(PaymentReversal)
            .join(Payment, Payment.id == PaymentReversal.payment_id)
            .where(Payment.paid_on <= MID_YEAR, PaymentReversal.reversed_on <= MID_YEAR)
        )
    assert manifest["rows"]["payments"] == paid
    assert paid < later
    (flagged,) = con.execute(
        f"SELECT count(*) FROM read_parquet('{out / 'payments.parquet'}') "
        "WHERE reversed_on IS NOT NULL"
    ).fetchone() or (None,)
    assert flagged == reversed_by == 1
    assert audited == ["analytics.snapshot"]


def test_a_changed_snapshot_file_is_refused(cli: Cli, tmp_path: Path) -> None:
    _ok(cli("seed", "--participants", "40", "--as-of", AS_OF, "--json"))
    out = tmp_path / "snap"
    _ok(cli("analytics", "snapshot", "--out", str(out), "--as-of", AS_OF, "--json"))
    with (out / "payments.parquet").open("ab") as handle:
        handle.write(b"\0")
    result = cli("analytics", "national", "--snapshot", str(out))
    assert result.exit_code == 2
    assert "payments.parquet" in result.stderr
    assert "SHA-256" in result.stderr
    assert "Traceback" not in result.stderr
    missing = cli("analytics", "national", "--snapshot", str(tmp_path / "none"))
    assert missing.exit_code == 2
    assert "manifest.json" in missing.stderr


@pytest.mark.one_engine
def test_spark_gives_the_same_report_as_duckdb(cli: Cli, tmp_path: Path) -> None:
    """The scale-out engine runs the same SQL over the same files: every figure equal. (Run once,
    from the PostgreSQL source: the engines read the snapshot, not the database.)"""
    duck, snapshot = _seeded_report(cli, tmp_path)
    spark = _ok(
        run_cli(
            [
                "cakupan",
                "analytics",
                "national",
                "--snapshot",
                str(snapshot),
                "--engine",
                "spark",
                "--json",
            ]
        )
    )
    assert spark["engine"] == "spark"
    for key in ("national", "provinces", "branches", "cohorts", "province_cohorts", "regencies"):
        assert spark[key] == duck[key], key
    assert len(duck["regencies"]) > 10


@pytest.fixture
def users(engine: Engine) -> Engine:
    """A user of every role (the web tests' scopes)."""
    create_role_users(engine, SCOPES, username_for=username_for, password=PASSWORD)
    return engine


def test_national_page_for_national_roles_only(cli: Cli, users: Engine, tmp_path: Path) -> None:
    """``/analytics`` shows the snapshot's report (the same figures, formatted) to admin, head
    office and auditor; every other role gets 403; without a snapshot it says how to take one."""
    report, snapshot = _seeded_report(cli, tmp_path)
    app = create_app(users, secret_key="test-secret", analytics_snapshot=snapshot)
    october = report["national"][-1]
    for role in (Role.ADMIN, Role.HEAD_OFFICE, Role.AUDITOR):
        with TestClient(app, raise_server_exceptions=False) as client:
            login(client, username_for(role))
            page = client.get("/analytics")
            assert page.status_code == 200, role
            assert "Analitik nasional" in page.text
            assert "Okt 2026" in page.text
            assert format_rupiah(october["contributions_collected"]) in page.text
            assert format_number(october["active_participants"]) in page.text
            assert "SUMATERA SELATAN" in page.text
            assert 'data-testid="nav-analytics"' in page.text
    for role in (Role.REGIONAL, Role.KABID, Role.AR, Role.PARTNER, Role.AGENT):
        with TestClient(app, raise_server_exceptions=False) as client:
            login(client, username_for(role))
            page = client.get("/analytics")
            assert page.status_code == 403, role
            assert 'data-testid="nav-analytics"' not in client.get("/").text
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/analytics", follow_redirects=False).status_code in (302, 303)
    empty = create_app(users, secret_key="test-secret", analytics_snapshot=tmp_path / "none")
    with TestClient(empty, raise_server_exceptions=False) as client:
        login(client, username_for(Role.ADMIN))
        page = client.get("/analytics")
        assert page.status_code == 200
        assert "cakupan analytics snapshot" in page.text


def test_an_empty_ledger_gives_a_report_of_zeros(cli: Cli, tmp_path: Path) -> None:
    """A new installation (no participant yet) snapshots and reports without error."""
    out = tmp_path / "empty"
    manifest = _ok(cli("analytics", "snapshot", "--out", str(out), "--as-of", AS_OF, "--json"))
    assert manifest["rows"]["participants"] == manifest["rows"]["payments"] == 0
    report = _ok(cli("analytics", "national", "--snapshot", str(out), "--json"))
    assert len(report["national"]) == 12
    assert all(
        row["active_participants"] == row["contributions_collected"] == 0
        for row in report["national"]
    )
    assert report["cohorts"] == report["regencies"] == []
