"""XLSX downloads of the dashboard's tables as filtered on the page (issue 17): the same scoped,
masked rows as the page, every page of them, labelled in the page's language."""

from __future__ import annotations

import io
from collections.abc import Iterator

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.integration.test_dashboard import N1, N2, NAMES, app_client, build_ledger
from tests.integration.test_dashboard import _login as login


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    yield from app_client(build_ledger(engine))


def _rows(client: TestClient, url: str) -> list[tuple[object, ...]]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_records_export_follows_scope_filters_and_masking(client: TestClient) -> None:
    login(client, "kabid.plg")
    rows = _rows(client, "/dashboard/export.xlsx?view=records&kpi=payments&month=2025-01")
    header, data = rows[0], rows[1:]
    assert header[:5] == ("NIK", "Nama", "Telepon", "Cabang", "Pekerjaan")
    names = {row[1] for row in data}
    assert names == {NAMES[N1], NAMES[N2]}  # PLG's January payments only (not Surabaya's)
    assert all("*" in str(row[0]) for row in data)  # NIKs masked as on the page
    assert {row[4] for row in data} <= {"Petani", "Pedagang kaki lima"}  # labels, not codes
    # the page's filter narrows the download the same way
    filtered = _rows(
        client, "/dashboard/export.xlsx?view=records&kpi=payments&month=2025-01&partner=P1"
    )
    assert {row[1] for row in filtered[1:]} == {NAMES[N1], NAMES[N2]}
    by_agent = _rows(
        client,
        "/dashboard/export.xlsx?view=records&kpi=payments&month=2025-01&channel=partner",
    )
    assert {row[1] for row in by_agent[1:]} == {NAMES[N1]}


def test_league_worklist_and_warnings_download(client: TestClient) -> None:
    login(client, "kabid.plg")
    league = _rows(client, "/dashboard/export.xlsx?view=league")
    assert league[0][:2] == ("Peringkat", "Mitra")
    worklist = _rows(client, "/dashboard/export.xlsx?view=worklist&kind=closed")
    assert worklist[0][-3:] == ("Lunas s.d.", "Bulan belum dibayar", "Kontak terakhir")
    assert _rows(client, "/dashboard/export.xlsx?view=warnings")[0][0] == "Indikator"
    assert client.get("/dashboard/export.xlsx?view=nope").status_code == 422
    # a value outside the scope says so instead of an empty file
    outside = client.get("/dashboard/export.xlsx?view=league&branch=SBY")
    assert outside.status_code == 422
    assert "di luar cakupan" in outside.text
