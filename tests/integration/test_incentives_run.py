"""The monthly incentive run on the real ledger: exact rupiah for every preset and their edge
cases, on SQLite and PostgreSQL. Participants and payments are written through the registry's
actions; partners through the partners import."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from cakupan.auth import Actor, Role
from cakupan.dates import JAKARTA, FixedClock, Month
from cakupan.db import transaction
from cakupan.errors import CakupanError, ErrorKind
from cakupan.incentives.actions import run_period, set_statement_status
from cakupan.incentives.definition import AgreementParameters
from cakupan.partners import actions as partner_actions
from cakupan.registry import RegistrationRow, register_participants, reverse_payment
from cakupan.registry.actions import post_payments
from cakupan.registry.inputs import PaymentRow
from tests.conftest import CliResult

Cli = Callable[..., CliResult]
ACTOR = Actor.system("test")
CLOCK = FixedClock(datetime(2026, 11, 26, 9, 0, tzinfo=JAKARTA))
JHT, NO_JHT = "JKK+JKM+JHT", "JKK+JKM"
#: 2025 contributions at base income 1,000,000: JKK 10,000 + JKM 6,800 (+ JHT 20,000).
MONTH = {JHT: 36_800, NO_JHT: 16_800}

NETWORK = """code,name,kind,parent_code,branch_code,scheme,commission_rate,valid_from,valid_to
W1,Wadah Pasar,wadah,,PLG,komunitas-2024,,2024-01-01,
P1,Perisai Komunitas,perisai,W1,PLG,komunitas-2024,,2024-01-01,
Q1,Perisai Lama,perisai,W1,PLG,perisai-2022,,2022-06-01,
Q2,Perisai Lama Dua,perisai,W1,PLG,perisai-2022,,2022-06-01,
K1,Koperasi Korporasi,korporasi,,PLG,korporasi-2024,2.5,2024-01-01,2025-03-15
A1,Agen46 Satu,agen46,,PLG,agen46-2024,,2024-01-01,
A2,Agen46 Dua,agen46,,PLG,agen46-2024,,2024-01-01,
POSR,Pos Regional,pos_regional,,PLG,,,,
B1,BRILink Satu,brilink,,PLG,brilink-2024,,2024-01-01,
B2,BRILink Dua,brilink,,PLG,brilink-2024,,2024-01-01,
B3,BRILink Tiga,brilink,,SMG,brilink-2024,,2024-01-01,
POS1,Kantor Pos Satu,pos_kc,POSR,PLG,,,,
"""


class Ledger:
    """Writes registrations and payments through the registry's actions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.serial = 0

    def nik(self) -> str:
        self.serial += 1
        return f"167101010190{self.serial:04d}"

    def register(
        self,
        registered_on: str,
        programs: str = NO_JHT,
        *,
        partner: str | None = None,
        agent: str | None = None,
        income: int = 1_000_000,
    ) -> str:
        nik = self.nik()
        row = RegistrationRow(
            row=1,
            nik=nik,
            name=f"Peserta {self.serial}",
            phone="081234567890",
            occupation="market_trader",
            reported_income=income,
            programs=programs,
            registered_on=registered_on,
            district_code="16.71.01",
            channel="agent" if agent else ("partner" if partner else "branch"),
            partner_code=partner,
            agent_code=agent,
        )
        with transaction(self.engine) as session:
            result = register_participants(session, ACTOR, [row], clock=CLOCK)
        assert result.rejected == 0, result.as_json()
        return nik

    def pay(
        self,
        nik: str,
        amount: int,
        paid_on: str,
        reference: str,
        *,
        agent: str | None = None,
        partner: str | None = None,
        posted: datetime | None = None,
    ) -> None:
        row = PaymentRow(1, reference, nik, amount, paid_on, "bank", partner, agent)
        clock = FixedClock(posted) if posted else CLOCK
        with transaction(self.engine) as session:
            result = post_payments(session, ACTOR, [row], clock=clock)
        assert result.rejected == 0, result.as_json()

    def reverse(self, reference: str, on: str) -> None:
        with transaction(self.engine) as session:
            reverse_payment(
                session,
                ACTOR,
                reference,
                reason="bank reversal",
                reversed_on=date.fromisoformat(on),
                clock=CLOCK,
            )


