"""The targets pages (printable report and reviews, XLSX downloads) through HTTP, on SQLite and
PostgreSQL, with office scoping."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cakupan.auth import Actor, Role
from cakupan.db import transaction
from cakupan.targets import actions
from cakupan.targets.examples import EXAMPLE_FILES
from cakupan.users import create_user
from cakupan.web import create_app

PASSWORD = "kopi-tubruk-2026"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
USERS = {
    "kabid.plg": (Role.KABID, {"branch_code": "PLG"}),
    "kabid.bdl": (Role.KABID, {"branch_code": "BDL"}),
}


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    system = Actor.system("test")
    with transaction(engine) as session:
        for username, (role, scope) in USERS.items():
            create_user(
                session,
                system,
                username=username,
                role=role.value,
                full_name=username,
                password=PASSWORD,
                **scope,
            )
    actions.import_figures(engine, system, EXAMPLE_FILES[0])
    with transaction(engine) as session:
        review = actions.open_review(session, system, "PLG", date(2026, 11, 23), date(2026, 11, 27))
        actions.add_note(session, system, review.id, "problem", "Iuran pedagang pasar menunggak")
        actions.raise_action(
            session, system, review.id, "Surat ke paguyuban", "ARK01", date(2026, 11, 27)
        )
    with TestClient(create_app(engine, secret_key="test"), raise_server_exceptions=False) as c:
        yield c


def _login(client: TestClient, username: str) -> None:
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
    assert response.status_code == 303


def test_report_page_shows_conflicts_and_downloads_xlsx(client: TestClient) -> None:
    _login(client, "kabid.plg")
    page = client.get("/targets?office=PLG&year=2018")
    assert page.status_code == 200
    html = page.text
    assert "Target vs realisasi" in html
    bpu = html[html.index('data-testid="row-BPU-new_participants"') :]
    bpu = bpu[: bpu.index("</tr>")]
    assert "Konflik" in bpu
    assert "42.859 (001 Agustini &amp; Putra 2022 (text))" in bpu
    assert "42.869" in bpu
    pu = html[html.index('data-testid="row-PU-new_participants"') :]
    # one number format everywhere (Babel id_ID): "65,5%", as the KPI cards
    assert "65,5%" in pu[: pu.index("</tr>")]
    xlsx = client.get("/targets/export.xlsx?office=PLG&year=2018")
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["Target vs Realisasi"]
    assert sheet.cell(1, 7).value == "Realisasi"


def test_pages_are_scoped_to_the_office(client: TestClient) -> None:
    _login(client, "kabid.bdl")
    assert client.get("/targets?office=PLG&year=2018").status_code == 403
    assert client.get("/targets/export.xlsx?office=PLG&year=2018").status_code == 403
    own = client.get("/targets")  # defaults to the actor's branch and the current year
    assert own.status_code == 200
    assert "BDL" in own.text
    assert client.get("/reviews?office=PLG").status_code == 403


def test_review_pages(client: TestClient) -> None:
    _login(client, "kabid.plg")
    listing = client.get("/reviews")
    assert listing.status_code == 200
    link = re.search(r'href="/reviews/(\d+)"', listing.text)
    assert link
    page = client.get(f"/reviews/{link.group(1)}")
    assert page.status_code == 200
    assert "Iuran pedagang pasar menunggak" in page.text
    assert "Surat ke paguyuban" in page.text
    assert "23 November 2026" in page.text
    xlsx = client.get(f"/reviews/{link.group(1)}/export.xlsx")
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["Ringkasan", "Catatan", "Tindak Lanjut", "Penilaian"]
    assert client.get("/reviews/999999").status_code == 404
