"""The campaign planner, calendar and /api/v1 reads on SQLite and PostgreSQL, over the hand-built
scenario of ``test_campaigns`` (SOS-1 and DM-2, national campaigns of January 2026; the app's
clock says 2027-12-31): who may plan where, per-field errors that save nothing, edits of planned
campaigns only, actual cost once started, audit rows, calendar scope (offices, partners involved),
and the API's scoping (partner A never sees partner B's prospects; NIKs masked)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cakupan import campaigns
from cakupan.audit.models import AuditEntry
from cakupan.campaigns.models import Campaign, CampaignArea, Prospect
from cakupan.campaigns.planner import PlanForm, plan_campaign, visible_campaigns
from cakupan.db import make_session_factory
from cakupan.errors import CakupanError
from cakupan.partners.actions import NewPartner, create_partner
from cakupan.users import create_user
from cakupan.users.actions import issue_token
from cakupan.users.models import User
from cakupan.web import create_app
from tests.conftest import CliResult
from tests.integration.test_campaigns import (  # noqa: F401 (fixture)
    ACTOR,
    NIK_B,
    WEB_PASSWORD,
    _clock,
    scenario,
)

SCOPES: dict[str, tuple[str, dict[str, str]]] = {
    "admin": ("admin", {}),
    "auditor": ("auditor", {}),
    "regional": ("regional", {"region_code": "SUMBAGSEL"}),
    "kabid": ("kabid", {"branch_code": "PLG"}),
    "kabid.bdl": ("kabid", {"branch_code": "BDL"}),
    "ar.bdl": ("ar", {"branch_code": "BDL"}),
    "partner.a": ("partner", {"partner_code": "WDH-01"}),
    "partner.b": ("partner", {"partner_code": "KOP-02"}),
    "agent": ("agent", {"partner_code": "WDH-01", "agent_code": "PRS-007"}),
}

PLAN = {
    "code": "PLG-PASAR-28",
    "name": "Sosialisasi Pasar 16 Ilir",
    "objective": "Daftarkan pedagang pasar",
    "type": "sosialisasi_offline",
    "medium": "",
    "start_on": "2028-01-10",
    "end_on": "2028-01-12",
    "budget": "2.500.000",
    "window_days": "",
    "areas": "16.71.01; 16.71.02",
    "branch_code": "PLG",
    "partners": "WDH-01",
    "materials": "Brosur BPU\nSpanduk",
    "stories": "Ibu Sari menerima JKM Rp 42.000.000",
}


@pytest.fixture
def app(scenario: Engine) -> dict[str, Any]:  # noqa: F811
    """Users per scope above, partners WDH-01 (agent PRS-007) and KOP-02 in PLG; Bambang's
    prospect assigned to PRS-007 and Wati's to KOP-02. Returns the engine, a page sign-in and
    an API token per user."""
    tokens: dict[str, str] = {}
    with make_session_factory(scenario)() as session, session.begin():
        create_partner(session, ACTOR, _clock(), NewPartner("WDH-01", "Wadah", "wadah", "PLG"))
        create_partner(
            session, ACTOR, _clock(), NewPartner("PRS-007", "Agen", "perisai", None, "WDH-01")
        )
        create_partner(session, ACTOR, _clock(), NewPartner("KOP-02", "Koperasi", "wadah", "PLG"))
        for name, (role, scope) in SCOPES.items():
            create_user(
                session,
                ACTOR,
                username=f"p.{name}",
                role=role,
                full_name=name,
                password=WEB_PASSWORD,
                **scope,
            )
        session.flush()
        for user in session.scalars(select(User).where(User.username.like("p.%"))):
            tokens[user.username[2:]] = issue_token(session, ACTOR, user.id, "test").plain
        ids = {p.nik or p.name: p.id for p in session.scalars(select(Prospect))}
        campaigns.assign_prospects(session, ACTOR, to="PRS-007", kind="agent", ids=[ids[NIK_B]])
        campaigns.assign_prospects(session, ACTOR, to="KOP-02", kind="agent", ids=[ids["Wati"]])
    clients: list[TestClient] = []

    def sign_in(name: str) -> TestClient:
        client = TestClient(
            create_app(scenario, secret_key="test-secret", clock=_clock()),
            raise_server_exceptions=False,
        )
        clients.append(client)
        token = _csrf(client.get("/login").text)
        response = client.post(
            "/login",
            data={"csrf_token": token, "username": f"p.{name}", "password": WEB_PASSWORD},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return client

    def api(name: str, path: str) -> Any:
        client = TestClient(
            create_app(scenario, secret_key="test-secret", clock=_clock()),
            raise_server_exceptions=False,
        )
        return client.get(path, headers={"Authorization": f"Bearer {tokens[name]}"})

    return {"engine": scenario, "sign_in": sign_in, "api": api}


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _post_plan(client: TestClient, data: dict[str, str], segments: list[str]) -> Any:
    form = client.get("/campaigns/new")
    assert form.status_code == 200, form.text
    body = [("csrf_token", _csrf(form.text)), *data.items(), *(("segments", s) for s in segments)]
    return _post_form(client, "/campaigns/new", body)


def _post_form(client: TestClient, url: str, pairs: list[tuple[str, str]]) -> Any:
    """POST a form with repeated fields (the segment boxes) as a browser does."""
    return client.post(
        url,
        content=urlencode(pairs),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def _count(engine: Engine, model: Any, *where: Any) -> int:
    with make_session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_kabid_plans_for_its_branch_and_sees_it_on_the_calendar(app: dict[str, Any]) -> None:
    engine = app["engine"]
    kabid = app["sign_in"]("kabid")
    response = _post_plan(kabid, PLAN, ["market-traders"])
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/campaigns/calendar?month=2028-01")
    calendar = kabid.get(response.headers["location"])
    assert 'data-testid="chip-PLG-PASAR-28"' in calendar.text
    assert 'data-testid="status-PLG-PASAR-28">Direncanakan' in calendar.text
    assert "Rp 2.500.000" in calendar.text
    with make_session_factory(engine)() as session:
        stored = session.get(Campaign, "PLG-PASAR-28")
        assert stored is not None
        assert (stored.branch_code, stored.region_code, stored.budget) == (
            "PLG",
            "SUMBAGSEL",
            2_500_000,
        )
        assert stored.materials == ["Brosur BPU", "Spanduk"]
        assert stored.partners == ["WDH-01"]
        assert stored.window_days == 30
        assert str(stored.window_end_on) == "2028-02-11"
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "campaign.plan")
        ).one()
        assert audit.actor == "p.kabid"
        assert audit.entity_id == "PLG-PASAR-28"
        assert audit.after is not None
        assert audit.after["areas"] == ["16.71.01", "16.71.02"]
    # Scope of the calendar: the region and the partner involved see it; another branch, the
    # other partner and a partner's page for an uninvolved campaign do not.
    month = "/campaigns/calendar?month=2028-01"
    assert "PLG-PASAR-28" in app["sign_in"]("regional").get(month).text
    assert "PLG-PASAR-28" in app["sign_in"]("admin").get(month).text
    assert "PLG-PASAR-28" not in app["sign_in"]("ar.bdl").get(month).text
    partner_a = app["sign_in"]("partner.a")
    assert "PLG-PASAR-28" in partner_a.get(month).text
    assert partner_a.get("/campaigns/PLG-PASAR-28/plan").status_code == 200
    assert 'data-testid="plan-form"' not in partner_a.get("/campaigns/PLG-PASAR-28/plan").text
    assert partner_a.get("/campaigns/new").status_code == 403
    assert "PLG-PASAR-28" in app["sign_in"]("agent").get(month).text  # its partner is involved
    partner_b = app["sign_in"]("partner.b")
    assert "PLG-PASAR-28" not in partner_b.get(month).text
    assert partner_b.get("/campaigns/PLG-PASAR-28/plan").status_code == 404
    # National campaigns: every office sees them, partners not involved do not.
    january = "/campaigns/calendar?month=2026-01"
    assert 'data-testid="chip-SOS-1"' in app["sign_in"]("ar.bdl").get(january).text
    assert "SOS-1" not in partner_b.get(january).text


def test_bad_plan_names_each_field_and_saves_nothing(app: dict[str, Any]) -> None:
    engine = app["engine"]
    kabid = app["sign_in"]("kabid")
    before = _count(engine, Campaign)
    audited = _count(engine, AuditEntry)  # after the sign-in's own audit row
    bad = {
        **PLAN,
        "code": "SOS-1",  # taken
        "type": "advertising",  # without a medium
        "start_on": "2027-12-01",  # before today (2027-12-31)
        "end_on": "2027-11-30",  # before the start
        "budget": "dua juta",
        "areas": "18.71.01; 99.99",  # another branch's district, an unknown province
        "branch_code": "BDL",
        "partners": "WDH-01; NOPE-9",
    }
    response = _post_plan(kabid, bad, [])
    assert response.status_code == 422
    html = response.text
    for field in (
        "code",
        "medium",
        "start_on",
        "end_on",
        "budget",
        "segments",
        "areas",
        "branch_code",
        "partners",
    ):
        assert f'data-testid="error-{field}"' in html, field
    assert "sudah dipakai" in html  # Bahasa Indonesia by default
    assert "bilangan bulat" in html
    assert "di luar wilayah kerja Anda" in html
    assert "NOPE-9" in html
    assert "99.99" in html
    assert 'value="dua juta"' in html  # the form keeps what was typed
    assert _count(engine, Campaign) == before
    assert _count(engine, AuditEntry) == audited
    # Roles that do not plan.
    assert app["sign_in"]("ar.bdl").get("/campaigns/new").status_code == 403
    assert app["sign_in"]("auditor").get("/campaigns/new").status_code == 403


def test_region_plans_region_wide_and_branches_of_the_region(app: dict[str, Any]) -> None:
    engine = app["engine"]
    regional = app["sign_in"]("regional")
    wide = {**PLAN, "code": "SUMBAGSEL-RADIO", "type": "advertising", "medium": "radio",
            "branch_code": "", "areas": "16; 18.71", "partners": ""}  # fmt: skip
    assert _post_plan(regional, wide, ["market-traders"]).status_code == 303
    with make_session_factory(engine)() as session:
        stored = session.get(Campaign, "SUMBAGSEL-RADIO")
        assert stored is not None
        assert (stored.branch_code, stored.region_code) == (
            None,
            "SUMBAGSEL",
        )
        areas = set(session.scalars(select(CampaignArea.area_code)))
        assert {"16", "18.71"} <= areas
    # Branch staff of the region see a region-wide campaign; a kabid cannot name a province.
    assert (
        "SUMBAGSEL-RADIO" in app["sign_in"]("ar.bdl").get("/campaigns/calendar?month=2028-01").text
    )
    kabid = app["sign_in"]("kabid")
    response = _post_plan(kabid, {**PLAN, "code": "PLG-2", "areas": "16"}, ["market-traders"])
    assert response.status_code == 422
    assert 'data-testid="error-areas"' in response.text
    # The kabid of PLG may not edit the region's campaign; the region may.
    page = kabid.get("/campaigns/SUMBAGSEL-RADIO/plan")
    assert page.status_code == 200
    assert 'data-testid="plan-form"' not in page.text
    assert 'data-testid="plan-form"' in regional.get("/campaigns/SUMBAGSEL-RADIO/plan").text


def test_edit_while_planned_then_actual_cost_once_started(app: dict[str, Any]) -> None:
    engine = app["engine"]
    kabid = app["sign_in"]("kabid")
    assert _post_plan(kabid, PLAN, ["market-traders"]).status_code == 303
    page = kabid.get("/campaigns/PLG-PASAR-28/plan")
    assert 'data-testid="plan-form"' in page.text
    assert 'data-testid="results-form"' not in page.text  # not started: no actual cost yet
    edited = [("csrf_token", _csrf(page.text)), *{**PLAN, "budget": "3000000"}.items(),
              ("segments", "market-traders"), ("segments", "ojol-drivers")]  # fmt: skip
    response = _post_form(kabid, "/campaigns/PLG-PASAR-28/plan", edited)
    assert response.status_code == 303, response.text
    bad = [(k, "x" if k == "end_on" else v) for k, v in edited]
    response = _post_form(kabid, "/campaigns/PLG-PASAR-28/plan", bad)
    assert response.status_code == 422
    assert 'data-testid="error-end_on"' in response.text
    with make_session_factory(engine)() as session:
        stored = session.get(Campaign, "PLG-PASAR-28")
        assert stored is not None
        assert stored.budget == 3_000_000
        update = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "campaign.plan_update")
        ).one()
        assert update.before is not None
        assert update.after is not None
        assert (update.before["budget"], update.after["budget"]) == (2_500_000, 3_000_000)
        assert update.after["segments"] == ["market-traders", "ojol-drivers"]
    results = kabid.post(
        "/campaigns/PLG-PASAR-28/results",
        data={"csrf_token": _csrf(page.text), "actual_cost": "100"},
        follow_redirects=False,
    )
    assert results.status_code == 409  # not started
    # SOS-1 (national, finished): the kabid may not touch it; an admin records the actual cost.
    assert (
        kabid.post(
            "/campaigns/SOS-1/results",
            data={"csrf_token": _csrf(page.text), "actual_cost": "1"},
            follow_redirects=False,
        ).status_code
        == 403
    )
    admin = app["sign_in"]("admin")
    sos = admin.get("/campaigns/SOS-1/plan")
    assert 'data-testid="results-form"' in sos.text
    assert 'data-testid="plan-form"' not in sos.text
    bad_cost = admin.post(
        "/campaigns/SOS-1/results",
        data={"csrf_token": _csrf(sos.text), "actual_cost": "1,5 juta"},
        follow_redirects=False,
    )
    assert bad_cost.status_code == 422
    assert 'data-testid="error-actual_cost"' in bad_cost.text
    done = admin.post(
        "/campaigns/SOS-1/results",
        data={
            "csrf_token": _csrf(sos.text),
            "actual_cost": "1.750.000",
            "reached": "120",
            "interested": "12",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    calendar = admin.get("/campaigns/calendar?month=2026-01").text
    assert "Rp 1.750.000" in calendar
    assert "Rp 1.500.000" in calendar
    with make_session_factory(engine)() as session:
        funnel = campaigns.campaign_funnel(session, "SOS-1")
        assert (funnel["cost"], funnel["cost_basis"]) == (1_750_000, "actual")
        assert funnel["stages"][0]["count"] == 120
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "campaign.results")
        ).one()
        assert entry.before == {"actual_cost": 1_000_000, "reached": 100, "interested": 10}
        assert entry.after == {"actual_cost": 1_750_000, "reached": 120, "interested": 12}


def test_plan_action_refuses_without_scope(app: dict[str, Any]) -> None:
    from cakupan.auth import Actor, Role

    agent = Actor(name="x", role=Role.AGENT, partner_code="WDH-01", agent_code="PRS-007")
    with make_session_factory(app["engine"])() as session:
        with pytest.raises(CakupanError) as raised:
            plan_campaign(session, agent, PlanForm(**{**PLAN, "segments": ["market-traders"]}))
        assert raised.value.kind.http_status == 403
        kabid = Actor(name="k", role=Role.KABID, branch_code="PLG")
        assert visible_campaigns(session, kabid) == ["DM-2", "SOS-1"]


# -- /api/v1 ---------------------------------------------------------------------------------------


def test_api_prospects_scoped_per_partner_and_nik_masked(app: dict[str, Any]) -> None:
    api: Callable[[str, str], Any] = app["api"]
    partner_a = api("partner.a", "/api/v1/prospects")
    assert partner_a.status_code == 200, partner_a.text
    names = [p["name"] for p in partner_a.json()["prospects"]]
    assert names == ["Bambang"]  # assigned to its agent PRS-007
    bambang = partner_a.json()["prospects"][0]
    assert bambang["nik"] == "1671********0005"
    assert bambang["phone"] == "0812*******222"  # not the assignee: masked
    partner_b = api("partner.b", "/api/v1/prospects").json()
    assert [p["name"] for p in partner_b["prospects"]] == ["Wati"]
    assert partner_b["count"] == 1
    assert partner_b["stages"]["prospect"] == 1
    agent = api("agent", "/api/v1/prospects?mine=true").json()["prospects"]
    assert [(p["name"], p["nik"], p["phone"]) for p in agent] == [
        ("Bambang", "1671********0005", "0812 1111 2222")  # the assignee calls: phone in clear
    ]
    kabid = api("kabid", "/api/v1/prospects").json()["prospects"]
    assert {p["name"] for p in kabid} == {"Siti", "Bambang", "Wati"}
    assert all(p["nik"] is None or "*" in p["nik"] for p in kabid)
    admin = api("admin", "/api/v1/prospects").json()["prospects"]
    assert NIK_B in {p["nik"] for p in admin}  # admin unmasks (audited)
    with make_session_factory(app["engine"])() as session:
        assert session.scalar(
            select(func.count()).where(AuditEntry.action == "personal_data.unmask")
        )
    assert api("ar.bdl", "/api/v1/prospects").json()["prospects"] == []


def test_api_funnel_is_the_cli_contract_and_campaigns_scoped(
    app: dict[str, Any], cli: Callable[..., CliResult]
) -> None:
    api: Callable[[str, str], Any] = app["api"]
    printed = cli("campaigns", "funnel", "DM-2", "--json")
    assert printed.exit_code == 0, printed.stderr
    served = api("kabid", "/api/v1/campaigns/DM-2/funnel")
    assert served.status_code == 200
    assert served.json() == json.loads(printed.stdout)
    listing = api("kabid", "/api/v1/campaigns").json()
    assert [c["code"] for c in listing["campaigns"]] == ["SOS-1", "DM-2"]
    assert listing["campaigns"][0]["status"] == "finished"
    detail = api("kabid", "/api/v1/campaigns/SOS-1").json()
    assert detail["segments"] == ["market-traders"]
    assert detail["budget"] == 1_500_000
    assert api("partner.b", "/api/v1/campaigns").json()["campaigns"] == []
    assert api("partner.b", "/api/v1/campaigns/SOS-1").status_code == 404
    assert api("partner.b", "/api/v1/campaigns/SOS-1/funnel").status_code == 404
    unauthenticated = TestClient(create_app(app["engine"], secret_key="x")).get("/api/v1/campaigns")
    assert unauthenticated.status_code == 401


def test_api_coverage_and_targeting_scoped_to_the_branch(
    app: dict[str, Any], tmp_path: Any
) -> None:
    potential = tmp_path / "pot.csv"
    potential.write_text(
        "area_code,segment,year,potential,source\n"
        "16.71.01,market-traders,2026,40,synthetic test\n"
        "18.71.01,market-traders,2026,30,synthetic test\n",
        encoding="utf-8",
    )
    campaigns.import_potential(app["engine"], ACTOR, potential)
    api: Callable[[str, str], Any] = app["api"]
    kabid = api("kabid", "/api/v1/segments/coverage?as_of=2026-02-15").json()
    assert [r["area"] for r in kabid["rows"]] == ["16.71.01"]
    assert kabid["rows"][0]["potential"] == 40
    ranking = api("ar.bdl", "/api/v1/targeting?as_of=2026-02-15").json()["ranking"]
    assert [r["area"] for r in ranking] == ["18.71.01"]
    assert set(ranking[0]["contributions"]) == {
        "gap",
        "conversion",
        "retention",
        "partner_presence",
    }
    everything = api("admin", "/api/v1/targeting?as_of=2026-02-15").json()["ranking"]
    assert {r["area"] for r in everything} == {"16.71.01", "18.71.01"}
    assert api("partner.a", "/api/v1/segments").status_code == 403
    assert "market-traders" in {
        s["code"] for s in api("kabid", "/api/v1/segments").json()["segments"]
    }
    spec = api("admin", "/api/openapi.json").json()
    for path in ("/api/v1/segments/coverage", "/api/v1/targeting", "/api/v1/campaigns/{code}/funnel",
                 "/api/v1/prospects"):  # fmt: skip
        assert path in spec["paths"], path