@pytest.fixture
def ledger(engine: Engine, cli: Cli, tmp_path: Path) -> Ledger:
    path = tmp_path / "network.csv"
    path.write_text(NETWORK, encoding="utf-8")
    imported = cli("partners", "import", str(path), "--json")
    assert imported.exit_code == 0, imported.stdout + imported.stderr
    return Ledger(engine)


def _run(engine: Engine, period: str) -> dict[tuple[str, str], dict[str, Any]]:
    with transaction(engine) as session:
        result = run_period(session, ACTOR, CLOCK, Month.parse(period))
    return {(s["partner_code"], s["scheme"]): s for s in result.statements}


def _lines(statement: dict[str, Any]) -> list[tuple[str | None, str, int]]:
    return [(line["nik"], line["kind"], line["amount"]) for line in statement["lines"]]


def test_komunitas_milestones_jht_multi_month_and_reacquisition(
    engine: Engine, ledger: Ledger
) -> None:
    with_jht = ledger.register("2025-01-05", JHT, partner="W1", agent="P1")
    without = ledger.register("2025-01-06", NO_JHT, partner="W1", agent="P1")
    ledger.pay(with_jht, MONTH[JHT], "2025-01-10", "J-1")  # month 1
    ledger.pay(without, 6 * MONTH[NO_JHT], "2025-01-12", "N-1")  # months 1-6 at once
    ledger.pay(with_jht, 5 * MONTH[JHT], "2025-02-10", "J-2")  # months 2-6: milestones 3 and 6

    january = _run(engine, "2025-01")
    assert _lines(january[("P1", "komunitas-2024")]) == [
        (with_jht, "milestone_1", 4_000),
        (without, "milestone_1", 2_500),
        (without, "milestone_3", 2_500),
        (without, "milestone_6", 5_000),
    ]
    assert january[("P1", "komunitas-2024")]["total"] == 14_000
    assert [line["reference"] for line in january[("P1", "komunitas-2024")]["lines"]] == [
        "J-1", "N-1", "N-1", "N-1",
    ]  # fmt: skip
    # the Wadah has an agreement but its Perisai registered these: the Wadah's statement is empty
    assert january[("W1", "komunitas-2024")]["total"] == 0
    february = _run(engine, "2025-02")
    assert _lines(february[("P1", "komunitas-2024")]) == [
        (with_jht, "milestone_3", 4_000),
        (with_jht, "milestone_6", 7_000),
    ]

    # Re-acquisition: closed from 2025-05 (three whole months unpaid after January), pays again
    # in June through the Perisai: a new episode, whose first month is a milestone again.
    lapsing = ledger.register("2025-01-07", NO_JHT, partner="W1", agent="P1")
    ledger.pay(lapsing, MONTH[NO_JHT], "2025-01-08", "L-1")
    ledger.pay(lapsing, MONTH[NO_JHT], "2025-06-10", "L-2", agent="P1", partner="W1")
    june = _run(engine, "2025-06")
    assert _lines(june[("P1", "komunitas-2024")]) == [(lapsing, "milestone_1", 2_500)]


