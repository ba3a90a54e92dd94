"""The imports page in a real browser (issue 21, item 12): a large participants file shows the
upload's progress, then the rows checked and posted out of the file's rows (polled from
``/imports/progress/<key>``), then the result page, without a page load in between."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Response, expect
from sqlalchemy import func, select

from cakupan.auth import Role
from cakupan.db import transaction
from cakupan.registry.models import Participant
from tests.e2e.conftest import LiveServer, SignIn

pytestmark = pytest.mark.e2e

ROWS = 20_000


def _nik(i: int) -> str:
    """District 16.71.01, born 1-28 March 1996, serials 1-9999: not used by other tests."""
    return f"167101{i // 9999 + 1:02d}0396{i % 9999 + 1:04d}"


def test_a_large_upload_shows_its_progress_then_the_result(
    page: Page, sign_in: SignIn, live_server: LiveServer, tmp_path: Path
) -> None:
    path = tmp_path / "peserta-besar.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write(
            "nik,name,phone,occupation,reported_income,programs,registered_on,district_code\n"
        )
        for i in range(ROWS):
            out.write(
                f"{_nik(i)},Peserta Besar {i},0812345{i % 100000:05d},farmer,1000000,JKK+JKM,"
                "2026-11-02,16.71.01\n"
            )
    polls: list[dict[str, Any]] = []

    def seen(response: Response) -> None:
        if "/imports/progress/" in response.url and response.status == 200:
            polls.append(json.loads(response.text()))

    page.on("response", seen)
    sign_in(page, Role.PAP)
    page.goto("/imports")
    page.get_by_test_id("import-file").set_input_files(str(path))
    page.get_by_test_id("import-submit").click()
    box = page.get_by_test_id("import-progress")
    expect(box).to_be_visible()
    expect(page.get_by_test_id("import-progress-text")).not_to_be_empty()
    expect(page.get_by_test_id("accepted")).to_have_text(str(ROWS), timeout=180_000)
    assert polls, "the page never asked for the upload's progress"
    assert all(poll["total"] == ROWS for poll in polls)  # the file's data rows
    assert all(poll["phase"] == "posting" for poll in polls)
    rows = [poll["rows"] for poll in polls]
    assert rows == sorted(rows)
    assert all(0 <= n <= ROWS for n in rows)
    expect(page.get_by_test_id("import-progress")).to_be_hidden()  # the result page's box
    with transaction(live_server.engine) as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(Participant)
                .where(Participant.name.like("Peserta Besar %"))
            )
            == ROWS
        )
