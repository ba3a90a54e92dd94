"""The operational pages through HTTP on both engines: participant search and detail (scoped,
masked, unmasking audited), on-site registration issuing a kode penetapan (errors next to their
fields), the imports page (per-row errors, nothing posted unless partial), partner detail."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cakupan.audit import AuditEntry
from cakupan.db import transaction
from cakupan.registry.models import Participant
from tests.integration.test_dashboard import N1, N4, NAMES, app_client, build_ledger
from tests.integration.test_dashboard import _login as login


@pytest.fixture
def ledger(engine: Engine) -> Engine:
    return build_ledger(engine)


@pytest.fixture
def client(ledger: Engine) -> Iterator[TestClient]:
    yield from app_client(ledger)


_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(client: TestClient, path: str) -> str:
    match = _CSRF_RE.search(client.get(path).text)
    assert match
    return match.group(1)


def test_search_is_scoped_and_masked(client: TestClient, ledger: Engine) -> None:
    login(client, "kabid.plg")
    page = client.get("/participants?q=palembang")
    assert page.status_code == 200
    assert "Satu Palembang" in page.text
    assert "Surabaya" not in page.text
    assert "1671********0001" in page.text
    assert client.get("/participants?q=surabaya").text.count('data-testid="search-row"') == 0
    # a full NIK is not a search key for a masked role
    refused = client.get(f"/participants?q={N1}")
    assert 'data-testid="problems"' in refused.text
    login(client, "pap.plg")
    found = client.get(f"/participants?q={N1}")
    assert found.text.count('data-testid="search-row"') == 1
    assert N1 in found.text
    with transaction(ledger) as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "personal_data.unmask", AuditEntry.actor == "pap.plg")
            )
            == 1
        )


def test_participant_detail_within_scope_only(client: TestClient, ledger: Engine) -> None:
    with transaction(ledger) as session:
        ids = dict(session.execute(select(Participant.nik, Participant.id)).all())
    login(client, "kabid.sby")
    page = client.get(f"/participants/{ids[N4]}")
    assert page.status_code == 200
    assert NAMES[N4] in page.text
    assert "3578********0004" in page.text
    assert "Rp 50.400" in page.text  # the January payment of three months
    assert client.get(f"/participants/{ids[N1]}").status_code == 404


def test_registration_issues_a_payment_code_and_shows_field_errors(
    client: TestClient, ledger: Engine
) -> None:
    login(client, "ark.plg")
    token = _csrf(client, "/participants/new")
    bad = client.post(
        "/participants/new",
        data={
            "csrf_token": token,
            "nik": "1671010101900",
            "name": "",
            "phone": "0812",
            "occupation": "farmer",
            "reported_income": "banyak",
            "programs": "JKK+JKM",
            "district_code": "16.71.01",
            "months_to_pay": "1",
        },
    )
    assert bad.status_code == 422
    assert 'data-testid="error-nik"' in bad.text
    assert 'data-testid="error-reported_income"' in bad.text
    ok = client.post(
        "/participants/new",
        data={
            "csrf_token": token,
            "nik": "1671010101900009",
            "name": "Sembilan Palembang",
            "phone": "081234567899",
            "occupation": "farmer",
            "reported_income": "1000000",
            "programs": "JKK+JKM",
            "district_code": "16.71.01",
            "months_to_pay": "2",
            "registered_on": "2025-07-15",
        },
    )
    assert ok.status_code == 200, ok.text
    assert 'data-testid="code"' in ok.text
    assert "Rp 33.600" in ok.text  # two months at the 2025 floor
    with transaction(ledger) as session:
        assert (
            session.scalar(
                select(Participant.branch_code).where(Participant.nik == "1671010101900009")
            )
            == "PLG"
        )


def test_import_with_a_bad_row_posts_nothing_and_lists_the_row(
    client: TestClient, ledger: Engine
) -> None:
    login(client, "pap.plg")
    token = _csrf(client, "/imports")
    csv_text = (
        "nik,name,phone,occupation,reported_income,programs,registered_on,district_code\n"
        "1671010101900011,Sebelas,081234567811,farmer,1000000,JKK+JKM,2025-07-01,16.71.01\n"
        "1671010101900012,Dua Belas,081234567812,astronaut,1000000,JKK+JKM,2025-07-01,16.71.01\n"
    )
    response = client.post(
        "/imports",
        data={"csrf_token": token, "kind": "participants"},
        files={"file": ("peserta.csv", csv_text.encode(), "text/csv")},
    )
    assert response.status_code == 200, response.text
    assert 'data-testid="nothing-posted"' in response.text
    rows = re.findall(
        r'data-testid="import-error-row"><td>(\d+)</td><td>([a-z_]+)</td>', response.text
    )
    assert rows == [("2", "occupation")]  # data rows count from 1 after the header
    with transaction(ledger) as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Participant).where(Participant.name == "Sebelas")
            )
            == 0
        )
    login(client, "mitra.p1")
    assert client.get("/imports").status_code == 403


def test_partner_detail_is_scoped(client: TestClient) -> None:
    login(client, "mitra.p1")
    page = client.get("/partners/P1/detail")
    assert page.status_code == 200
    assert "Wadah Tani Sejahtera" in page.text
    assert "A1" in page.text
    assert client.get("/partners/P2/detail").status_code == 404
