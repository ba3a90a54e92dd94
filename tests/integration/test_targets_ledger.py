"""BPU realization computed from the ledger, against hand-computed cases at year boundaries."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cakupan.auth import Actor
from cakupan.dates import JAKARTA, FixedClock, Month
from cakupan.db import transaction
from cakupan.registry import RegistrationRow, post_payment, register_participant
from cakupan.registry.models import (
    CoveredMonth,
    Membership,
    Participant,
    Payment,
    PaymentReversal,
)
from cakupan.targets import realization_from_ledger
from cakupan.targets.queries import ledger_monthly, projection
from cakupan.targets.rules import Period
from tests.conftest import CliResult

Cli = Callable[..., CliResult]
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
MONTHLY = 16_800


class Ledger:
    """Writes ledger rows directly (the registry's posting engine is tested in its own area; here
    the point is exact, hand-checkable cases)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.serial = 0

    def participant(
        self, branch: str, registered_on: date, partner: str | None = None, agent: str | None = None
    ) -> int:
        self.serial += 1
        with transaction(self.engine) as session:
            person = Participant(
                nik=f"167101010190{self.serial:04d}",
                name=f"Peserta {self.serial}",
                sex="M",
                birth_date=date(1990, 1, 1),
                phone="081234567890",
                branch_code=branch,
                occupation="farmer",
                reported_income=1_000_000,
                programs="JKK+JKM",
                sector="other",
                funding="self",
                channel="agent" if agent else "branch",
                partner_code=partner,
                agent_code=agent,
                registered_on=registered_on,
                created_at=NOW,
            )
            session.add(person)
            session.flush()
            return person.id

    def episode(
        self,
        participant_id: int,
        episode_no: int,
        registered_on: date,
        start: Month,
        partner: str | None = None,
        agent: str | None = None,
    ) -> int:
        with transaction(self.engine) as session:
            membership = Membership(
                participant_id=participant_id,
                episode_no=episode_no,
                registered_on=registered_on,
                start_month=start,
                channel="agent" if agent else "branch",
                partner_code=partner,
                agent_code=agent,
            )
            session.add(membership)
            session.flush()
            return membership.id

    def pay(
        self,
        membership_id: int,
        participant_id: int,
        first: Month,
        months: int,
        paid_on: date,
        reversed_on: date | None = None,
    ) -> int:
        self.serial += 1
        with transaction(self.engine) as session:
            payment = Payment(
                channel="branch",
                reference=f"REF{self.serial}",
                participant_id=participant_id,
                membership_id=membership_id,
                amount=MONTHLY * months,
                paid_on=paid_on,
                first_month=first,
                months=months,
                fingerprint=f"fp{self.serial}",
                posted_at=NOW,
            )
            session.add(payment)
            session.flush()
            for i in range(months):
                session.add(
                    CoveredMonth(
                        payment_id=payment.id,
                        month=first + i,
                        membership_id=membership_id,
                        participant_id=participant_id,
                        amount=MONTHLY,
                        reversed=reversed_on is not None,
                    )
                )
            if reversed_on is not None:
                session.add(
                    PaymentReversal(
                        payment_id=payment.id,
                        reason="dana kembali",
                        reversed_on=reversed_on,
                        recorded_at=NOW,
                        actor="test",
                    )
                )
            return payment.id


