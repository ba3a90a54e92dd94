"""The partner integration API on SQLite and PostgreSQL: quote, registration, status, payments
and batches with Idempotency-Key, reconciliation, scope between partners, rate limits, and the
webhook outbox delivered to a real loopback receiver."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select, update

from cakupan.audit.models import AuditEntry
from cakupan.dates import FixedClock, Month
from cakupan.db import transaction
from cakupan.integration import enqueue_close_events, verify
from cakupan.integration.models import IdempotentRequest, WebhookDelivery, WebhookEvent
from cakupan.integration.ratelimit import ClientLimiter, RedisLimiter
from cakupan.integration.webhooks import work
from cakupan.partners.actions import NewPartner, create_partner
from cakupan.registry.close import close_month
from cakupan.registry.models import Participant, Payment
from cakupan.settings import get_settings
from cakupan.users import create_user, issue_token, revoke_token, set_active, user_by_username
from cakupan.users.models import ApiToken
from cakupan.web import create_app
from cakupan.web.tokens import TokenCache
from tests.conftest import REDIS_URL, CliResult, run_coroutine
from tests.integration.partner_api_support import (
    ACTOR,
    NOW,
    clock,
    make_clients,
    nik,
    registration_body,
    webhook_receiver,
)

Cli = Callable[..., CliResult]


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]
    engine: Engine

    def call(
        self,
        user: str,
        method: str,
        path: str,
        body: Any = None,
        key: str | None = None,
        **params: Any,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.request(
            method, f"/api/v1{path}", json=body, headers=headers, params=params or None
        )

    def register(self, user: str, serial: int, **values: Any) -> dict[str, Any]:
        response = self.call(user, "POST", "/registrations", registration_body(serial, **values))
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def count(self, model: Any) -> int:
        with transaction(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def api(engine: Engine) -> Iterator[Api]:
    tokens = make_clients(engine)
    app = create_app(engine, secret_key="test-secret", clock=clock())
    app.state.partner_api_limiter = ClientLimiter(rate=10_000, burst=10_000)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, tokens, engine)


def payment(serial: int, amount: int, reference: str, **values: Any) -> dict[str, Any]:
    body = {
        "nik": nik(serial),
        "amount": amount,
        "paid_on": "2026-11-26",
        "reference": reference,
        "channel": "brilink",
    }
    body.update(values)
    return body


# -- quote, registration, status ----------------------------------------------------------------


def test_quote_checks_the_nik_and_prices_months_without_writing(api: Api) -> None:
    response = api.call(
        "mitra.a",
        "POST",
        "/registrations/quote",
        {"nik": nik(1), "reported_income": 1_000_000, "programs": "JKK+JKM", "months": 3},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["nik"]["valid"] is True
    assert body["nik"]["nik"] == "1671********0001"
    assert body["nik"]["birth_date"] == "1990-01-01"
    # PP 50/2025 halves JKK and JKM through 2026-12 (Rp 8,400), then the full Rp 16,800.
    assert [(m["month"], m["total"]) for m in body["months"]] == [
        ("2026-11", 8_400),
        ("2026-12", 8_400),
        ("2027-01", 16_800),
    ]
    assert body["total"] == 33_600
    bad = api.call(
        "mitra.a",
        "POST",
        "/registrations/quote",
        {"nik": "1671010000900000", "reported_income": 1_000_000, "programs": "JKK+JKM"},
    ).json()
    assert bad["nik"]["valid"] is False
    assert {e["code"] for e in bad["nik"]["errors"]} == {
        "nik.birth_date_invalid",
        "nik.serial_zero",
    }
    assert api.count(Participant) == 0


def test_registration_returns_the_kode_penetapan_and_records_the_partner(api: Api) -> None:
    body = api.register("mitra.a", 1, months_to_pay=2)
    assert body["nik"] == "1671********0001"
    assert body["amount"] == 16_800
    assert body["months"] == 2
    assert body["first_month"] == "2026-11"
    assert body["kode_penetapan"]
    with transaction(api.engine) as session:
        row = session.execute(select(Participant).where(Participant.nik == nik(1))).scalar_one()
        assert (row.channel, row.partner_code, row.agent_code) == ("partner", "MITRA-A", None)
    again = api.call("mitra.a", "POST", "/registrations", registration_body(1))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    status = api.call("mitra.a", "POST", "/participants/status", {"nik": nik(1)})
    assert status.status_code == 200
    assert status.json() == {
        "nik": "1671********0001",
        "status": "pending",
        "episode": 1,
        "paid_through": None,
        "months_paid_in_episode": 0,
        "as_of": "2026-11-26",
    }
    before = api.call(
        "mitra.a", "POST", "/participants/status", {"nik": nik(1), "as_of": "2026-10-01"}
    )
    assert before.status_code == 404
    assert nik(1) not in before.text
    assert "1671********0001" in before.text


def test_only_partner_clients_use_the_partner_api(api: Api) -> None:
    response = api.call("kabid", "POST", "/participants/status", {"nik": nik(1)})
    assert response.status_code == 403
    anonymous = api.client.post("/api/v1/payments", json=payment(1, 8_400, "X"))
    assert anonymous.status_code == 401


# -- payments and idempotency --------------------------------------------------------------------


def test_payment_idempotency_key_replays_the_stored_response(api: Api) -> None:
    api.register("mitra.a", 1)
    first = api.call("mitra.a", "POST", "/payments", payment(1, 8_400, "TRX-1"), key="k-1")
    assert first.status_code == 200, first.text
    assert first.json()["result"] == "posted"
    assert first.json()["paid_through"] == "2026-11"
    assert "idempotent-replayed" not in first.headers
    again = api.call("mitra.a", "POST", "/payments", payment(1, 8_400, "TRX-1"), key="k-1")
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    other = api.call("mitra.a", "POST", "/payments", payment(1, 8_400, "TRX-2"), key="k-1")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency-key-reused"
    # A new key for the same payment: the ledger's own de-duplication answers "duplicate".
    twin = api.call("mitra.a", "POST", "/payments", payment(1, 8_400, "TRX-1"), key="k-2")
    assert twin.json()["result"] == "duplicate"
    assert twin.json()["payment_id"] == first.json()["payment_id"]
    assert api.count(Payment) == 1


def test_a_refused_payment_leaves_the_key_unused(api: Api) -> None:
    api.register("mitra.a", 1)
    wrong = api.call("mitra.a", "POST", "/payments", payment(1, 8_000, "TRX-1"), key="k-1")
    assert wrong.status_code == 422
    assert "8.400" in wrong.text or "8,400" in wrong.text or "8400" in wrong.text
    assert api.count(IdempotentRequest) == 0
    # Nothing was stored under the key: the corrected request may reuse it.
    fixed = api.call("mitra.a", "POST", "/payments", payment(1, 8_400, "TRX-1"), key="k-1")
    assert fixed.json()["result"] == "posted"
    missing = api.call("mitra.a", "POST", "/payments", payment(1, 8_400, "TRX-3"))
    assert missing.status_code == 422  # Idempotency-Key is required


def test_partner_b_can_neither_read_nor_pay_for_partner_a_participants(api: Api) -> None:
    api.register("mitra.a", 1)
    message_unknown = api.call("mitra.b", "POST", "/participants/status", {"nik": nik(2)}).json()
    hidden = api.call("mitra.b", "POST", "/participants/status", {"nik": nik(1)})
    assert hidden.status_code == 404
    assert hidden.json()["title"].replace("0001", "0002") == message_unknown["title"]
    paid = api.call("mitra.b", "POST", "/payments", payment(1, 8_400, "B-1"), key="b-1")
    assert paid.status_code == 404
    assert api.count(Payment) == 0
    batch = api.call(
        "mitra.b",
        "POST",
        "/payments/batches",
        {"partial": True, "rows": [payment(1, 8_400, "B-2")]},
        key="b-2",
    )
    assert batch.json()["rows"][0]["result"] == "rejected"
    assert api.count(Payment) == 0
    # A participant A registered can be paid by A; B's reconciliation stays empty.
    assert (
        api.call("mitra.a", "POST", "/payments", payment(1, 8_400, "A-1"), key="a").json()["result"]
        == "posted"
    )
    recon_b = api.call("mitra.b", "GET", "/reconciliation", date="2026-11-26").json()
    assert (recon_b["count"], recon_b["amount"], recon_b["payments"]) == (0, 0, [])


def test_batches_answer_per_row_partial_or_all_or_nothing(api: Api) -> None:
    for serial in (1, 2, 3):
        api.register("mitra.a", serial)
    api.register("mitra.b", 4)
    rows = [
        payment(1, 8_400, "S-1"),
        payment(2, 9_000, "S-2"),  # wrong amount
        payment(3, 8_400, "S-3"),
        payment(4, 8_400, "S-4"),  # partner B's participant
        payment(1, 8_400, "S-1"),  # repeated in the batch
    ]
    strict = api.call("mitra.a", "POST", "/payments/batches", {"rows": rows}, key="all")
    assert strict.status_code == 422
    problems = {(e["row"], e["field"]) for e in strict.json()["errors"]}
    assert problems == {(2, "amount"), (4, "nik")}
    assert api.count(Payment) == 0
    assert api.count(IdempotentRequest) == 0
    partial = api.call(
        "mitra.a", "POST", "/payments/batches", {"partial": True, "rows": rows}, key="part"
    )
    assert partial.status_code == 200, partial.text
    body = partial.json()
    assert [r["result"] for r in body["rows"]] == [
        "posted",
        "rejected",
        "posted",
        "rejected",
        "duplicate",
    ]
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 2)
    assert body["rows"][4]["payment_id"] == body["rows"][0]["payment_id"]
    assert body["rows"][1]["errors"][0]["field"] == "amount"
    replay = api.call(
        "mitra.a", "POST", "/payments/batches", {"partial": True, "rows": rows}, key="part"
    )
    assert replay.content == partial.content
    assert api.count(Payment) == 2
    too_many = api.call(
        "mitra.a",
        "POST",
        "/payments/batches",
        {"rows": [payment(1, 8_400, f"R-{i}") for i in range(10_001)]},
        key="big",
    )
    assert too_many.status_code == 422


def test_reconciliation_counts_and_sums_per_channel(api: Api) -> None:
    for serial in (1, 2, 3):
        api.register("mitra.a", serial)
    api.call("mitra.a", "POST", "/payments", payment(1, 8_400, "R-1"), key="1")
    api.call("mitra.a", "POST", "/payments", payment(2, 16_800, "R-2", channel="pos"), key="2")
    api.call(
        "mitra.a", "POST", "/payments", payment(3, 8_400, "R-3", paid_on="2026-11-25"), key="3"
    )
    body = api.call("mitra.a", "GET", "/reconciliation", date="2026-11-26").json()
    assert body["channels"] == [
        {"channel": "brilink", "count": 1, "amount": 8_400},
        {"channel": "pos", "count": 1, "amount": 16_800},
    ]
    assert (body["count"], body["amount"]) == (2, 25_200)
    assert [(p["channel"], p["reference"], p["reversed"]) for p in body["payments"]] == [
        ("brilink", "R-1", False),
        ("pos", "R-2", False),
    ]
    assert api.call("mitra.a", "GET", "/reconciliation", date="2026-13-01").status_code == 422


def test_rate_limit_answers_429_with_retry_after(api: Api) -> None:
    # One token per 100 s: the bucket does not refill noticeably while the test runs, however
    # slow a loaded machine makes the requests.
    api.client.app.state.partner_api_limiter = ClientLimiter(rate=0.01, burst=2)  # type: ignore[attr-defined]
    codes = [
        api.call("mitra.a", "GET", "/reconciliation", date="2026-11-26").status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    limited = api.call("mitra.a", "GET", "/reconciliation", date="2026-11-26")
    assert 90 <= int(limited.headers["retry-after"]) <= 100
    assert limited.json()["code"] == "rate-limited"
    assert limited.headers["x-request-id"]
    # Another client has its own bucket.
    assert api.call("mitra.b", "GET", "/reconciliation", date="2026-11-26").status_code == 200


@pytest.mark.one_engine
def test_rate_limit_in_redis_is_shared_with_the_other_workers(api: Api, redis_prefix: str) -> None:
    # The app's limiter and "another worker's" share the client's bucket through Redis.
    def limiter() -> RedisLimiter:
        return RedisLimiter(REDIS_URL, rate=0.01, burst=3, prefix=redis_prefix)

    api.client.app.state.partner_api_limiter = limiter()  # type: ignore[attr-defined]
    with transaction(api.engine) as session:
        user_id = user_by_username(session, "mitra.a").id
    other_worker = limiter()

    async def spend(times: int) -> list[float]:
        return [await other_worker.acquire(user_id) for _ in range(times)]

    assert run_coroutine(spend(2)) == [0.0, 0.0]
    codes = [
        api.call("mitra.a", "GET", "/reconciliation", date="2026-11-26").status_code
        for _ in range(2)
    ]
    assert codes == [200, 429]  # one token was left of the burst of 3
    assert api.call("mitra.b", "GET", "/reconciliation", date="2026-11-26").status_code == 200


@pytest.mark.one_engine
def test_the_redis_url_setting_puts_the_buckets_in_redis(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = api.client.app
    del app.state.partner_api_limiter  # type: ignore[attr-defined]
    monkeypatch.setenv("CAKUPAN_API_RATE_LIMIT_REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    try:
        assert api.call("mitra.a", "GET", "/reconciliation", date="2026-11-26").status_code == 200
        limiter = app.state.partner_api_limiter  # type: ignore[attr-defined]
        assert isinstance(limiter, RedisLimiter)
        assert limiter.url == REDIS_URL
    finally:
        get_settings.cache_clear()


# -- webhooks -------------------------------------------------------------------------------------


def test_webhooks_are_signed_delivered_retried_and_resent(api: Api, cli: Cli) -> None:
    with webhook_receiver() as receiver:
        created = api.call(
            "mitra.a",
            "POST",
            "/webhooks/subscriptions",
            {"url": receiver.url, "events": ["participant.registered", "payment.posted"]},
        )
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        listed = api.call("mitra.a", "GET", "/webhooks/subscriptions").json()
        assert listed[0]["secret"] is None
        api.register("mitra.a", 1)
        api.register("mitra.b", 2)  # B has no subscription: no event
        api.call("mitra.a", "POST", "/payments", payment(1, 8_400, "W-1"), key="w")
        assert api.count(WebhookEvent) == 2
        result = work(api.engine, once=True, clock=clock())
        assert (result.deliveries_created, result.delivered) == (2, 2)
        got = receiver.received
        assert [r.headers["x-cakupan-event"] for r in got] == [
            "participant.registered",
            "payment.posted",
        ]
        now = int(NOW.timestamp())
        for r in got:
            assert verify(
                secret,
                r.headers["x-cakupan-timestamp"],
                r.headers["x-cakupan-signature"],
                r.body,
                now,
            )
            # Replay protection: the same delivery presented 10 minutes later is refused.
            assert not verify(
                secret,
                r.headers["x-cakupan-timestamp"],
                r.headers["x-cakupan-signature"],
                r.body,
                now + 600,
            )
            assert not verify(
                "whsec_other",
                r.headers["x-cakupan-timestamp"],
                r.headers["x-cakupan-signature"],
                r.body,
                now,
            )
        paid = got[1].json()
        assert paid["type"] == "payment.posted"
        assert paid["data"]["reference"] == "W-1"
        assert paid["data"]["nik"] == "1671********0001"
        assert nik(1) not in got[1].body.decode()

        receiver.status = 500
        api.call("mitra.a", "POST", "/payments", payment(1, 8_400, "W-2"), key="w2")
        failing = work(api.engine, once=True, clock=clock())
        assert (failing.delivered, failing.retried) == (0, 1)
        with transaction(api.engine) as session:
            delivery = session.scalars(
                select(WebhookDelivery).order_by(WebhookDelivery.id.desc())
            ).first()
            assert delivery is not None
            assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
                "pending",
                1,
                500,
            )
            assert delivery.next_attempt_at == NOW + timedelta(seconds=30)
            delivery_id = delivery.id
        receiver.status = 200
        later = FixedClock(NOW + timedelta(seconds=31))
        assert work(api.engine, once=True, clock=later).delivered == 1
        assert len(receiver.received) == 4
        resent = cli("webhooks", "resend", str(delivery_id), "--json")
        assert resent.exit_code == 0, resent.stderr
        assert cli("webhooks", "work", "--once", "--json").exit_code == 0
        assert len(receiver.received) == 5
        assert receiver.received[4].json()["id"] == receiver.received[3].json()["id"]
        assert cli("webhooks", "resend", "999999").exit_code == 1
        deliveries = api.call("mitra.a", "GET", "/webhooks/deliveries").json()
        assert [d["status"] for d in deliveries] == ["delivered"] * 3


def test_outbox_rows_roll_back_with_the_business_write(api: Api) -> None:
    with webhook_receiver() as receiver:
        api.call(
            "mitra.a",
            "POST",
            "/webhooks/subscriptions",
            {"url": receiver.url, "events": ["payment.posted"]},
        )
        api.register("mitra.a", 1)
        events = api.count(WebhookEvent)
        refused = api.call("mitra.a", "POST", "/payments", payment(1, 1, "X-1"), key="x")
        assert refused.status_code == 422
        assert api.count(WebhookEvent) == events


def test_close_transitions_become_arrears_and_closed_events(api: Api) -> None:
    with webhook_receiver() as receiver:
        api.call(
            "mitra.a",
            "POST",
            "/webhooks/subscriptions",
            {"url": receiver.url, "events": ["participant.arrears", "participant.closed"]},
        )
        api.register("mitra.a", 1)
        api.register("mitra.b", 2)
        api.call("mitra.a", "POST", "/payments", payment(1, 8_400, "C-1"), key="c")
        with transaction(api.engine) as session:
            close_month(session, ACTOR, Month(2026, 12), clock=clock())
            assert enqueue_close_events(session, Month(2026, 12), NOW) == 1
        result = work(api.engine, once=True, clock=clock())
        assert result.delivered == 1
        event = receiver.received[0].json()
        assert event["type"] == "participant.arrears"
        assert event["data"]["month"] == "2026-12"
        assert event["data"]["nik"] == "1671********0001"


def test_openapi_documents_the_partner_api(api: Api) -> None:
    spec = api.client.get("/api/openapi.json").json()
    for path in (
        "/api/v1/registrations/quote",
        "/api/v1/registrations",
        "/api/v1/participants/status",
        "/api/v1/payments",
        "/api/v1/payments/batches",
        "/api/v1/reconciliation",
        "/api/v1/webhooks/subscriptions",
    ):
        assert path in spec["paths"]
    parameters = spec["paths"]["/api/v1/payments"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in parameters)


def test_demo_prints_a_working_sandbox_partner_key(cli: Cli, engine: Engine) -> None:
    first = cli("demo", "--no-serve", "--participants", "0")
    assert first.exit_code == 0, first.stderr
    token = first.stdout.split("token ", 1)[1].split()[0]
    assert token.startswith("ckp_")
    app = create_app(engine, secret_key="test-secret", clock=clock())
    with TestClient(app) as client:
        response = client.get(
            "/api/v1/reconciliation",
            params={"date": "2026-11-26"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    assert response.json()["partner_code"] == "SANDBOX"
    again = cli("demo", "--no-serve", "--participants", "0")
    assert again.stdout.split("token ", 1)[1].split()[0] == token


def test_cli_reversal_and_close_write_their_events_in_the_same_transaction(
    api: Api, cli: Cli
) -> None:
    with webhook_receiver() as receiver:
        api.call(
            "mitra.a",
            "POST",
            "/webhooks/subscriptions",
            {"url": receiver.url, "events": ["payment.reversed", "participant.arrears"]},
        )
        api.register("mitra.a", 1)
        api.call("mitra.a", "POST", "/payments", payment(1, 8_400, "V-1"), key="v")
        reversed_ = cli("payments", "reverse", "V-1", "--channel", "brilink", "--reason", "salah")
        assert reversed_.exit_code == 0, reversed_.stderr
        api.register("mitra.a", 2)
        api.call("mitra.a", "POST", "/payments", payment(2, 8_400, "V-2"), key="v2")
        closed = cli("close", "--month", "2026-12")
        assert closed.exit_code == 0, closed.stderr
        work(api.engine, once=True, clock=clock())
        kinds = sorted(r.json()["type"] for r in receiver.received)
        assert kinds == ["participant.arrears", "payment.reversed"]
        reversal = next(r.json() for r in receiver.received if r.json()["type"].startswith("pay"))
        assert reversal["data"]["reference"] == "V-1"


def test_writes_are_logged_with_the_request_id_and_without_nik(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    api.register("mitra.a", 1)
    with caplog.at_level(logging.INFO, logger="cakupan.web"):
        response = api.client.post(
            "/api/v1/payments",
            json=payment(1, 8_400, "L-1"),
            headers={
                "Authorization": f"Bearer {api.tokens['mitra.a']}",
                "Idempotency-Key": "log-1",
                "X-Request-ID": "req-partner-0001",
            },
        )
    assert response.headers["x-request-id"] == "req-partner-0001"
    lines = [record.getMessage() for record in caplog.records]
    assert "partner-api request req-partner-0001 client mitra.a POST /payments -> 200" in lines
    assert not any(nik(1) in line for line in lines)


def test_agent_clients_act_for_themselves_and_their_partner_sees_them(api: Api) -> None:
    by_agent = api.register("agen.a", 1)
    api.register("mitra.a", 2)
    with transaction(api.engine) as session:
        row = session.execute(select(Participant).where(Participant.nik == nik(1))).scalar_one()
        assert (row.channel, row.partner_code, row.agent_code) == ("agent", "MITRA-A", "MITRA-A-P1")
    assert by_agent["participant_id"] == row.id
    # The agent reads its own registration, not its partner's direct one; the partner reads both.
    assert api.call("agen.a", "POST", "/participants/status", {"nik": nik(1)}).status_code == 200
    assert api.call("agen.a", "POST", "/participants/status", {"nik": nik(2)}).status_code == 404
    assert api.call("mitra.a", "POST", "/participants/status", {"nik": nik(1)}).status_code == 200
    api.call("agen.a", "POST", "/payments", payment(1, 8_400, "AG-1"), key="ag")
    api.call("mitra.a", "POST", "/payments", payment(2, 8_400, "PA-1"), key="pa")
    agent_day = api.call("agen.a", "GET", "/reconciliation", date="2026-11-26").json()
    assert [p["reference"] for p in agent_day["payments"]] == ["AG-1"]
    assert agent_day["agent_code"] == "MITRA-A-P1"
    partner_day = api.call("mitra.a", "GET", "/reconciliation", date="2026-11-26").json()
    assert [p["reference"] for p in partner_day["payments"]] == ["AG-1", "PA-1"]
    assert partner_day["amount"] == 16_800


# -- the hot path: scope in one query, token cache, audit and outbox with the stored answer -----


def _client(engine: Engine, username: str, **scope: str) -> str:
    with transaction(engine) as session:
        create_user(session, ACTOR, username=username, password="kopi-tubruk-2026", **scope)
        return issue_token(session, ACTOR, user_by_username(session, username).id, "t").plain


def test_a_partner_pays_for_its_offices_participants_not_the_other_way(api: Api) -> None:
    with transaction(api.engine) as session:
        create_partner(
            session, ACTOR, clock(), NewPartner("MITRA-A", "Pos A", "pos_regional", "PLG")
        )
        create_partner(
            session, ACTOR, clock(), NewPartner("KC-A1", "KC A1", "pos_kc", parent_code="MITRA-A")
        )
    api.tokens["kc.a1"] = _client(api.engine, "kc.a1", role="partner", partner_code="KC-A1")
    api.register("kc.a1", 7)
    api.register("mitra.a", 8)
    # The regional office pays for its branch office's registration (the partner tree) ...
    up = api.call("mitra.a", "POST", "/payments", payment(7, 8_400, "UP-1"), key="up-1")
    assert up.json()["result"] == "posted", up.text
    # ... the branch office not for its parent's own, nor another partner for either.
    down = api.call("kc.a1", "POST", "/payments", payment(8, 8_400, "DN-1"), key="dn-1")
    assert down.status_code == 404
    assert down.json()["code"] == "participant-not-found"
    other = api.call("mitra.b", "POST", "/payments", payment(7, 8_400, "B-7"), key="b-7")
    assert other.status_code == 404
    # The agency's own registrations may be paid by anyone; an unknown NIK is a plain 404.
    unknown = api.call("mitra.b", "POST", "/payments", payment(9, 8_400, "B-9"), key="b-9")
    assert unknown.status_code == 404
    assert unknown.json()["title"].replace("0009", "0007") == other.json()["title"]
    with transaction(api.engine) as session:
        paid = session.scalars(select(Payment.reference).order_by(Payment.reference)).all()
    assert paid == ["UP-1"]


def test_a_payment_writes_its_audit_row_and_outbox_event_with_the_stored_answer(
    api: Api,
) -> None:
    subscribed = api.call(
        "mitra.a",
        "POST",
        "/webhooks/subscriptions",
        {"url": "http://127.0.0.1:9/hook", "events": ["payment.posted"]},
    )
    assert subscribed.status_code == 201
    api.register("mitra.a", 1)
    posted = api.call("mitra.a", "POST", "/payments", payment(1, 8_400, "AU-1"), key="au-1")
    assert posted.status_code == 200, posted.text
    body = posted.json()
    with transaction(api.engine) as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "payment.post")).all()
        events = session.scalars(
            select(WebhookEvent).where(WebhookEvent.event_type == "payment.posted")
        ).all()
        stored = session.scalars(
            select(IdempotentRequest).where(IdempotentRequest.endpoint == "payments")
        ).all()
    assert len(audit) == 1
    assert (audit[0].actor, audit[0].role, audit[0].entity_type) == (
        "mitra.a",
        "partner",
        "payment",
    )
    assert audit[0].entity_id == str(body["payment_id"])
    assert audit[0].after is not None
    assert audit[0].after["reference"] == "AU-1"
    assert audit[0].after["amount"] == 8_400
    assert audit[0].at == NOW
    assert [(e.partner_code, e.event_type) for e in events] == [("MITRA-A", "payment.posted")]
    assert events[0].payload["data"]["payment_id"] == body["payment_id"]
    assert events[0].payload["data"]["nik"] == "1671********0001"
    assert [(s.key, s.status_code, s.response) for s in stored] == [
        ("au-1", 200, posted.content.decode())
    ]
    # A replay writes nothing more.
    again = api.call("mitra.a", "POST", "/payments", payment(1, 8_400, "AU-1"), key="au-1")
    assert again.content == posted.content
    assert api.count(AuditEntry) == len(audit) + _other_audit(api)
    assert api.count(WebhookEvent) == 2  # participant.registered and payment.posted


def _other_audit(api: Api) -> int:
    with transaction(api.engine) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action != "payment.post")
            )
            or 0
        )


def _token_lookups(api: Api, calls: Callable[[], None]) -> int:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "api_token" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(api.engine, "before_cursor_execute", count)
    try:
        calls()
    finally:
        event.remove(api.engine, "before_cursor_execute", count)
    return len(seen)


def test_a_token_is_looked_up_once_then_served_from_the_cache(api: Api) -> None:
    def three_calls() -> None:
        for _ in range(3):
            response = api.call("mitra.a", "GET", "/webhooks/subscriptions")
            assert response.status_code == 200

    assert _token_lookups(api, three_calls) == 1
    assert api.call("kabid", "GET", "/webhooks/subscriptions").status_code == 403
    bad = api.client.get(
        "/api/v1/webhooks/subscriptions", headers={"Authorization": "Bearer ckp_not-a-token"}
    )
    assert bad.status_code == 401


def test_a_revoked_token_or_deactivated_client_stops_working_at_once(api: Api) -> None:
    assert api.call("mitra.a", "GET", "/webhooks/subscriptions").status_code == 200
    assert api.call("mitra.b", "GET", "/webhooks/subscriptions").status_code == 200
    with transaction(api.engine) as session:
        token_id = session.scalars(
            select(ApiToken.id).where(ApiToken.user_id == user_by_username(session, "mitra.a").id)
        ).one()
        revoke_token(session, ACTOR, token_id)
    refused = api.call("mitra.a", "GET", "/webhooks/subscriptions")
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthenticated"
    with transaction(api.engine) as session:
        set_active(session, ACTOR, user_by_username(session, "mitra.b").id, False)
    assert api.call("mitra.b", "GET", "/webhooks/subscriptions").status_code == 401


def test_the_token_cache_keeps_an_answer_no_longer_than_its_lifetime(api: Api) -> None:
    """A revocation the ORM does not see (another process, plain SQL) is bounded by the
    lifetime: with a lifetime of 0 the next request already sees it."""
    api.client.app.state.token_cache = TokenCache(ttl=0.0)  # type: ignore[attr-defined]
    assert api.call("mitra.a", "GET", "/webhooks/subscriptions").status_code == 200
    with api.engine.begin() as conn:
        conn.execute(update(ApiToken).values(revoked_at=NOW))
    assert api.call("mitra.a", "GET", "/webhooks/subscriptions").status_code == 401
