"""Pure rules of the partner API: request fingerprints for idempotency, webhook signatures,
retry back-off and the token bucket. No database, no clock, no I/O."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

#: Webhook event types (``docs/partner-api.md``).
EVENT_TYPES: tuple[str, ...] = (
    "participant.registered",
    "payment.posted",
    "payment.reversed",
    "participant.arrears",
    "participant.closed",
    "incentive_statement.approved",
    "claim.status_changed",
)

#: Headers of a webhook delivery.
SIGNATURE_HEADER = "X-Cakupan-Signature"
TIMESTAMP_HEADER = "X-Cakupan-Timestamp"
EVENT_HEADER = "X-Cakupan-Event"
DELIVERY_HEADER = "X-Cakupan-Delivery"

#: Receivers should reject a delivery whose timestamp is further than this from their clock.
REPLAY_TOLERANCE_SECONDS = 300

#: Delivery attempts before a delivery is marked failed (it can still be re-sent by hand).
MAX_ATTEMPTS = 8
#: First retry after this many seconds, doubling each attempt, capped at BACKOFF_CAP_SECONDS.
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 6 * 60 * 60

#: Rows a settlement batch may hold.
MAX_BATCH_ROWS = 10_000


def request_hash(endpoint: str, body: Any) -> str:
    """A fingerprint of a request: the endpoint and the JSON body in canonical form (keys sorted,
    no whitespace), so the same content hashes the same however it was serialised."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{endpoint}\n{canonical}".encode()).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value: ``v1=`` + hex HMAC-SHA256 of ``"{timestamp}." + body``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


def verify(
    secret: str,
    timestamp_header: str,
    signature_header: str,
    body: bytes,
    now: int,
    tolerance: int = REPLAY_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks: a well-formed timestamp within ``tolerance`` seconds of ``now``
    (replays of old deliveries fail) and a signature matching the exact body bytes."""
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature_header)


def backoff_seconds(attempts: int) -> int:
    """Seconds to wait before the next attempt after ``attempts`` failed ones (1, 2, ...):
    30 s, 60 s, 120 s, ... capped at 6 hours."""
    if attempts < 1:
        return 0
    return int(min(BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), BACKOFF_CAP_SECONDS))


@dataclass
class TokenBucket:
    """A token bucket: ``capacity`` tokens, refilled at ``rate`` per second."""

    rate: float
    capacity: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take one token at ``now`` (seconds): 0.0 when allowed, else the seconds to wait
        until a token is available (nothing taken)."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated = max(self.updated, now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate
