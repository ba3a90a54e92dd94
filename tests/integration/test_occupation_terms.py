"""Issue 19, defects 1 and 2 on SQLite and PostgreSQL: the contribution sector follows the
occupation (PP 50/2025 transport window), drivers registered with the wrong sector are corrected
with history and their refused payments post again; JHT is mandatory for business owners on
every registration path."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cakupan.audit.models import AuditEntry
from cakupan.auth import Actor
from cakupan.dates import JAKARTA, FixedClock, Month
from cakupan.errors import CakupanError, ErrorKind
from cakupan.integration.ratelimit import ClientLimiter
from cakupan.registry import (
    PostedPayment,
    RegistrationRow,
    change_participant,
    import_participants,
    participant_detail,
    post_payment,
    register_participant,
)
from cakupan.registry.corrections import correct_sector
from cakupan.registry.models import ParticipantTerms
from cakupan.registry.occupation_terms import jht_required, sector_for_occupation
from cakupan.web import create_app
from tests.conftest import CliResult
from tests.integration.partner_api_support import clock as api_clock
from tests.integration.partner_api_support import make_clients, registration_body
from tests.integration.partner_api_support import nik as api_nik

ACTOR = Actor.system("test")
OJOL = "1671010101900001"  # Palembang 16.71.01, man born 1990-01-01
UMKM = "1671015205850002"
Cli = Callable[..., CliResult]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2027, 12, 31, 12, 0, tzinfo=JAKARTA))


def row(nik: str = OJOL, **values: object) -> RegistrationRow:
    base: dict[str, object] = {
        "row": 1,
        "nik": nik,
        "name": "Joko Ojol",
        "phone": "081234567890",
        "occupation": "online_driver",
        "reported_income": 1_000_000,
        "programs": "JKK+JKM",
        "registered_on": "2026-12-03",
        "district_code": "16.71.01",
        "months_to_pay": 4,
    }
    base.update(values)
    return RegistrationRow(**base)  # type: ignore[arg-type]


def pay(
    session: Session, clock: FixedClock, amount: int, paid_on: str, reference: str
) -> PostedPayment:
    return post_payment(
        session,
        ACTOR,
        nik=OJOL,
        amount=amount,
        paid_on=paid_on,
        reference=reference,
        channel="bank",
        clock=clock,
    )


def test_the_shipped_mapping() -> None:
    assert sector_for_occupation("online_driver") == "transport"
    assert sector_for_occupation("driver") == "transport"
    assert sector_for_occupation("farmer") == "other"
    assert sector_for_occupation("not-listed") == "other"
    assert jht_required("umkm")
    assert jht_required("woman_microentrepreneur")
    assert not jht_required("market_trader")
    assert not jht_required("online_driver")


def test_an_ojol_driver_pays_the_transport_discount_through_march_2027(
    session: Session, clock: FixedClock
) -> None:
    registration = register_participant(session, ACTOR, row(), clock=clock)
    assert registration.payment_code is not None
    # Dec 2026 - Mar 2027 at the floor, JKK+JKM halved for transport: 4 x Rp 8.400
    assert registration.payment_code.amount == 33_600
    detail = participant_detail(session, OJOL, date(2027, 1, 1)).as_json()
    assert detail["participant"]["sector"] == "transport"
    pay(session, clock, 33_600, "2026-12-05", "OJ-1")
    assert (
        participant_detail(session, OJOL, date(2027, 3, 31)).as_json()["status"]["paid_through"]
        == "2027-03"
    )


def test_an_explicit_sector_still_overrides_the_occupation(
    session: Session, clock: FixedClock
) -> None:
    registration = register_participant(session, ACTOR, row(sector="other"), clock=clock)
    assert registration.payment_code is not None
    # others: Dec 2026 halved (Rp 8.400), full from 2027-01 (Rp 16.800)
    assert registration.payment_code.amount == 8_400 + 3 * 16_800 == 58_800


def test_correct_sector_keeps_history_and_a_refused_payment_posts_again(
    session: Session, clock: FixedClock
) -> None:
    # registered before issue 19: the default sector was `other`
    register_participant(session, ACTOR, row(sector="other", months_to_pay=1), clock=clock)
    pay(session, clock, 8_400, "2026-12-05", "OJ-DEC")  # Dec 2026: same price in both sectors
    with pytest.raises(CakupanError) as refused:
        pay(session, clock, 8_400, "2027-01-06", "OJ-JAN")  # the partner collected 8.400
    assert "16.800" in str(refused.value)
    result = correct_sector(session, ACTOR, OJOL, clock=clock)
    assert result.corrected
    assert (result.old_sector, result.new_sector) == ("other", "transport")
    assert result.effective_month == Month(2027, 1)
    assert result.overpaid_months == ()
    posted = pay(session, clock, 8_400, "2027-01-06", "OJ-JAN")  # the same reference, again
    assert str(posted.paid_through) == "2027-01"
    terms = session.execute(
        select(ParticipantTerms.effective_month, ParticipantTerms.sector)
        .where(ParticipantTerms.participant_id == select_id(session))
        .order_by(ParticipantTerms.effective_month)
    ).all()
    assert [(str(m), s) for m, s in terms] == [("2026-12", "other"), ("2027-01", "transport")]
    history = participant_detail(session, OJOL, date(2027, 1, 31)).as_json()["history"]
    assert [
        (h["field"], h["old_value"], h["new_value"], h["effective_month"]) for h in history
    ] == [("sector", "other", "transport", "2027-01")]
    audit = session.execute(
        select(AuditEntry).where(AuditEntry.action == "participant.correct_sector")
    ).scalar_one()
    assert audit.after is not None
    assert audit.after["effective_month"] == "2027-01"
    assert "PP 50/2025" in audit.after["source"]
    again = correct_sector(session, ACTOR, OJOL, clock=clock)
    assert not again.corrected  # idempotent


def select_id(session: Session) -> int:
    from cakupan.registry.models import Participant

    return int(session.execute(select(Participant.id).where(Participant.nik == OJOL)).scalar_one())


def test_correct_sector_reports_months_paid_above_the_transport_price(
    session: Session, clock: FixedClock
) -> None:
    register_participant(
        session,
        ACTOR,
        row(sector="other", registered_on="2026-01-10", months_to_pay=1),
        clock=clock,
    )
    pay(session, clock, 16_800, "2026-01-12", "OJ-2026-01")  # Jan 2026: others paid in full
    result = correct_sector(session, ACTOR, OJOL, clock=clock)
    assert result.effective_month == Month(2026, 2)
    assert [m.as_json() for m in result.overpaid_months] == [
        {"month": "2026-01", "paid": 16_800, "corrected": 8_400}
    ]
    assert result.as_json()["overpaid_total"] == 8_400


def test_a_business_owner_without_jht_is_refused(session: Session, clock: FixedClock) -> None:
    with pytest.raises(CakupanError) as caught:
        register_participant(
            session, ACTOR, row(UMKM, occupation="umkm", name="Siti Usaha"), clock=clock
        )
    assert caught.value.kind is ErrorKind.INVALID
    fields = [p.field for p in caught.value.problems]
    assert fields == ["programs"]
    assert "Permenaker 5/2021" in str(caught.value.problems[0].message)
    ok = register_participant(
        session,
        ACTOR,
        row(UMKM, occupation="umkm", name="Siti Usaha", programs="JKK+JKM+JHT"),
        clock=clock,
    )
    assert ok.episode_no == 1
    with pytest.raises(CakupanError) as change:
        change_participant(
            session,
            ACTOR,
            UMKM,
            effective_month=Month(2027, 6),
            changes={"programs": "JKK+JKM"},
            clock=clock,
        )
    assert [p.field for p in change.value.problems] == ["programs"]


def test_cli_import_and_correction_commands(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    base = (
        "participants",
        "register",
        "--name",
        "Joko",
        "--phone",
        "081234567890",
        "--income",
        "1000000",
        "--registered-on",
        "2026-01-10",  # in the past whatever today is (the command runs on the system clock)
        "--district",
        "16.71.01",
        "--json",
    )
    result = cli(*base, "--nik", OJOL, "--occupation", "online_driver", "--months", "3")
    assert result.exit_code == 0, result.stderr
    # Jan-Mar 2026: transport halved (3 x Rp 8.400); the other sectors paid Rp 16.800 then
    assert json.loads(result.stdout)["payment_code"]["amount"] == 25_200
    owner = cli(*base, "--nik", UMKM, "--occupation", "umkm")
    assert owner.exit_code == 2
    assert owner.stdout == ""
    assert "JHT" in owner.stderr
    assert "programs" in owner.stderr
    # a file of registrations: the owner row without JHT is rejected by row and field
    header = "nik,name,phone,occupation,reported_income,programs,registered_on,district_code"
    lines = [
        f"{UMKM},Siti Usaha,081234567890,umkm,1000000,JKK+JKM,2026-01-10,16.71.01",
        "1671010101900003,Budi Sopir,081234567890,driver,1000000,JKK+JKM,2026-01-10,16.71.01",
    ]
    path = tmp_path / "people.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    outcome = import_participants(engine, ACTOR, path, partial=True)
    assert (outcome.accepted, outcome.rejected) == (1, 1)
    assert [(e.row, e.field) for e in outcome.errors] == [(1, "programs")]
    # a driver registered with the old default (`other`) is found and corrected by --all
    wrong = cli(*base, "--nik", "1671010101900004", "--occupation", "driver", "--sector", "other")
    assert wrong.exit_code == 0, wrong.stderr
    fixed = cli("participants", "correct-sector", "--all", "--json")
    assert fixed.exit_code == 0, fixed.stderr
    body = json.loads(fixed.stdout)
    assert body["corrected"] == 1
    assert [(p["nik"], p["effective_month"]) for p in body["participants"]] == [
        ("1671010101900004", "2026-01")
    ]
    assert cli("participants", "correct-sector", "--json").exit_code == 2
    assert cli("participants", "correct-sector", "1671019999990001", "--json").exit_code == 1


def test_partner_api_derives_the_sector_and_refuses_an_owner_without_jht(engine: Engine) -> None:
    tokens = make_clients(engine)
    app = create_app(engine, secret_key="test-secret", clock=api_clock())
    app.state.partner_api_limiter = ClientLimiter(rate=10_000, burst=10_000)
    headers = {"Authorization": f"Bearer {tokens['mitra.a']}"}
    with TestClient(app, raise_server_exceptions=False) as client:
        quote = client.post(
            "/api/v1/registrations/quote",
            json={
                "nik": api_nik(1),
                "reported_income": 1_000_000,
                "programs": "JKK+JKM",
                "months": 5,
                "start_month": "2026-11",
                "occupation": "online_driver",
            },
            headers=headers,
        )
        assert quote.status_code == 200, quote.text
        assert quote.json()["total"] == 5 * 8_400  # Nov 2026 - Mar 2027, transport
        created = client.post(
            "/api/v1/registrations",
            json=registration_body(1, occupation="online_driver", months_to_pay=5),
            headers=headers,
        )
        assert created.status_code == 201, created.text
        assert created.json()["amount"] == 42_000  # others: Rp 67.200
        owner = client.post(
            "/api/v1/registrations",
            json=registration_body(2, occupation="umkm"),
            headers=headers,
        )
        assert owner.status_code == 422, owner.text
        problem = owner.json()
        assert [e["field"] for e in problem["errors"]] == ["programs"]
        assert "JHT" in problem["errors"][0]["message"]
