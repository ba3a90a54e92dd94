"""Issue 21, item 13: answers that were 5xx are 4xx, and problem bodies carry the real status.
SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.integration.test_dashboard import _login as login
from tests.integration.test_dashboard import app_client, build_ledger
from tests.integration.test_dashboard_pages import _csrf
from tests.integration.test_ledger_imports import (
    PARTICIPANT_HEADER,
    Cli,
    participant_line,
    run,
    write,
)
from tests.integration.test_partner_api import Api
from tests.integration.test_partner_api import api as api

BEYOND_BIGINT = "9223372036854775808"


def test_ids_past_bigint_are_422_on_every_api_route(api: Api) -> None:
    spec = api.client.get("/api/openapi.json").json()
    routes = [
        (path, method)
        for path, operations in spec["paths"].items()
        for method in operations
        if re.search(r"{\w+_id}", path)
    ]
    assert len(routes) >= 4
    for user in ("mitra.a", "kabid"):
        for path, method in routes:
            url = re.sub(r"{\w+_id}", BEYOND_BIGINT, path).removeprefix("/api/v1")
            answer = api.call(user, method.upper(), url, {} if method != "get" else None)
            assert answer.status_code in (403, 404, 422), (user, method, path, answer.text)
    contacts = api.call("kabid", "GET", f"/dashboard/contacts/{BEYOND_BIGINT}")
    assert contacts.status_code == 422
    assert contacts.json()["status"] == 422


@pytest.mark.parametrize("query", ["programs=%00", "kind=%00", "q=a%00b", "period=%1b"])
def test_control_characters_in_a_query_are_400(api: Api, query: str) -> None:
    for path in ("/api/v1/dashboard/summary", "/api/v1/incentives/statements", "/participants"):
        answer = api.client.get(f"{path}?{query}", headers={"Authorization": "Bearer x"})
        assert answer.status_code == 400, (path, answer.text)
        if path.startswith("/api/"):
            assert answer.json()["status"] == 400


def test_problem_bodies_carry_the_real_status(api: Api) -> None:
    not_json = api.client.post(
        "/api/v1/registrations/quote",
        content=b'{"nik": "\xff\xfe"}',
        headers={
            "Authorization": f"Bearer {api.tokens['mitra.a']}",
            "Content-Type": "application/json",
        },
    )
    assert not_json.status_code == 400, not_json.text
    assert not_json.json()["status"] == 400
    deep = api.client.post(
        "/api/v1/registrations/quote",
        content=b"[" * 100_000 + b"]" * 100_000,
        headers={
            "Authorization": f"Bearer {api.tokens['mitra.a']}",
            "Content-Type": "application/json",
        },
    )
    assert deep.status_code in (400, 422), deep.text
    assert deep.json()["status"] == deep.status_code
    wrong_method = api.call("mitra.a", "PUT", "/reconciliation")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET"
    assert wrong_method.json()["status"] == 405
    missing = api.call("mitra.a", "GET", "/no-such-route")
    assert missing.status_code == 404
    assert missing.json()["status"] == 404


def test_dates_and_months_outside_the_range_are_refused(api: Api) -> None:
    epoch = api.call("mitra.a", "GET", "/reconciliation", date="0")
    assert epoch.status_code == 422, epoch.text
    assert api.call("mitra.a", "GET", "/reconciliation", date="2026-02-30").status_code == 422
    assert api.call("mitra.a", "GET", "/reconciliation", date="2026-11-26").status_code == 200
    quote = api.call(
        "mitra.a",
        "POST",
        "/registrations/quote",
        {
            "nik": "1671010101900001",
            "reported_income": 1_000_000,
            "programs": "JKK+JKM",
            "months": 1,
            "start_month": "0000-01",
        },
    )
    assert quote.status_code == 422, quote.text


def test_registered_on_year_1_is_a_date_error(cli: Cli, tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.csv", PARTICIPANT_HEADER, [participant_line(1, registered_on="0001-01-01")]
    )
    code, body = run(cli, "participants", "import", str(path))
    assert code == 1
    assert [e["field"] for e in body["errors"]] == ["registered_on"]
    assert "1900-01-01" in body["errors"][0]["message"]


@pytest.fixture
def pages(engine: Engine) -> Iterator[TestClient]:
    build_ledger(engine)
    yield from app_client(engine)


@pytest.mark.parametrize("file_name", ["..", "a" * 300 + ".csv", "../../etc/passwd", "x\x01.csv"])
def test_an_upload_name_never_causes_a_server_error(pages: TestClient, file_name: str) -> None:
    login(pages, "pap.plg")
    token = _csrf(pages, "/imports")
    csv_text = PARTICIPANT_HEADER + "\n" + participant_line(77) + "\n"
    answer = pages.post(
        "/imports",
        data={"csrf_token": token, "kind": "participants"},
        files={"file": (file_name, csv_text.encode(), "text/csv")},
    )
    expected = 422 if file_name.endswith("passwd") else 200  # no .csv/.xlsx: a file error
    assert answer.status_code == expected, answer.text
    assert "a" * 200 not in answer.text
    if expected == 200:
        assert 'data-testid="nothing-posted"' not in answer.text