def _seed(engine: Engine) -> None:
    """The cases, all BPU:

    A (PLG) registered 2025-12-28, pays 2025-12..2026-01 on 2026-01-05.
    B (PLG) registered 2025-11-10, pays 2025-11..2025-12 on 2025-11-10.
    C (PLG) registered 2025-12-30, never pays.
    D (PLG) registered 2026-02-01, pays 2026-02 on 2026-02-01, reversed on 2026-03-01.
    E (PLG) episode 1 in 2024-01 (paid 2024-01), closed; episode 2 from 2026-01, registered
      2025-12-31, first month paid on 2026-01-02.
    F (BDL, same region SUMBAGSEL) registered 2025-06-01, pays 2025-06 on 2025-06-01.
    """
    ledger = Ledger(engine)
    a = ledger.participant("PLG", date(2025, 12, 28), agent="AG01")
    ma = ledger.episode(a, 1, date(2025, 12, 28), Month(2025, 12), agent="AG01")
    ledger.pay(ma, a, Month(2025, 12), 2, date(2026, 1, 5))
    b = ledger.participant("PLG", date(2025, 11, 10))
    mb = ledger.episode(b, 1, date(2025, 11, 10), Month(2025, 11))
    ledger.pay(mb, b, Month(2025, 11), 2, date(2025, 11, 10))
    c = ledger.participant("PLG", date(2025, 12, 30))
    ledger.episode(c, 1, date(2025, 12, 30), Month(2025, 12))
    d = ledger.participant("PLG", date(2026, 2, 1))
    md = ledger.episode(d, 1, date(2026, 2, 1), Month(2026, 2))
    ledger.pay(md, d, Month(2026, 2), 1, date(2026, 2, 1), reversed_on=date(2026, 3, 1))
    e = ledger.participant("PLG", date(2024, 1, 3))
    me1 = ledger.episode(e, 1, date(2024, 1, 3), Month(2024, 1))
    ledger.pay(me1, e, Month(2024, 1), 1, date(2024, 1, 3))
    me2 = ledger.episode(e, 2, date(2025, 12, 31), Month(2026, 1), partner="BRI01")
    ledger.pay(me2, e, Month(2026, 1), 1, date(2026, 1, 2))
    f = ledger.participant("BDL", date(2025, 6, 1))
    mf = ledger.episode(f, 1, date(2025, 6, 1), Month(2025, 6))
    ledger.pay(mf, f, Month(2025, 6), 1, date(2025, 6, 1))


def _value(engine: Engine, office: str, period: Period, metric: str) -> int:
    with transaction(engine) as session:
        return realization_from_ledger(session, office, period, metric)


def test_year_boundaries(engine: Engine) -> None:
    _seed(engine)
    y2024, y2025, y2026 = (Period.whole_year(y) for y in (2024, 2025, 2026))
    feb = Period(2026, Month(2026, 2), Month(2026, 2))
    expected = {
        # registered in the year, first month paid (A paid after the year end: still 2025)
        ("PLG", y2025, "new_participants"): 2,  # A, B (C never paid; E's episode 2 is not new)
        ("PLG", y2026, "new_participants"): 0,  # D's only payment was reversed
        ("PLG", y2024, "new_participants"): 1,  # E's first episode
        # active on 31 December: B covers 2025-12 paid in November; A paid 2025-12 only in 2026
        ("PLG", y2025, "active_participants"): 1,
        # 2026-01-31: A (through 2026-01) and E (episode 2, 2026-01); B's coverage ended
        ("PLG", Period(2026, Month(2026, 1), Month(2026, 1)), "active_participants"): 2,
        # 2026-02-28: D's payment was reversed only on 2026-03-01, so D counts then
        ("PLG", feb, "active_participants"): 1,
        # received in the year: B's 2 months in 2025; A's 2 + E's 1 in 2026 (D reversed)
        ("PLG", y2025, "contributions"): 2 * MONTHLY,
        ("PLG", y2026, "contributions"): 3 * MONTHLY,
        # February alone: D's payment stands as of 2026-02-28
        ("PLG", feb, "contributions"): MONTHLY,
        # re-acquisition counts when the new episode's first month is paid (2026-01-02)
        ("PLG", y2025, "reacquired"): 0,
        ("PLG", y2026, "reacquired"): 1,
        # offices: region SUMBAGSEL holds PLG and BDL; NATIONAL everything
        ("SUMBAGSEL", y2025, "new_participants"): 3,
        ("NATIONAL", y2025, "contributions"): 3 * MONTHLY,
        ("BDL", y2025, "new_participants"): 1,
        ("MDN", y2025, "new_participants"): 0,
    }
    actual = {key: _value(engine, *key) for key in expected}
    assert actual == expected


def test_monthly_series_and_projection(engine: Engine) -> None:
    _seed(engine)
    with transaction(engine) as session:
        assert ledger_monthly(session, "PLG", 2026, "contributions", 3) == [
            2 * MONTHLY + MONTHLY,  # A and E in January
            0,  # D's February payment was reversed by the end of March
            0,
        ]
        assert ledger_monthly(session, "PLG", 2025, "new_participants") == [0] * 10 + [1, 1]
        result = projection(session, "PLG", 2026, "BPU", "contributions", Month(2026, 3))
    payload = result.as_json()
    assert payload["year_to_date"] == 3 * MONTHLY
    assert payload["method"] == "linear_run_rate"  # no complete prior ledger year
    assert payload["projected_year_end"] == 3 * MONTHLY * 4


