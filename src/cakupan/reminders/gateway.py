"""The one interface to WhatsApp and SMS providers, an HTTP adapter for a real provider, and a
local fake that records what would be sent (demo, tests, benchmarks).

A message carries its outbox id as ``reference``: a provider that receives the same reference
twice (a worker killed after sending and before recording it sends it again) returns the same
message instead of sending a second one; the fake does exactly that. Phone numbers are never
logged: errors name the reference and the masked number only.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

from cakupan.reminders.rules import mask_phone

__all__ = ["FakeGateway", "Gateway", "GatewayError", "HttpGateway", "gateway_from_settings"]


class GatewayError(Exception):
    """A send that did not go through (the outbox retries it)."""


class Gateway(Protocol):
    """Send one message; return the provider's message id."""

    def send(self, *, channel: str, to: str, body: str, reference: str) -> str: ...


@dataclass
class SentMessage:
    reference: str
    channel: str
    to: str
    body: str
    provider_id: str


@dataclass
class FakeGateway:
    """Records each message once per reference (in memory, and appended to ``path`` as JSON
    lines when given, so that a killed worker's sends survive it). ``fail_next`` makes the next
    sends fail (to test retries)."""

    path: Path | None = None
    fail_next: int = 0
    sent: dict[str, SentMessage] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.path is not None and self.path.is_file():
            for line in self.path.read_text("utf-8").splitlines():
                if line.strip():
                    item = json.loads(line)
                    self.sent[item["reference"]] = SentMessage(**item)

    def send(self, *, channel: str, to: str, body: str, reference: str) -> str:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                raise GatewayError(f"fake provider refused {reference} to {mask_phone(to)}")
            existing = self.sent.get(reference)
            if existing is not None:
                return existing.provider_id  # the same reference again: not sent twice
            message = SentMessage(reference, channel, to, body, f"fake-{reference}")
            self.sent[reference] = message
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(message.__dict__, ensure_ascii=False) + "\n")
                    handle.flush()
            return message.provider_id


@dataclass
class HttpGateway:
    """A provider's HTTP API: ``POST {url}`` with a bearer key and JSON ``{channel, to, body,
    reference}``; answers ``{"id": ...}``. Never called by the tests."""

    url: str
    key: str
    timeout_seconds: float = 10.0
    client: httpx.Client | None = None

    def send(self, *, channel: str, to: str, body: str, reference: str) -> str:
        http = self.client or httpx.Client(timeout=self.timeout_seconds)
        try:
            response = http.post(
                self.url,
                json={"channel": channel, "to": to, "body": body, "reference": reference},
                headers={"Authorization": f"Bearer {self.key}", "Idempotency-Key": reference},
            )
        except httpx.HTTPError as error:
            raise GatewayError(f"{reference}: {type(error).__name__}") from None
        finally:
            if self.client is None:
                http.close()
        if not 200 <= response.status_code < 300:
            raise GatewayError(f"{reference}: HTTP {response.status_code}")
        try:
            return str(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            raise GatewayError(f"{reference}: provider answer without an id") from None


def gateway_from_settings() -> Gateway:
    """The configured gateway: ``CAKUPAN_REMINDER_GATEWAY_URL`` and ``_KEY`` give the HTTP
    adapter; otherwise the local fake, recording to ``reminders-sent.jsonl`` in the data
    directory."""
    from cakupan.settings import get_settings

    settings = get_settings()
    if settings.reminder_gateway_url:
        return HttpGateway(settings.reminder_gateway_url, settings.reminder_gateway_key or "")
    path = settings.analytics_snapshot.parent.parent / "reminders-sent.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    return FakeGateway(path=path)
