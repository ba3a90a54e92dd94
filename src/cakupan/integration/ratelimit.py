"""Rate limits per API client: a token bucket per user, kept in this process.

Choice (issue 9): in-process only. One uvicorn process serves the API in every deployment we
ship; with several processes each keeps its own buckets, so the effective limit is the setting
times the number of processes (documented in ``docs/partner-api.md``). Rates are settings
(``CAKUPAN_API_RATE_PER_SECOND``, ``CAKUPAN_API_BURST``): operations, not agreement terms.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Annotated

from fastapi import Depends, Request

from cakupan.errors import CakupanError, ErrorKind
from cakupan.i18n import t
from cakupan.integration.rules import TokenBucket
from cakupan.settings import get_settings
from cakupan.users import User
from cakupan.web.deps import ApiUser

__all__ = ["ClientLimiter", "RateLimited"]


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


def _limiter(request: Request) -> ClientLimiter:
    limiter: ClientLimiter | None = getattr(request.app.state, "partner_api_limiter", None)
    if limiter is None:
        settings = get_settings()
        limiter = ClientLimiter(settings.api_rate_per_second, settings.api_burst)
        request.app.state.partner_api_limiter = limiter
    return limiter


async def rate_limited_user(request: Request, user: ApiUser) -> User:
    """The API user, once their bucket allows the request; else 429 problem details with
    ``Retry-After`` (whole seconds, at least 1). ``async``: no worker thread for a counter."""
    wait = _limiter(request).wait_seconds(user.id)
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
