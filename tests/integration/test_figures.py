"""One figure, one definition (issue 17, section 2): the dashboard's KPI card, its "Target vs
realisasi" table, the targets page and the API give the same number for the same office, all as
of the latest closed month (stocks on its last day, flows summed up to it), and say so."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cakupan.dates import Month
from cakupan.db import transaction
from cakupan.figures import FIGURES, TARGET_METRIC_FIGURES, as_of_text
from cakupan.registry import post_payment
from cakupan.targets.actions import CellKey, record_figure
from cakupan.targets.rules import Period
from tests.integration.test_dashboard import FLOOR, N1, SYSTEM, app_client, build_ledger
from tests.integration.test_dashboard import _login as login

_NUMBER = re.compile(r"[\d.]+")


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    """The hand-built ledger (January-June 2025 closed, app clock 15 July 2025) with PLG's BPU
    targets for 2025 and a payment made after the latest close (July), which must not count."""
    build_ledger(engine)
    from datetime import datetime

    from cakupan.dates import JAKARTA, FixedClock

    clock = FixedClock(datetime(2025, 7, 15, 9, 0, tzinfo=JAKARTA))
    with transaction(engine) as session:
        for metric, value in (
            ("new_participants", 4),
            ("active_participants", 4),
            ("contributions", 500_000),
            ("reacquired", 2),
        ):
            key = CellKey("PLG", Period.whole_year(2025), "BPU", metric)
            record_figure(session, SYSTEM, key, "target", value, "RKA 2025")
        post_payment(
            session,
            SYSTEM,
            nik=N1,
            amount=FLOOR * 6,
            paid_on="2025-07-03",
            reference="N1-JUL",
            channel="bank",
            clock=clock,
        )
    yield from app_client(engine)


def _cell(html: str, testid: str, column: int) -> str:
    """The text of the ``column``-th cell of the row ``data-testid=testid``."""
    row = html[html.index(f'data-testid="{testid}"') :]
    row = row[: row.index("</tr>")]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
    return re.sub(r"<[^>]+>", "", cells[column]).strip()


def _card(html: str, testid: str) -> str:
    card = html[html.index(f'data-testid="{testid}"') :]
    value = re.search(r'<div class="value">(.*?)</div>', card, flags=re.S)
    assert value
    return value.group(1).strip()


def test_same_figure_same_number_everywhere(client: TestClient) -> None:
    login(client, "kabid.plg")
    api = client.get("/api/v1/dashboard/summary").json()
    assert api["latest_closed_month"] == "2025-06"
    assert api["as_of"] == "2025-06-30"
    rows = {row["metric"]: row for row in api["targets"]}
    # Active on 30 June 2025 in PLG: N1 (paid Jan-Jun) and N2 (re-acquired in June); the July
    # payment for Jul-Dec made after the close does not make anyone active "at year end".
    assert api["active_participants"] == 2
    assert rows["active_participants"]["realization"] == 2
    assert rows["active_participants"]["as_of"] == "2025-06-30"
    assert rows["contributions"]["realization"] == api["contributions_collected"] == FLOOR * 8
    assert rows["reacquired"]["realization"] == api["reacquired"] == 1

    dashboard = client.get("/dashboard").text
    assert _card(dashboard, "kpi-active") == "2"
    assert _cell(dashboard, "target-BPU-active_participants", 4) == "2"
    assert _card(dashboard, "kpi-contributions") == "Rp 134.400"
    assert _cell(dashboard, "target-BPU-contributions", 4) == "Rp 134.400"
    assert _card(dashboard, "kpi-reacquired") == _cell(dashboard, "target-BPU-reacquired", 4) == "1"
    assert "per 30 Jun 2025" in dashboard
    assert _cell(dashboard, "target-BPU-active_participants", 6) == "per 30 Jun 2025"
    assert _cell(dashboard, "target-BPU-active_participants", 5) == "50,0%"

    targets = client.get("/targets?office=PLG&year=2025").text
    assert _cell(targets, "row-BPU-active_participants", 3) == "2"
    assert _cell(targets, "row-BPU-contributions", 3) == "Rp 134.400"
    assert _cell(targets, "row-BPU-reacquired", 3) == "1"
    assert _cell(targets, "row-BPU-active_participants", 5) == "per 30 Jun 2025"
    assert _cell(targets, "row-BPU-active_participants", 4) == "50,0%"
    # The label comes from the one registry of figures, in the page's language.
    assert FIGURES["active_participants"].label.id in _cell(
        targets, "row-BPU-active_participants", 1
    )


def test_every_target_metric_is_a_defined_figure() -> None:
    from cakupan.targets.rules import METRICS

    assert set(METRICS) == set(TARGET_METRIC_FIGURES) <= set(FIGURES)
    assert as_of_text(Month(2026, 11)) == "per 30 Nov 2026"
    assert as_of_text(Month(2026, 12), "en") == "as of 31 Dec 2026"
