"""JwksSource against a real local JWKS server: rotation, unknown kids, rate limits, single flight, caches."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis.asyncio as aioredis

from bot.keys.fetch import FetchLimits
from bot.keys.jwks import FetchSettings, JwksSource
from bot.store.memory import MemoryStore
from bot.store.redis_store import RedisStore
from tests.keys.server import KeyServer
from tests.keys.support import ec_key, jwk_of, jwks, rsa_key

FAST = FetchLimits(connect_timeout=1.0, read_timeout=0.5, total_timeout=1.0)
K1 = jwk_of(rsa_key(), "k-1")
K2 = jwk_of(rsa_key("b"), "k-2")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def source(url: str, clock: Clock, store: object = None, **kwargs: object) -> JwksSource:
    return JwksSource(url, allow_http=True, settings=FetchSettings(store=store, limits=FAST, clock=clock, **kwargs))  # type: ignore[arg-type]


async def test_a_rotated_key_is_found_after_one_refetch(issuer: KeyServer) -> None:
    clock = Clock()
    url = issuer.json("/jwks", jwks(K1))
    keys = source(url, clock)
    first = await keys.lookup("k-1")
    assert [k.kid for k in first.keys] == ["k-1"] and first.answered == f"127.0.0.1:{issuer.port}"
    issuer.update("/jwks", jwks(K1, K2))  # the issuer rotates
    clock.now += 61
    found = await keys.lookup("k-2")
    assert found.refetched and {k.kid for k in found.keys} == {"k-1", "k-2"}
    assert issuer.count("/jwks") == 2
    assert (await keys.lookup("k-2")).keys and issuer.count("/jwks") == 2  # cached now


async def test_an_unknown_kid_refetches_at_most_once_a_minute(issuer: KeyServer) -> None:
    clock = Clock()
    keys = source(issuer.json("/jwks", jwks(K1)), clock)
    await keys.lookup("k-1")
    clock.now += 61
    missing = await keys.lookup("k-9")
    assert missing.refetched and not missing.refetch_limited and issuer.count("/jwks") == 2
    for _ in range(5):
        again = await keys.lookup("k-9")
        assert again.refetch_limited and not again.refetched
    assert issuer.count("/jwks") == 2
    clock.now += 61
    assert (await keys.lookup("k-9")).refetched and issuer.count("/jwks") == 3


async def test_an_unknown_kid_right_after_the_first_fetch_counts_as_fresh(issuer: KeyServer) -> None:
    keys = source(issuer.json("/jwks", jwks(K1)), Clock())
    result = await keys.lookup("k-9")
    assert result.refetched and issuer.count("/jwks") == 1


async def test_concurrent_lookups_share_one_fetch_in_flight(issuer: KeyServer) -> None:
    keys = source(issuer.json("/jwks", jwks(K1), delay=0.2), Clock())
    results = await asyncio.gather(*(keys.lookup("k-1") for _ in range(20)))
    assert all(r.keys for r in results)
    assert issuer.count("/jwks") == 1 and keys.fetches == 1


async def test_concurrent_unknown_kids_share_one_refetch(issuer: KeyServer) -> None:
    clock = Clock()
    keys = source(issuer.json("/jwks", jwks(K1), delay=0.1), clock)
    await keys.lookup(None)
    clock.now += 61
    results = await asyncio.gather(*(keys.lookup(f"k-{n}") for n in range(2, 12)))
    assert issuer.count("/jwks") == 2
    assert all(r.refetched or r.refetch_limited for r in results)


@pytest.mark.parametrize(
    ("cache_control", "fresh_for"),
    [
        ("max-age=600", 600),
        ("max-age=5", 60),
        ("no-store", 60),
        (None, 300),
        ("max-age=999999999", 86400),
    ],
)
async def test_max_age_is_honoured_within_bounds(
    issuer: KeyServer, cache_control: str | None, fresh_for: float
) -> None:
    clock = Clock()
    keys = source(issuer.json("/jwks", jwks(K1), cache_control=cache_control), clock)
    await keys.lookup("k-1")
    clock.now += fresh_for - 1
    await keys.lookup("k-1")
    assert issuer.count("/jwks") == 1
    clock.now += 2
    await keys.lookup("k-1")
    assert issuer.count("/jwks") == 2


async def test_a_failure_is_remembered_briefly_so_a_down_source_is_not_hammered(issuer: KeyServer) -> None:
    clock = Clock()
    keys = source(issuer.text("/jwks", "down", status=503), clock, failure_ttl=10.0)
    first = await keys.lookup("k-1")
    assert first.failure is not None and first.failure.reason == "http_status"
    assert (await keys.lookup("k-1")).failure == first.failure and issuer.count("/jwks") == 1
    clock.now += 11
    issuer.json("/jwks", jwks(K1))
    assert (await keys.lookup("k-1")).keys and issuer.count("/jwks") == 2


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"nokeys": []}, "not a JWK Set"),
        ({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}, "no usable public signing key"),
        ({"keys": [K1] * 101}, "over the 100 read"),
        ({"keys": [{"kty": "RSA", "n": 5, "e": "AQAB"}]}, "no usable public signing key"),
    ],
)
async def test_a_document_that_is_not_a_usable_jwks_is_a_failure(
    issuer: KeyServer, document: object, words: str
) -> None:
    result = await source(issuer.json("/jwks", document), Clock()).lookup("k-1")
    assert result.failure is not None and result.failure.reason == "bad_jwks" and words in result.failure.detail


async def test_only_public_members_are_kept_and_cached(issuer: KeyServer) -> None:
    private = dict(K1, d="c2VjcmV0", p="cA", q="cQ")
    symmetric = {"kty": "oct", "kid": "hs", "k": "c2VjcmV0LXNlY3JldA"}
    encryption = jwk_of(ec_key(), "enc-1", use="enc")
    store = MemoryStore()
    result = await source(issuer.json("/jwks", jwks(private, symmetric, encryption)), Clock(), store).lookup("k-1")
    assert [k.kid for k in result.keys] == ["k-1"] and "d" not in result.keys[0].jwk
    [cached] = [value for value in [await store.get(f"jwks:{k}") for k in _keys(store)] if value]
    assert "c2VjcmV0" not in cached and '"d"' not in cached and "enc-1" not in cached


def _keys(store: MemoryStore) -> list[str]:
    return [key.split(":", 1)[1] for key in store._data if key.startswith("jwks:")]


@pytest.mark.redis
async def test_replicas_share_the_jwks_through_redis(
    issuer: KeyServer, redis_store: RedisStore, redis_raw: aioredis.Redis
) -> None:
    url = issuer.json("/jwks", jwks(K1), cache_control="max-age=600")
    first = source(url, Clock(), redis_store)
    await first.lookup("k-1")
    other_replica = source(url, Clock(), redis_store)
    assert [k.kid for k in (await other_replica.lookup("k-1")).keys] == ["k-1"]
    assert issuer.count("/jwks") == 1
    [key] = await redis_raw.keys("jwtcheck:jwks:*")
    assert 590 <= await redis_raw.ttl(key) <= 600
    stored = json.loads(await redis_raw.get(key))
    assert [sorted(k) for k in stored["keys"]] == [["e", "kid", "kty", "n"]]


@pytest.mark.redis
async def test_an_unknown_kid_refetch_is_limited_across_replicas(issuer: KeyServer, redis_store: RedisStore) -> None:
    url = issuer.json("/jwks", jwks(K1))
    clock_a, clock_b = Clock(), Clock()
    a, b = source(url, clock_a, redis_store), source(url, clock_b, redis_store)
    await a.lookup("k-1")
    clock_a.now += 61
    assert (await a.lookup("k-9")).refetched and issuer.count("/jwks") == 2
    assert (await b.lookup("k-9")).refetch_limited  # b reads the set a stored, and may not refetch yet
    assert issuer.count("/jwks") == 2


@pytest.mark.redis
async def test_a_replica_finds_a_rotated_key_another_replica_fetched(
    issuer: KeyServer, redis_store: RedisStore
) -> None:
    url = issuer.json("/jwks", jwks(K1))
    clock_a, clock_b = Clock(), Clock()
    a, b = source(url, clock_a, redis_store), source(url, clock_b, redis_store)
    await a.lookup("k-1")
    await b.lookup("k-1")
    issuer.update("/jwks", jwks(K1, K2))
    clock_a.now += 61
    await a.lookup("k-2")
    result = await b.lookup("k-2")  # b's memory has the old set; the store has the new one
    assert "k-2" in {k.kid for k in result.keys} and issuer.count("/jwks") == 2
