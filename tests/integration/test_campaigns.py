"""Campaigns on SQLite and PostgreSQL: prospect deduplication (NIK, phone and name variants,
within the file, against earlier lists), attribution rules and their precedence, the AIDA
funnel on a hand-built scenario (registrations and payments through the registry's actions),
targeting reproducibility, and the CLI contracts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cakupan import campaigns
from cakupan.audit.models import AuditEntry
from cakupan.auth import Actor
from cakupan.campaigns.models import Prospect
from cakupan.campaigns.prospects import stage_counts
from cakupan.campaigns.reference import load_weights
from cakupan.dates import JAKARTA, FixedClock
from cakupan.db import make_session_factory
from cakupan.errors import CakupanError, ErrorKind
from cakupan.registry import RegistrationRow, post_payment, register_participant
from tests.conftest import CliResult

ACTOR = Actor.system("test")
#: What 1, 3, 6 and 12 months from January 2026 cost for JKK+JKM on a reported income of
#: Rp 1.000.000 under the shipped contribution policies (the registry quotes these amounts).
PAY_FOR = {1: 16_800, 3: 50_400, 6: 75_600, 12: 126_000}
NIK_1 = "1671010101900001"
NIK_2 = "1671010202900002"
NIK_3 = "1671010303900003"
NIK_4 = "1671010404900004"
NIK_B = "1671010505900005"  # a prospect who never registers

CAMPAIGNS = """code,name,objective,type,medium,start_on,end_on,budget,actual_cost,reached,interested,segments,areas,window_days
SOS-1,Sosialisasi Kemuning,Register traders,sosialisasi_offline,,2026-01-05,2026-01-05,1.500.000,1000000,100,10,market-traders,16.71.01,30
DM-2,Telemarketing,Call the cooperative's list,direct_marketing,,2026-01-10,2026-01-12,600000,,,,market-traders;ojol-drivers,16.71.02,0
"""


def _clock() -> FixedClock:
    return FixedClock(datetime(2027, 12, 31, 12, 0, tzinfo=JAKARTA))


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _register(
    session: Session,
    nik: str,
    registered_on: str,
    *,
    name: str = "Peserta",
    phone: str = "0811-000-0000",
) -> None:
    row = RegistrationRow(
        row=1,
        nik=nik,
        name=name,
        phone=phone,
        occupation="market_trader",
        reported_income=1_000_000,
        programs="JKK+JKM",
        registered_on=registered_on,
        district_code="16.71.01",
    )
    register_participant(session, ACTOR, row, clock=_clock())


def _pay(session: Session, nik: str, months: int, paid_on: str, reference: str) -> None:
    post_payment(
        session,
        ACTOR,
        nik=nik,
        amount=PAY_FOR[months],
        paid_on=paid_on,
        reference=reference,
        channel="bank",
        clock=_clock(),
    )


@pytest.fixture
def scenario(engine: Engine, tmp_path: Path) -> Engine:
    """Two campaigns in Palembang (16.71.01 and 16.71.02), a prospect list of DM-2 listed on
    2026-01-15, and four registrations:

    * NIK_1 registers 2026-01-20 in 16.71.01 (SOS-1's window: 01-05 .. 02-04) -> rule 3, SOS-1;
      pays 6 months -> retained at month 6.
    * NIK_2 registers 2026-01-25 in 16.71.01 and gave code DM-2 -> rule 1 beats SOS-1's window;
      pays 1 month.
    * NIK_3 registers 2026-01-28 in 16.71.01 and was on DM-2's list -> rule 2 beats rule 3;
      pays 3 months.
    * NIK_4 registers 2026-02-20 in 16.71.01: after every window, no list, no code -> none.
    """
    result = campaigns.import_campaigns(engine, ACTOR, _write(tmp_path, "c.csv", CAMPAIGNS))
    assert result.as_json() == {"accepted": 2, "duplicates": 0, "rejected": 0, "errors": []}
    prospects = _write(
        tmp_path,
        "p.csv",
        "nik,name,phone,district_code,listed_on\n"
        f"{NIK_3},Siti,,16.71.01,2026-01-15\n"
        f"{NIK_B},Bambang,0812 1111 2222,16.71.02,2026-01-15\n"
        ",Wati,0813-3333-4444,16.71.02,2026-01-15\n",
    )
    result = campaigns.import_prospects(
        engine, ACTOR, prospects, campaign_code="DM-2", clock=_clock()
    )
    assert result.accepted == 3, result.as_json()
    with make_session_factory(engine)() as session, session.begin():
        _register(session, NIK_1, "2026-01-20")
        _register(session, NIK_2, "2026-01-25")
        _register(session, NIK_3, "2026-01-28")
        _register(session, NIK_4, "2026-02-20")
        _pay(session, NIK_1, 6, "2026-01-21", "P-1")
        _pay(session, NIK_2, 1, "2026-01-26", "P-2")
        _pay(session, NIK_3, 3, "2026-01-29", "P-3")
        campaigns.record_campaign_code(
            session, ACTOR, nik=NIK_2, campaign_code="DM-2", given_on="2026-01-25", clock=_clock()
        )
        ids = {p.nik or p.name: p.id for p in session.scalars(select(Prospect))}
        campaigns.record_contact(
            session,
            ACTOR,
            ids[NIK_B],
            outcome="unreachable",
            contacted_on="2026-01-16",
            clock=_clock(),
        )
        campaigns.record_contact(
            session,
            ACTOR,
            ids[NIK_B],
            outcome="interested",
            contacted_on="2026-01-17",
            clock=_clock(),
        )
        campaigns.record_contact(
            session,
            ACTOR,
            ids["Wati"],
            outcome="refused",
            refusal_reason="bad_luck_belief",
            contacted_on="2026-01-17",
            clock=_clock(),
        )
    return engine


def test_attribution_rules_and_precedence(scenario: Engine) -> None:
    with make_session_factory(scenario)() as session:
        sos = campaigns.attributions(session, "SOS-1")
        dm = campaigns.attributions(session, "DM-2")
    assert [(a.nik, a.rule.value, a.months_paid) for a in sos] == [(NIK_1, "time_area_window", 6)]
    assert [(a.nik, a.rule.value) for a in dm] == [
        (NIK_2, "campaign_code"),
        (NIK_3, "prospect_list"),
    ]
    assert {a.nik: a.months_paid for a in dm} == {NIK_2: 1, NIK_3: 3}


def test_funnel_counts_and_costs_exact(scenario: Engine) -> None:
    with make_session_factory(scenario)() as session:
        sos = campaigns.campaign_funnel(session, "SOS-1")
        dm = campaigns.campaign_funnel(session, "DM-2")
    assert sos["cost"] == 1_000_000
    assert sos["cost_basis"] == "actual"
    assert sos["stages"] == [
        {"stage": "reached", "count": 100, "cost_per": 10_000},
        {"stage": "interested", "count": 10, "cost_per": 100_000},
        {"stage": "registered", "count": 1, "cost_per": 1_000_000},
        {"stage": "paid_month_1", "count": 1, "cost_per": 1_000_000},
        {"stage": "retained_month_3", "count": 1, "cost_per": 1_000_000},
        {"stage": "retained_month_6", "count": 1, "cost_per": 1_000_000},
    ]
    assert sos["attribution"] == {"campaign_code": 0, "prospect_list": 0, "time_area_window": 1}
    # DM-2 reports no reach: the worklist gives reached 3 (Siti registered, Bambang interested,
    # Wati refused) and interested 2 (Siti, Bambang); cost is the budget (no actual cost yet).
    assert dm["cost"] == 600_000
    assert dm["cost_basis"] == "budget"
    assert [(s["stage"], s["count"], s["cost_per"]) for s in dm["stages"]] == [
        ("reached", 3, 200_000),
        ("interested", 2, 300_000),
        ("registered", 2, 300_000),
        ("paid_month_1", 2, 300_000),
        ("retained_month_3", 1, 600_000),
        ("retained_month_6", 0, None),
    ]
    assert dm["cost_per_retained_month_6"] is None
    assert dm["attribution"] == {"campaign_code": 1, "prospect_list": 1, "time_area_window": 0}


def test_prospect_stages_follow_the_ledger(scenario: Engine) -> None:
    with make_session_factory(scenario)() as session:
        views = campaigns.prospect_views(session, campaign_code="DM-2")
    assert {(v.name, v.stage.value, v.attempts) for v in views} == {
        ("Siti", "retained_month_3", 0),
        ("Bambang", "interested", 2),
        ("Wati", "contacted", 1),
    }
    assert stage_counts(views) == {
        "prospect": 3,
        "contacted": 3,
        "interested": 2,
        "registered": 1,
        "paid_month_1": 1,
        "retained_month_3": 1,
        "retained_month_6": 0,
    }


def test_compare_by_channel_and_segment(scenario: Engine) -> None:
    with make_session_factory(scenario)() as session:
        by_channel = campaigns.compare_funnels(session, "channel")
        by_segment = {r["segment"]: r for r in campaigns.compare_funnels(session, "segment")}
    # SOS-1 retained someone at month 6 (Rp 1.000.000 each), DM-2 nobody: SOS-1 first.
    assert [r["channel"] for r in by_channel] == ["sosialisasi_offline", "direct_marketing"]
    traders = by_segment["market-traders"]
    assert traders["cost"] == 1_600_000
    assert [s["count"] for s in traders["stages"]] == [103, 12, 3, 3, 2, 1]
    assert traders["cost_per_retained_month_6"] == 1_600_000
    assert by_segment["ojol-drivers"]["campaigns"] == ["DM-2"]


def test_prospect_dedup_across_nik_phone_and_name_variants(engine: Engine, tmp_path: Path) -> None:
    with make_session_factory(engine)() as session, session.begin():
        _register(session, NIK_1, "2026-01-20", name="Budi Santoso", phone="0812-3456-7890")
    first = _write(
        tmp_path,
        "list1.csv",
        "nik,name,phone\n"
        f"{NIK_1},Budi,\n"  # registered NIK
        ",Bapak BUDI  santoso,+62 812 3456 7890\n"  # registered by phone + name
        ",Siti Aminah,62 812-3456-7890\n"  # same phone, another person: kept
        f"{NIK_2},Ani,\n"
        f"{NIK_2},Ani Lestari,\n"  # repeated NIK in the file
        ",Ahmad,0813 9999 8888\n"
        ",H. ahmad,+6281399998888\n",  # same phone and name after normalising
    )
    result = campaigns.import_prospects(engine, ACTOR, first, clock=_clock())
    assert result.as_json() == {"accepted": 3, "duplicates": 4, "rejected": 0, "errors": []}
    again = campaigns.import_prospects(engine, ACTOR, first, clock=_clock())
    assert (again.accepted, again.duplicates) == (0, 7)
    second = _write(
        tmp_path,
        "list2.csv",
        "name,phone,nik\n"
        "Dr. Siti  AMINAH,0812.3456.7890,\n"  # on the earlier list
        f"Someone,,{NIK_2}\n"  # on the earlier list by NIK
        "Rina,0877 1234 5678,\n",
    )
    result = campaigns.import_prospects(engine, ACTOR, second, clock=_clock())
    assert (result.accepted, result.duplicates) == (1, 2)
    with make_session_factory(engine)() as session:
        names = sorted(session.scalars(select(Prospect.name)))
        audits = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "prospect.import")
        )
    assert names == ["Ahmad", "Ani", "Rina", "Siti Aminah"]
    assert audits == 3


def test_prospect_import_all_or_nothing_and_partial(
    engine: Engine, tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    path = _write(
        tmp_path,
        "bad.csv",
        "nik,name,phone,occupation\n"
        "167101010190000,Short Nik,,\n"
        ",No Contact,,\n"
        ",Good,0812 5555 6666,fisher\n"
        ",Bad Job,0812 5555 7777,astronaut\n",
    )
    out = cli("prospects", "import", str(path), "--json")
    assert out.exit_code == 1
    payload = json.loads(out.stdout)
    assert payload["accepted"] == 0
    assert payload["rejected"] == 3
    assert [(e["row"], e["field"]) for e in payload["errors"]] == [
        (1, "nik"),
        (2, "nik"),
        (4, "occupation"),
    ]
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Prospect)) == 0
    partial = cli("prospects", "import", str(path), "--partial", "--json")
    assert partial.exit_code == 1
    assert json.loads(partial.stdout)["accepted"] == 1
    missing = cli("prospects", "import", str(tmp_path / "nope.csv"), "--json")
    assert missing.exit_code == 2


def test_contact_needs_a_reason_only_when_refused(scenario: Engine) -> None:
    with make_session_factory(scenario)() as session:
        prospect_id = session.scalars(select(Prospect.id)).first()
        assert prospect_id is not None
        with pytest.raises(CakupanError) as refused:
            campaigns.record_contact(session, ACTOR, prospect_id, outcome="refused")
        assert refused.value.kind is ErrorKind.INVALID
        assert refused.value.problems[0].field == "reason"
        with pytest.raises(CakupanError):
            campaigns.record_contact(
                session, ACTOR, prospect_id, outcome="interested", refusal_reason="distrust"
            )
        with pytest.raises(CakupanError) as missing:
            campaigns.record_contact(session, ACTOR, 999_999, outcome="contacted")
        assert missing.value.kind is ErrorKind.NOT_FOUND


def test_assign_prospects_to_an_agent_and_staff(scenario: Engine) -> None:
    with make_session_factory(scenario)() as session, session.begin():
        assigned = campaigns.assign_prospects(
            session, ACTOR, to="ar.palembang", kind="staff", campaign_code="DM-2", limit=2
        )
        again = campaigns.assign_prospects(
            session, ACTOR, to="ar.palembang", kind="staff", campaign_code="DM-2"
        )
        with pytest.raises(CakupanError) as unknown:
            campaigns.assign_prospects(
                session, ACTOR, to="NOPE", kind="agent", campaign_code="DM-2"
            )
        assert unknown.value.kind is ErrorKind.NOT_FOUND
    assert (assigned, again) == (2, 1)
    with make_session_factory(scenario)() as session:
        worklist = campaigns.prospect_views(session, assigned_to="ar.palembang")
    assert len(worklist) == 3


def test_campaign_import_contract(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    path = _write(tmp_path, "c.csv", CAMPAIGNS)
    first = cli("campaigns", "import", str(path), "--json")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout) == {"accepted": 2, "duplicates": 0, "rejected": 0, "errors": []}
    again = cli("campaigns", "import", str(path), "--json")
    assert json.loads(again.stdout) == {"accepted": 0, "duplicates": 2, "rejected": 0, "errors": []}
    changed = _write(tmp_path, "c2.csv", CAMPAIGNS.replace(",600000,,", ",600000,550000,"))
    updated = cli("campaigns", "import", str(changed), "--json")
    assert json.loads(updated.stdout)["accepted"] == 1
    bad = _write(
        tmp_path,
        "bad.csv",
        "code,name,objective,type,medium,start_on,end_on,budget,segments,areas\n"
        "ADV-1,Radio,Awareness,advertising,,2026-02-01,2026-01-01,10jt,nope,18.7\n",
    )
    out = cli("campaigns", "import", str(bad), "--json")
    assert out.exit_code == 1
    fields = [e["field"] for e in json.loads(out.stdout)["errors"]]
    assert fields == ["medium", "end_on", "budget", "segments", "areas"]
    funnel = cli("campaigns", "funnel", "DM-2", "--json")
    assert funnel.exit_code == 0, funnel.stderr
    payload = json.loads(funnel.stdout)
    assert payload["campaign"] == "DM-2"
    assert payload["cost"] == 550_000
    assert [s["stage"] for s in payload["stages"]] == [
        "reached",
        "interested",
        "registered",
        "paid_month_1",
        "retained_month_3",
        "retained_month_6",
    ]
    assert cli("campaigns", "funnel", "NOPE", "--json").exit_code == 1


def test_coverage_and_targeting_ranking_reproducible(scenario: Engine, tmp_path: Path) -> None:
    potential = _write(
        tmp_path,
        "pot.csv",
        "area_code,segment,year,potential,source\n"
        "16.71.01,market-traders,2026,40,synthetic test\n"
        "16.71.02,market-traders,2026,10,synthetic test\n"
        "16.71,ojol-drivers,2026,20,synthetic test\n",
    )
    result = campaigns.import_potential(scenario, ACTOR, potential)
    assert result.accepted == 3
    as_of = date(2026, 2, 15)
    weights = load_weights()
    with make_session_factory(scenario)() as session:
        rows = {(r.segment, r.area): r for r in campaigns.coverage(session, as_of)}
        first = campaigns.rank_targets(session, as_of, weights)
        second = campaigns.rank_targets(session, as_of, weights)
    kemuning = rows[("market-traders", "16.71.01")]
    # Registered by 2026-02-15: three (NIK_4 registers on 02-20); active in February: NIK_1
    # (paid to June) and NIK_3 (to March), not NIK_2 (January only).
    assert (kemuning.registered, kemuning.active, kemuning.gap) == (3, 2, 38)
    assert kemuning.coverage_percent == 5.0
    assert [s.as_json() for s in first] == [s.as_json() for s in second]
    assert [(s.segment, s.area) for s in first] == [
        ("market-traders", "16.71.01"),
        ("ojol-drivers", "16.71"),
        ("market-traders", "16.71.02"),
    ]
    for scored in first:
        assert scored.score == sum(scored.contributions.values(), Decimal(0))
    top = first[0]
    # gap 38 is the largest -> factor 1; market-traders history: 3 registered of 103 reached,
    # 1 retained at month 6 of 3 registered.
    assert top.factors["gap"] == Decimal("1.0000")
    assert top.factors["conversion"] == Decimal("0.0291")
    assert top.factors["retention"] == Decimal("0.3333")
    assert top.contributions["gap"] == Decimal("0.4000")


def test_custom_segment_rule_selects_in_sql(
    engine: Engine, tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    definition = {
        "code": "young-women-plg",
        "name_id": "Perempuan muda Palembang",
        "name_en": "Young women in Palembang",
        "rule": {
            "all": [
                {"field": "area", "op": "in", "value": ["16.71"]},
                {"field": "sex", "op": "in", "value": ["F"]},
                {"field": "age", "op": "between", "value": [18, 35]},
                {"field": "occupation_group", "op": "in", "value": ["trade"]},
            ]
        },
        "partner_institutions": ["PKK"],
        "channels": ["community_leader_engagement"],
        "media": ["social_media"],
    }
    path = _write(tmp_path, "seg.json", json.dumps(definition))
    out = cli("segments", "define", str(path), "--json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["rule"] == definition["rule"]
    bad = dict(definition, rule={"all": [{"field": "occupation", "op": "in", "value": ["pilot"]}]})
    refused = cli("segments", "define", str(_write(tmp_path, "bad.json", json.dumps(bad))))
    assert refused.exit_code == 2
    assert "pilot" in refused.stderr
    with make_session_factory(engine)() as session, session.begin():
        _register(session, "1671014101950001", "2026-01-05")  # woman born 1995-01-01: 31
        _register(session, "1671010101950002", "2026-01-05")  # man born 1995
        _register(session, "1671014101800003", "2026-01-05")  # woman born 1980: 46
        _pay(session, "1671014101950001", 12, "2026-01-06", "Y-1")
    potential = _write(
        tmp_path,
        "pot.csv",
        "area_code,segment,year,potential,source\n16.71,young-women-plg,2026,8,synthetic test\n",
    )
    assert cli("segments", "potential", "import", str(potential), "--json").exit_code == 0
    coverage = cli("segments", "coverage", "--as-of", "2026-06-01", "--json")
    assert coverage.exit_code == 0, coverage.stderr
    assert json.loads(coverage.stdout)["rows"] == [
        {
            "segment": "young-women-plg",
            "area": "16.71",
            "year": 2026,
            "potential": 8,
            "registered": 1,
            "active": 1,
            "coverage_percent": 12.5,
            "gap": 7,
        }
    ]
    ranked = cli("targeting", "rank", "--as-of", "2026-06-01", "--json")
    assert ranked.exit_code == 0, ranked.stderr
    top = json.loads(ranked.stdout)["ranking"][0]
    assert top["rank"] == 1
    assert top["contributions"]["gap"] == "0.4000"


# -- pages -----------------------------------------------------------------------------------------

WEB_PASSWORD = "kopi-tubruk-2026"
WEB_SCOPES: dict[str, dict[str, str]] = {
    "admin": {},
    "kabid": {"branch_code": "PLG"},
    "ar": {"branch_code": "BDL"},
    "agent": {"partner_code": "WDH-01", "agent_code": "PRS-007"},
}


@pytest.fixture
def web(scenario: Engine, tmp_path: Path) -> Callable[[str], Any]:
    """The app on the scenario, with one user per role above, the agent PRS-007 (under WDH-01,
    branch PLG) and Bambang's prospect assigned to it; returns a sign-in helper."""
    from fastapi.testclient import TestClient

    from cakupan.partners.actions import NewPartner, create_partner
    from cakupan.users import create_user
    from cakupan.web import create_app

    with make_session_factory(scenario)() as session, session.begin():
        for role, scope in WEB_SCOPES.items():
            create_user(
                session,
                ACTOR,
                username=f"w.{role}",
                role=role,
                full_name=role,
                password=WEB_PASSWORD,
                **scope,
            )
        create_partner(session, ACTOR, _clock(), NewPartner("WDH-01", "Wadah", "wadah", "PLG"))
        create_partner(
            session, ACTOR, _clock(), NewPartner("PRS-007", "Agen", "perisai", None, "WDH-01")
        )
        bambang = session.scalar(select(Prospect.id).where(Prospect.nik == NIK_B))
        assert bambang is not None
        campaigns.assign_prospects(session, ACTOR, to="PRS-007", kind="agent", ids=[bambang])
    potential = _write(
        tmp_path,
        "pot.csv",
        "area_code,segment,year,potential,source\n"
        "16.71.01,market-traders,2026,40,synthetic test\n"
        "18.71.01,market-traders,2026,30,synthetic test\n",
    )
    campaigns.import_potential(scenario, ACTOR, potential)
    clients: list[TestClient] = []

    def sign_in(role: str) -> TestClient:
        client = TestClient(
            create_app(scenario, secret_key="test-secret", clock=_clock()),
            raise_server_exceptions=False,
        )
        clients.append(client)
        page = client.get("/login").text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        response = client.post(
            "/login",
            data={"csrf_token": token, "username": f"w.{role}", "password": WEB_PASSWORD},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return client

    return sign_in


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_campaign_pages_by_role(web: Callable[[str], Any]) -> None:
    admin = web("admin")
    listing = admin.get("/campaigns")
    assert listing.status_code == 200
    assert 'data-testid="funnel-SOS-1"' in listing.text
    assert "Rp 1.000.000" in listing.text
    assert "/static/js/campaign_funnel.js" in listing.text
    by_segment = admin.get("/campaigns?by=segment")
    assert 'data-testid="funnel-market-traders"' in by_segment.text
    detail = admin.get("/campaigns/DM-2")
    assert detail.status_code == 200
    assert NIK_2 in detail.text  # admin sees NIKs (audited)
    kabid = web("kabid").get("/campaigns/DM-2")
    assert kabid.status_code == 200
    assert NIK_2 not in kabid.text
    assert "1671********0002" in kabid.text
    assert web("agent").get("/campaigns").status_code == 403
    assert admin.get("/campaigns/NOPE").status_code == 404


def test_coverage_page_is_scoped_to_the_branch(web: Callable[[str], Any]) -> None:
    kabid = web("kabid").get("/segments/coverage?as_of=2026-02-15")
    assert kabid.status_code == 200
    assert 'data-testid="coverage-market-traders-16.71.01"' in kabid.text
    assert "18.71.01" not in kabid.text
    ar = web("ar").get("/segments/coverage?as_of=2026-02-15").text
    assert 'data-testid="coverage-market-traders-18.71.01"' in ar
    assert "16.71.01" not in ar


def test_prospect_worklist_scoped_and_contact_recorded(web: Callable[[str], Any]) -> None:
    agent = web("agent")
    page = agent.get("/prospects")
    assert page.status_code == 200
    assert "Bambang" in page.text
    assert "Siti" not in page.text
    assert 'href="tel:0812 1111 2222"' in page.text  # the assignee calls: phone in clear
    with make_session_factory(_engine_of(agent))() as session:
        ids = {p.name: p.id for p in session.scalars(select(Prospect))}
    posted = agent.post(
        f"/prospects/{ids['Bambang']}/contact",
        data={"csrf_token": _csrf(page.text), "outcome": "contacted", "method": "visit"},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    refused = agent.post(
        f"/prospects/{ids['Siti']}/contact",
        data={"csrf_token": _csrf(page.text), "outcome": "contacted"},
        follow_redirects=False,
    )
    assert refused.status_code == 404
    after = agent.get("/prospects").text
    assert "percobaan 3 · Terhubung" in after
    kabid = web("kabid").get("/prospects").text
    assert all(name in kabid for name in ("Bambang", "Siti", "Wati"))
    assert "0813-3333-4444" not in kabid  # masked for branch staff who are not the assignee
    assert "Bambang" not in web("ar").get("/prospects").text


def _engine_of(client: Any) -> Engine:
    engine: Engine = client.app.state.engine
    return engine


def _count_queries(engine: Engine) -> tuple[list[str], Callable[[], None]]:
    from sqlalchemy import event

    statements: list[str] = []

    def before(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", before)
    return statements, lambda: event.remove(engine, "before_cursor_execute", before)


def test_funnels_take_a_fixed_number_of_queries(scenario: Engine, tmp_path: Path) -> None:
    statements, stop = _count_queries(scenario)
    try:
        with make_session_factory(scenario)() as session:
            campaigns.funnels(session)
        few = len(statements)
        more = "".join(
            f"X-{i},Extra {i},More,event,,2026-01-0{i},2026-01-0{i},100000,,,,market-traders,16.71\n"
            for i in range(1, 8)
        )
        campaigns.import_campaigns(scenario, ACTOR, _write(tmp_path, "more.csv", CAMPAIGNS + more))
        statements.clear()
        with make_session_factory(scenario)() as session:
            result = campaigns.funnels(session)
        assert len(result) == 9
        assert len(statements) == few == 3
    finally:
        stop()


def test_prospect_import_queries_do_not_grow_with_rows(engine: Engine, tmp_path: Path) -> None:
    def file_of(rows: int, tag: str) -> Path:
        lines = "".join(
            f",Orang {tag}{i},0812 4{i:03d} {tag}{i:03d}9,16.71.01\n" for i in range(rows)
        )
        return _write(tmp_path, f"{tag}.csv", "nik,name,phone,district_code\n" + lines)

    statements, stop = _count_queries(engine)
    try:
        campaigns.import_prospects(engine, ACTOR, file_of(5, "1"), clock=_clock())
        small = len(statements)
        statements.clear()
        result = campaigns.import_prospects(engine, ACTOR, file_of(300, "2"), clock=_clock())
        assert result.accepted == 300
        assert len(statements) == small
    finally:
        stop()


def test_window_rule_at_province_and_regency_level_latest_start_wins(
    scenario: Engine, tmp_path: Path
) -> None:
    header = CAMPAIGNS.splitlines()[0]
    province_row = (
        "PROV-3,Radio Sumsel,Awareness,advertising,radio,2026-02-15,2026-02-16,900000,,,,"
        "market-traders,16,10\n"
    )
    regency_row = (
        "REG-4,Expo Palembang,Register,bazaar_expo,,2026-02-18,2026-02-19,800000,,,,"
        "market-traders,16.71,5\n"
    )
    campaigns.import_campaigns(
        scenario, ACTOR, _write(tmp_path, "p.csv", f"{header}\n{province_row}")
    )
    with make_session_factory(scenario)() as session:
        # NIK_4 registered 02-20 in 16.71.01: inside the province campaign's window (to 02-26).
        assert [(a.nik, a.rule.value) for a in campaigns.attributions(session, "PROV-3")] == [
            (NIK_4, "time_area_window")
        ]
    campaigns.import_campaigns(
        scenario, ACTOR, _write(tmp_path, "r.csv", f"{header}\n{regency_row}")
    )
    with make_session_factory(scenario)() as session:
        province = campaigns.attributions(session, "PROV-3")
        regency = campaigns.attributions(session, "REG-4")
        sos = campaigns.attributions(session, "SOS-1")
    # In both windows now: the later start (REG-4, 02-18) wins; one campaign per registration.
    assert province == []
    assert [(a.nik, a.rule.value) for a in regency] == [(NIK_4, "time_area_window")]
    assert [a.nik for a in sos] == [NIK_1]


def _sheet_rows(response: Any) -> list[tuple[Any, ...]]:
    import io

    import openpyxl

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_campaigns_and_prospects_export_as_shown(web: Callable[[str], Any]) -> None:
    """The campaign list and the prospect worklist download as XLSX (issue 17): the rows the
    page shows, codes as labels in the page's language, phones masked as on the page."""
    from datetime import datetime

    kabid = web("kabid")
    assert 'href="/campaigns/export.xlsx"' in kabid.get("/campaigns").text
    rows = _sheet_rows(kabid.get("/campaigns/export.xlsx"))
    assert rows[0][:4] == ("Kode", "Nama", "Jenis", "Media")
    by_code = {row[0]: row for row in rows[1:]}
    assert set(by_code) == {"SOS-1", "DM-2"}
    assert by_code["SOS-1"][2] == "Sosialisasi tatap muka"
    assert by_code["SOS-1"][4] == datetime(2026, 1, 5)
    assert by_code["SOS-1"][7:9] == (1_500_000, 1_000_000)
    switched = kabid.post(
        "/lang",
        data={"csrf_token": _csrf(kabid.get("/campaigns").text), "to": "en"},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    english = _sheet_rows(kabid.get("/campaigns/export.xlsx"))
    assert english[0][:3] == ("Code", "Name", "Type")
    assert web("agent").get("/campaigns/export.xlsx").status_code == 403

    page = kabid.get("/prospects?campaign=DM-2").text
    assert 'href="/prospects/export.xlsx?campaign=DM-2"' in page
    prospects = _sheet_rows(kabid.get("/prospects/export.xlsx?campaign=DM-2"))
    names = {row[0]: row for row in prospects[1:]}
    assert set(names) == {"Siti", "Bambang", "Wati"}
    assert names["Wati"][1] not in ("", "0813-3333-4444")  # masked, as on the page
    assert "*" in names["Wati"][1]
    assert names["Bambang"][4] == "PRS-007"
    agent = web("agent")
    own = _sheet_rows(agent.get("/prospects/export.xlsx?mine=1"))
    assert [(row[0], row[1]) for row in own[1:]] == [("Bambang", "0812 1111 2222")]
    assert web("ar").get("/prospects/export.xlsx").status_code == 200
    assert len(_sheet_rows(web("ar").get("/prospects/export.xlsx"))) == 1  # header only
