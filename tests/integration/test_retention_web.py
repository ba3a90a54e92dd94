"""The retention workbench through HTTP on SQLite and PostgreSQL: the page's cards with call and
WhatsApp links for callers and masked phones for others, the outcome form, filters in the URL,
bulk assignment, the XLSX export of exactly the filtered rows, the API for partners, the backtest
page (issue 15). The app's clock reads 15 July 2025 (see test_dashboard's ledger)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine

from tests.integration.test_dashboard import (
    _CSRF_RE,
    FLOOR,
    N1,
    N2,
    N4,
    _login,
    app_client,
    build_ledger,
)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    yield from app_client(build_ledger(engine))


def _csrf(client: TestClient, path: str = "/retensi") -> str:
    match = _CSRF_RE.search(client.get(path).text)
    assert match
    return match.group(1)


def test_kabid_works_the_due_list_on_the_page(client: TestClient) -> None:
    _login(client, "kabid.plg")
    page = client.get("/retensi?list=due")
    assert page.status_code == 200, page.text
    assert 'data-testid="nav-retention"' in page.text
    assert page.text.count('data-testid="retention-row"') == 2  # N1, N2 (branch PLG)
    assert "tel:081234567891" in page.text  # N1's phone, in clear for the kabid
    assert "https://wa.me/6281234567891?text=Halo%20Satu" in page.text
    assert "Jatuh tempo bulan ini" in page.text
    # record a promise to pay: the row leaves the list until the promised day
    token = _csrf(client)
    saved = client.post(
        "/retensi/contact",
        data={
            "csrf_token": token,
            "nik": N1,
            "outcome": "promised_to_pay",
            "promised_on": "2025-07-20",
            "back": "list=due",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    after = client.get("/retensi?list=due")
    assert after.text.count('data-testid="retention-row"') == 1
    back = client.get("/retensi?list=due&as_of=2025-07-20")
    assert back.text.count('data-testid="retention-row"') == 2
    assert "Tindak lanjut hari ini" in back.text
    assert back.text.index(N1) < back.text.index(N2)  # follow-up due first
    # a refusal without its reason: the problem named, nothing written
    bad = client.post(
        "/retensi/contact",
        data={"csrf_token": token, "nik": N2, "outcome": "refused", "back": "list=due"},
    )
    assert bad.status_code == 422
    assert "alasan penolakan wajib diisi" in bad.text


def test_head_office_sees_masked_phones(client: TestClient) -> None:
    _login(client, "pusat.t")
    page = client.get("/retensi?list=due")
    assert page.text.count('data-testid="retention-row"') == 2
    assert "tel:" not in page.text
    assert "wa.me" not in page.text
    assert 'data-testid="masked-phone"' in page.text


def test_bulk_assignment_filters_and_export(client: TestClient) -> None:
    _login(client, "kabid.plg")
    token = _csrf(client)
    assigned = client.post(
        "/retensi/assign",
        data={"csrf_token": token, "owner": "ark.plg", "nik": [N1], "back": "list=due"},
        follow_redirects=False,
    )
    assert assigned.status_code == 303, assigned.text
    owned = client.get("/retensi?list=due&owner=ark.plg")
    assert owned.text.count('data-testid="retention-row"') == 1
    assert 'name="owner" value="ark.plg"' in owned.text  # the filter kept in the URL/form
    export = client.get("/retensi/export.xlsx?list=due&owner=ark.plg")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("NIK", "Nama", "Telepon")
    assert [r[0] for r in rows[1:]] == [N1]
    assert rows[1][5] == FLOOR
    assert rows[1][8] == "ark.plg"
    # the ARK now owns N1 and reads it (assigned account), with the phone
    _login(client, "ark.plg")
    mine = client.get("/retensi?list=due")
    assert "tel:081234567891" in mine.text


def test_partner_api_reads_and_writes_in_scope(client: TestClient) -> None:
    _login(client, "mitra.p1")
    listed = client.get("/api/v1/retention/worklist?list=due")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [r["nik"] for r in body["rows"]] == [N1]
    assert body["rows"][0]["phone"] == "081234567891"
    headers = {"X-CSRF-Token": _csrf(client)}
    created = client.post(
        "/api/v1/retention/contacts",
        json={"nik": N1, "outcome": "call_back"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["follow_up_on"] == "2025-07-18"
    outside = client.post(
        "/api/v1/retention/contacts", json={"nik": N4, "outcome": "no_answer"}, headers=headers
    )
    assert outside.status_code == 404
    bad = client.get("/api/v1/retention/worklist?list=lapsed")
    assert bad.status_code == 422
    assert "unpaid_registration" in bad.text


def test_backtest_page_without_a_model(client: TestClient) -> None:
    _login(client, "kabid.plg")
    page = client.get("/retensi/backtest")
    assert page.status_code == 200
    assert re.search(r'data-testid="no-model"', page.text)


def test_outcomes_page_says_it_is_not_controlled(client: TestClient) -> None:
    _login(client, "kabid.plg")
    page = client.get("/retensi/hasil?snapshot=2025-07-15")
    assert page.status_code == 200, page.text
    assert "bukan perbandingan terkendali" in page.text
    assert "Jatuh tempo bulan ini" in page.text
    api = client.get("/api/v1/retention/outcomes?snapshot=2025-07-15")
    assert api.status_code == 200
    assert api.json()["lists"][1]["list"] == "due"
