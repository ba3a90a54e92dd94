"""Incentive statements over HTTP (pages, exports, the workflow API) and the
``incentive_statement.approved`` webhook, on SQLite and PostgreSQL, with scoping: a kabid sees
and approves its branch's statements; a partner sees its own (and its agents') and cannot
approve; another partner sees nothing of them."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cakupan.audit import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.dates import JAKARTA, FixedClock, Month
from cakupan.db import transaction
from cakupan.errors import CakupanError, ErrorKind
from cakupan.incentives.actions import run_period, set_statement_status
from cakupan.incentives.models import IncentiveStatement
from cakupan.integration.models import WebhookEvent, WebhookSubscription
from cakupan.users import create_user, issue_token
from cakupan.web import create_app
from tests.integration.test_incentives_run import ACTOR, JHT, MONTH, NO_JHT, Cli, Ledger

PASSWORD = "kopi-tubruk-2026"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=JAKARTA)
USERS: dict[str, tuple[Role, dict[str, str]]] = {
    "kabid.plg": (Role.KABID, {"branch_code": "PLG"}),
    "kabid.smg": (Role.KABID, {"branch_code": "SMG"}),
    "ark.plg": (Role.ARK, {"branch_code": "PLG"}),
    "mitra.w1": (Role.PARTNER, {"partner_code": "W1"}),
    "mitra.k1": (Role.PARTNER, {"partner_code": "K1"}),
    "head": (Role.HEAD_OFFICE, {}),
}
NETWORK = """code,name,kind,parent_code,branch_code,scheme,commission_rate,valid_from,valid_to
W1,Wadah Pasar,wadah,,PLG,komunitas-2024,,2024-01-01,
P1,Perisai Komunitas,perisai,W1,PLG,komunitas-2024,,2024-01-01,
K1,Koperasi Korporasi,korporasi,,PLG,korporasi-2024,2.5,2024-01-01,
B3,BRILink Tiga,brilink,,SMG,brilink-2024,,2024-01-01,
"""


class Site:
    """The app with the January 2025 statements run: P1 Rp 4.000 (milestone 1 with JHT),
    K1 commission Rp 908 (36,300 x 2.5%), B3 fees only; W1 subscribes to webhooks."""

    def __init__(self, engine: Engine, nik: str, tokens: dict[str, str]) -> None:
        self.engine = engine
        self.nik = nik
        self.tokens = tokens
        self.ids: dict[str, int] = {}
        with transaction(engine) as session:
            for row in session.scalars(select(IncentiveStatement)):
                self.ids[row.partner_code] = row.id

    def status(self, code: str) -> str:
        with transaction(self.engine) as session:
            row = session.get(IncentiveStatement, self.ids[code])
            assert row is not None
            return row.status

    def events(self) -> list[WebhookEvent]:
        with transaction(self.engine) as session:
            rows = list(session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))
            session.expunge_all()
            return rows

    def audit_count(self, action: str) -> int:
        with transaction(self.engine) as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
                )
                or 0
            )


@pytest.fixture
def site(engine: Engine, cli: Cli, tmp_path: Path) -> Site:
    path = tmp_path / "network.csv"
    path.write_text(NETWORK, encoding="utf-8")
    imported = cli("partners", "import", str(path), "--json")
    assert imported.exit_code == 0, imported.stdout + imported.stderr
    ledger = Ledger(engine)
    nik = ledger.register("2025-01-05", JHT, partner="W1", agent="P1")
    ledger.pay(nik, MONTH[JHT], "2025-01-10", "J-1")
    corporate = ledger.register("2025-01-06", NO_JHT, partner="K1", income=3_000_000)
    ledger.pay(corporate, 36_300, "2025-01-11", "K-1")
    ledger.register("2025-01-07", NO_JHT, partner="B3")
    tokens: dict[str, str] = {}
    with transaction(engine) as session:
        run_period(session, ACTOR, FixedClock(NOW), Month(2025, 1))
        for username, (role, scope) in USERS.items():
            user = create_user(
                session,
                ACTOR,
                username=username,
                role=role.value,
                full_name=username,
                password=PASSWORD,
                **scope,
            )
            tokens[username] = issue_token(session, ACTOR, user.user.id, "test").plain
        session.add(
            WebhookSubscription(
                partner_code="W1",
                url="https://mitra.example/hook",
                secret="whsec_test",
                events=["incentive_statement.approved"],
                active=True,
                created_at=NOW,
                created_by="test",
            )
        )
    return Site(engine, nik, tokens)


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    app = create_app(site.engine, secret_key="test", clock=FixedClock(NOW))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _login(client: TestClient, username: str) -> str:
    match = _CSRF_RE.search(client.get("/login").text)
    assert match
    response = client.post(
        "/login",
        data={"csrf_token": match.group(1), "username": username, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get("/incentives/statements")
    token = _CSRF_RE.search(page.text)
    assert token
    return token.group(1)


def _listed(client: TestClient, query: str = "") -> set[str]:
    page = client.get(f"/incentives/statements{query}")
    assert page.status_code == 200
    return set(re.findall(r'data-testid="statement-([A-Z0-9]+)-2025-01"', page.text))


def test_list_is_scoped_and_filtered(site: Site, client: TestClient) -> None:
    _login(client, "kabid.plg")
    assert _listed(client) == {"P1", "K1"}  # B3 is in SMG; W1's statement is empty (not stored)
    assert _listed(client, "?scheme=korporasi-2024") == {"K1"}
    assert _listed(client, "?partner=p") == {"P1"}
    assert _listed(client, "?status=approved") == set()
    assert _listed(client, "?period=2025-02") == set()
    assert client.get("/incentives/statements?period=2025-13").status_code == 422
    client.cookies.clear()
    _login(client, "kabid.smg")
    assert _listed(client) == {"B3"}
    client.cookies.clear()
    _login(client, "mitra.w1")
    assert _listed(client) == {"P1"}  # its agent's statement
    client.cookies.clear()
    _login(client, "mitra.k1")
    assert _listed(client) == {"K1"}
    client.cookies.clear()
    _login(client, "head")
    assert _listed(client) == {"P1", "K1", "B3"}


def test_detail_shows_rupiah_masked_niks_and_the_allowed_actions(
    site: Site, client: TestClient
) -> None:
    _login(client, "mitra.w1")
    page = client.get(f"/incentives/statements/{site.ids['P1']}")
    assert page.status_code == 200
    html = page.text
    assert 'data-testid="statement-total">Rp 4.000<' in html
    assert site.nik not in html
    assert f"{site.nik[:4]}********{site.nik[-4:]}" in html
    assert "Iuran bulan ke-1 terbayar" in html
    assert 'data-testid="action-approved"' not in html  # a partner cannot approve
    assert 'data-testid="action-disputed"' in html  # but may dispute its own statement
    assert client.get(f"/incentives/statements/{site.ids['K1']}").status_code == 404
    client.cookies.clear()
    _login(client, "kabid.plg")
    html = client.get(f"/incentives/statements/{site.ids['K1']}").text
    assert 'data-testid="statement-total">Rp 908<' in html
    assert 'data-testid="action-approved"' in html
    csrf = _CSRF_RE.search(html)
    assert csrf
    url = f"/incentives/statements/{site.ids['K1']}"
    english = client.post("/lang", data={"csrf_token": csrf.group(1), "to": "en", "next": url})
    assert english.status_code == 200
    h1 = english.text[english.text.index("<h1") : english.text.index("</h1>")]
    assert "Incentive statement · K1 · Jan 2025" in h1, h1
    assert ">Commission<" in english.text
    assert 'data-testid="action-approved">Approve<' in english.text


def test_kabid_approves_partner_cannot_and_the_webhook_follows(
    site: Site, client: TestClient
) -> None:
    csrf = _login(client, "mitra.w1")
    url = f"/incentives/statements/{site.ids['P1']}/status"
    refused = client.post(url, data={"csrf_token": csrf, "to": "approved"}, follow_redirects=False)
    assert refused.status_code == 403
    assert site.status("P1") == "draft"
    assert site.events() == []  # nothing is written when the approval is refused
    no_csrf = client.post(url, data={"to": "approved"}, follow_redirects=False)
    assert no_csrf.status_code == 403
    client.cookies.clear()
    csrf = _login(client, "kabid.smg")  # another branch: the statement does not exist for it
    other = client.post(url, data={"csrf_token": csrf, "to": "approved"}, follow_redirects=False)
    assert other.status_code == 404
    client.cookies.clear()
    csrf = _login(client, "ark.plg")  # the branch, but not the head of membership
    ark = client.post(url, data={"csrf_token": csrf, "to": "approved"}, follow_redirects=False)
    assert ark.status_code == 403
    assert site.status("P1") == "draft"
    assert site.audit_count("incentives.statement.approved") == 0

    client.cookies.clear()
    csrf = _login(client, "kabid.plg")
    done = client.post(url, data={"csrf_token": csrf, "to": "approved"}, follow_redirects=False)
    assert done.status_code == 303
    assert site.status("P1") == "approved"
    assert site.audit_count("incentives.statement.approved") == 1
    events = site.events()
    assert [(e.partner_code, e.event_type) for e in events] == [
        ("W1", "incentive_statement.approved")
    ]  # P1 does not subscribe; its Wadah W1 does
    data: dict[str, Any] = events[0].payload["data"]
    assert data == {
        "statement_id": site.ids["P1"],
        "period": "2025-01",
        "partner_code": "P1",
        "scheme": "komunitas-2024",
        "scheme_version": 1,
        "total": 4_000,
        "approved_at": NOW.isoformat(),
    }
    html = client.get(done.headers["location"]).text
    assert 'data-testid="statement-status">Disetujui<' in html
    assert 'data-testid="action-paid"' in html
    # A second approval is a conflict, shown on the page; nothing more is written.
    again = client.post(url, data={"csrf_token": csrf, "to": "approved"}, follow_redirects=False)
    assert again.status_code == 409
    assert 'data-testid="problems"' in again.text
    assert len(site.events()) == 1
    paid = client.post(url, data={"csrf_token": csrf, "to": "paid"}, follow_redirects=False)
    assert paid.status_code == 303
    assert site.status("P1") == "paid"


def test_dispute_needs_a_reason_and_reopen(site: Site, client: TestClient) -> None:
    csrf = _login(client, "mitra.k1")
    url = f"/incentives/statements/{site.ids['K1']}/status"
    empty = client.post(url, data={"csrf_token": csrf, "to": "disputed", "reason": " "})
    assert empty.status_code == 422
    assert site.status("K1") == "draft"
    disputed = client.post(
        url,
        data={"csrf_token": csrf, "to": "disputed", "reason": "Komisi K-1 kurang"},
        follow_redirects=False,
    )
    assert disputed.status_code == 303
    html = client.get(f"/incentives/statements/{site.ids['K1']}").text
    assert 'data-testid="statement-reason">Komisi K-1 kurang<' in html
    assert 'data-testid="action-draft"' not in html  # reopening is the head of membership's
    client.cookies.clear()
    csrf = _login(client, "kabid.plg")
    reopened = client.post(url, data={"csrf_token": csrf, "to": "draft"}, follow_redirects=False)
    assert reopened.status_code == 303
    assert site.status("K1") == "draft"


def test_exports_are_scoped_and_mask_niks(site: Site, client: TestClient) -> None:
    _login(client, "mitra.w1")
    xlsx = client.get(f"/incentives/statements/{site.ids['P1']}/export.xlsx")
    assert xlsx.status_code == 200
    assert "insentif-P1-2025-01-komunitas-2024.xlsx" in xlsx.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row if cell]
    assert f"{site.nik[:4]}********{site.nik[-4:]}" in values
    assert site.nik not in values
    assert 4_000 in values
    pdf = client.get(f"/incentives/statements/{site.ids['P1']}/export.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert client.get(f"/incentives/statements/{site.ids['K1']}/export.pdf").status_code == 404
    assert client.get(f"/incentives/statements/{site.ids['P1']}/export.csv").status_code == 422


def test_menu_links_to_the_statements(site: Site, client: TestClient) -> None:
    _login(client, "mitra.k1")
    assert 'href="/incentives/statements" data-testid="nav-incentives"' in client.get("/").text


def _api(client: TestClient, site: Site, who: str, method: str, path: str, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {site.tokens[who]}"}
    return client.request(method, f"/api/v1/incentives{path}", headers=headers, **kw)


def test_api_workflow_is_scoped_idempotent_and_sends_the_event(
    site: Site, client: TestClient
) -> None:
    statement = f"/statements/{site.ids['P1']}"
    read = _api(client, site, "mitra.w1", "GET", statement)
    assert read.status_code == 200
    assert (read.json()["total"], read.json()["status"]) == (4_000, "draft")
    assert _api(client, site, "mitra.k1", "GET", statement).status_code == 404
    refused = _api(client, site, "mitra.w1", "POST", f"{statement}/approve")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert site.events() == []

    approved = _api(client, site, "kabid.plg", "POST", f"{statement}/approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    retry = _api(client, site, "kabid.plg", "POST", f"{statement}/approve")
    assert retry.status_code == 200
    assert retry.json() == approved.json()
    assert site.audit_count("incentives.statement.approved") == 1
    assert len(site.events()) == 1  # one event, not one per retry
    paid = _api(client, site, "head", "POST", f"{statement}/pay")
    assert paid.json()["status"] == "paid"
    assert _api(client, site, "head", "POST", f"{statement}/pay").status_code == 200
    late = _api(client, site, "head", "POST", f"{statement}/dispute", json={"reason": "salah"})
    assert late.status_code == 409  # a paid statement is final

    corporate = f"/statements/{site.ids['K1']}"
    no_reason = _api(client, site, "mitra.k1", "POST", f"{corporate}/dispute", json={})
    assert no_reason.status_code == 422
    disputed = _api(
        client, site, "mitra.k1", "POST", f"{corporate}/dispute", json={"reason": "kurang"}
    )
    assert (disputed.json()["status"], disputed.json()["status_reason"]) == ("disputed", "kurang")
    assert _api(client, site, "mitra.k1", "POST", f"{corporate}/reopen").status_code == 403
    reopened = _api(client, site, "kabid.plg", "POST", f"{corporate}/reopen")
    assert reopened.json()["status"] == "draft"


def test_approval_event_is_written_in_the_approval_transaction(site: Site) -> None:
    kabid = Actor("kabid.plg", Role.KABID, branch_code="PLG")
    clock = FixedClock(NOW)
    session = Session(site.engine)
    try:
        set_statement_status(
            session, kabid, clock, Month(2025, 1), "P1", "komunitas-2024", "approved"
        )
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 1
        session.rollback()  # the caller fails after the approval: both go
    finally:
        session.close()
    assert site.events() == []  # rolled back together
    assert site.status("P1") == "draft"
    with transaction(site.engine) as session, pytest.raises(CakupanError) as denied:
        set_statement_status(
            session,
            Actor("kabid.smg", Role.KABID, branch_code="SMG"),
            clock,
            Month(2025, 1),
            "P1",
            "komunitas-2024",
            "approved",
        )
    assert denied.value.kind is ErrorKind.NOT_FOUND
    assert site.events() == []


def test_approve_many_at_once_all_or_nothing(site: Site, client: TestClient) -> None:
    """The head of membership ticks several drafts and approves them in one go (issue 17): each
    approval audited; a tick the user may not act on (another branch's statement) approves
    nothing; a branch officer who is not the head cannot."""
    csrf = _login(client, "ark.plg")
    refused = client.post(
        "/incentives/statements/approve",
        data={"csrf_token": csrf, "statement": [str(site.ids["P1"])]},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert site.status("P1") == "draft"

    client.cookies.clear()
    csrf = _login(client, "kabid.plg")
    listing = client.get("/incentives/statements?status=draft").text
    ticks = re.findall(r'name="statement" value="(\d+)"', listing)
    assert str(site.ids["P1"]) in ticks
    assert 'data-testid="approve-selected"' in listing
    outside = client.post(
        "/incentives/statements/approve",
        data={"csrf_token": csrf, "statement": [*ticks, str(max(site.ids.values()) + 1000)]},
        follow_redirects=False,
    )
    assert outside.status_code == 404
    assert site.status("P1") == "draft"  # all or nothing
    assert site.audit_count("incentives.statement.approved") == 0

    done = client.post(
        "/incentives/statements/approve",
        data={"csrf_token": csrf, "statement": ticks, "back": "?status=draft"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/incentives/statements?status=draft&approved={len(ticks)}"
    assert site.status("P1") == "approved"
    assert site.audit_count("incentives.statement.approved") == len(ticks)
    assert 'data-testid="approved-many"' in client.get(done.headers["location"]).text


def test_statement_lines_name_the_participant(site: Site, client: TestClient) -> None:
    _login(client, "kabid.plg")
    html = client.get(f"/incentives/statements/{site.ids['P1']}").text
    names = re.findall(r'data-testid="line-name">([^<]+)<', html)
    assert names
    assert all(name.strip() not in {"", "–"} for name in names)


def _picker(client: TestClient) -> list[str]:
    page = client.get("/incentives/statements").text
    if 'data-testid="filter-partner"' not in page:
        return []
    picker = page[page.index('data-testid="filter-partner"') :]
    return re.findall(r'option value="([^"]+)"', picker[: picker.index("</select>")])


def test_partner_picker_is_scoped(site: Site, client: TestClient) -> None:
    """Partners are picked by name among those with statements the actor may read (issue 17):
    the kabid its branch's, head office all; a partner with one statement gets no picker."""
    _login(client, "kabid.plg")
    assert sorted(_picker(client)) == ["K1", "P1"]
    page = client.get("/incentives/statements?partner=P1").text
    assert re.search(r'<option value="P1" selected>[^<]+\(P1\)</option>', page)
    assert _listed(client, "?partner=P1") == {"P1"}  # a picked code matches itself only
    client.cookies.clear()
    _login(client, "head")
    assert sorted(_picker(client)) == ["B3", "K1", "P1"]
    client.cookies.clear()
    _login(client, "mitra.k1")
    assert _picker(client) == []
