"""Setting, splitting and importing targets on /targets (issue 17), through HTTP on SQLite and
PostgreSQL: each form writes through the targets area's action (audited), redirects after POST,
names the field of a bad value with nothing written; the office picker lists only the offices
the actor may read; who may not set an office's targets sees no form and is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cakupan.audit import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.db import transaction
from cakupan.targets.models import TargetFigure, TargetSplit
from cakupan.users import create_user
from cakupan.web import create_app

PASSWORD = "kopi-tubruk-2026"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
USERS = {
    "kabid.plg": (Role.KABID, {"branch_code": "PLG"}),
    "ark.plg": (Role.ARK, {"branch_code": "PLG"}),
    "wilayah.sel": (Role.REGIONAL, {"region_code": "SUMBAGSEL"}),
}
CELL = {"office": "PLG", "year": "2027", "segment": "BPU", "metric": "new_participants"}


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with transaction(engine) as session:
        for username, (role, scope) in USERS.items():
            create_user(
                session,
                Actor.system("test"),
                username=username,
                role=role.value,
                full_name=username,
                password=PASSWORD,
                **scope,
            )
    with TestClient(create_app(engine, secret_key="test"), raise_server_exceptions=False) as c:
        yield c


def _login(client: TestClient, username: str) -> str:
    client.cookies.clear()
    match = _CSRF_RE.search(client.get("/login").text)
    assert match
    response = client.post(
        "/login",
        data={"csrf_token": match.group(1), "username": username, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = _CSRF_RE.search(client.get("/targets").text)
    assert page
    return page.group(1)


def _figures(engine: Engine) -> list[tuple[str, int, str]]:
    with transaction(engine) as session:
        return [
            (f.kind, f.value, f.source)
            for f in session.scalars(select(TargetFigure).order_by(TargetFigure.id))
        ]


def _audits(engine: Engine, action: str) -> list[str]:
    with transaction(engine) as session:
        return list(session.scalars(select(AuditEntry.actor).where(AuditEntry.action == action)))


def test_set_a_target_as_typed(client: TestClient, engine: Engine) -> None:
    csrf = _login(client, "kabid.plg")
    bad = client.post(
        "/targets/set",
        data={**CELL, "csrf_token": csrf, "kind": "target", "value": "banyak", "source": "SK"},
    )
    assert bad.status_code == 422
    assert 'data-testid="problems"' in bad.text
    assert "value" in bad.text
    assert "banyak" in bad.text
    assert 'value="banyak"' in bad.text  # the form keeps what was typed
    assert _figures(engine) == []
    saved = client.post(
        "/targets/set",
        data={
            **CELL,
            "csrf_token": csrf,
            "kind": "target",
            "value": "12.000",
            "source": "SK Kacab 12/2026",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/targets?office=PLG&year=2027&done=set"
    assert _figures(engine) == [("target", 12_000, "SK Kacab 12/2026")]
    assert _audits(engine, "targets.figure.record") == ["kabid.plg"]
    page = client.get("/targets?office=PLG&year=2027&done=set").text
    assert 'data-testid="done"' in page
    row = page[page.index('data-testid="row-BPU-new_participants"') :]
    assert "12.000" in row[: row.index("</tr>")]
    # the same source stating another figure is a conflict, as in the CLI; nothing changes
    again = client.post(
        "/targets/set",
        data={
            **CELL,
            "csrf_token": csrf,
            "kind": "target",
            "value": "13000",
            "source": "SK Kacab 12/2026",
        },
    )
    assert again.status_code == 409
    assert "12000" in again.text
    assert _figures(engine) == [("target", 12_000, "SK Kacab 12/2026")]


def test_split_a_target(client: TestClient, engine: Engine) -> None:
    csrf = _login(client, "kabid.plg")
    bad = client.post(
        "/targets/split",
        data={**CELL, "csrf_token": csrf, "part_kind": "staff", "parts": "ARK01=700\nARK02=x"},
    )
    assert bad.status_code == 422
    assert "ARK02=x" in bad.text
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(TargetSplit)) == 0
    saved = client.post(
        "/targets/split",
        data={
            **CELL,
            "csrf_token": csrf,
            "part_kind": "partner",
            "parts": "BRI-PLG=700\n\nKOP-A=1.300\n",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with transaction(engine) as session:
        parts = {(s.part_kind, s.part_code, s.value) for s in session.scalars(select(TargetSplit))}
    assert parts == {("partner", "BRI-PLG", 700), ("partner", "KOP-A", 1300)}
    assert _audits(engine, "targets.split.set") == ["kabid.plg"]
    page = client.get("/targets?office=PLG&year=2027").text
    assert 'data-testid="splits-table"' in page
    assert "BRI-PLG: 700" in page
    assert "KOP-A: 1.300" in page


def test_split_pickers_list_the_offices_staff_and_districts_by_name(client: TestClient) -> None:
    _login(client, "kabid.plg")
    page = client.get("/targets?office=PLG&year=2027").text
    staff = page.split('data-testid="split-staff-picker"')[1].split("</select>")[0]
    assert 'value="ark.plg"' in staff  # the branch's ARK, by name
    assert "kabid.plg" not in staff  # the kabid is not field staff
    districts = page.split('data-testid="split-district-picker"')[1].split("</select>")[0]
    # Palembang branch serves Kota Palembang (16.71): its districts, named with their regency
    assert "KOTA PALEMBANG" in districts
    assert 'value="16.71.' in districts
    assert 'value="18.' not in districts  # Lampung's districts belong to Bandar Lampung branch


def test_import_targets_all_or_nothing(client: TestClient, engine: Engine) -> None:
    csrf = _login(client, "wilayah.sel")
    rows = (
        "office_code,year,segment,metric,target,realization,source\n"
        "PLG,2027,BPU,new_participants,12000,,Rencana Kanwil 2027\n"
        "MDN,2027,BPU,new_participants,9000,,Rencana Kanwil 2027\n"
    )
    files = {"file": ("target.csv", rows.encode(), "text/csv")}
    data = {"csrf_token": csrf, "office": "SUMBAGSEL", "year": "2027"}
    whole = client.post("/targets/import", data=data, files=files)
    assert whole.status_code == 200
    assert 'data-testid="nothing-posted"' in whole.text
    assert re.search(r'data-testid="rejected">1<', whole.text)
    assert "office_code" in whole.text
    assert "MDN" in whole.text
    assert _figures(engine) == []
    partial = client.post("/targets/import", data={**data, "partial": "true"}, files=files)
    assert re.search(r'data-testid="accepted">1<', partial.text)
    assert _figures(engine) == [("target", 12_000, "Rencana Kanwil 2027")]
    again = client.post("/targets/import", data={**data, "partial": "true"}, files=files)
    assert re.search(r'data-testid="duplicates">1<', again.text)  # a re-import changes nothing
    assert len(_figures(engine)) == 1


def test_office_picker_and_refusals(client: TestClient) -> None:
    _login(client, "wilayah.sel")
    page = client.get("/targets?office=SUMBAGSEL&year=2027").text
    picker = page[page.index('data-testid="office-picker"') : page.index("</select>")]
    codes = set(re.findall(r'option value="([^"]+)"', picker))
    assert {"SUMBAGSEL", "PLG", "BDL"} <= codes
    assert "MDN" not in codes
    assert "NATIONAL" not in codes
    assert "DKI" not in codes
    assert "Palembang (PLG)" in picker
    csrf = _login(client, "ark.plg")
    own = client.get("/targets?year=2027").text
    assert 'data-testid="office-fixed"' in own
    assert 'data-testid="office-picker"' not in own
    assert 'data-testid="set-form"' not in own  # staff read, the kabid sets
    refused = client.post(
        "/targets/set",
        data={**CELL, "csrf_token": csrf, "kind": "target", "value": "1", "source": "x"},
    )
    assert refused.status_code == 403
