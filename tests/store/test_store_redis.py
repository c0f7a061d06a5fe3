"""RedisStore against a real Redis: NX claims across replicas, TTLs and the key prefix on every key."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
import redis.exceptions

from bot.store.redis_store import RedisStore

pytestmark = pytest.mark.redis


@pytest.fixture
async def replicas(redis_url: str, redis_raw: aioredis.Redis) -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    """Two stores with their own connection pools: two bot replicas sharing one Redis."""
    a, b = RedisStore(redis_url), RedisStore(redis_url)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


def unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_claim_is_won_by_exactly_one_replica(replicas: tuple[RedisStore, RedisStore]) -> None:
    a, b = replicas
    assert await a.claim("evt:Ev1", ttl=3600) is True
    assert await b.claim("evt:Ev1", ttl=3600) is False
    assert await a.claim("evt:Ev1", ttl=3600) is False


async def test_concurrent_claims_have_one_winner(replicas: tuple[RedisStore, RedisStore]) -> None:
    a, b = replicas
    results = await asyncio.gather(*(s.claim("msg:C1:1712345678.000100", ttl=60) for s in (a, b) * 25))
    assert results.count(True) == 1


async def test_release_by_one_replica_lets_another_claim(replicas: tuple[RedisStore, RedisStore]) -> None:
    a, b = replicas
    assert await a.claim("evt:Ev2", ttl=3600) is True
    await a.release("evt:Ev2")
    assert await b.claim("evt:Ev2", ttl=3600) is True


async def test_votes_are_shared_and_replaced_across_replicas(replicas: tuple[RedisStore, RedisStore]) -> None:
    a, b = replicas
    await a.vote("votes:T1:w1", "U1", "worked", ttl=600)
    await b.vote("votes:T1:w1", "U2", "worked", ttl=600)
    assert await b.vote("votes:T1:w1", "U1", "did-not-work", ttl=600) == {"did-not-work": 1, "worked": 1}
    assert await a.tally("votes:T1:w1") == {"did-not-work": 1, "worked": 1}


async def test_every_key_is_prefixed_and_expires(redis_store: RedisStore, redis_raw: aioredis.Redis) -> None:
    await redis_store.set("card:c1", "x", ttl=120)
    await redis_store.set("diag:fp:eh", "x", ttl=300)
    await redis_store.claim("evt:Ev3", ttl=3600)
    await redis_store.claim("msg:C1:1.2", ttl=86400)
    await redis_store.vote("votes:T1:w1", "U1", "worked", ttl=600)
    await redis_store.vote("votes:T1:w1", "U2", "worked", ttl=600)
    expected = {
        "jwtcheck:card:c1": 120,
        "jwtcheck:diag:fp:eh": 300,
        "jwtcheck:evt:Ev3": 3600,
        "jwtcheck:msg:C1:1.2": 86400,
        "jwtcheck:votes:T1:w1": 600,
    }
    keys = sorted([key async for key in redis_raw.scan_iter("*")])
    assert keys == sorted(expected)
    for key, ttl in expected.items():
        assert 0 < await redis_raw.ttl(key) <= ttl, key
    assert await redis_raw.type("jwtcheck:votes:T1:w1") == "hash"
    assert await redis_raw.hgetall("jwtcheck:votes:T1:w1") == {"U1": "worked", "U2": "worked"}


async def test_a_vote_refreshes_the_poll_ttl(redis_store: RedisStore, redis_raw: aioredis.Redis) -> None:
    await redis_store.vote("votes:T1:w1", "U1", "worked", ttl=100)
    await redis_store.vote("votes:T1:w1", "U2", "worked", ttl=5000)
    assert 100 < await redis_raw.ttl("jwtcheck:votes:T1:w1") <= 5000


async def test_a_custom_prefix_is_honoured(redis_url: str, redis_raw: aioredis.Redis) -> None:
    store = RedisStore(redis_url, prefix="jwtcheck-staging:")
    try:
        await store.set("card:1", "x", ttl=60)
    finally:
        await store.close()
    assert await redis_raw.get("jwtcheck-staging:card:1") == "x"


async def test_an_unreachable_redis_fails_fast_and_ping_says_so() -> None:
    store = RedisStore(f"redis://127.0.0.1:{unused_port()}/15")
    try:
        started = time.monotonic()
        assert await store.ping() is False
        with pytest.raises(redis.exceptions.ConnectionError):
            await store.get("card:1")
        assert time.monotonic() - started < 1.5  # no client-side retries with backoff
    finally:
        await store.close()


def test_describe_never_shows_the_password() -> None:
    store = RedisStore("redis://:s3cret-pw@redis.internal:6380/2")
    assert store.describe() == "redis.internal:6380/2"
    assert "s3cret" not in repr(store)


async def test_tallies_read_each_poll_once_in_a_pipeline(redis_store: RedisStore, redis_raw: aioredis.Redis) -> None:
    for n in range(5):
        await redis_store.vote(f"votes:T1:w{n}", "U1", "fixed", 60)
    before = int((await redis_raw.info("stats"))["total_commands_processed"])
    await redis_store.tallies([f"votes:T1:w{n}" for n in range(5)])
    after = int((await redis_raw.info("stats"))["total_commands_processed"])
    assert after - before == 5 + 1  # one HVALS per poll, nothing else (plus the INFO that read the counter)


async def test_a_durable_map_has_no_expiry_and_passes_the_last_look(
    redis_store: RedisStore, redis_raw: aioredis.Redis
) -> None:
    """``keep`` is the one write without a TTL: a hash under the workspace's hash tag."""
    from tests.support.tokens import make_token, signature_of

    token = make_token()
    await redis_store.keep("bindings:{T1}", "C1", f"orders {token}")
    assert await redis_raw.ttl("jwtcheck:bindings:{T1}") == -1
    assert signature_of(token) not in str(await redis_raw.hgetall("jwtcheck:bindings:{T1}"))
