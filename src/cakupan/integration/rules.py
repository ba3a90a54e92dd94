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


# -- webhook destinations (issue 21: SSRF, credentials in URLs) ------------------------------------


@dataclass(frozen=True)
class WebhookUrlPolicy:
    """Where webhooks may go. Production: https only, public addresses only (no loopback,
    private, link-local or cloud-metadata address, checked after DNS resolution, at subscription
    and again at every delivery). Tests and a local demo may allow http and private addresses
    (settings ``webhook_https_only``, ``webhook_allow_private_addresses``)."""

    https_only: bool = True
    allow_private_addresses: bool = False


def webhook_url_problem(url: str, policy: WebhookUrlPolicy) -> tuple[str, str] | None:
    """Why ``url`` cannot receive webhooks, as (Indonesian, English); None when its shape is
    acceptable (its addresses are checked by :func:`address_allowed` once resolved)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ("URL tidak valid", "not a valid URL")
    del port
    allowed = ("https",) if policy.https_only else ("https", "http")
    if parts.scheme not in allowed:
        return ("URL harus memakai https", "the URL must use https")
    if parts.username is not None or parts.password is not None:
        return (
            "URL tidak boleh memuat nama pengguna/kata sandi (pakai rahasia penandatangan)",
            "the URL must not carry a user name or password (use the signing secret)",
        )
    if not parts.hostname:
        return ("URL tanpa nama host", "the URL has no host name")
    return None


def address_allowed(address: str, policy: WebhookUrlPolicy) -> bool:
    """Whether a resolved IP ``address`` may receive webhooks: only globally routable unicast
    addresses unless the policy allows private ones (loopback, RFC 1918, link-local, which holds
    the 169.254.169.254 metadata service, shared 100.64/10, reserved, multicast are refused;
    IPv4-mapped IPv6 is judged as its IPv4)."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if policy.allow_private_addresses:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def public_url(url: str) -> str:
    """``url`` as it may be shown back (API answers, audit rows, pages): user name and password
    replaced by ``***``, query values by ``***`` (they may hold tokens)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "***"
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None:
        netloc = f"{netloc}:{port}"
    if parts.username is not None or parts.password is not None:
        netloc = f"***@{netloc}"
    query = parts.query
    if query:
        query = urlencode([(k, "***") for k, _ in parse_qsl(query, keep_blank_values=True)])
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
