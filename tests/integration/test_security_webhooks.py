"""Issue 21, items 2 and 5: webhook subscriptions belong to the partner (an agent's token
neither lists, creates nor deactivates them), URLs never echo credentials, and webhooks go to
public https destinations only (after DNS resolution, at subscription and at every delivery),
with no receiver status code shown to the partner. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from cakupan.db import transaction
from cakupan.integration.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from cakupan.integration.rules import WebhookUrlPolicy, address_allowed, public_url
from cakupan.integration.webhooks import (
    WorkResult,
    deliver_due,
    destination_problem,
    dispatch_events,
    work,
)
from cakupan.settings import get_settings
from tests.integration.partner_api_support import NOW, clock, webhook_receiver
from tests.integration.test_partner_api import Api, payment
from tests.integration.test_partner_api import api as api

PRODUCTION = WebhookUrlPolicy()


@pytest.fixture
def production_policy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The production defaults (https only, public addresses only) for this test."""
    monkeypatch.setenv("CAKUPAN_WEBHOOK_HTTPS_ONLY", "true")
    monkeypatch.setenv("CAKUPAN_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "false")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def _subscription(engine: object, url: str, partner: str = "MITRA-A") -> int:
    with transaction(engine) as session:  # type: ignore[arg-type]
        row = WebhookSubscription(
            partner_code=partner,
            url=url,
            secret="whsec_test",
            events=["payment.posted"],
            active=True,
            created_at=NOW,
            created_by="mitra.a",
        )
        session.add(row)
        session.flush()
        return row.id


def test_an_agent_token_cannot_manage_its_partners_webhooks(api: Api) -> None:
    partner_owned = _subscription(api.engine, "https://ops:hunter2@mitra.example/hook?token=s3")
    listed = api.call("agen.a", "GET", "/webhooks/subscriptions")
    assert listed.status_code == 403
    assert "hunter2" not in listed.text
    assert api.call("agen.a", "DELETE", f"/webhooks/subscriptions/{partner_owned}").status_code == (
        403
    )
    created = api.call(
        "agen.a",
        "POST",
        "/webhooks/subscriptions",
        {"url": "http://127.0.0.1:9/agent", "events": ["payment.posted"]},
    )
    assert created.status_code == 403
    assert api.call("agen.a", "GET", "/webhooks/deliveries").status_code == 403
    with transaction(api.engine) as session:
        rows = session.scalars(select(WebhookSubscription)).all()
        assert [(r.id, r.active) for r in rows] == [(partner_owned, True)]

    # The partner sees its subscription, credentials and query values never echoed.
    own = api.call("mitra.a", "GET", "/webhooks/subscriptions")
    assert own.status_code == 200
    assert [s["url"] for s in own.json()] == ["https://***@mitra.example/hook?token=%2A%2A%2A"]
    assert "hunter2" not in own.text
    assert "s3" not in own.text.replace("https", "")
    gone = api.call("mitra.a", "DELETE", f"/webhooks/subscriptions/{partner_owned}")
    assert gone.status_code == 200
    assert "hunter2" not in gone.text


def test_a_url_with_credentials_is_refused(api: Api) -> None:
    refused = api.call(
        "mitra.a",
        "POST",
        "/webhooks/subscriptions",
        {"url": "http://user:pw@127.0.0.1:9/hook", "events": ["payment.posted"]},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "url"
    assert "pw@" not in refused.text


@pytest.mark.usefixtures("production_policy")
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8012/status",  # http at all
        "https://127.0.0.1:8012/status",
        "https://localhost/hook",  # a name resolving to loopback
        "https://[::1]/hook",
        "https://10.1.2.3/hook",
        "https://192.168.1.1/hook",
        "https://172.16.0.9/hook",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata (link-local)
        "https://100.64.0.1/hook",  # shared address space
        "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
        "https://0.0.0.0/hook",
        "https://no-such-host.invalid/hook",  # does not resolve
    ],
)
def test_production_refuses_internal_destinations(api: Api, url: str) -> None:
    refused = api.call(
        "mitra.a", "POST", "/webhooks/subscriptions", {"url": url, "events": ["payment.posted"]}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["code"] == "webhook-url-not-allowed"
    with transaction(api.engine) as session:
        assert session.scalars(select(WebhookSubscription)).all() == []


def test_destination_is_checked_again_at_delivery(api: Api) -> None:
    """A name that resolved to a public address at subscription and now resolves to loopback
    (DNS rebinding) is not contacted: the attempt fails as refused."""
    _subscription(api.engine, "https://hook.mitra.example/in")
    api.register("mitra.a", 1)
    assert api.call("mitra.a", "POST", "/payments", payment(1, 8_400, "R-1"), key="r").is_success
    with transaction(api.engine) as session:
        assert dispatch_events(session, clock())[1] == 1  # the registration has no delivery
    contacted: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        contacted.append(str(request.url))
        return httpx.Response(200)

    result = WorkResult()
    with (
        transaction(api.engine) as session,
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
    ):
        attempted = deliver_due(
            session,
            client,
            clock(),
            result,
            policy=PRODUCTION,
            resolve=lambda host, port: ["127.0.0.1"],
        )
        delivery = session.scalars(select(WebhookDelivery)).one()
        assert attempted == 1
        assert contacted == []
        assert delivery.status == "pending"
        assert delivery.last_error is not None
        assert delivery.last_error.startswith("refused:")
    # A public address is contacted.
    with (
        transaction(api.engine) as session,
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
    ):
        session.execute(
            WebhookDelivery.__table__.update().values(next_attempt_at=NOW)  # type: ignore[attr-defined]
        )
        deliver_due(
            session,
            client,
            clock(),
            WorkResult(),
            policy=PRODUCTION,
            resolve=lambda host, port: ["93.184.215.14"],
        )
    assert contacted == ["https://hook.mitra.example/in"]


def test_deliveries_show_success_or_failure_never_the_receivers_status(api: Api) -> None:
    with webhook_receiver() as receiver:
        receiver.status = 503
        created = api.call(
            "mitra.a",
            "POST",
            "/webhooks/subscriptions",
            {"url": receiver.url, "events": ["participant.registered"]},
        )
        assert created.status_code == 201
        api.register("mitra.a", 1)
        work(api.engine, once=True, clock=clock())
        assert len(receiver.received) == 1
    with transaction(api.engine) as session:
        assert session.scalars(select(WebhookDelivery.last_status_code)).one() == 503
        assert session.scalars(select(WebhookEvent)).one().event_type == "participant.registered"
    shown = api.call("mitra.a", "GET", "/webhooks/deliveries").json()
    assert [(d["last_status_code"], d["last_error"]) for d in shown] == [
        (None, "failed: the receiver did not answer with a 2xx status")
    ]
    assert "503" not in str(shown)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("::1", False),
        ("10.0.0.1", False),
        ("172.31.255.255", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("fe80::1%eth0", False),
        ("fd00:ec2::254", False),  # AWS IPv6 metadata
        ("100.100.100.200", False),  # Alibaba metadata (shared space)
        ("::ffff:10.0.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("not-an-ip", False),
    ],
)
def test_address_policy(address: str, allowed: bool) -> None:
    assert address_allowed(address, PRODUCTION) is allowed
    assert address_allowed(address, WebhookUrlPolicy(allow_private_addresses=True)) is (
        address != "not-an-ip"
    )


def test_destination_problem_resolves_names() -> None:
    def public(host: str, port: int) -> list[str]:
        return ["93.184.215.14"]

    def rebinding(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "127.0.0.1"]

    assert destination_problem("https://mitra.example/h", PRODUCTION, public) is None
    assert destination_problem("https://mitra.example/h", PRODUCTION, rebinding) is not None
    assert destination_problem("http://mitra.example/h", PRODUCTION, public) is not None
    relaxed = WebhookUrlPolicy(https_only=False, allow_private_addresses=True)
    assert destination_problem("http://127.0.0.1:9/h", relaxed, rebinding) is None
    assert destination_problem("http://a:b@127.0.0.1:9/h", relaxed, rebinding) is not None


def test_public_url() -> None:
    assert public_url("https://u:p@h.example:8443/p?a=1&b=x#f") == (
        "https://***@h.example:8443/p?a=%2A%2A%2A&b=%2A%2A%2A"
    )
    assert public_url("https://h.example/p") == "https://h.example/p"
