"""On-site registration as people type (issue 17): income "Rp 1.500.000", district and village
picked by name (search-as-you-type), redirect after POST to a printable kode penetapan slip
whose month-by-month amounts show when months differ (December 2026 discounted under PP
50/2025, January 2027 not). On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cakupan.auth import Actor, Role
from cakupan.dates import JAKARTA, FixedClock
from cakupan.db import transaction
from cakupan.formats import parse_rupiah
from cakupan.registry.models import Participant
from cakupan.users import create_user
from cakupan.web import create_app

PASSWORD = "kopi-tubruk-2026"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
NIK = "1671090101900001"


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with transaction(engine) as session:
        create_user(
            session,
            Actor.system("test"),
            username="pap.plg",
            role=Role.PAP.value,
            full_name="PAP Palembang",
            password=PASSWORD,
            branch_code="PLG",
        )
    clock = FixedClock(datetime(2026, 12, 10, 9, 0, tzinfo=JAKARTA))
    app = create_app(engine, secret_key="test", clock=clock)
    with TestClient(app, raise_server_exceptions=False) as c:
        token = _CSRF_RE.search(c.get("/login").text)
        assert token
        signed = c.post(
            "/login",
            data={"csrf_token": token.group(1), "username": "pap.plg", "password": PASSWORD},
            follow_redirects=False,
        )
        assert signed.status_code == 303
        yield c


def _form(client: TestClient, **values: str) -> dict[str, str]:
    token = _CSRF_RE.search(client.get("/participants/new").text)
    assert token
    return {
        "csrf_token": token.group(1),
        "nik": NIK,
        "name": "Sari Kemuning",
        "phone": "081234567890",
        "occupation": "market_trader",
        "reported_income": "Rp 1.000.000",
        "programs": "JKK+JKM",
        "months_to_pay": "2",
        **values,
    }


def test_parse_rupiah_as_typed() -> None:
    assert parse_rupiah("1.500.000") == 1_500_000
    assert parse_rupiah("Rp 1.500.000") == 1_500_000
    assert parse_rupiah("rp1.500.000,00") == 1_500_000
    assert parse_rupiah("1500000") == 1_500_000
    assert parse_rupiah("1,5 juta") is None
    assert parse_rupiah("1.50.000") is None


def test_area_search_as_you_type(client: TestClient) -> None:
    districts = client.get("/areas/search?level=district&district_code=kemuning").text
    assert 'value="Kemuning, Kota Palembang (16.71.09)"' in districts
    assert "Indragiri Hilir" in districts  # another Kemuning: the regency tells them apart
    villages = client.get(
        "/areas/search?level=village&village_code=sekip"
        "&district_code=Kemuning, Kota Palembang (16.71.09)"
    ).text
    assert 'value="Sekipjaya, Kemuning (16.71.09.1003)"' in villages


def test_register_by_name_redirects_to_slip_with_breakdown(
    client: TestClient, engine: Engine
) -> None:
    ambiguous = client.post("/participants/new", data=_form(client, district_code="Kemuning"))
    assert ambiguous.status_code == 422
    assert 'data-testid="error-district_code"' in ambiguous.text
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Participant)) == 0

    posted = client.post(
        "/participants/new",
        data=_form(
            client,
            district_code="Kemuning, Kota Palembang",
            village_code="Sekipjaya, Kemuning (16.71.09.1003)",
        ),
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    slip_url = posted.headers["location"]
    assert re.fullmatch(r"/participants/\d+/slip", slip_url)
    with transaction(engine) as session:
        row = session.execute(
            select(Participant.reported_income, Participant.district_code, Participant.village_code)
        ).one()
    assert tuple(row) == (1_000_000, "16.71.09", "16.71.09.1003")

    slip = client.get(slip_url)
    assert slip.status_code == 200
    html = slip.text
    # December 2026 at the discounted rate (PP 50/2025), January 2027 at the full rate.
    assert 'data-testid="amount">Rp 25.200<' in html
    december = html[html.index('data-testid="breakdown-2026-12"') :]
    assert "Des 2026" in december[: december.index("</tr>")]
    assert "Rp 8.400" in december[: december.index("</tr>")]
    january = html[html.index('data-testid="breakdown-2027-01"') :]
    assert "Rp 16.800" in january[: january.index("</tr>")]
    # A refresh of the slip registers nothing again.
    assert client.get(slip_url).status_code == 200
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Participant)) == 1


def test_counter_payment_prints_a_receipt(client: TestClient, engine: Engine) -> None:
    posted = client.post(
        "/participants/new",
        data=_form(client, district_code="16.71.09", months_to_pay="1"),
        follow_redirects=False,
    )
    assert posted.status_code == 303
    participant_id = int(posted.headers["location"].split("/")[2])
    page = client.get(f"/participants/{participant_id}").text
    assert 'data-testid="counter-payment"' in page
    token = _CSRF_RE.search(page)
    reference = re.search(r'name="reference" value="([^"]+)"', page)
    assert token
    assert reference
    wrong = client.post(
        f"/participants/{participant_id}/payments",
        data={"csrf_token": token.group(1), "reference": reference.group(1), "amount": "Rp 5.000"},
    )
    assert wrong.status_code == 422  # not a due amount: the expected amounts are named
    assert 'data-testid="problems"' in wrong.text
    form = {"csrf_token": token.group(1), "reference": reference.group(1), "amount": "Rp 8.400"}
    paid = client.post(
        f"/participants/{participant_id}/payments", data=form, follow_redirects=False
    )
    assert paid.status_code == 303
    receipt = client.get(paid.headers["location"]).text
    assert 'data-testid="receipt-amount"><strong>Rp 8.400<' in receipt
    assert "Des 2026" in receipt
    assert "Sari Kemuning" in receipt
    # the same form submitted again is the same payment, not a second one
    again = client.post(
        f"/participants/{participant_id}/payments", data=form, follow_redirects=False
    )
    assert again.headers["location"] == paid.headers["location"]
    with transaction(engine) as session:
        from cakupan.registry.models import Payment

        assert session.scalar(select(func.count()).select_from(Payment)) == 1
