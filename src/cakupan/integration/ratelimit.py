"""Rate limits per API client: a token bucket per user.

Two stores (issue 9):

- in the process (the default): each uvicorn worker keeps its own buckets, so with several
  workers the effective limit is the setting times the number of workers;
- in Redis, shared by every worker and server (``CAKUPAN_API_RATE_LIMIT_REDIS_URL``, e.g.
  ``redis://127.0.0.1:6379/0``): one bucket per client whatever the number of processes, kept
  and refilled by one Lua script on Redis's own clock (one round trip per request).

If Redis cannot be reached the request is let through and a warning is logged (at most once a
minute per process): a broken limiter must not stop every partner's payments. Rates are settings
(``CAKUPAN_API_RATE_PER_SECOND``, ``CAKUPAN_API_BURST``): operations, not agreement terms.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Annotated, Any, Protocol

import redis.asyncio as redis
from fastapi import Depends, Request
from redis.exceptions import RedisError

from cakupan.errors import CakupanError, ErrorKind
from cakupan.i18n import t
from cakupan.integration.rules import TokenBucket
from cakupan.settings import get_settings
from cakupan.users import User
from cakupan.web.deps import ApiUser

__all__ = ["ClientLimiter", "Limiter", "RateLimited", "RedisLimiter"]

logger = logging.getLogger("cakupan.web")


class Limiter(Protocol):
    """Where the buckets live."""

    async def acquire(self, client_id: int) -> float:
        """Take a token for ``client_id``: 0.0 when the request may go ahead, else the seconds
        until it may be retried."""
        ...


class ClientLimiter:
    """Token buckets keyed by client (user id); thread-safe."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[int, TokenBucket] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, client_id: int, now: float | None = None) -> float:
        """Take a token for ``client_id``: 0.0 when the request may go ahead, else the seconds
        until it may be retried."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(client_id)
            if bucket is None:
                bucket = TokenBucket(self.rate, float(self.burst), float(self.burst), moment)
                self._buckets[client_id] = bucket
            return bucket.take(moment)

    async def acquire(self, client_id: int) -> float:
        return self.wait_seconds(client_id)


#: The token bucket of :class:`~cakupan.integration.rules.TokenBucket`, in Redis: a hash
#: (tokens, updated) per client, refilled on Redis's clock; returns the seconds to wait as text
#: (a Lua number would come back truncated to an integer).
_BUCKET_LUA = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
updated = math.max(updated, now)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(updated))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""

#: How often a process may log that Redis is unreachable.
_WARN_EVERY_SECONDS = 60.0


class RedisLimiter:
    """Token buckets keyed by client in Redis, shared by every process that uses the same
    ``url`` and ``prefix``. The connection is opened on first use, in the serving event loop."""

    def __init__(
        self, url: str, rate: float, burst: int, *, prefix: str = "cakupan:ratelimit:"
    ) -> None:
        self.url = url
        self.rate = rate
        self.burst = burst
        self.prefix = prefix
        self._script: Any = None
        self._warned_at: float | None = None

    async def acquire(self, client_id: int) -> float:
        try:
            if self._script is None:
                client = redis.Redis.from_url(
                    self.url, socket_timeout=1.0, socket_connect_timeout=1.0
                )
                self._script = client.register_script(_BUCKET_LUA)
            wait = await self._script(
                keys=[f"{self.prefix}{client_id}"], args=[self.rate, self.burst]
            )
            return float(wait)
        except (RedisError, OSError) as error:
            moment = time.monotonic()
            if self._warned_at is None or moment - self._warned_at >= _WARN_EVERY_SECONDS:
                self._warned_at = moment
                logger.warning(
                    "rate limiter: Redis at %s unreachable, not limiting: %s", self.url, error
                )
            return 0.0


def _limiter(request: Request) -> Limiter:
    limiter: Limiter | None = getattr(request.app.state, "partner_api_limiter", None)
    if limiter is None:
        settings = get_settings()
        rate, burst = settings.api_rate_per_second, settings.api_burst
        url = settings.api_rate_limit_redis_url
        limiter = RedisLimiter(url, rate, burst) if url else ClientLimiter(rate, burst)
        request.app.state.partner_api_limiter = limiter
    return limiter


async def rate_limited_user(request: Request, user: ApiUser) -> User:
    """The API user, once their bucket allows the request; else 429 problem details with
    ``Retry-After`` (whole seconds, at least 1). ``async``: no worker thread for a counter."""
    wait = await _limiter(request).acquire(user.id)
    if wait > 0:
        raise CakupanError(
            title=t(
                "Terlalu banyak permintaan; coba lagi setelah {s} detik",
                "Too many requests; retry after {s} seconds",
            ).format(s=max(1, math.ceil(wait))),
            kind=ErrorKind.RATE_LIMITED,
            code="rate-limited",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    return user


RateLimited = Annotated[User, Depends(rate_limited_user)]
