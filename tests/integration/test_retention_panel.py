"""The dashboard's retention panel (issue 15) on the dashboard's hand-built ledger, on SQLite and
PostgreSQL: each month's due -> paid by the 15th, arrears -> recovered and closed -> re-acquired,
computed by hand below, scoped by role and filtered like the other figures, and on the page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from cakupan.auth import Actor, Role
from cakupan.dashboard.queries import Filters
from cakupan.dashboard.retention_panel import panel_json, retention_panel
from cakupan.dates import Month
from cakupan.db import transaction
from tests.integration.test_dashboard import _login, app_client, build_ledger

PERIOD = Filters(first=Month(2025, 1), last=Month(2025, 6))


def _panel(engine: Engine, actor: Actor, filters: Filters = PERIOD) -> dict[str, Any]:
    with transaction(engine) as session:
        rows = panel_json(retention_panel(session, actor, filters))
    return {
        r["month"]: tuple((r[k]["part"], r[k]["base"]) for k in ("due", "arrears", "closed"))
        for r in rows
    }


def test_panel_figures_scope_and_filters(engine: Engine) -> None:
    build_ledger(engine)
    admin = Actor(name="admin.t", role=Role.ADMIN)
    # (due paid by the 15th, arrears recovered, closed re-acquired) as (part, base):
    # N2 paid January only: due in February (unpaid), in arrears February-April, closed in May,
    # re-acquired in June; N4 paid January-March, then April on 10 April (due, paid by the 15th),
    # May due and unpaid, in arrears from May. January has no closed month before it.
    assert _panel(engine, admin) == {
        "2025-02": ((0, 1), (0, 0), (0, 0)),
        "2025-03": ((0, 0), (0, 1), (0, 0)),
        "2025-04": ((1, 1), (0, 1), (0, 0)),
        "2025-05": ((0, 1), (0, 1), (0, 1)),
        "2025-06": ((0, 0), (0, 1), (1, 1)),
    }
    # Partner P2 (N4, N5 in Surabaya) and the Surabaya kabid: N4's rows only.
    n4 = {
        "2025-02": ((0, 0), (0, 0), (0, 0)),
        "2025-03": ((0, 0), (0, 0), (0, 0)),
        "2025-04": ((1, 1), (0, 0), (0, 0)),
        "2025-05": ((0, 1), (0, 0), (0, 0)),
        "2025-06": ((0, 0), (0, 1), (0, 0)),
    }
    assert _panel(engine, Actor(name="mitra.p2", role=Role.PARTNER, partner_code="P2")) == n4
    assert _panel(engine, Actor(name="kabid.sby", role=Role.KABID, branch_code="SBY")) == n4
    assert _panel(engine, admin, Filters(first=PERIOD.first, last=PERIOD.last, branch="SBY")) == n4
    # Agent A1 registered N2: its February due, its arrears and its June re-acquisition.
    a1 = _panel(engine, Actor(name="agen.a1", role=Role.AGENT, partner_code="P1", agent_code="A1"))
    assert a1["2025-02"] == ((0, 1), (0, 0), (0, 0))
    assert a1["2025-06"] == ((0, 0), (0, 0), (1, 1))
    # An ark reads its branch's figures (as on the other cards), not only its accounts (N1, N3).
    ark = _panel(engine, Actor(name="ark.plg", role=Role.ARK, branch_code="PLG"))
    assert ark["2025-06"] == ((0, 0), (0, 0), (1, 1))
    # The occupation filter: N2 and N4 are street vendors (every figure), N1, N3, N5 farmers.
    vendors = _panel(
        engine,
        admin,
        Filters(first=PERIOD.first, last=PERIOD.last, occupation="street_vendor"),
    )
    assert vendors == _panel(engine, admin)
    farmers = _panel(
        engine, admin, Filters(first=PERIOD.first, last=PERIOD.last, occupation="farmer")
    )
    assert set(farmers.values()) == {((0, 0), (0, 0), (0, 0))}
    # A period starting in March: February is left out, March keeps its base (February closed).
    march = _panel(engine, admin, Filters(first=Month(2025, 3), last=Month(2025, 6)))
    assert list(march) == ["2025-03", "2025-04", "2025-05", "2025-06"]


def test_panel_on_the_dashboard_page(engine: Engine) -> None:
    build_ledger(engine)
    for client in app_client(engine):
        _login(client, "kabid.sby")
        page = client.get("/dashboard?first=2025-01&last=2025-06")
        assert page.status_code == 200
        assert 'data-testid="retention-panel"' in page.text
        assert 'data-testid="retention-2025-04-due">100,0% (1/1)' in page.text
        assert 'data-testid="retention-2025-06-closed">' in page.text
        _login(client, "pusat.t")
        page = client.get("/dashboard?first=2025-01&last=2025-06")
        assert 'data-testid="retention-2025-06-closed">100,0% (1/1)' in page.text
