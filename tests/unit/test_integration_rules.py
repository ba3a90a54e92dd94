"""Pure rules of the partner API: request fingerprints, webhook signatures and replay window,
back-off schedule, token bucket."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from cakupan.integration.idempotency import driver_sql
from cakupan.integration.rules import (
    BACKOFF_CAP_SECONDS,
    TokenBucket,
    backoff_seconds,
    request_hash,
    sign,
    verify,
)


def test_request_hash_ignores_key_order_and_whitespace_but_not_values() -> None:
    a = request_hash("payments", {"nik": "1", "amount": 8400})
    assert a == request_hash("payments", {"amount": 8400, "nik": "1"})
    assert a != request_hash("payments", {"nik": "1", "amount": 8401})
    assert a != request_hash("payments/batches", {"nik": "1", "amount": 8400})


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"id":1}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("s3cret", 1_700_000_000, body) == f"v1={expected}"


@given(st.binary(max_size=200), st.integers(min_value=0, max_value=2**40))
def test_verify_accepts_fresh_and_refuses_tampered_stale_or_foreign(body: bytes, ts: int) -> None:
    signature = sign("whsec_a", ts, body)
    assert verify("whsec_a", str(ts), signature, body, ts + 300)
    assert not verify("whsec_a", str(ts), signature, body, ts + 301)  # replayed too late
    assert not verify("whsec_a", str(ts), signature, body + b" ", ts)
    assert not verify("whsec_b", str(ts), signature, body, ts)
    assert not verify("whsec_a", str(ts + 1), signature, body, ts)  # timestamp is signed
    assert not verify("whsec_a", "soon", signature, body, ts)


def test_backoff_doubles_from_thirty_seconds_up_to_six_hours() -> None:
    assert [backoff_seconds(n) for n in range(0, 6)] == [0, 30, 60, 120, 240, 480]
    assert backoff_seconds(30) == BACKOFF_CAP_SECONDS == 21_600


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=2.0, capacity=3.0, tokens=3.0, updated=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == 0.5  # one token every 0.5 s
    assert bucket.take(0.5) == 0.0
    assert bucket.take(100.0) == 0.0
    assert bucket.tokens == 2.0  # capped at capacity, minus the one just taken


@given(st.lists(st.floats(min_value=0, max_value=0.2), min_size=1, max_size=200))
def test_token_bucket_never_allows_more_than_burst_plus_rate_times_time(gaps: list[float]) -> None:
    bucket = TokenBucket(rate=5.0, capacity=10.0, tokens=10.0, updated=0.0)
    now, allowed = 0.0, 0
    for gap in gaps:
        now += gap
        allowed += bucket.take(now) == 0.0
    assert allowed <= 10 + 5.0 * now + 1e-9


def test_driver_sql_writes_named_placeholders_for_psycopg_and_leaves_casts_alone() -> None:
    sql = "SELECT :a, CAST(:b AS json), x::text, '5%' FROM t WHERE k = :key_1 AND t.c=:c"
    assert driver_sql(sql) == (
        "SELECT %(a)s, CAST(%(b)s AS json), x::text, '5%%' FROM t WHERE k = %(key_1)s AND t.c=%(c)s"
    )


def test_token_cache_answers_a_copy_until_its_lifetime_or_a_change_ends_it() -> None:
    from cakupan.users import User
    from cakupan.web.tokens import TokenCache, generation, invalidate_all

    user = User(id=7, username="mitra.a", role="partner", partner_code="MITRA-A", active=True)
    cache = TokenCache(ttl=3600)
    cache.put("digest", user, generation())
    first, second = cache.get("digest"), cache.get("digest")
    assert first is not None
    assert second is not None
    assert (first.id, first.username, first.partner_code) == (7, "mitra.a", "MITRA-A")
    assert first is not second
    assert first is not user
    assert cache.get("other") is None
    invalidate_all()  # a committed revocation or user change in this process
    assert cache.get("digest") is None
    # An answer looked up before a change committed is stale at once.
    looked_up_in = generation()
    invalidate_all()
    cache.put("digest", user, looked_up_in)
    assert cache.get("digest") is None
    expired = TokenCache(ttl=0.0)
    expired.put("digest", user, generation())
    assert expired.get("digest") is None