def test_report_uses_ledger_for_bpu_without_reported_figures(
    engine: Engine, cli: Cli, tmp_path: Any
) -> None:
    _seed(engine)
    path = tmp_path / "t.csv"
    path.write_text(
        "office_code,year,segment,metric,target,realization,source\n"
        "PLG,2025,BPU,new_participants,4,,SK 2025\n"
        "PLG,2025,BPU,contributions,100800,,SK 2025\n"
        "PLG,2024,BPU,new_participants,10,7,Laporan 2024\n",
        encoding="utf-8",
    )
    assert cli("targets", "import", str(path), "--json").exit_code == 0
    rows = json.loads(
        cli("targets", "report", "--office", "PLG", "--year", "2025", "--json").stdout
    )
    by_metric = {r["metric"]: r for r in rows["rows"]}
    assert by_metric["new_participants"]["realization"] == 2
    assert by_metric["new_participants"]["realization_source"] == "ledger"
    assert by_metric["new_participants"]["achievement_percent"] == 50.0
    assert by_metric["contributions"]["realization"] == 2 * MONTHLY
    assert by_metric["contributions"]["achievement_percent"] == 33.3
    # a reported figure is what the ledger does not hold: it is used as reported
    old = json.loads(cli("targets", "report", "--office", "PLG", "--year", "2024", "--json").stdout)
    assert old["rows"][0]["realization"] == 7
    assert old["rows"][0]["realization_source"] == "reported"
    # one row asked for by segment and metric, no target: the ledger's figure alone
    single = json.loads(
        cli(
            "targets",
            "report",
            "--office",
            "PLG",
            "--year",
            "2026",
            "--segment",
            "BPU",
            "--metric",
            "reacquired",
            "--json",
        ).stdout
    )
    assert single["rows"] == [
        {
            "office_code": "PLG",
            "year": 2026,
            "segment": "BPU",
            "metric": "reacquired",
            "target": None,
            "realization": 1,
            "achievement_percent": None,
            "realization_source": "ledger",
            "conflicts": [],
        }
    ]


def test_realization_from_ledger_written_by_the_registry(session: Session) -> None:
    """The same definitions over data written by the registry's own posting engine."""
    clock = FixedClock(datetime(2027, 12, 31, 12, 0, tzinfo=JAKARTA))
    actor = Actor.system("test")
    budi, siti = "1671010101900001", "1671015205850002"
    for nik, name, day in ((budi, "Budi", "2026-11-03"), (siti, "Siti", "2026-12-29")):
        register_participant(
            session,
            actor,
            RegistrationRow(
                row=1,
                nik=nik,
                name=name,
                phone="081234567890",
                occupation="farmer",
                reported_income=1_000_000,
                programs="JKK+JKM",
                registered_on=day,
                district_code="16.71.01",
            ),
            clock=clock,
        )

    def pay(nik: str, amount: int, paid_on: str, reference: str) -> None:
        post_payment(
            session,
            actor,
            nik=nik,
            amount=amount,
            paid_on=paid_on,
            reference=reference,
            channel="bank",
            clock=clock,
        )

    pay(budi, 8_400, "2026-11-05", "B-1")  # November 2026 (PP 50/2025 halves JKK and JKM)
    pay(siti, 8_400 + 16_800, "2027-01-04", "S-1")  # December 2026 and January 2027
    pay(budi, 16_800, "2027-06-15", "B-2")  # closed since 2027-03-01: a new episode

    def value(period: Period, metric: str) -> int:
        return realization_from_ledger(session, "PLG", period, metric)

    y2026, y2027 = Period.whole_year(2026), Period.whole_year(2027)
    assert value(y2026, "new_participants") == 2  # Siti registered in 2026, paid in 2027
    assert value(y2027, "new_participants") == 0
    assert value(y2026, "reacquired") == 0
    assert value(y2027, "reacquired") == 1
    assert value(y2026, "contributions") == 8_400
    assert value(y2027, "contributions") == 8_400 + 16_800 + 16_800
    assert value(y2026, "active_participants") == 0  # Budi lapsed in December; Siti paid later
    assert value(Period(2026, Month(2026, 11), Month(2026, 11)), "active_participants") == 1
    assert value(Period(2027, Month(2027, 1), Month(2027, 1)), "active_participants") == 1
    assert value(y2027, "active_participants") == 0  # Budi's new episode covers June only
    assert realization_from_ledger(session, "BDL", y2026, "new_participants") == 0
