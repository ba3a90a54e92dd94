"""The dashboard on SQLite and PostgreSQL through HTTP: exact KPIs of a hand-built ledger (every
figure computed by hand below), pre-aggregates against the ledger, the scope matrix (every role x
every read endpoint/page, two regions, two branches, two partners), masking, the contact log."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cakupan.audit import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.dashboard.accounts import AccountSelection, assign_accounts
from cakupan.dashboard.queries import ledger_summary
from cakupan.dates import JAKARTA, FixedClock, Month
from cakupan.db import transaction
from cakupan.partners.actions import NewPartner, create_partner
from cakupan.registry import RegistrationRow, post_payment, register_participants, reverse_payment
from cakupan.registry.close import close_month
from cakupan.users import create_user
from cakupan.web import create_app
from tests.conftest import CliResult

SYSTEM = Actor.system("test-dashboard")
FLOOR = 16_800  # JKK+JKM at base Rp 1.000.000 (2025: before PP 50/2025)
PASSWORD = "kopi-tubruk-2026"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')

# Two regions (SUMBAGSEL: branch PLG; JATIM: branch SBY), two partners (P1 with agent A1 in PLG,
# P2 in SBY). NIKs by district: 16.71.01 (Palembang) and 35.78.01 (Surabaya).
N1, N2, N3 = "1671010101900001", "1671010101900002", "1671010101900003"
N4, N5 = "3578010101900004", "3578010101900005"
NAMES = {
    N1: "Satu Palembang",
    N2: "Dua Palembang",
    N3: "Tiga Palembang",
    N4: "Empat Surabaya",
    N5: "Lima Surabaya",
}
PLG_NAMES = {NAMES[N1], NAMES[N2], NAMES[N3]}
SBY_NAMES = {NAMES[N4], NAMES[N5]}

USERS: dict[str, tuple[Role, dict[str, str]]] = {
    "admin.t": (Role.ADMIN, {}),
    "pusat.t": (Role.HEAD_OFFICE, {}),
    "auditor.t": (Role.AUDITOR, {}),
    "wilayah.sumbagsel": (Role.REGIONAL, {"region_code": "SUMBAGSEL"}),
    "wilayah.jatim": (Role.REGIONAL, {"region_code": "JATIM"}),
    "kabid.plg": (Role.KABID, {"branch_code": "PLG"}),
    "kabid.sby": (Role.KABID, {"branch_code": "SBY"}),
    "ark.plg": (Role.ARK, {"branch_code": "PLG"}),
    "ar.sby": (Role.AR, {"branch_code": "SBY"}),
    "pap.plg": (Role.PAP, {"branch_code": "PLG"}),
    "mitra.p1": (Role.PARTNER, {"partner_code": "P1"}),
    "mitra.p2": (Role.PARTNER, {"partner_code": "P2"}),
    "agen.a1": (Role.AGENT, {"partner_code": "P1", "agent_code": "A1"}),
}
EVERYONE = NAMES.values()
#: The participants each user may see (by registering episode and current branch).
VISIBLE: dict[str, set[str]] = {
    "admin.t": set(EVERYONE),
    "pusat.t": set(EVERYONE),
    "auditor.t": set(EVERYONE),
    "wilayah.sumbagsel": PLG_NAMES,
    "wilayah.jatim": SBY_NAMES,
    "kabid.plg": PLG_NAMES,
    "kabid.sby": SBY_NAMES,
    "ark.plg": {NAMES[N1], NAMES[N3]},  # assigned by NIK
    "ar.sby": SBY_NAMES,  # assigned by district
    "pap.plg": PLG_NAMES,
    "mitra.p1": {NAMES[N1], NAMES[N2]},
    "mitra.p2": SBY_NAMES,
    "agen.a1": {NAMES[N2]},
}
#: Aggregate KPIs: account representatives see their branch's figures (no participant rows).
AGGREGATE: dict[str, set[str]] = {**VISIBLE, "ark.plg": PLG_NAMES}


def _row(i: int, nik: str, day: str, **extra: Any) -> RegistrationRow:
    district = "16.71.01" if nik.startswith("1671") else "35.78.01"
    return RegistrationRow(
        row=i,
        nik=nik,
        name=NAMES[nik],
        phone=f"08123456789{i}",
        occupation="farmer" if i % 2 else "street_vendor",
        reported_income=1_000_000,
        programs="JKK+JKM",
        registered_on=day,
        district_code=district,
        **extra,
    )


def _pay(session: Any, clock: FixedClock, nik: str, months: int, on: str, ref: str) -> None:
    post_payment(
        session,
        SYSTEM,
        nik=nik,
        amount=FLOOR * months,
        paid_on=on,
        reference=ref,
        channel="bank",
        clock=clock,
    )


@pytest.fixture
def ledger(engine: Engine) -> Engine:
    """Five participants, January-June 2025, every month closed (see the module's test for the
    hand-computed figures)."""
    return build_ledger(engine)


def build_ledger(engine: Engine) -> Engine:
    """The hand-built ledger of :func:`ledger` (shared with the operational pages' tests)."""
    clock = FixedClock(datetime(2025, 7, 15, 9, 0, tzinfo=JAKARTA))
    with transaction(engine) as session:
        create_partner(
            session, SYSTEM, clock, NewPartner("P1", "Wadah Tani Sejahtera", "wadah", "PLG")
        )
        create_partner(
            session, SYSTEM, clock, NewPartner("A1", "Perisai Satu", "perisai", None, "P1")
        )
        create_partner(
            session, SYSTEM, clock, NewPartner("P2", "Koperasi Pasar Turi", "korporasi", "SBY")
        )
        result = register_participants(
            session,
            SYSTEM,
            [
                _row(1, N1, "2025-01-05", channel="partner", partner_code="P1"),
                _row(2, N2, "2025-01-10", channel="agent", partner_code="P1", agent_code="A1"),
                _row(3, N3, "2025-02-03", channel="branch"),
                _row(4, N4, "2025-01-20", channel="partner", partner_code="P2"),
                _row(5, N5, "2025-03-01", channel="partner", partner_code="P2"),
            ],
            clock=clock,
        )
        assert result.rejected == 0, result.as_json()
        _pay(session, clock, N1, 6, "2025-01-06", "N1-1")  # Jan-Jun at once
        _pay(session, clock, N2, 1, "2025-01-12", "N2-1")  # Jan only: closed from May
        _pay(session, clock, N4, 3, "2025-01-21", "N4-1")  # Jan-Mar
        _pay(session, clock, N4, 1, "2025-04-10", "N4-2")  # Apr, then arrears
        _pay(session, clock, N5, 1, "2025-03-02", "N5-1")
        reverse_payment(
            session,
            SYSTEM,
            "N5-1",
            reason="dana kembali",
            reversed_on=date(2025, 3, 20),
            clock=clock,
        )
        _pay(session, clock, N2, 1, "2025-06-05", "N2-2")  # re-acquired: episode 2 from June
    for month in ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"):
        with transaction(engine) as session:
            close_month(session, SYSTEM, Month.parse(month), clock=clock)
    with transaction(engine) as session:
        for username, (role, scope) in USERS.items():
            create_user(
                session,
                SYSTEM,
                username=username,
                role=role.value,
                full_name=username,
                password=PASSWORD,
                **scope,
            )
        assign_accounts(session, SYSTEM, "ark.plg", AccountSelection(niks=(N1, N3)), clock=clock)
        assign_accounts(
            session, SYSTEM, "ar.sby", AccountSelection(districts=("35.78.01",)), clock=clock
        )
    return engine


@pytest.fixture
def client(ledger: Engine) -> Iterator[TestClient]:
    yield from app_client(ledger)


def app_client(ledger: Engine) -> Iterator[TestClient]:
    """A test client of the app on ``ledger`` whose clock reads 15 July 2025."""
    clock = FixedClock(datetime(2025, 7, 15, 9, 0, tzinfo=JAKARTA))
    with TestClient(
        create_app(ledger, secret_key="test", clock=clock), raise_server_exceptions=False
    ) as c:
        yield c


def _login(client: TestClient, username: str) -> None:
    client.cookies.clear()
    match = _CSRF_RE.search(client.get("/login").text)
    assert match
    response = client.post(
        "/login",
        data={
            "csrf_token": match.group(1),
            "username": username,
            "password": PASSWORD,
            "next": "/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def _get(client: TestClient, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_every_kpi_of_the_hand_built_ledger(client: TestClient) -> None:
    _login(client, "pusat.t")
    s = _get(client, "/api/v1/dashboard/summary?first=2025-01&last=2025-06")
    assert s["latest_closed_month"] == "2025-06"
    assert s["new_registrations"] == 5  # Jan N1 N2 N4, Feb N3, Mar N5
    # Active at June: N1 (prepaid) and N2's second episode; N4 in arrears; N3 and N5 void.
    assert s["active_participants"] == 2
    assert s["arrears_participants"] == 1
    assert s["pending_participants"] == 0
    # Paid due months / due months, Jan..Jun: 3/3, 2/4, 2/5, 2/5, 1/3, 2/3.
    assert s["compliance"] == {"part": 12, "base": 23, "percent": 52.2}
    # Jan 168.000 (3 payments), N5's March payment reversed in March, Apr 16.800, Jun 16.800.
    assert s["contributions_collected"] == 201_600
    assert s["payments"] == 5
    assert s["closed_by_system"] == 1  # N2 in May
    assert s["reacquired"] == 1  # N2 in June
    # Cohorts: Jan {N1, N2, N4}, Feb {N3}, Mar {N5}, Jun {N2 episode 2}.
    assert s["retention"]["m1"] == {"part": 2, "base": 5, "percent": 40.0}
    assert s["retention"]["m3"] == {"part": 2, "base": 5, "percent": 40.0}
    assert s["retention"]["m6"] == {"part": 0, "base": 0, "percent": None}
    # First month paid by month +2 (Jan 3/3, Feb 0/1, Mar 0/1) and the June cohort so far (1/1).
    assert s["first_month_paid"] == {"part": 4, "base": 6, "percent": 66.7}
    # Benefits paid come from the claims area (none paid in this ledger).
    assert s["benefits_paid"]["count"] == 0
    assert s["benefits_paid"]["amount"] == 0

    trend = _get(client, "/api/v1/dashboard/trend?first=2025-01&last=2025-06")["months"]
    assert [m["month"] for m in trend] == [f"2025-0{i}" for i in range(1, 7)]
    assert [m["new_registrations"] for m in trend] == [3, 1, 1, 0, 0, 0]
    assert [m["active_participants"] for m in trend] == [3, 2, 2, 2, 1, 2]
    assert [m["contributions_collected"] for m in trend] == [168_000, 0, 0, 16_800, 0, 16_800]
    assert [m["compliance"]["base"] for m in trend] == [3, 4, 5, 5, 3, 3]

    cohorts = _get(client, "/api/v1/dashboard/cohorts?first=2025-01&last=2025-06")["cohorts"]
    january = next(c for c in cohorts if c["cohort"] == "2025-01")
    assert january["members"] == 3
    assert [p["part"] for p in january["curve"]] == [3, 2, 2, 2, 1, 1]

    # A filter: the March registrations only (N5, never paid).
    march = _get(client, "/api/v1/dashboard/summary?first=2025-03&last=2025-03")
    assert march["new_registrations"] == 1
    assert march["active_participants"] == 2  # N1, N4 at the end of March
    farmers = _get(client, "/api/v1/dashboard/summary?first=2025-01&last=2025-06&occupation=farmer")
    assert farmers["new_registrations"] == 3  # rows 1, 3 and 5
    p2 = _get(client, "/api/v1/dashboard/summary?first=2025-01&last=2025-06&partner=P2")
    assert (p2["new_registrations"], p2["contributions_collected"]) == (2, 67_200)


def test_pre_aggregates_match_the_ledger(ledger: Engine, cli: Any) -> None:
    with transaction(ledger) as session:
        assert ledger_summary(session, Month.parse("2025-01")) == {
            "new_registrations": 3,
            "contributions_collected": 168_000,
            "payments": 3,
            "active_participants": 3,
        }
    result: CliResult = cli("kpi", "verify", "--json")
    assert result.exit_code == 0, result.stderr
    assert '"match": true' in result.stdout
    again: CliResult = cli("kpi", "refresh", "--month", "2025-06", "--json")
    assert again.exit_code == 0, again.stderr
    unknown: CliResult = cli("kpi", "refresh", "--month", "2024-01")
    assert unknown.exit_code == 1
    assert "2024-01" in unknown.stderr


@pytest.mark.parametrize("username", list(USERS))
def test_scope_matrix(client: TestClient, username: str) -> None:
    _login(client, username)
    allowed = VISIBLE[username]
    hidden = set(EVERYONE) - allowed
    seen: set[str] = set()
    for kpi, month in (
        ("new_registrations", "2025-01"),
        ("new_registrations", "2025-02"),
        ("new_registrations", "2025-03"),
        ("active", "2025-06"),
        ("arrears", "2025-04"),
        ("pending", "2025-04"),
        ("payments", "2025-01"),
        ("closed_by_system", "2025-05"),
    ):
        body = _get(client, f"/api/v1/dashboard/records?kpi={kpi}&month={month}")
        names = {row["name"] for row in body["rows"]}
        assert names <= allowed, (kpi, names - allowed)
        assert body["total"] == len(body["rows"])
        seen |= names
        page = client.get(f"/dashboard/records?kpi={kpi}&month={month}")
        assert page.status_code == 200
        assert not any(name in page.text for name in hidden)
    assert seen == allowed
    for kind in ("arrears", "closed"):
        rows = _get(client, f"/api/v1/dashboard/worklist?kind={kind}")["rows"]
        assert {r["name"] for r in rows} <= allowed
    summary = _get(client, "/api/v1/dashboard/summary?first=2025-01&last=2025-06")
    assert summary["new_registrations"] == len(AGGREGATE[username])
    for path in ("/dashboard", "/dashboard/warnings", "/dashboard/worklist?kind=arrears"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert not any(name in page.text for name in hidden)
    for path in ("trend", "cohorts", "warnings"):
        assert client.get(f"/api/v1/dashboard/{path}").status_code == 200
    league = client.get("/api/v1/dashboard/league")
    if username == "agen.a1":
        assert league.status_code == 403
    else:
        assert league.status_code == 200
        assert client.get("/dashboard/league").status_code == 200


def test_partner_sees_own_rank_and_anonymised_peers(client: TestClient) -> None:
    _login(client, "mitra.p2")
    table = _get(client, "/api/v1/dashboard/league?first=2025-01&last=2025-06")
    names = [row["name"] for row in table["partners"]]
    assert "Koperasi Pasar Turi" in names
    assert "Wadah Tani Sejahtera" not in names
    assert "Mitra A" in names
    own = next(row for row in table["partners"] if row["own"])
    assert own["rank"] == table["own_rank"]
    peers = [row for row in table["partners"] if not row["own"]]
    assert all(row["partner_code"] is None for row in peers)
    # P1 (month-3 retention 2/2 at age 3 of the January cohort: N1 yes, N2 no -> 1/2) vs
    # P2 (N4 yes at age 3; N5 no -> 1/2): tie on m3; P1 compliance is higher -> P1 first.
    _login(client, "pusat.t")
    staff = _get(client, "/api/v1/dashboard/league?first=2025-01&last=2025-06")
    by_code = {row["partner_code"]: row for row in staff["partners"]}
    assert by_code["P1"]["retention_m3"] == {"part": 1, "base": 2, "percent": 50.0}
    assert by_code["P2"]["retention_m3"] == {"part": 1, "base": 2, "percent": 50.0}
    assert by_code["P2"]["new_registrations"] == 2


def test_masking_and_audited_unmasking(client: TestClient, ledger: Engine) -> None:
    _login(client, "kabid.plg")
    rows = _get(client, "/api/v1/dashboard/records?kpi=new_registrations&month=2025-01")["rows"]
    assert {r["nik"] for r in rows} == {"1671********0001", "1671********0002"}
    _login(client, "pap.plg")
    rows = _get(client, "/api/v1/dashboard/records?kpi=new_registrations&month=2025-01")["rows"]
    assert {r["nik"] for r in rows} == {N1, N2}
    with transaction(ledger) as session:
        count = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "personal_data.unmask", AuditEntry.actor == "pap.plg")
        )
    assert count == 1


def test_unauthenticated_access_is_refused(client: TestClient) -> None:
    for path in (
        "summary",
        "trend",
        "cohorts",
        "league",
        "warnings",
        "worklist",
        "records?kpi=active",
    ):
        response = client.get(f"/api/v1/dashboard/{path}")
        assert response.status_code == 401, path
        assert response.headers["content-type"].startswith("application/problem+json")
    for path in (
        "/dashboard",
        "/dashboard/league",
        "/dashboard/warnings",
        "/dashboard/records?kpi=active",
        "/dashboard/worklist",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


def test_contact_log_is_scoped_validated_and_audited(client: TestClient, ledger: Engine) -> None:
    _login(client, "ar.sby")
    worklist = _get(client, "/api/v1/dashboard/worklist?kind=arrears")
    assert [r["name"] for r in worklist["rows"]] == [NAMES[N4]]
    n4 = worklist["rows"][0]
    assert n4["paid_through_month"] == "2025-04"
    assert n4["unpaid_months"] == 2
    token = _CSRF_RE.search(client.get("/dashboard/worklist").text)
    assert token
    headers = {"X-CSRF-Token": token.group(1)}
    refused = client.post(
        "/api/v1/dashboard/contacts",
        json={"participant_id": n4["participant_id"], "outcome": "refused"},
        headers=headers,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "reason"
    ok = client.post(
        "/api/v1/dashboard/contacts",
        json={
            "participant_id": n4["participant_id"],
            "outcome": "promised_to_pay",
            "promised_on": "2025-07-20",
        },
        headers=headers,
    )
    assert ok.status_code == 201, ok.text
    again = _get(client, "/api/v1/dashboard/worklist?kind=arrears")["rows"][0]
    assert again["last_contact"]["outcome"] == "promised_to_pay"
    assert again["last_contact"]["promised_on"] == "2025-07-20"
    # Outside the scope: a Palembang participant is "not found" for the Surabaya AR.
    _login(client, "pusat.t")
    closed = _get(client, "/api/v1/dashboard/records?kpi=active&month=2025-06")["rows"]
    palembang = next(r["participant_id"] for r in closed if r["name"] == NAMES[N1])
    _login(client, "ar.sby")
    token = _CSRF_RE.search(client.get("/dashboard/worklist").text)
    assert token
    outside = client.post(
        "/api/v1/dashboard/contacts",
        json={"participant_id": palembang, "outcome": "called"},
        headers={"X-CSRF-Token": token.group(1)},
    )
    assert outside.status_code == 404
    with transaction(ledger) as session:
        audited = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "dashboard.contact")
        )
    assert audited == 1


def test_early_warnings_by_the_shipped_rules(engine: Engine) -> None:
    """Four cohorts of 20 farmers in Palembang, January-April 2025. January-March each prepay
    four months; of April's, 10 prepay four months and 10 pay one. Closed through July:
    month-3 retention of the April cohort 10/20 = 50.0% against 100.0% for the three before
    (drop 50.0 > 5); compliance in July 10/80 = 12.5% (every episode in arrears owes July) against the average
    of April 80/80, May 50/80 and June 30/80 = 66.7% (drop 54.2 > 5). No partner: no partner warning."""
    clock = FixedClock(datetime(2025, 8, 15, 9, 0, tzinfo=JAKARTA))
    cohorts = {"2025-01-05": 20, "2025-02-05": 20, "2025-03-05": 20, "2025-04-05": 20}
    rows = []
    serial = 0
    for day, size in cohorts.items():
        for _ in range(size):
            serial += 1
            rows.append((f"16710101019{serial + 100:05d}", day))
    with transaction(engine) as session:
        result = register_participants(
            session,
            SYSTEM,
            [
                RegistrationRow(
                    row=i,
                    nik=nik,
                    name=f"Petani {i}",
                    phone=f"0812{i:08d}",
                    occupation="farmer",
                    reported_income=1_000_000,
                    programs="JKK+JKM",
                    registered_on=day,
                    district_code="16.71.01",
                )
                for i, (nik, day) in enumerate(rows, start=1)
            ],
            clock=clock,
        )
        assert result.rejected == 0, result.as_json()
        for i, (nik, day) in enumerate(rows, start=1):
            months = 1 if day == "2025-04-05" and i % 2 else 4
            paid_on = day[:8] + "06"
            _pay(session, clock, nik, months, paid_on, f"W{i}")
    for month in ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07"):
        with transaction(engine) as session:
            close_month(session, SYSTEM, Month.parse(month), clock=clock)
    with transaction(engine) as session:
        create_user(
            session,
            SYSTEM,
            username="pusat.w",
            role="head_office",
            full_name="pusat",
            password=PASSWORD,
        )
    with TestClient(create_app(engine, secret_key="test", clock=clock)) as client:
        _login(client, "pusat.w")
        found = _get(client, "/api/v1/dashboard/warnings")
    assert {r["metric"] for r in found["rules"]} == {"retention_m3", "compliance"}
    got = {
        (w["metric"], w["dimension"], w["value"]): (
            w["period"],
            w["latest_percent"],
            w["trailing_percent"],
            w["drop_points"],
        )
        for w in found["warnings"]
    }
    assert got == {
        ("retention_m3", "occupation", "farmer"): ("2025-04", 50.0, 100.0, 50.0),
        ("retention_m3", "branch_code", "PLG"): ("2025-04", 50.0, 100.0, 50.0),
        ("compliance", "occupation", "farmer"): ("2025-07", 12.5, 66.7, 54.2),
        ("compliance", "branch_code", "PLG"): ("2025-07", 12.5, 66.7, 54.2),
    }


def test_pre_aggregates_match_the_ledger_on_seeded_data(cli: Any) -> None:
    """Synthetic data (``cakupan seed``: partners, agents, a year of payments, every complete
    month closed): ``kpi verify`` recomputes each month's registrations, contributions, payments
    and active participants from the ledger tables and finds the pre-aggregates equal."""
    seeded: CliResult = cli("seed", "--participants", "400", "--as-of", "2026-10-31", "--json")
    assert seeded.exit_code == 0, seeded.stderr
    result: CliResult = cli("kpi", "verify", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["match"] is True
    assert len(report["months"]) == 13  # 2025-10 (the first registration) .. 2026-10
    assert sum(m["ledger"]["new_registrations"] for m in report["months"]) > 300
    assert all(m["kpi"] == m["ledger"] for m in report["months"])


def test_accounts_are_assigned_by_area_or_nik_and_scope_the_records(
    ledger: Engine, cli: Any
) -> None:
    listed: CliResult = cli("accounts", "list", "ark.plg", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert json.loads(listed.stdout)["total"] == 2  # N1 and N3 (build_ledger)
    # repeating an assignment changes nothing; a district adds N2 too
    again: CliResult = cli("accounts", "assign", "ark.plg", "--nik", N1, "--json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout) == {"username": "ark.plg", "assigned": 0, "total": 2}
    district: CliResult = cli("accounts", "assign", "ark.plg", "--district", "16.71.01", "--json")
    assert json.loads(district.stdout) == {"username": "ark.plg", "assigned": 1, "total": 3}
    removed: CliResult = cli("accounts", "unassign", "ark.plg", "--nik", N2, "--json")
    assert json.loads(removed.stdout) == {"username": "ark.plg", "unassigned": 1, "total": 2}
    # a NIK of another branch and an unknown NIK are refused, each named; nothing assigned
    bad: CliResult = cli(
        "accounts", "assign", "ark.plg", "--nik", N4, "--nik", "1671010101909999", "--json"
    )
    assert bad.exit_code == 2  # invalid input
    assert f"{N4}, branch_code" in bad.stderr
    assert "1671010101909999, nik" in bad.stderr
    # only ar / ark users hold accounts
    kabid: CliResult = cli("accounts", "assign", "kabid.plg", "--nik", N1)
    assert kabid.exit_code == 2
    assert "kabid" in kabid.stderr
    with transaction(ledger) as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("dashboard.account_%"))
        ).all()
    assert sorted(actions).count("dashboard.account_assign") == 4  # 2 in build_ledger, 2 here
    assert "dashboard.account_unassign" in actions


def test_records_and_worklist_pages_continue_by_key(client: TestClient, ledger: Engine) -> None:
    """Keyset pages: ``after`` = the previous page's ``next_after``; the last page has none."""
    from cakupan.dashboard import queries

    _login(client, "pusat.t")
    first = _get(client, "/api/v1/dashboard/records?kpi=new_registrations&month=2025-01")
    assert first["next_after"] is None  # 3 rows < one page
    with transaction(ledger) as session:
        actor = Actor("t", Role.HEAD_OFFICE)
        saved = queries.PAGE_SIZE
        queries.PAGE_SIZE = 2
        try:
            page1 = queries.drill_down(
                session, actor, "new_registrations", Month.parse("2025-01"), queries.Filters()
            )
            page2 = queries.drill_down(
                session,
                actor,
                "new_registrations",
                Month.parse("2025-01"),
                queries.Filters(),
                page=2,
                after=page1["next_after"],
            )
        finally:
            queries.PAGE_SIZE = saved
    assert page1["total"] == page2["total"] == 3
    assert len(page1["rows"]) == 2
    assert page1["next_after"] is not None
    assert len(page2["rows"]) == 1
    assert page2["next_after"] is None
    names = [r["name"] for r in page1["rows"] + page2["rows"]]
    assert sorted(names) == sorted([NAMES[N1], NAMES[N2], NAMES[N4]])
    bad = client.get("/api/v1/dashboard/worklist?kind=arrears&after=-1")
    assert bad.status_code == 422


def test_chart_month_labels_in_indonesian_then_english(client: TestClient) -> None:
    _login(client, "pusat.t")
    page = client.get("/dashboard?first=2025-01&last=2025-06")
    data = re.search(r'id="dashboard-data"[^>]*>(.*?)</script>', page.text, re.S)
    assert data
    chart = json.loads(data.group(1))
    assert chart["months"] == [
        "Jan 2025",
        "Feb 2025",
        "Mar 2025",
        "Apr 2025",
        "Mei 2025",
        "Jun 2025",
    ]
    assert "Jan 2025" in [c["name"] for c in chart["cohorts"]]
    token = _CSRF_RE.search(page.text)
    assert token
    client.post("/lang", data={"csrf_token": token.group(1), "to": "en", "next": "/dashboard"})
    english = client.get("/dashboard?first=2025-01&last=2025-06")
    data = re.search(r'id="dashboard-data"[^>]*>(.*?)</script>', english.text, re.S)
    assert data
    assert json.loads(data.group(1))["months"][4] == "May 2025"
