"""Issue 19, defects 1 and 2 on the registration page, both engines: an ojol driver is quoted
the transport discount without choosing a sector; a business owner without JHT is refused next
to the programs field."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cakupan.dates import JAKARTA, FixedClock
from cakupan.db import transaction
from cakupan.registry.models import Participant
from cakupan.web import create_app
from tests.integration.test_dashboard import _login as login
from tests.integration.test_dashboard import build_ledger

_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    """The dashboard tests' ledger and users, the app's clock on 26 November 2026 (inside the
    PP 50/2025 windows)."""
    clock = FixedClock(datetime(2026, 11, 26, 9, 0, tzinfo=JAKARTA))
    with TestClient(
        create_app(build_ledger(engine), secret_key="test", clock=clock),
        raise_server_exceptions=False,
    ) as c:
        yield c


def _form(token: str, nik: str, occupation: str, **values: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "nik": nik,
        "name": "Peserta Halaman",
        "phone": "081234567899",
        "occupation": occupation,
        "reported_income": "1000000",
        "programs": "JKK+JKM",
        "district_code": "16.71.01",
        "months_to_pay": "5",
        "registered_on": "2026-11-20",
        **values,
    }


def test_page_derives_the_sector_and_refuses_an_owner_without_jht(
    client: TestClient, engine: Engine
) -> None:
    login(client, "ark.plg")
    match = _CSRF_RE.search(client.get("/participants/new").text)
    assert match
    token = match.group(1)
    ojol = client.post("/participants/new", data=_form(token, "1671010101900021", "online_driver"))
    assert ojol.status_code == 200, ojol.text
    # Nov 2026 - Mar 2027, transport: 5 x Rp 8.400 (other sectors: 2 x 8.400 + 3 x 16.800)
    assert "Rp 42.000" in ojol.text
    with transaction(engine) as session:
        sector = session.scalar(
            select(Participant.sector).where(Participant.nik == "1671010101900021")
        )
    assert sector == "transport"
    owner = client.post("/participants/new", data=_form(token, "1671010101900022", "umkm"))
    assert owner.status_code == 422
    assert 'data-testid="error-programs"' in owner.text
    assert "JHT" in owner.text
