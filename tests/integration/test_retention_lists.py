"""The retention worklists on SQLite and PostgreSQL: the exact list membership of the dashboard's
hand-built ledger on fixed dates, amounts, scoping, phone reveal, outcomes with follow-ups, owners
and the CLI contracts (issue 15)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from cakupan.audit import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.dates import JAKARTA, FixedClock
from cakupan.db import transaction
from cakupan.errors import CakupanError
from cakupan.registry import post_payment
from cakupan.retention.actions import assign_owner, record_outcome
from cakupan.retention.queries import WorklistFilters, worklist
from tests.integration.test_dashboard import FLOOR, N1, N2, N3, N4, N5, build_ledger

SYSTEM = Actor.system("test-retention")


@pytest.fixture
def ledger(engine: Engine) -> Engine:
    return build_ledger(engine)


def _niks(engine: Engine, name: str, day: date, actor: Actor = SYSTEM, **kw: Any) -> list[str]:
    with transaction(engine) as session:
        result = worklist(session, actor, name, day, WorklistFilters(**kw))
    return [row["nik"] for row in result["rows"]]


def _actor(role: Role, name: str, **scope: Any) -> Actor:
    return Actor(name=name, role=role, **scope)


def test_lists_follow_the_ledger_as_of_each_date(ledger: Engine) -> None:
    # 10 March 2025: N3 (Feb, nothing paid, code issued) and N5 (paid 2 March, reversed only on
    # 20 March) ; N2 paid January only: two whole months unpaid in March -> arrears.
    assert _niks(ledger, "unpaid_registration", date(2025, 3, 10)) == [N3]
    assert _niks(ledger, "arrears", date(2025, 3, 10)) == [N2]
    assert _niks(ledger, "due", date(2025, 3, 10)) == []
    # 25 March: N5's payment is reversed: back to an unpaid registration.
    assert sorted(_niks(ledger, "unpaid_registration", date(2025, 3, 25))) == sorted([N3, N5])
    # 20 May: N2 (paid through January) closed on 1 May; N4 paid through April: due in May.
    assert _niks(ledger, "closed_recent", date(2025, 5, 20)) == [N2]
    assert _niks(ledger, "due", date(2025, 5, 20)) == [N4]
    # 15 July: N1 (Jan-Jun) and N2 (re-acquired in June) due; N4 (through April) in arrears;
    # N3 and N5 void (third month passed without payment).
    assert sorted(_niks(ledger, "due", date(2025, 7, 15))) == sorted([N1, N2])
    assert _niks(ledger, "arrears", date(2025, 7, 15)) == [N4]
    assert _niks(ledger, "unpaid_registration", date(2025, 7, 15)) == []
    assert _niks(ledger, "closed_recent", date(2025, 7, 15)) == []


def test_row_figures(ledger: Engine) -> None:
    with transaction(ledger) as session:
        arrears = worklist(session, SYSTEM, "arrears", date(2025, 7, 15))
        unpaid = worklist(session, SYSTEM, "unpaid_registration", date(2025, 3, 10))
        due = worklist(session, SYSTEM, "due", date(2025, 5, 20))
    (row,) = arrears["rows"]
    assert row["paid_through"] == "2025-04"
    assert row["months_paid"] == 4
    assert row["closes_on"] == "2025-08-01"
    assert row["unpaid_months"] == 3
    assert row["amount_due"] == 3 * FLOOR  # May, June, July at the 2025 floor
    assert row["risk"] is None
    assert row["owner"] is None
    assert row["last_contact"] is None
    (pending,) = unpaid["rows"]
    assert pending["amount_due"] == FLOOR
    assert pending["paid_through"] is None
    assert pending["months_paid"] == 0
    # imported registrations get no kode penetapan: the amount is the registration month's
    assert pending["code_valid_until"] is None
    assert pending["days_left"] is None
    assert pending["void_on"] == "2025-05-01"
    (n4,) = due["rows"]
    assert n4["amount_due"] == FLOOR
    assert n4["due_by"] == "2025-05-15"
    assert n4["after_due_day"]


def test_scope_and_phone_reveal(ledger: Engine) -> None:
    day = date(2025, 7, 15)
    ark = _actor(Role.ARK, "ark.plg", branch_code="PLG", user_id=_user_id(ledger, "ark.plg"))
    assert _niks(ledger, "due", day, ark) == [N1]  # assigned N1 and N3 only
    partner = _actor(Role.PARTNER, "mitra.p1", partner_code="P1")
    agent = _actor(Role.AGENT, "agen.a1", partner_code="P1", agent_code="A1")
    # N2's June re-acquisition was paid at a bank: that episode is not P1's (D-4 attribution);
    # in March N2's first episode (registered by agent A1 under P1) was in arrears.
    assert _niks(ledger, "due", day, partner) == [N1]
    assert _niks(ledger, "due", day, agent) == []
    march = date(2025, 3, 10)
    assert _niks(ledger, "arrears", march, partner) == [N2]
    assert _niks(ledger, "arrears", march, agent) == [N2]
    head = _actor(Role.HEAD_OFFICE, "pusat.t")
    with transaction(ledger) as session:
        before = session.scalar(select(func.count()).select_from(AuditEntry))
        shown = worklist(session, head, "due", day)["rows"]
        assert len(shown) == 2
        assert all("*" in r["phone"] and "*" in r["nik"] and "tel" not in r for r in shown)
        called = worklist(session, agent, "arrears", march)["rows"]
        after = session.scalar(select(func.count()).select_from(AuditEntry))
    assert called[0]["phone"].isdigit()
    assert called[0]["tel"] == f"tel:{called[0]['phone']}"
    assert called[0]["whatsapp"].startswith("https://wa.me/62")
    assert after == (before or 0) + 1  # the agent's reveal, not the head office's masked page


def _user_id(engine: Engine, username: str) -> int:
    from cakupan.users.models import User

    with transaction(engine) as session:
        uid = session.scalar(select(User.id).where(User.username == username))
    assert uid is not None
    return uid


def test_promise_to_pay_snoozes_the_row_until_its_follow_up(ledger: Engine) -> None:
    clock = FixedClock(datetime(2025, 7, 15, 10, 0, tzinfo=JAKARTA))
    with transaction(ledger) as session:
        recorded = record_outcome(
            session, SYSTEM, N1, outcome="promised_to_pay", promised_on="2025-07-20", clock=clock
        )
    assert recorded.follow_up_on == date(2025, 7, 20)
    assert _niks(ledger, "due", date(2025, 7, 15)) == [N2]
    assert sorted(_niks(ledger, "due", date(2025, 7, 15), include_snoozed=True)) == sorted([N1, N2])
    assert _niks(ledger, "due", date(2025, 7, 19)) == [N2]
    # On the follow-up day the row is back, first.
    assert _niks(ledger, "due", date(2025, 7, 20)) == [N1, N2]
    assert _niks(ledger, "due", date(2025, 7, 20), not_contacted=True) == [N2]


def test_bad_outcomes_write_nothing(ledger: Engine) -> None:
    clock = FixedClock(datetime(2025, 7, 15, 10, 0, tzinfo=JAKARTA))
    cases = [
        ({"outcome": "called_twice"}, "outcome"),
        ({"outcome": "promised_to_pay"}, "promised_on"),
        ({"outcome": "promised_to_pay", "promised_on": "2025-07-01"}, "promised_on"),
        ({"outcome": "refused"}, "reason"),
        ({"outcome": "call_back", "follow_up": "15-07-2025"}, "follow_up"),
    ]
    for kwargs, field in cases:
        with pytest.raises(CakupanError) as caught, transaction(ledger) as session:
            record_outcome(session, SYSTEM, N1, clock=clock, **kwargs)
        assert [p.field for p in caught.value.problems] == [field], kwargs
    with pytest.raises(CakupanError) as missing, transaction(ledger) as session:
        record_outcome(
            session,
            _actor(Role.AGENT, "agen.a1", agent_code="A1"),
            N1,
            outcome="no_answer",
            clock=clock,
        )
    assert missing.value.kind.exit_code == 1
    with transaction(ledger) as session:
        refused = record_outcome(
            session, SYSTEM, N2, outcome="refused", reason="ngaluk", clock=clock
        )
    assert refused.reason == "ngaluk"
    assert refused.follow_up_on is None


def test_owners_are_assigned_checked_and_filtered(ledger: Engine) -> None:
    clock = FixedClock(datetime(2025, 7, 15, 10, 0, tzinfo=JAKARTA))
    kabid = _actor(Role.KABID, "kabid.plg", branch_code="PLG")
    with transaction(ledger) as session:
        assert assign_owner(session, kabid, "ark.plg", [N1, N3], clock=clock)["assigned"] == 2
    with pytest.raises(CakupanError) as wrong, transaction(ledger) as session:
        assign_owner(session, kabid, "agen.a1", [N1], clock=clock)  # N1 is P1's, not A1's
    assert [p.field for p in wrong.value.problems] == ["owner"]
    with pytest.raises(CakupanError), transaction(ledger) as session:
        assign_owner(session, kabid, "ark.plg", [N4], clock=clock)  # N4 is in Surabaya
    assert _niks(ledger, "due", date(2025, 7, 15), owner="ark.plg") == [N1]
    with transaction(ledger) as session:
        rows = worklist(session, SYSTEM, "due", date(2025, 7, 15))["rows"]
    assert {r["nik"]: r["owner"] for r in rows} == {N1: "ark.plg", N2: None}


def test_cli_contracts(ledger: Engine, cli: Any) -> None:
    result = cli("retention", "worklist", "--list", "arrears", "--as-of", "2025-07-15", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) >= {"list", "as_of", "total", "rows"}
    assert payload["list"] == "arrears"
    assert payload["as_of"] == "2025-07-15"
    assert payload["total"] == 1
    keys = {
        "nik",
        "name",
        "phone",
        "paid_through",
        "months_paid",
        "amount_due",
        "risk",
        "reasons",
        "owner",
        "last_contact",
        "follow_up",
    }
    assert keys <= set(payload["rows"][0])
    assert payload["rows"][0]["nik"] == N4
    assert payload["rows"][0]["amount_due"] == 3 * FLOOR
    bad = cli("retention", "worklist", "--list", "lapsed", "--json")
    assert bad.exit_code == 2
    assert "list" in bad.stderr
    bad_date = cli("retention", "worklist", "--list", "due", "--as-of", "2025-13-01", "--json")
    assert bad_date.exit_code == 2
    assert "as_of" in bad_date.stderr
    limited = cli(
        "retention", "worklist", "--list", "due", "--as-of", "2025-07-15", "--limit", "1", "--json"
    )
    assert json.loads(limited.stdout)["total"] == 2
    assert len(json.loads(limited.stdout)["rows"]) == 1
    assigned = cli("retention", "assign", "--owner", "mitra.p1", "--nik", N1, "--json")
    assert assigned.exit_code == 0, assigned.stderr
    owned = cli(
        "retention",
        "worklist",
        "--list",
        "due",
        "--as-of",
        "2025-07-15",
        "--owner",
        "mitra.p1",
        "--json",
    )
    assert [r["nik"] for r in json.loads(owned.stdout)["rows"]] == [N1]
    unknown = cli("retention", "contact", "9999999999999999", "--outcome", "no_answer")
    assert unknown.exit_code == 1
    invalid = cli("retention", "contact", N4, "--outcome", "maybe")
    assert invalid.exit_code == 2
    assert "outcome" in invalid.stderr


def test_did_it_help_counts_payments_after_contacts(ledger: Engine, cli: Any) -> None:
    """On 15 July 2025 N1 and N2 are due. N1 is called that day and promises; N1 pays July on
    18 July; N2 is not contacted and does not pay."""
    clock = FixedClock(datetime(2025, 7, 15, 10, 0, tzinfo=JAKARTA))
    with transaction(ledger) as session:
        record_outcome(
            session, SYSTEM, N1, outcome="promised_to_pay", promised_on="2025-07-18", clock=clock
        )
        post_payment(
            session,
            SYSTEM,
            nik=N1,
            amount=FLOOR,
            paid_on="2025-07-18",
            reference="N1-JUL",
            channel="bank",
            clock=FixedClock(datetime(2025, 8, 20, 9, 0, tzinfo=JAKARTA)),
        )
    result = cli("retention", "outcomes", "--snapshot", "2025-07-15", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["controlled"] is False
    due = next(item for item in report["lists"] if item["list"] == "due")
    assert due["rows"] == 2
    assert due["contacted"] == {"rows": 1, "paid_14": 1, "paid_30": 1, "rupiah_30": FLOOR}
    assert due["not_contacted"] == {"rows": 1, "paid_14": 0, "paid_30": 0, "rupiah_30": 0}
    assert due["by_outcome"] == {
        "promised_to_pay": {"rows": 1, "paid_14": 1, "paid_30": 1, "rupiah_30": FLOOR}
    }
    arrears = next(item for item in report["lists"] if item["list"] == "arrears")
    assert arrears["not_contacted"] == {"rows": 1, "paid_14": 0, "paid_30": 0, "rupiah_30": 0}
    callers = [p for p in report["by_person"] if p["kind"] == "caller"]
    assert callers == [
        {"kind": "caller", "who": SYSTEM.name, "contacted": 1, "paid_30": 1, "rupiah_30": FLOOR}
    ]
