"""Issue 19, defect 3 on SQLite and PostgreSQL: what counts as a registration is a scheme
parameter; the shipped version 2 of perisai-2022 counts a registration once its first month is
paid within 30 days, so 25 registrations with nothing paid earn Rp 0; acquisitions are clawed
back with a reversed first payment (first_month_paid) or when the registration turns void
(registered, version 1); a negative statement is carried forward, never paid out negative; only
paying registrations keep an agent active; the simulator shows both readings."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from cakupan.auth import Actor
from cakupan.dates import Month
from cakupan.db import transaction
from cakupan.incentives.actions import set_statement_status
from cakupan.incentives.simulator import simulate
from cakupan.partners import actions as partner_actions
from cakupan.partners.queries import last_activity_months
from tests.integration.test_incentives_run import (  # the ledger fixture and its network
    CLOCK,
    MONTH,
    NO_JHT,
    Ledger,
    _run,
    ledger,
)

__all__ = ["ledger"]
ACTOR = Actor.system("test")


def _kinds(statement: dict[str, object]) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in statement["lines"]:  # type: ignore[attr-defined]
        out[line["kind"]] = out.get(line["kind"], 0) + line["amount"]
    return out


def test_25_registrations_with_nothing_paid_earn_nothing_under_perisai_2022(
    engine: Engine, ledger: Ledger
) -> None:
    niks = [ledger.register("2025-05-05", NO_JHT, partner="W1", agent="Q1") for _ in range(25)]
    may = _run(engine, "2025-05")
    assert may[("Q1", "perisai-2022")]["scheme_version"] == 2
    assert may[("Q1", "perisai-2022")]["total"] == 0
    assert ("W1", "perisai-2022") not in may  # no override: nothing earned under it
    # they pay their first month in June, 29 days after registering: June earns the acquisition
    for i, nik in enumerate(niks):
        ledger.pay(nik, MONTH[NO_JHT], "2025-06-03", f"Q1-{i}")
    assert _run(engine, "2025-05")[("Q1", "perisai-2022")]["total"] == 0
    june = _run(engine, "2025-06")
    q1 = june[("Q1", "perisai-2022")]
    assert _kinds(q1) == {"acquisition": 25 * 10_000, "contribution_share": 25 * 2_520}
    assert {line["reference"] for line in q1["lines"]} == {f"Q1-{i}" for i in range(25)}
    assert q1["total"] == q1["payable"] == 313_000
    assert june[("W1", "perisai-2022")]["total"] == 31_300  # the Wadah's 10%


def test_a_first_payment_after_30_days_does_not_count(engine: Engine, ledger: Ledger) -> None:
    for i in range(25):
        nik = ledger.register("2025-05-05", NO_JHT, partner="W1", agent="Q1")
        # 24 pay within 30 days, the last one 31 days after registering: 24 count, no acquisition
        ledger.pay(nik, MONTH[NO_JHT], "2025-06-05" if i == 24 else "2025-05-20", f"Q1-{i}")
    may, june = _run(engine, "2025-05"), _run(engine, "2025-06")
    assert _kinds(may[("Q1", "perisai-2022")]) == {"contribution_share": 24 * 2_520}
    assert _kinds(june[("Q1", "perisai-2022")]) == {"contribution_share": 2_520}


def test_reversed_first_payment_claws_back_and_a_negative_statement_is_carried(
    engine: Engine, ledger: Ledger
) -> None:
    for i in range(25):
        nik = ledger.register("2025-05-05", NO_JHT, partner="W1", agent="Q1")
        ledger.pay(nik, MONTH[NO_JHT], "2025-05-06", f"Q1-{i}")
    may = _run(engine, "2025-05")
    assert may[("Q1", "perisai-2022")]["total"] == 25 * (10_000 + 2_520)
    with transaction(engine) as session:
        for status in ("approved", "paid"):
            set_statement_status(
                session, ACTOR, CLOCK, Month(2025, 5), "Q1", "perisai-2022", status
            )
    ledger.reverse("Q1-0", "2025-06-10")
    june = _run(engine, "2025-06")
    q1 = june[("Q1", "perisai-2022")]
    # the reversed payment gives back its acquisition and its share; the month still qualified
    assert q1["lines"] == [
        {"nik": q1["lines"][0]["nik"], "kind": "clawback", "amount": -12_520, "reference": "Q1-0"}
    ]
    assert (q1["total"], q1["payable"]) == (-12_520, 0)
    assert june[("W1", "perisai-2022")]["total"] == -1_252
    july = _run(engine, "2025-07")
    assert july[("Q1", "perisai-2022")]["lines"] == [
        {"nik": None, "kind": "carried_forward", "amount": -12_520, "reference": "2025-06"}
    ]
    assert july[("Q1", "perisai-2022")]["payable"] == 0
    # May, paid, is unchanged by the runs after it
    assert _run(engine, "2025-05")[("Q1", "perisai-2022")]["total"] == 25 * 12_520


def test_version_1_counts_registrations_and_claws_back_when_they_turn_void(
    engine: Engine, ledger: Ledger
) -> None:
    with transaction(engine) as session:
        partner_actions.add_agreement(
            session, ACTOR, CLOCK, "P1", scheme_name="perisai-2022", scheme_version_no=1,
            valid_from=date(2025, 1, 1),
        )  # fmt: skip
    for _ in range(25):
        ledger.register("2025-05-05", NO_JHT, partner="W1", agent="P1")
    may = _run(engine, "2025-05")
    assert _kinds(may[("P1", "perisai-2022")]) == {"acquisition": 250_000}
    # nothing paid by the end of July: void from 1 August, the acquisitions are given back
    august = _run(engine, "2025-08")
    p1 = august[("P1", "perisai-2022")]
    assert _kinds(p1) == {"clawback": -250_000}
    assert {line["reference"] for line in p1["lines"]} == {"void:2025-05-05"}
    assert p1["payable"] == 0


def test_only_paying_registrations_keep_an_agent_active(engine: Engine, ledger: Ledger) -> None:
    ledger.register("2025-03-05", NO_JHT, partner="W1", agent="Q1")
    paying = ledger.register("2025-04-05", NO_JHT, partner="W1", agent="Q2")
    ledger.pay(paying, MONTH[NO_JHT], "2025-04-07", "Q2-1")
    ledger.register("2025-06-05", NO_JHT, partner="W1", agent="Q2")  # never pays
    with transaction(engine) as session:
        months = last_activity_months(session, ["Q1", "Q2"])
    assert "Q1" not in months  # a registration that never paid is no activity
    assert months["Q2"] == Month(2025, 4)


def test_simulator_shows_both_readings(engine: Engine, ledger: Ledger) -> None:
    for i in range(25):
        nik = ledger.register("2025-05-05", NO_JHT, partner="W1", agent="Q1")
        if i < 10:
            ledger.pay(nik, MONTH[NO_JHT], "2025-05-06", f"Q1-{i}")
    with transaction(engine) as session:
        out = simulate(session, ["perisai-2022"], Month(2025, 5), Month(2025, 5))
    [result] = out["schemes"]
    assert result["version"] == 2
    assert result["registration_counts"] == {"rule": "first_month_paid", "within_days": 30}
    readings = result["readings"]
    # 10 of 25 paid: 10 paying registrations do not reach 25 (no acquisition); read as
    # registrations, all 25 count and earn Rp 10.000 each
    assert readings["first_month_paid"]["cost_by_kind"] == {
        "contribution_share": 10 * 2_520,
        "override": 2_520,
    }
    assert readings["registered"]["cost_by_kind"] == {
        "acquisition": 250_000,
        "contribution_share": 10 * 2_520,
        "override": 27_520,
    }
    assert result["total_cost"] == readings["first_month_paid"]["total_cost"]