def test_runs_are_idempotent_and_closed_statements_never_change(
    engine: Engine, ledger: Ledger
) -> None:
    nik = ledger.register("2025-01-05", JHT, partner="W1", agent="P1")
    ledger.pay(nik, MONTH[JHT], "2025-01-10", "J-1")
    ledger.pay(nik, 5 * MONTH[JHT], "2025-02-10", "J-2")
    first = _run(engine, "2025-02")
    assert first == _run(engine, "2025-02")
    with transaction(engine) as session:
        set_statement_status(
            session, ACTOR, CLOCK, Month(2025, 2), "P1", "komunitas-2024", "approved"
        )
        set_statement_status(session, ACTOR, CLOCK, Month(2025, 2), "P1", "komunitas-2024", "paid")
    # Reversal after the statement was paid: a clawback in the period of the reversal.
    ledger.reverse("J-2", "2025-03-15")
    again = _run(engine, "2025-02")[("P1", "komunitas-2024")]
    assert (again["status"], again["total"]) == ("paid", 11_000)
    march = _run(engine, "2025-03")[("P1", "komunitas-2024")]
    assert march["lines"] == [
        {"nik": nik, "kind": "clawback", "amount": -11_000, "reference": "J-2"}
    ]
    # Paying again re-earns the milestones (net once per episode over the periods).
    ledger.pay(nik, 5 * MONTH[JHT], "2025-03-20", "J-3")
    march = _run(engine, "2025-03")[("P1", "komunitas-2024")]
    assert _lines(march) == [
        (nik, "milestone_3", 4_000),
        (nik, "milestone_6", 7_000),
        (nik, "clawback", -11_000),
    ]
    assert march["total"] == 0
    with transaction(engine) as session:
        with pytest.raises(CakupanError) as error:
            set_statement_status(
                session, ACTOR, CLOCK, Month(2025, 2), "P1", "komunitas-2024", "draft"
            )
        assert error.value.kind is ErrorKind.CONFLICT
        with pytest.raises(CakupanError) as denied:
            set_statement_status(
                session, Actor("ark", Role.ARK, branch_code="PLG"), CLOCK, Month(2025, 3),
                "P1", "komunitas-2024", "approved",
            )  # fmt: skip
        assert denied.value.kind is ErrorKind.FORBIDDEN


def test_korporasi_commission_rounding_and_agreement_expiring_mid_period(
    engine: Engine, ledger: Ledger
) -> None:
    # Income 3,000,000 -> base 2,950,000: JKK 29,500 + JKM 6,800 = 36,300 a month.
    first = ledger.register("2025-03-01", NO_JHT, partner="K1", income=3_000_000)
    second = ledger.register("2025-03-02", NO_JHT, partner="K1", income=3_000_000)
    ledger.pay(first, 36_300, "2025-03-10", "K-1")  # 2.5% = 907.5 -> 908
    ledger.pay(second, 2 * 36_300, "2025-03-15", "K-2")  # last day of the agreement: 1,815
    ledger.pay(first, 36_300, "2025-03-16", "K-3")  # the agreement has ended: nothing
    march = _run(engine, "2025-03")[("K1", "korporasi-2024")]
    assert march["lines"] == [
        {"nik": first, "kind": "commission", "amount": 908, "reference": "K-1"},
        {"nik": second, "kind": "commission", "amount": 1_815, "reference": "K-2"},
    ]
    assert march["total"] == 2_723
    assert ("K1", "korporasi-2024") not in _run(engine, "2025-04")


def test_agen46_threshold_24_versus_25_and_fees(engine: Engine, ledger: Ledger) -> None:
    for i in range(25):
        nik = ledger.register("2025-04-02", NO_JHT, agent="A1")
        ledger.pay(nik, MONTH[NO_JHT], "2025-04-03", f"A1-{i}", agent="A1")
    for i in range(24):
        nik = ledger.register("2025-04-02", JHT, agent="A2")
        ledger.pay(nik, MONTH[JHT], "2025-04-03", f"A2-{i}", agent="A2")
    april = _run(engine, "2025-04")
    a1, a2 = april[("A1", "agen46-2024")], april[("A2", "agen46-2024")]
    assert {line["kind"] for line in a1["lines"]} == {"milestone_1"}
    assert a1["total"] == 25 * 2_500
    assert a2["total"] == 0  # 24 registrations in the month: no milestones
    assert a1["fees"] == {"registrations": 25, "payments": 25, "amount": 25 * 3_500 + 25 * 2_500}
    assert a2["fees"] == {"registrations": 24, "payments": 24, "amount": 24 * 6_000}


