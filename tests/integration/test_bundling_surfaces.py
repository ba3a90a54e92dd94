"""Issue 19, item 6 on SQLite and PostgreSQL: bundling offers where users meet them. The
dashboard's offer filter (cards, trend, cohorts, drill-down) counts the offer's episodes only;
the partner's page and a campaign's page show the offer with its report; the partner API lists
a partner's own offers and their reports (never another partner's), and registrations and
payments carry an offer code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cakupan.auth import Actor, Role
from cakupan.bundling import OfferSpec, add_offer, enrol, link_campaign, record_payer
from cakupan.bundling.models import BundleEnrolment, BundlePaymentPayer
from cakupan.dashboard import queries
from cakupan.dashboard.queries import Filters
from cakupan.dates import JAKARTA, FixedClock, Month
from cakupan.db import transaction
from cakupan.errors import CakupanError, ErrorKind
from cakupan.integration.ratelimit import ClientLimiter
from cakupan.partners.actions import NewPartner, create_partner
from cakupan.registry.close import close_month
from cakupan.registry.models import Participant
from cakupan.users import create_user
from cakupan.web import create_app
from tests.conftest import CliResult
from tests.integration.partner_api_support import clock, make_clients, nik, registration_body
from tests.integration.test_bundling import FLOOR, OFFER
from tests.integration.test_dashboard import PASSWORD, _login
from tests.integration.test_incentives_run import NO_JHT, Ledger, ledger

__all__ = ["ledger"]
ACTOR = Actor.system("test")
NATIONAL = Actor("pusat", Role.HEAD_OFFICE)
JUNE = Month(2025, 6)


@pytest.fixture
def offered(engine: Engine, ledger: Ledger) -> Engine:
    """Four registrations through W1's credit offer (one pays six months, one three, one one,
    one nothing) and two of the same segment at the branch (one pays six months); the months
    January - June 2025 closed."""
    with transaction(engine) as session:
        add_offer(session, ACTOR, OFFER)
    offered = [ledger.register("2025-01-05", NO_JHT, partner="W1", agent="P1") for _ in range(4)]
    others = [ledger.register("2025-01-06", NO_JHT) for _ in range(2)]
    with transaction(engine) as session:
        for who in offered:
            enrol(session, ACTOR, who, OFFER.code)
    for who, months in ((offered[0], 6), (offered[1], 3), (offered[2], 1), (others[0], 6)):
        for m in range(1, months + 1):
            ledger.pay(who, FLOOR, f"2025-{m:02d}-10", f"{who[-4:]}-{m}")
    with transaction(engine) as session:
        for who, months in ((offered[0], 6), (offered[1], 3), (offered[2], 1)):
            for m in range(1, months + 1):
                record_payer(session, ACTOR, f"{who[-4:]}-{m}", channel="bank")
        for m in range(1, 7):
            close_month(session, ACTOR, Month(2025, m))
    return engine


def test_the_dashboard_filter_by_offer_counts_the_offers_episodes_only(offered: Engine) -> None:
    period = Filters(first=Month(2025, 1), last=JUNE)
    with transaction(offered) as session:
        everything = queries.summary(session, NATIONAL, period)
        offer = queries.summary(session, NATIONAL, replace(period, offer=OFFER.code))
        by_partner = queries.summary(session, NATIONAL, replace(period, partner="W1"))
        cohorts = queries.cohorts(session, NATIONAL, replace(period, offer=OFFER.code))
        cohorts_w1 = queries.cohorts(session, NATIONAL, replace(period, partner="W1"))
        trend = queries.trend(session, NATIONAL, replace(period, offer=OFFER.code))
        drill = queries.drill_down(
            session, NATIONAL, "new_registrations", Month(2025, 1), Filters(offer=OFFER.code)
        )
        choices = queries.filter_choices(session, NATIONAL)
        w1 = queries.filter_choices(session, Actor("w1", Role.PARTNER, partner_code="W1"))
        k1 = queries.filter_choices(session, Actor("k1", Role.PARTNER, partner_code="K1"))
        with pytest.raises(CakupanError) as outside:
            k1.check(Filters(offer=OFFER.code))
    assert (everything.registrations, offer.registrations) == (6, 4)
    assert (everything.payments, offer.payments) == (16, 10)
    assert (everything.contributions, offer.contributions) == (16 * FLOOR, 10 * FLOOR)
    assert (everything.active, offer.active) == (2, 1)  # June: offered[0] and others[0]
    # W1 registered nobody outside the offer: the pre-aggregates filtered by W1 must say what
    # the offer's rows say, card by card (statuses, closures, retention, conversion)
    assert {**offer.as_json(), "period": None} == {**by_partner.as_json(), "period": None}
    assert offer.retention[3].base == 4
    assert [m["new_registrations"] for m in trend["months"]] == [4, 0, 0, 0, 0, 0]
    assert [m["contributions_collected"] for m in trend["months"]] == [
        3 * FLOOR, 2 * FLOOR, 2 * FLOOR, FLOOR, FLOOR, FLOOR,
    ]  # fmt: skip
    assert cohorts["cohorts"] == cohorts_w1["cohorts"]
    assert cohorts["cohorts"]
    assert drill["total"] == 4
    assert len(drill["rows"]) == 4
    assert choices.offers == [(OFFER.code, OFFER.name)]
    assert w1.offers == [(OFFER.code, OFFER.name)]
    assert k1.offers == []
    assert outside.value.kind is ErrorKind.INVALID
    assert outside.value.problems[0].field == "offer"


@pytest.fixture
def pages(offered: Engine) -> Iterator[TestClient]:
    with transaction(offered) as session:
        create_user(session, ACTOR, username="pusat", password=PASSWORD, role="head_office")
        create_user(
            session, ACTOR, username="mitra.k1", password=PASSWORD, role="partner",
            partner_code="K1",
        )  # fmt: skip
    app = create_app(
        offered,
        secret_key="test",
        clock=FixedClock(datetime(2025, 12, 31, 9, 0, tzinfo=JAKARTA)),
    )
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client


def test_the_partner_page_and_the_campaign_page_show_the_offer_and_its_report(
    offered: Engine, pages: TestClient, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    _login(pages, "pusat")
    page = pages.get("/partners/W1/detail")
    assert page.status_code == 200, page.text
    body = page.text[page.text.index("<main") :]  # in the page's content, not its <head>
    assert 'data-testid="offer-KREDIT-W1"' in body
    assert OFFER.name in page.text
    # registrations 4 vs 2 outside any offer; month 3: 50,0% (2/4) vs 50,0% (1/2)
    assert '<td class="num">4</td><td class="num">2</td>' in page.text
    assert "50,0% (2/4)" in page.text
    assert "50,0% (1/2)" in page.text
    assert "Rp 117.600" in page.text  # what W1 paid: seven months at the floor
    assert "Belum ada penawaran bundling" in pages.get("/partners/K1/detail").text
    dashboard = pages.get("/dashboard", params={"offer": OFFER.code, "first": "2025-01"})
    assert dashboard.status_code == 200
    assert 'data-testid="filter-offer"' in dashboard.text
    assert f'<option value="{OFFER.code}" selected>' in dashboard.text

    from cakupan.campaigns import import_campaigns

    campaign_file = tmp_path / "campaigns.csv"
    campaign_file.write_text(
        "code,name,objective,type,medium,start_on,end_on,budget,actual_cost,reached,interested,"
        "segments,areas,window_days,branch_code,partners\n"
        "KMP-1,Kredit + BPU di pasar,Register traders,sosialisasi_offline,,2025-01-03,2025-01-03,"
        "1000000,,,,market-traders,16.71.01,30,PLG,K1\n",
        encoding="utf-8",
    )
    assert import_campaigns(offered, ACTOR, campaign_file).rejected == 0
    refused = cli("offers", "campaign", "KMP-1", "--offer", OFFER.code, "--json")
    assert refused.exit_code == 2  # W1 is not a partner of it
    assert "K1" in refused.stderr
    campaign_file.write_text(
        campaign_file.read_text(encoding="utf-8").replace(",K1\n", ",W1;K1\n"), encoding="utf-8"
    )
    assert import_campaigns(offered, ACTOR, campaign_file).accepted == 1
    linked = cli("offers", "campaign", "KMP-1", "--offer", OFFER.code, "--json")
    assert linked.exit_code == 0, linked.stderr
    with transaction(offered) as session:
        assert not link_campaign(session, ACTOR, "KMP-1", OFFER.code)  # again: unchanged
    campaign = pages.get("/campaigns/KMP-1")
    assert campaign.status_code == 200, campaign.text
    assert 'data-testid="campaign-offer"' in campaign.text
    assert OFFER.name in campaign.text
    # a partner never sees another partner's offer on the dashboard
    _login(pages, "mitra.k1")
    assert pages.get("/dashboard", params={"offer": OFFER.code}).status_code == 422


def test_the_partner_api_lists_own_offers_and_carries_offer_codes(engine: Engine) -> None:
    with transaction(engine) as session:
        for new in (
            NewPartner("MITRA-A", "Koperasi A", "wadah", "PLG"),
            NewPartner("MITRA-A-P1", "Agen A1", "perisai", "PLG", parent_code="MITRA-A"),
            NewPartner("MITRA-B", "Bank B", "wadah", "PLG"),
        ):
            create_partner(session, ACTOR, clock(), new)
        for code, partner, payer, months in (
            ("TAB-A", "MITRA-A", "split", 2),
            ("KRD-B", "MITRA-B", "partner", None),
        ):
            add_offer(
                session,
                ACTOR,
                OfferSpec(
                    code=code, partner_code=partner, product="savings", name=f"Offer {code}",
                    coverage="includes", payer=payer, partner_months=months,
                    valid_from=date(2026, 1, 1), area_codes=("16",), source="test agreement",
                ),
            )  # fmt: skip
    tokens = make_clients(engine)
    app = create_app(engine, secret_key="test-secret", clock=clock())
    app.state.partner_api_limiter = ClientLimiter(rate=10_000, burst=10_000)

    with TestClient(app, raise_server_exceptions=False) as client:

        def call(user: str, method: str, path: str, body: object = None, key: str = "") -> object:
            headers = {"Authorization": f"Bearer {tokens[user]}"}
            if key:
                headers["Idempotency-Key"] = key
            return client.request(method, f"/api/v1{path}", json=body, headers=headers)

        listed = call("mitra.a", "GET", "/offers")
        assert [o["code"] for o in listed.json()] == ["TAB-A"]  # type: ignore[attr-defined]
        assert [o["code"] for o in call("mitra.b", "GET", "/offers").json()] == ["KRD-B"]  # type: ignore[attr-defined]
        assert [o["code"] for o in call("agen.a", "GET", "/offers").json()] == ["TAB-A"]  # type: ignore[attr-defined]
        other = call("mitra.a", "GET", "/offers/KRD-B/report")
        unknown = call("mitra.a", "GET", "/offers/NOPE/report")
        assert other.status_code == unknown.status_code == 404  # type: ignore[attr-defined]
        assert other.json()["code"] == "offer-not-found"  # type: ignore[attr-defined]

        # a registration with another partner's offer is refused and writes nothing
        refused = call(
            "mitra.a", "POST", "/registrations", registration_body(2, offer_code="KRD-B")
        )
        assert refused.status_code == 404  # type: ignore[attr-defined]
        registered = call(
            "mitra.a", "POST", "/registrations", registration_body(1, offer_code="TAB-A")
        )
        assert registered.status_code == 201, registered.text  # type: ignore[attr-defined]
        assert registered.json()["offer_code"] == "TAB-A"  # type: ignore[attr-defined]
        by_agent = call(
            "agen.a", "POST", "/registrations", registration_body(3, offer_code="TAB-A")
        )
        assert by_agent.status_code == 201, by_agent.text  # type: ignore[attr-defined]
        plain = call("mitra.a", "POST", "/registrations", registration_body(4))
        assert plain.json()["offer_code"] is None  # type: ignore[attr-defined]
        amount = registered.json()["amount"]  # type: ignore[attr-defined]

        def pay(serial: int, reference: str, **extra: object) -> object:
            body = {"nik": nik(serial), "amount": amount, "paid_on": "2026-11-26",
                    "reference": reference, "channel": "partner", **extra}  # fmt: skip
            return call("mitra.a", "POST", "/payments", body, key=reference)

        wrong = pay(4, "R-4", offer_code="TAB-A")  # not enrolled: refused, nothing posted
        assert wrong.status_code == 409, wrong.text  # type: ignore[attr-defined]
        paid = pay(1, "R-1", offer_code="TAB-A")
        assert paid.status_code == 200, paid.text  # type: ignore[attr-defined]
        assert (paid.json()["offer_code"], paid.json()["payer"]) == ("TAB-A", "partner")  # type: ignore[attr-defined]
        assert pay(1, "R-1", offer_code="TAB-A").json()["payer"] == "partner"  # type: ignore[attr-defined]
        assert "payer" not in pay(4, "R-4b").json()  # type: ignore[attr-defined]

        report = call("mitra.a", "GET", "/offers/TAB-A/report?as_of=2026-11-30")
        assert report.status_code == 200, report.text  # type: ignore[attr-defined]
        assert report.json()["registrations"] == 2  # type: ignore[attr-defined]
        assert report.json()["partner_paid"] == amount  # type: ignore[attr-defined]
        assert call("agen.a", "GET", "/offers/TAB-A/report").status_code == 403  # type: ignore[attr-defined]

    with transaction(engine) as session:
        enrolled = session.scalars(
            select(Participant.nik)
            .join(BundleEnrolment, BundleEnrolment.membership_id == Participant.id)
            .order_by(Participant.nik)
        ).all()
        assert session.scalar(select(func.count()).select_from(BundlePaymentPayer)) == 1
        assert session.scalar(select(func.count()).where(Participant.nik == nik(2))) == 0
    assert enrolled == [nik(1), nik(3)]
