"""The partner API's rate limit kept in Redis: one bucket per client shared by every process,
refilled on Redis's clock; an unreachable Redis lets requests through with a warning."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis

from cakupan.integration.ratelimit import RedisLimiter
from tests.conftest import REDIS_URL, run_coroutine


async def take(limiter: RedisLimiter, client_id: int, times: int) -> list[float]:
    return [await limiter.acquire(client_id) for _ in range(times)]


def test_two_processes_share_one_bucket_per_client(redis_prefix: str) -> None:
    # Two limiters stand for two uvicorn workers: the burst of 3 is spent across both. (One
    # event loop for the whole test: a limiter's connection belongs to the loop that opened it,
    # as it does in a worker.)
    first = RedisLimiter(REDIS_URL, rate=0.01, burst=3, prefix=redis_prefix)
    second = RedisLimiter(REDIS_URL, rate=0.01, burst=3, prefix=redis_prefix)

    async def scenario() -> None:
        assert await take(first, 7, 2) == [0.0, 0.0]
        assert await take(second, 7, 1) == [0.0]
        [waited] = await take(second, 7, 1)
        assert 99.0 <= waited <= 100.0  # one token per 100 s
        [again] = await take(first, 7, 1)
        assert 99.0 <= again <= 100.0  # a refused request takes nothing
        assert await take(first, 8, 1) == [0.0]  # another client has its own bucket

    run_coroutine(scenario())


def test_the_bucket_refills_at_the_rate(redis_prefix: str) -> None:
    limiter = RedisLimiter(REDIS_URL, rate=20.0, burst=1, prefix=redis_prefix)

    async def scenario() -> None:
        assert await take(limiter, 1, 1) == [0.0]
        [wait] = await take(limiter, 1, 1)
        assert 0.0 < wait <= 0.05
        await asyncio.sleep(0.06)
        assert await take(limiter, 1, 1) == [0.0]

    run_coroutine(scenario())


def test_a_bucket_expires_once_it_would_be_full_again(redis_prefix: str) -> None:
    limiter = RedisLimiter(REDIS_URL, rate=10.0, burst=5, prefix=redis_prefix)
    run_coroutine(take(limiter, 3, 1))
    ttl_ms = redis.Redis.from_url(REDIS_URL).pttl(f"{redis_prefix}3")
    assert 0 < ttl_ms <= 1_500  # 5 tokens at 10/s: full after 0.5 s, kept 1 s more


def test_an_unreachable_redis_lets_requests_through_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = RedisLimiter("redis://127.0.0.1:1/0", rate=0.01, burst=1)  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="cakupan.web"):
        assert run_coroutine(take(limiter, 1, 3)) == [0.0, 0.0, 0.0]
    warnings = [r for r in caplog.records if "rate limiter" in r.getMessage()]
    assert len(warnings) == 1  # at most once a minute
    assert "not limiting" in warnings[0].getMessage()