def test_perisai_2022_acquisition_share_and_override(engine: Engine, ledger: Ledger) -> None:
    # Q1: 25 new NIKs in May 2025 (5 with JHT); each pays its first month.
    for i in range(25):
        programs = JHT if i < 5 else NO_JHT
        nik = ledger.register("2025-05-05", programs, partner="W1", agent="Q1")
        ledger.pay(nik, MONTH[programs], "2025-05-06", f"Q1-{i}")
    # Q2: 24 new NIKs: no acquisition incentive, but the contribution share still applies.
    for i in range(24):
        nik = ledger.register("2025-05-05", NO_JHT, partner="W1", agent="Q2")
        ledger.pay(nik, MONTH[NO_JHT], "2025-05-06", f"Q2-{i}")
    may = _run(engine, "2025-05")
    q1, q2 = may[("Q1", "perisai-2022")], may[("Q2", "perisai-2022")]
    acquisition = sum(line["amount"] for line in q1["lines"] if line["kind"] == "acquisition")
    share = sum(line["amount"] for line in q1["lines"] if line["kind"] == "contribution_share")
    assert acquisition == 5 * 15_000 + 20 * 10_000
    assert share == 5 * 5_520 + 20 * 2_520  # 15% of 36,800 and of 16,800
    assert q1["total"] == 353_000
    assert q2["total"] == 24 * 2_520
    assert {line["kind"] for line in q2["lines"]} == {"contribution_share"}
    wadah = may[("W1", "perisai-2022")]
    assert wadah["lines"] == [
        {"nik": None, "kind": "override", "amount": 35_300, "reference": "Q1"},
        {"nik": None, "kind": "override", "amount": 6_048, "reference": "Q2"},
    ]


def test_perisai_2022_share_crosses_from_month_24_to_25(engine: Engine, ledger: Ledger) -> None:
    nik = ledger.register("2023-01-05", NO_JHT, partner="W1", agent="Q1")
    ledger.pay(nik, 12 * MONTH[NO_JHT], "2023-01-06", "S-1")  # months 1-12
    ledger.pay(nik, 11 * MONTH[NO_JHT], "2024-01-05", "S-2")  # months 13-23
    ledger.pay(nik, 2 * MONTH[NO_JHT], "2024-12-05", "S-3")  # months 24 (15%) and 25 (5%)
    december = _run(engine, "2024-12")[("Q1", "perisai-2022")]
    assert december["lines"] == [
        {"nik": nik, "kind": "contribution_share", "amount": 2_520 + 840, "reference": "S-3"}
    ]
    assert _run(engine, "2024-12")[("W1", "perisai-2022")]["total"] == 336


def test_pos_threshold_per_office_and_region(engine: Engine, ledger: Ledger) -> None:
    with transaction(engine) as session:
        partner_actions.add_agreement(
            session, ACTOR, CLOCK, "POS1", scheme_name="pos-2024", valid_from=date(2025, 1, 1),
            parameters=AgreementParameters(threshold_registrations=3, threshold_amount=100_000),
        )  # fmt: skip
        partner_actions.add_agreement(
            session, ACTOR, CLOCK, "POSR", scheme_name="pos-2024", valid_from=date(2025, 1, 1),
            parameters=AgreementParameters(threshold_registrations=4, threshold_amount=250_000),
        )  # fmt: skip
    # pos-2024 version 2 (issue 19): a registration counts once its first month is paid
    for i in range(3):
        nik = ledger.register("2025-07-01", NO_JHT, partner="POS1")
        ledger.pay(nik, MONTH[NO_JHT], "2025-07-02", f"POS-{i}")
    ledger.register("2025-07-01", NO_JHT, partner="POS1")  # never pays: does not count
    july = _run(engine, "2025-07")
    assert july[("POS1", "pos-2024")]["lines"] == [
        {
            "nik": None,
            "kind": "threshold",
            "amount": 100_000,
            "reference": "registrations:2025-07:3",
        }
    ]
    assert july[("POSR", "pos-2024")]["total"] == 0  # 3 under it, threshold 4
    nik = ledger.register("2025-07-20", NO_JHT, partner="POS1")
    ledger.pay(nik, MONTH[NO_JHT], "2025-07-21", "POS-4")
    july = _run(engine, "2025-07")
    assert july[("POSR", "pos-2024")]["total"] == 250_000
    assert july[("POS1", "pos-2024")]["total"] == 100_000


