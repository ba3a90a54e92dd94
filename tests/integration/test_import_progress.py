"""The progress of a web upload (issue 21, item 12) through HTTP on both engines: what
``/imports/progress/{key}`` answers while a file is posted, to whom (the uploading user only),
and that it is gone once the result page is answered."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cakupan.dashboard.import_progress import ImportProgress, count_csv_rows, read_progress
from tests.integration.test_dashboard import _login as login
from tests.integration.test_dashboard import app_client, build_ledger

_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    yield from app_client(build_ledger(engine))


def test_progress_counts_rows_of_the_file_and_belongs_to_its_user(tmp_path: Path) -> None:
    file = tmp_path / "rows.csv"
    file.write_text("a,b\n1,2\n3,4\n5,6")  # no newline after the last row
    assert count_csv_rows(file) == 3
    assert count_csv_rows(tmp_path / "rows.xlsx") is None
    key = secrets.token_hex(16)
    tracker = ImportProgress("pap.plg", key, 3)
    try:
        assert read_progress("pap.plg", key) == {
            "phase": "posting",
            "rows": 0,
            "total": 3,
            "percent": 0,
        }
        tracker.rows(2)
        tracker.phase("reclose")
        assert read_progress("pap.plg", key) == {
            "phase": "reclose",
            "rows": 2,
            "total": 3,
            "percent": 66,
        }
        assert read_progress("kabid.plg", key) is None  # another user's upload
        assert read_progress("pap.plg", "../../etc") is None  # not a key
    finally:
        tracker.close()
    assert read_progress("pap.plg", key) is None


def test_the_progress_page_answers_the_uploader_only(client: TestClient) -> None:
    key = secrets.token_hex(16)
    tracker = ImportProgress("pap.plg", key, 10_000)
    try:
        tracker.rows(5_000)
        tracker.phase("posting")
        login(client, "pap.plg")
        answer = client.get(f"/imports/progress/{key}")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"phase": "posting", "rows": 5000, "total": 10000, "percent": 50}
        assert answer.headers["cache-control"] == "no-store"
        assert client.get("/imports/progress/not-a-key-at-all-x").status_code == 404
        login(client, "kabid.plg")  # may import, but it is not their upload
        assert client.get(f"/imports/progress/{key}").status_code == 404
        login(client, "mitra.p1")  # may not import at all
        assert client.get(f"/imports/progress/{key}").status_code == 403
    finally:
        tracker.close()


def test_an_upload_with_a_progress_key_answers_the_result_and_forgets_the_key(
    client: TestClient,
) -> None:
    login(client, "pap.plg")
    match = _CSRF_RE.search(client.get("/imports").text)
    assert match
    key = secrets.token_hex(16)
    csv_text = (
        "nik,name,phone,occupation,reported_income,programs,registered_on,district_code\n"
        "1671010101900021,Dua Puluh Satu,081234567821,farmer,1000000,JKK+JKM,2025-07-01,16.71.01\n"
    )
    response = client.post(
        "/imports",
        data={"csrf_token": match.group(1), "kind": "participants", "progress_id": key},
        files={"file": ("peserta.csv", csv_text.encode(), "text/csv")},
    )
    assert response.status_code == 200, response.text
    assert re.search(r'data-testid="accepted">1<', response.text)
    assert 'data-testid="import-progress"' in response.text  # the box of the next upload
    assert client.get(f"/imports/progress/{key}").status_code == 404


def test_a_late_upload_warns_and_its_months_are_closed_again(client: TestClient) -> None:
    """The ledger's months January-June 2025 are closed and the app's clock reads 15 July 2025:
    a registration dated in June is late for June, which is closed again before the answer."""
    login(client, "pap.plg")
    match = _CSRF_RE.search(client.get("/imports").text)
    assert match
    csv_text = (
        "nik,name,phone,occupation,reported_income,programs,registered_on,district_code\n"
        "1671010101900022,Dua Puluh Dua,081234567822,farmer,1000000,JKK+JKM,2025-06-10,16.71.01\n"
    )
    response = client.post(
        "/imports",
        data={"csrf_token": match.group(1), "kind": "participants"},
        files={"file": ("peserta-juni.csv", csv_text.encode(), "text/csv")},
    )
    assert response.status_code == 200, response.text
    warning = re.search(r'data-testid="late-months">([^<]+)<', response.text)
    assert warning is not None, response.text
    assert "2025-06" in warning.group(1)
    assert "ditutup ulang" in warning.group(1)  # closed again, not waiting
    login(client, "admin.t")
    assert 'data-testid="late-months"' not in client.get("/dashboard").text
