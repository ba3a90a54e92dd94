"""Issue 19, item 6 on SQLite and PostgreSQL: a bundling offer (a Wadah's micro-credit with BPU
coverage, the partner paying the first three months), enrolment through the offer's partner,
the payer recorded per payment, and the per-offer report against participants outside any offer
with the same segment."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import Engine

from cakupan.auth import Actor
from cakupan.bundling import OfferSpec, add_offer, enrol, offer_report, record_payer
from cakupan.db import transaction
from cakupan.errors import CakupanError, ErrorKind
from tests.conftest import CliResult
from tests.integration.test_incentives_run import MONTH, NO_JHT, Ledger, ledger

__all__ = ["ledger"]
ACTOR = Actor.system("test")
FLOOR = MONTH[NO_JHT]  # Rp 16.800 in 2025
OFFER = OfferSpec(
    code="KREDIT-W1",
    partner_code="W1",
    product="credit",
    name="Kredit usaha mikro + BPU",
    coverage="includes",
    payer="split",
    partner_months=3,
    valid_from=date(2025, 1, 1),
    valid_to=date(2025, 12, 31),
    area_codes=("16",),
    source="synthetic agreement for the test",
)


def test_offer_enrolment_payers_and_report(
    engine: Engine, ledger: Ledger, cli: Callable[..., CliResult]
) -> None:
    with transaction(engine) as session:
        assert add_offer(session, ACTOR, OFFER)
        assert not add_offer(session, ACTOR, OFFER)  # the same offer again: nothing changes
    offered = [ledger.register("2025-01-05", NO_JHT, partner="W1", agent="P1") for _ in range(4)]
    others = [ledger.register("2025-01-06", NO_JHT) for _ in range(2)]  # branch, same segment
    with transaction(engine) as session:
        for nik in offered:
            assert enrol(session, ACTOR, nik, "KREDIT-W1")["enrolled"]
        assert not enrol(session, ACTOR, offered[0], "KREDIT-W1")["enrolled"]
        with pytest.raises(CakupanError) as refused:
            enrol(session, ACTOR, others[0], "KREDIT-W1")  # not registered through W1
        assert refused.value.kind is ErrorKind.INVALID
        assert "W1" in str(refused.value)
    # offered[0] pays six months, offered[1] three, offered[2] one, offered[3] nothing
    for who, months in ((offered[0], 6), (offered[1], 3), (offered[2], 1), (others[0], 6)):
        for m in range(1, months + 1):
            ledger.pay(who, FLOOR, f"2025-{m:02d}-10", f"{who[-4:]}-{m}")
    with transaction(engine) as session:
        payers = [
            record_payer(session, ACTOR, f"{nik[-4:]}-{m}", channel="bank")["payer"]
            for nik, months in ((offered[0], 6), (offered[1], 3), (offered[2], 1))
            for m in range(1, months + 1)
        ]
        assert payers == ["partner"] * 3 + ["participant"] * 3 + ["partner"] * 4
        with pytest.raises(CakupanError) as outside:
            record_payer(session, ACTOR, f"{others[0][-4:]}-1", channel="bank")
        assert outside.value.kind is ErrorKind.CONFLICT
        report = offer_report(session, "KREDIT-W1", date(2025, 12, 31))
    assert report["registrations"] == 4
    assert report["retention"] == {
        "3": {"eligible": 4, "paying": 2, "rate_percent": "50.0"},
        "6": {"eligible": 4, "paying": 1, "rate_percent": "25.0"},
        "12": {"eligible": 4, "paying": 0, "rate_percent": "0.0"},
    }
    assert report["partner_paid"] == 7 * FLOOR == 117_600  # months 1-3 of three participants, 1
    assert report["partner_paid_per_registration"] == 29_400
    assert report["partner_paid_per_paying_month_6"] == 117_600
    assert report["segments"] == [{"occupation": "market_trader", "programs": "JKK+JKM"}]
    assert report["comparison"] == {
        "registrations": 2,
        "retention": {
            "3": {"eligible": 2, "paying": 1, "rate_percent": "50.0"},
            "6": {"eligible": 2, "paying": 1, "rate_percent": "50.0"},
            "12": {"eligible": 2, "paying": 0, "rate_percent": "0.0"},
        },
    }
    shown = cli("offers", "report", "KREDIT-W1", "--as-of", "2025-12-31", "--json")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout) == json.loads(json.dumps(report))
    assert cli("offers", "report", "NOPE", "--json").exit_code == 1


def test_an_invalid_offer_names_its_fields(engine: Engine, ledger: Ledger) -> None:
    bad = OfferSpec(
        code="X",
        partner_code="NOPE",
        product="loan",
        name="x",
        coverage="includes",
        payer="split",
        valid_from=date(2025, 1, 1),
        source="x",
    )
    with transaction(engine) as session, pytest.raises(CakupanError) as caught:
        add_offer(session, ACTOR, bad)
    assert [p.field for p in caught.value.problems] == ["product", "partner_months", "partner_code"]


def test_the_demo_ships_one_offer_per_partner_kind(
    cli: Callable[..., CliResult], engine: Engine
) -> None:
    from sqlalchemy import func, select

    from cakupan.bundling.models import BundleEnrolment, BundleOffer
    from cakupan.partners.models import Partner

    result = cli("demo", "--no-serve", "--participants", "300", "--seed", "3")
    assert result.exit_code == 0, result.stderr
    with transaction(engine) as session:
        offers = session.execute(
            select(BundleOffer.code, Partner.kind, func.count(BundleEnrolment.membership_id))
            .join(Partner, Partner.code == BundleOffer.partner_code)
            .join(BundleEnrolment, BundleEnrolment.offer_code == BundleOffer.code, isouter=True)
            .group_by(BundleOffer.code, Partner.kind)
        ).all()
        kinds = [kind for _, kind, _ in offers]
        assert len(kinds) == len(set(kinds)) >= 3  # one per kind that registered anyone
        assert all(enrolled > 0 for _, _, enrolled in offers)
        report = offer_report(session, offers[0][0], date(2030, 1, 1))
    assert report["registrations"] == offers[0][2]