def test_cli_run_contract(cli: Cli, ledger: Ledger) -> None:
    nik = ledger.register("2025-01-05", JHT, partner="W1", agent="P1")
    ledger.pay(nik, MONTH[JHT], "2025-01-10", "J-1")
    result = cli("incentives", "run", "--period", "2025-01", "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["period"] == "2025-01"
    p1 = next(s for s in body["statements"] if s["partner_code"] == "P1")
    assert {k: p1[k] for k in ("partner_code", "scheme", "total")} == {
        "partner_code": "P1",
        "scheme": "komunitas-2024",
        "total": 4_000,
    }
    assert p1["lines"] == [{"nik": nik, "kind": "milestone_1", "amount": 4_000, "reference": "J-1"}]
    assert json.loads(cli("incentives", "run", "--period", "2025-01", "--json").stdout) == body
    bad = cli("incentives", "run", "--period", "2025-13", "--json")
    assert bad.exit_code == 2
    approved = cli(
        "incentives", "statements", "approve", "--period", "2025-01", "--partner", "P1",
        "--scheme", "komunitas-2024", "--json",
    )  # fmt: skip
    assert json.loads(approved.stdout)["status"] == "approved"


def test_agents_at_risk_follow_ledger_activity(engine: Engine, ledger: Ledger) -> None:
    from cakupan.partners import agents_at_risk

    # Q1 registers in January 2025 and collects a payment in February; Q2 never does anything.
    nik = ledger.register("2025-01-10", NO_JHT, partner="W1", agent="Q1")
    ledger.pay(nik, MONTH[NO_JHT], "2025-02-03", "Q-1", agent="Q1")
    with transaction(engine) as session:
        standing = {
            month: [
                (a.code, a.idle_months, a.standing)
                for a in agents_at_risk(session, ACTOR, Month(2025, month))
            ]
            for month in (2, 4, 5)
        }
    # Q2 was activated on its agreement's start (2022-06): long idle, due every month.
    assert standing[2] == [("Q2", 33, "due")]
    assert standing[4] == [("Q2", 35, "due"), ("Q1", 2, "at_risk")]
    assert standing[5] == [("Q2", 36, "due"), ("Q1", 3, "due")]


def test_brilink_contests_rank_by_first_month_paid_then_contributions(
    engine: Engine, ledger: Ledger, cli: Cli
) -> None:
    for agent, programs, pays in (
        ("B1", JHT, True), ("B1", JHT, True),
        ("B2", NO_JHT, True), ("B2", NO_JHT, False), ("B2", NO_JHT, True),
        ("B3", NO_JHT, True), ("B3", NO_JHT, True),
    ):  # fmt: skip
        nik = ledger.register("2025-02-10", programs, agent=agent)
        if pays:
            ledger.pay(nik, MONTH[programs], "2025-02-11", f"{agent}-{nik[-4:]}", agent=agent)
    # B3 registered in the second quarter only counts there
    late = ledger.register("2025-04-01", NO_JHT, agent="B3")
    ledger.pay(late, 12 * MONTH[NO_JHT], "2025-04-02", "B3-late", agent="B3")
    result = cli(
        "incentives",
        "contest",
        "--scheme",
        "brilink-2024",
        "--from",
        "2025-01",
        "--to",
        "2025-06",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    contests = {c["name"]: c for c in json.loads(result.stdout)["contests"]}
    quarterly = contests["quarterly-national"]["windows"]
    assert [w["window"] for w in quarterly] == ["2025-Q1", "2025-Q2"]
    q1 = quarterly[0]["groups"][0]
    assert [
        (
            r["rank"],
            r["partner_code"],
            r["registrations_first_month_paid"],
            r["contributions_collected"],
        )
        for r in q1["ranking"]
    ] == [
        (1, "B1", 2, 2 * 36_800),
        (2, "B2", 2, 2 * 16_800),
        (2, "B3", 2, 2 * 16_800),  # same figures as B2: same rank
    ]
    assert [(r["tied"]) for r in q1["ranking"]] == [False, True, True]
    assert [w["partner_code"] for w in q1["winners"]] == ["B1"]
    assert quarterly[1]["groups"][0]["winners"][0]["partner_code"] == "B3"
    regional = contests["quarterly-regional"]["windows"][0]["groups"]
    assert {g["scope"]: [w["partner_code"] for w in g["winners"]] for g in regional} == {
        "SUMBAGSEL": ["B1"],
        next(g["scope"] for g in regional if g["scope"] != "SUMBAGSEL"): ["B3"],
    }
    grand = contests["grand-prize-national"]["windows"][0]["groups"][0]
    assert grand["winners"][0]["partner_code"] == "B3"  # 3 first months paid over the full period


def test_simulator_compares_cost_per_retained_participant(ledger: Ledger, cli: Cli) -> None:
    lapsed = ledger.register("2025-01-05", NO_JHT, partner="W1", agent="P1")
    six = ledger.register("2025-01-06", NO_JHT, partner="W1", agent="P1")
    twelve = ledger.register("2025-01-07", NO_JHT, partner="W1", agent="P1")
    ledger.pay(lapsed, MONTH[NO_JHT], "2025-01-08", "S-1")
    ledger.pay(six, 6 * MONTH[NO_JHT], "2025-01-08", "S-6")
    ledger.pay(twelve, 12 * MONTH[NO_JHT], "2025-01-08", "S-12")
    ledger.register("2025-02-01", NO_JHT)  # through the branch: not in the cohort
    result = cli(
        "incentives", "simulate", "--schemes", "komunitas-2024,korporasi-2024,perisai-2022,agen46-2024",
        "--from", "2025-01", "--to", "2025-02", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    by_scheme = {s["scheme"]: s for s in json.loads(result.stdout)["schemes"]}
    keys = (
        "total_cost", "registrations", "still_paying_month_3", "still_paying_month_6",
        "still_paying_month_12", "cost_per_retained_month_6", "cost_per_retained_month_12",
    )  # fmt: skip
    assert [by_scheme["komunitas-2024"][k] for k in keys] == [22_500, 3, 2, 2, 1, 11_250, 22_500]
    assert [by_scheme["korporasi-2024"][k] for k in keys] == [7_980, 3, 2, 2, 1, 3_990, 7_980]
    assert by_scheme["perisai-2022"]["cost_by_kind"] == {
        "contribution_share": 47_880,
        "override": 4_788,
    }
    assert by_scheme["perisai-2022"]["cost_per_retained_month_6"] == 26_334
    assert by_scheme["agen46-2024"]["total_cost"] == 0  # 3 registrations: never qualifies
    rate = cli(
        "incentives", "simulate", "--schemes", "korporasi-2024", "--from", "2025-01", "--to", "2025-01",
        "--commission-rate", "5", "--json",
    )  # fmt: skip
    assert json.loads(rate.stdout)["schemes"][0]["total_cost"] == 15_960
    unknown = cli(
        "incentives", "simulate", "--schemes", "nope", "--from", "2025-01", "--to", "2025-01"
    )
    assert unknown.exit_code == 2


def test_export_statement_xlsx_and_pdf(ledger: Ledger, cli: Cli, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    nik = ledger.register("2025-01-05", JHT, partner="W1", agent="P1")
    ledger.pay(nik, 6 * MONTH[JHT], "2025-01-10", "J-1")
    missing = cli(
        "incentives",
        "export",
        "--period",
        "2025-01",
        "--partner",
        "P1",
        "-o",
        str(tmp_path / "s.xlsx"),
    )
    assert missing.exit_code == 1  # not run yet
    assert cli("incentives", "run", "--period", "2025-01").exit_code == 0
    xlsx = tmp_path / "p1.xlsx"
    done = cli(
        "incentives", "export", "--period", "2025-01", "--partner", "P1", "-o", str(xlsx), "--json"
    )
    assert done.exit_code == 0, done.stderr
    sheet = load_workbook(xlsx).active
    rows = [tuple(cell for cell in row) for row in sheet.iter_rows(values_only=True)]
    assert ("No", "NIK", "Jenis", "Referensi", "Jumlah") in rows
    assert (1, nik, "Iuran bulan ke-1 terbayar", "J-1", 4_000) in rows
    assert (3, nik, "Iuran bulan ke-6 terbayar", "J-1", 7_000) in rows
    assert (None, None, None, "Jumlah", 15_000) in rows
    assert "Status: Draf" in [row[0] for row in rows]
    pdf = tmp_path / "p1.pdf"
    assert (
        cli(
            "incentives", "export", "--period", "2025-01", "--partner", "P1", "-o", str(pdf)
        ).exit_code
        == 0
    )
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF-")
    assert len(content) > 1_000
    bad = cli(
        "incentives",
        "export",
        "--period",
        "2025-01",
        "--partner",
        "P1",
        "-o",
        str(tmp_path / "x.csv"),
    )
    assert bad.exit_code == 2


def test_run_query_count_does_not_grow_with_the_ledger(engine: Engine, ledger: Ledger) -> None:
    from sqlalchemy import event

    from cakupan.incentives.engine import compute_period

    def count_queries() -> int:
        statements: list[str] = []

        def record(*args: Any) -> None:
            statements.append(args[2])

        event.listen(engine, "before_cursor_execute", record)
        try:
            with transaction(engine) as session:
                compute_period(session, Month(2025, 1))
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return len(statements)

    nik = ledger.register("2025-01-05", NO_JHT, partner="W1", agent="P1")
    ledger.pay(nik, MONTH[NO_JHT], "2025-01-06", "C-0")
    small = count_queries()
    for i in range(1, 9):
        nik = ledger.register(
            "2025-01-05",
            JHT if i % 2 else NO_JHT,
            partner="K1" if i % 3 else "W1",
            agent=None if i % 3 else "Q1",
        )
        ledger.pay(nik, 2 * MONTH[JHT if i % 2 else NO_JHT], "2025-01-06", f"C-{i}")
    assert count_queries() == small


def test_late_payment_for_a_closed_period_is_carried_as_an_adjustment(
    engine: Engine, ledger: Ledger
) -> None:
    on_time = ledger.register("2025-01-05", JHT, partner="W1", agent="P1")
    ledger.pay(
        on_time, MONTH[JHT], "2025-01-10", "J-1", posted=datetime(2025, 1, 10, 10, tzinfo=JAKARTA)
    )
    assert _run(engine, "2025-01")[("P1", "komunitas-2024")]["total"] == 4_000
    with transaction(engine) as session:
        set_statement_status(
            session, ACTOR, CLOCK, Month(2025, 1), "P1", "komunitas-2024", "approved"
        )
    # A bank settles a January payment on 3 February, after January was approved.
    late = ledger.register("2025-01-06", NO_JHT, partner="W1", agent="P1")
    ledger.pay(
        late, MONTH[NO_JHT], "2025-01-20", "L-1", posted=datetime(2025, 2, 3, 8, tzinfo=JAKARTA)
    )
    with transaction(engine) as session:
        january = run_period(session, ACTOR, CLOCK, Month(2025, 1))
    kept = next(s for s in january.statements if s["partner_code"] == "P1")
    assert (kept["status"], kept["total"]) == ("approved", 4_000)  # never silently changed
    assert january.unchanged_closed == [
        {"partner_code": "P1", "scheme": "komunitas-2024", "status": "approved",
         "stored_total": 4_000, "recomputed_total": 6_500},
    ]  # fmt: skip
    february = _run(engine, "2025-02")[("P1", "komunitas-2024")]
    assert february["lines"] == [
        {"nik": late, "kind": "adjustment", "amount": 2_500, "reference": "2025-01:L-1"}
    ]
    assert _run(engine, "2025-02")[("P1", "komunitas-2024")] == february  # idempotent


def test_late_payment_whose_posting_period_was_closed_is_carried_once_by_the_next_run(
    engine: Engine, ledger: Ledger
) -> None:
    on_time = ledger.register("2025-01-05", JHT, partner="W1", agent="P1")
    ledger.pay(
        on_time, MONTH[JHT], "2025-01-10", "J-1", posted=datetime(2025, 1, 10, 10, tzinfo=JAKARTA)
    )
    february_payer = ledger.register("2025-02-03", NO_JHT, partner="W1", agent="P1")
    ledger.pay(
        february_payer,
        MONTH[NO_JHT],
        "2025-02-04",
        "F-1",
        posted=datetime(2025, 2, 4, 9, tzinfo=JAKARTA),
    )
    for period in (Month(2025, 1), Month(2025, 2)):
        with transaction(engine) as session:
            run_period(session, ACTOR, CLOCK, period)
            set_statement_status(session, ACTOR, CLOCK, period, "P1", "komunitas-2024", "approved")
    # A January payment posted in February (1 February 03:00 WIB = 31 January 20:00 UTC), after
    # both January and February were approved: neither can carry it any more.
    late = ledger.register("2025-01-06", NO_JHT, partner="W1", agent="P1")
    ledger.pay(
        late, MONTH[NO_JHT], "2025-01-20", "L-1", posted=datetime(2025, 2, 1, 3, tzinfo=JAKARTA)
    )
    with transaction(engine) as session:
        february = run_period(session, ACTOR, CLOCK, Month(2025, 2))
    kept = next(s for s in february.statements if s["partner_code"] == "P1")
    assert (kept["status"], kept["total"]) == ("approved", 2_500)  # never silently changed
    march = _run(engine, "2025-03")[("P1", "komunitas-2024")]
    assert march["lines"] == [
        {"nik": late, "kind": "adjustment", "amount": 2_500, "reference": "2025-01:L-1"}
    ]
    assert _run(engine, "2025-03")[("P1", "komunitas-2024")] == march  # idempotent
    # Carried once: April does not carry it again, whether March is a draft or approved.
    assert ("P1", "komunitas-2024") not in _run(engine, "2025-04") or not any(
        line["kind"] == "adjustment"
        for line in _run(engine, "2025-04")[("P1", "komunitas-2024")]["lines"]
    )
    with transaction(engine) as session:
        set_statement_status(
            session, ACTOR, CLOCK, Month(2025, 3), "P1", "komunitas-2024", "approved"
        )
    april = _run(engine, "2025-04").get(("P1", "komunitas-2024"), {"lines": []})
    assert [line for line in april["lines"] if line["kind"] == "adjustment"] == []


def test_clawback_of_a_reversed_reacquisition_opening_uses_the_start_it_was_paid_under(
    engine: Engine, ledger: Ledger
) -> None:
    nik = ledger.register("2025-01-07", NO_JHT, partner="W1", agent="P1")
    ledger.pay(nik, MONTH[NO_JHT], "2025-01-08", "L-1")
    # Closed from May; pays again in June through the Perisai: a new episode starting in June.
    ledger.pay(nik, MONTH[NO_JHT], "2025-06-10", "L-2", agent="P1", partner="W1")
    june = _run(engine, "2025-06")[("P1", "komunitas-2024")]
    assert _lines(june) == [(nik, "milestone_1", 2_500)]
    with transaction(engine) as session:
        set_statement_status(
            session, ACTOR, CLOCK, Month(2025, 6), "P1", "komunitas-2024", "approved"
        )
    # The opening payment is reversed in July; the participant pays again in November (the
    # emptied episode would be closed by then): the registry restarts the episode in November.
    ledger.reverse("L-2", "2025-07-03")
    ledger.pay(nik, MONTH[NO_JHT], "2025-11-12", "L-3", agent="P1", partner="W1")
    # July's run (after the November payment) gives back what L-2 earned under its own start.
    july = _run(engine, "2025-07")[("P1", "komunitas-2024")]
    assert july["lines"] == [{"nik": nik, "kind": "clawback", "amount": -2_500, "reference": "L-2"}]
    november = _run(engine, "2025-11")[("P1", "komunitas-2024")]
    assert _lines(november) == [(nik, "milestone_1", 2_500)]
    # June recomputes as it was approved (L-2 still earned its first month there).
    with transaction(engine) as session:
        assert run_period(session, ACTOR, CLOCK, Month(2025, 6)).unchanged_closed == []
    # Over the periods the episode's first month is paid once: 2,500 - 2,500 + 2,500.
    assert june["total"] + july["total"] + november["total"] == 2_500
