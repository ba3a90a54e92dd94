"""Claims through HTTP on SQLite and PostgreSQL: the intake form, documents and workflow buttons
by role, the claimant's partner following the status, scoping of pages and documents, the
partner API (submission, status, upload) and the benefits-paid figure."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cakupan.auth import Actor, Role
from cakupan.campaigns import import_campaigns
from cakupan.claims.queries import benefits_paid
from cakupan.dates import Month
from cakupan.db import make_session_factory, transaction
from cakupan.users import create_user, issue_token, user_by_username
from cakupan.web import create_app
from tests.integration.test_claims import (
    BUDI,
    EKO,
    PDF,
    SITI,
    SYSTEM,
    clock_at,
    ledger,  # noqa: F401  (fixture)
)

PASSWORD = "kopi-tubruk-2026"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
USERS = {
    "pap.plg": (Role.PAP, {"branch_code": "PLG"}),
    "kabid.plg": (Role.KABID, {"branch_code": "PLG"}),
    "pap.bdl": (Role.PAP, {"branch_code": "BDL"}),
    "wdh1": (Role.PARTNER, {"partner_code": "WDH1"}),
    "wdh2": (Role.PARTNER, {"partner_code": "WDH2"}),
}


@pytest.fixture
def app_engine(ledger: Engine) -> Engine:  # noqa: F811
    with transaction(ledger) as session:
        for username, (role, scope) in USERS.items():
            create_user(
                session, SYSTEM, username=username, role=role.value, full_name=username,
                password=PASSWORD, **scope,
            )  # fmt: skip
    return ledger


@pytest.fixture
def client(app_engine: Engine) -> Iterator[TestClient]:
    app = create_app(app_engine, secret_key="test", clock=clock_at("2026-06-01"))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def login(client: TestClient, username: str) -> str:
    client.cookies.clear()
    match = _CSRF_RE.search(client.get("/login").text)
    assert match
    response = client.post(
        "/login",
        data={"csrf_token": match.group(1), "username": username, "password": PASSWORD,
              "next": "/"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    return csrf(client, "/claims")


def csrf(client: TestClient, url: str) -> str:
    match = _CSRF_RE.search(client.get(url).text)
    assert match, url
    return match.group(1)


FORM = {
    "claim_type": "jkm", "nik": BUDI, "event_date": "2026-03-20", "cause": "",
    "jht_reason": "", "claimant_name": "Siti Aminah", "claimant_nik": SITI,
    "relation": "spouse", "bank_name": "BRI", "bank_account": "012345678901",
    "bank_account_holder": "Siti Aminah",
}  # fmt: skip


def _campaign_file(folder: Path, story: str) -> Path:
    path = folder / "campaigns.csv"
    path.write_text(
        "code,name,objective,type,medium,start_on,end_on,budget,reached,interested,segments,"
        "areas,branch_code,stories\n"
        "E2E-KISAH,Sosialisasi nelayan,Daftarkan nelayan,sosialisasi_offline,,2026-06-01,"
        f"2026-06-02,1000000,50,10,market-traders,16.71.01,PLG,{story}\n",
        encoding="utf-8",
    )
    return path


def test_intake_documents_workflow_and_partner_status(
    client: TestClient, app_engine: Engine, tmp_path: Path
) -> None:
    engine = app_engine
    token = login(client, "pap.plg")
    form = client.get("/claims/new")
    assert form.status_code == 200
    bad = client.post("/claims/new", data={**FORM, "relation": "cousin", "csrf_token": token})
    assert bad.status_code == 422
    assert 'data-testid="error-relation"' in bad.text
    created = client.post("/claims/new", data={**FORM, "csrf_token": token}, follow_redirects=False)
    assert created.status_code == 303
    url = created.headers["location"]
    claim_id = int(url.rsplit("/", 1)[1])
    page = client.get(url)
    assert "Rp 10.000.000" in page.text
    assert 'data-testid="to-verified"' in page.text
    assert 'data-testid="to-approved"' not in page.text  # PAP does not approve
    token = csrf(client, url)
    refused = client.post(f"{url}/advance", data={"to": "verified", "csrf_token": token})
    assert refused.status_code == 422
    assert "marriage_book" in refused.text
    wrong = client.post(
        f"{url}/documents", data={"kind": "ktp", "csrf_token": token},
        files={"file": ("ktp.pdf", b"GIF89a not a pdf", "application/pdf")},
    )  # fmt: skip
    assert wrong.status_code == 422
    for kind in ("death_certificate", "heir_letter", "ktp", "family_card", "membership_card",
                 "marriage_book", "bank_book"):  # fmt: skip
        done = client.post(
            f"{url}/documents", data={"kind": kind, "csrf_token": token},
            files={"file": (f"{kind}.pdf", PDF + kind.encode(), "application/pdf")},
            follow_redirects=False,
        )  # fmt: skip
        assert done.status_code == 303, done.text
    assert client.post(f"{url}/advance", data={"to": "verified", "csrf_token": token},
                       follow_redirects=False).status_code == 303  # fmt: skip
    token = login(client, "kabid.plg")
    page = client.get(url)
    assert 'data-testid="to-approved"' in page.text
    assert client.post(f"{url}/advance", data={"to": "approved", "csrf_token": token},
                       follow_redirects=False).status_code == 303  # fmt: skip
    token = login(client, "pap.plg")
    paid = client.post(
        f"{url}/advance", data={"to": "paid", "payment_reference": "TRF-77", "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert paid.status_code == 303
    # The paid claim becomes a benefit story: consent recorded, no personal numbers.
    token = csrf(client, url)
    story = {
        "title": "Santunan untuk keluarga nelayan", "consent_by": "Siti Aminah",
        "consent_on": "2026-06-01", "consent_method": "written", "csrf_token": token,
    }  # fmt: skip
    leaky = client.post(f"{url}/story", data={**story, "body": f"Almarhum (NIK {BUDI}) ..."})
    assert leaky.status_code == 422
    early = client.post(
        f"{url}/story", data={**story, "body": "Cerita", "consent_on": "2026-05-01"}
    )
    assert early.status_code == 422  # consent before the payment
    told = client.post(
        f"{url}/story",
        data={**story, "body": "Iuran Rp 16.800 sebulan; keluarga menerima Rp 10 juta."},
        follow_redirects=False,
    )
    assert told.status_code == 303
    assert told.headers["location"] == "/stories/KISAH-0001"
    assert "keluarga menerima" in client.get("/stories/KISAH-0001").text
    assert client.post(f"{url}/story", data={**story, "body": "lagi"}).status_code == 409
    # A campaign cites the story by its code; its plan page links to the story.
    import_campaigns(
        engine, SYSTEM, _campaign_file(tmp_path, "KISAH-0001 Santunan keluarga nelayan")
    )
    login(client, "kabid.plg")
    plan = client.get("/campaigns/E2E-KISAH/plan")
    assert plan.status_code == 200, plan.text
    assert 'href="/stories/KISAH-0001" data-testid="story-link"' in plan.text
    # The claimant's partner follows the status (NIK masked) and may read the documents.
    login(client, "wdh1")
    listed = client.get("/claims")
    assert f'data-testid="claim-{claim_id}"' in listed.text
    assert "1671********0001" in listed.text
    detail = client.get(url)
    assert "TRF-77" in detail.text
    assert BUDI not in detail.text
    document = client.get(f"{url}/documents/ktp")
    assert document.status_code == 200
    assert document.content == PDF + b"ktp"
    assert document.headers["content-disposition"].startswith("attachment")
    # Another partner and another branch see nothing of it.
    assert "KISAH-0001" in client.get("/stories").text  # stories are for every campaign
    for outsider in ("wdh2", "pap.bdl"):
        login(client, outsider)
        assert client.get(url).status_code == 404
        assert client.get(f"{url}/documents/ktp").status_code == 404
        assert f'data-testid="claim-{claim_id}"' not in client.get("/claims").text


def test_partner_api_submission_status_and_upload(app_engine: Engine) -> None:
    with transaction(app_engine) as session:
        tokens = {
            name: issue_token(session, SYSTEM, user_by_username(session, name).id, "t").plain
            for name in ("wdh1", "wdh2")
        }
    app = create_app(app_engine, secret_key="test", clock=clock_at("2026-06-01"))
    body = {
        "type": "jkm", "nik": BUDI, "event_date": "2026-03-20", "claimant_name": "Siti",
        "claimant_nik": SITI, "relation": "spouse", "bank_name": "BRI",
        "bank_account": "012345678901", "bank_account_holder": "Siti",
    }  # fmt: skip
    with TestClient(app, raise_server_exceptions=False) as c:
        own = {"Authorization": f"Bearer {tokens['wdh1']}"}
        other = {"Authorization": f"Bearer {tokens['wdh2']}"}
        assert c.post("/api/v1/claims", json=body, headers=other).status_code == 403
        created = c.post("/api/v1/claims", json=body, headers=own)
        assert created.status_code == 201, created.text
        claim = created.json()
        assert (claim["state"], claim["amount"], claim["channel"]) == (
            "submitted",
            10_000_000,
            "api",
        )
        assert claim["nik"] == "1671********0001"
        again = c.post("/api/v1/claims", json=body, headers=own)
        assert again.status_code == 409
        assert again.json()["code"] == "claims.duplicate_death"
        uncovered = c.post("/api/v1/claims", json={**body, "event_date": "2026-05-02"}, headers=own)
        assert uncovered.status_code == 422
        put = c.put(
            f"/api/v1/claims/{claim['id']}/documents/ktp", content=PDF,
            headers={**own, "Content-Type": "application/octet-stream", "X-File-Name": "ktp.pdf"},
        )  # fmt: skip
        assert put.status_code == 200, put.text
        status = c.get(f"/api/v1/claims/{claim['id']}", headers=own).json()
        assert "ktp" not in status["documents"]["missing"]
        assert c.get(f"/api/v1/claims/{claim['id']}", headers=other).status_code == 404
        quote = c.get(
            "/api/v1/claims/quote",
            params={"type": "jkk", "nik": EKO, "event_date": "2026-02-14", "cause": "death"},
            headers=own,
        )
        assert quote.json()["amount"] == 141_600_000


def test_benefits_paid_per_dimension_and_scope(app_engine: Engine) -> None:
    from cakupan.claims.actions import ClaimIntake, advance_claim, submit_claim, upload_document
    from cakupan.claims.rules import required_documents
    from tests.integration.test_claims import KABID, PAP, _claim_terms_of

    jkk = ClaimIntake("jkk", EKO, "2026-03-10", "Eko", EKO, "self", "BNI", "99887766", "Eko")
    jkm = ClaimIntake("jkm", BUDI, "2026-03-20", "Siti", SITI, "spouse", "BRI", "0123456", "Siti")
    with make_session_factory(app_engine)() as session, session.begin():
        for n, (intake, paid_on) in enumerate(((jkk, "2026-03-30"), (jkm, "2026-04-02"))):
            claim = submit_claim(session, PAP, intake, clock=clock_at("2026-03-20"))
            for kind in required_documents(*_claim_terms_of(claim)):
                upload_document(session, PAP, claim.id, str(kind), file_name="d.pdf", content=PDF,
                                clock=clock_at("2026-03-20"))  # fmt: skip
            advance_claim(session, PAP, claim.id, "verified", clock=clock_at("2026-03-20"))
            advance_claim(session, KABID, claim.id, "approved", clock=clock_at("2026-03-20"))
            advance_claim(session, PAP, claim.id, "paid", clock=clock_at(paid_on),
                          payment_reference=f"TRF-{n}")  # fmt: skip
    with make_session_factory(app_engine)() as session:
        national = benefits_paid(session, SYSTEM, Month(2026, 3), Month(2026, 4))
        assert (national.count, national.amount) == (2, 10_000_000)
        assert national.by["month"] == [
            {"key": "2026-03", "count": 1, "amount": 0},
            {"key": "2026-04", "count": 1, "amount": 10_000_000},
        ]
        assert national.by["type"] == [
            {"key": "jkk", "count": 1, "amount": 0},
            {"key": "jkm", "count": 1, "amount": 10_000_000},
        ]
        assert national.by["partner"] == [
            {"key": "-", "count": 1, "amount": 0},
            {"key": "WDH1", "count": 1, "amount": 10_000_000},
        ]
        # Approved Fri 2026-03-20 (cuti bersama: not a working day, the count starts after it):
        # 25, 26, 27, 30, 31, Apr 1, Apr 2 -> deadline 2026-04-02; paid 03-30: on time.
        assert (national.jkk_paid, national.jkk_on_time, national.on_time_percent) == (1, 1, 100.0)
        partner = benefits_paid(
            session, Actor("w", Role.PARTNER, partner_code="WDH1"), Month(2026, 3), Month(2026, 4)
        )
        assert (partner.count, partner.amount) == (1, 10_000_000)
        other = benefits_paid(session, Actor("b", Role.KABID, branch_code="BDL"),
                              Month(2026, 1), Month(2026, 12))  # fmt: skip
        assert (other.count, other.amount) == (0, 0)
        march = benefits_paid(session, SYSTEM, Month(2026, 3), Month(2026, 3))
        assert march.count == 1
