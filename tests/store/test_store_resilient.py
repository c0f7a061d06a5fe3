"""ResilientStore: a real Redis behind a TCP proxy we can stop, a closed port, and a Redis that hangs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
import redis.asyncio as aioredis
import redis.exceptions

from bot.store import MemoryStore, RedisStore, ResilientStore, make_store
from tests.support.tcp_proxy import TcpProxy, unused_port, via

LOGGER = "bot.store.resilient"
DOWN = "Redis unavailable, serving from the in-process cache"
BACK = "Redis is back"


class FakeClock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def records(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and text in r.getMessage()]


@pytest.fixture
async def proxy(redis_url: str, redis_raw: aioredis.Redis) -> AsyncIterator[TcpProxy]:
    parts = urlsplit(redis_url)
    p = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    await p.start()
    try:
        yield p
    finally:
        if p._server is not None:
            await p.stop()


async def test_redis_down_at_start_serves_from_memory_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    store = ResilientStore(RedisStore(f"redis://127.0.0.1:{unused_port()}/15"), MemoryStore())
    try:
        assert store.state == "redis"  # nothing has been tried yet: construction never connects
        assert await store.claim("evt:Ev1", ttl=60) is True
        assert store.state == "redis-degraded"
        assert store.name == "redis"
        assert await store.claim("evt:Ev1", ttl=60) is False  # de-duplication still works, per replica
        await store.set("card:1", "state", ttl=60)
        assert await store.get("card:1") == "state"
        assert await store.vote("votes:T1:w1", "U1", "worked", ttl=60) == {"worked": 1}
        assert await store.tally("votes:T1:w1") == {"worked": 1}
        await store.release("evt:Ev1")
        assert await store.ping() is False
    finally:
        await store.close()
    assert len(records(caplog, DOWN)) == 1
    assert [r.levelno for r in records(caplog, DOWN)] == [logging.WARNING]
    assert records(caplog, BACK) == []


async def test_make_store_with_an_unreachable_redis_does_not_crash() -> None:
    store = make_store(f"redis://127.0.0.1:{unused_port()}/15")
    try:
        assert isinstance(store, ResilientStore)
        assert await store.claim("evt:Ev1", ttl=60) is True
        assert store.state == "redis-degraded"
    finally:
        await store.close()


async def test_falls_back_mid_run_and_returns_to_redis(
    proxy: TcpProxy, redis_url: str, redis_raw: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    clock = FakeClock()
    store = ResilientStore(RedisStore(via(redis_url, proxy.port)), MemoryStore(), retry_interval=5, clock=clock)
    try:
        # Healthy: writes land in the real Redis.
        assert await store.claim("evt:Ev1", ttl=3600) is True
        assert await redis_raw.exists("jwtcheck:evt:Ev1") == 1
        assert store.state == "redis"

        # Redis goes away (connections cut, port closed).
        await proxy.stop()
        assert await store.claim("evt:Ev2", ttl=3600) is True
        assert store.state == "redis-degraded"
        await store.set("card:1", "from-memory", ttl=600)
        assert await store.get("card:1") == "from-memory"
        clock.advance(6)  # a retry happens, fails, and is not logged again
        assert await store.claim("evt:Ev2", ttl=3600) is False
        assert store.state == "redis-degraded"

        # Redis is reachable again, but within the retry interval nobody tries it.
        await proxy.start()
        accepted = proxy.accepted
        clock.advance(4)
        await store.set("card:2", "still-memory", ttl=600)
        assert proxy.accepted == accepted
        assert await redis_raw.exists("jwtcheck:card:2") == 0
        assert store.state == "redis-degraded"

        # After the interval the next call uses Redis again.
        clock.advance(2)
        await store.set("card:3", "redis-again", ttl=600)
        assert store.state == "redis"
        assert await redis_raw.get("jwtcheck:card:3") == "redis-again"
        assert 0 < await redis_raw.ttl("jwtcheck:card:3") <= 600
        assert await store.claim("evt:Ev1", ttl=3600) is False  # the claim made before the outage
        assert await store.get("card:1") is None  # memory-only writes are not carried over
    finally:
        await store.close()

    down, back = records(caplog, DOWN), records(caplog, BACK)
    assert [r.levelno for r in down] == [logging.WARNING]
    assert [r.levelno for r in back] == [logging.INFO]
    assert caplog.records.index(down[0]) < caplog.records.index(back[0])


async def test_ping_probes_redis_immediately_and_recovers(
    proxy: TcpProxy, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    clock = FakeClock()
    store = ResilientStore(RedisStore(via(redis_url, proxy.port)), MemoryStore(), retry_interval=5, clock=clock)
    try:
        assert await store.ping() is True
        await proxy.stop()
        assert await store.ping() is False
        assert store.state == "redis-degraded"
        await proxy.start()
        assert await store.ping() is True  # no need to wait for the retry interval
        assert store.state == "redis"
    finally:
        await store.close()
    assert len(records(caplog, DOWN)) == 1
    assert len(records(caplog, BACK)) == 1


async def test_a_hanging_redis_costs_one_short_timeout_not_a_slack_ack(caplog: pytest.LogCaptureFixture) -> None:
    """A server that accepts and never answers: the socket timeout, not Redis, bounds the wait."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        with contextlib.suppress(OSError):
            while await reader.read(65536):
                pass

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = ResilientStore(RedisStore(f"redis://127.0.0.1:{port}/15"), MemoryStore())
    try:
        started = time.monotonic()
        assert await store.claim("evt:Ev1", ttl=60) is True
        first = time.monotonic() - started
        started = time.monotonic()
        assert await store.claim("evt:Ev1", ttl=60) is False
        second = time.monotonic() - started
    finally:
        await store.close()
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
    assert first < 2.5, first
    assert second < 0.1, second
    assert len(records(caplog, DOWN)) == 1


async def test_nothing_about_keys_or_values_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = ResilientStore(RedisStore(f"redis://:pw-SECRET@127.0.0.1:{unused_port()}/15"), MemoryStore())
    try:
        await store.set("diag:FINGERPRINT123:EXP456", "VALUE-eyJhbGciOi", ttl=60)
        await store.get("diag:FINGERPRINT123:EXP456")
    finally:
        await store.close()
    assert records(caplog, DOWN)
    for secret in ("FINGERPRINT123", "VALUE-eyJ", "pw-SECRET"):
        assert secret not in caplog.text


class StubPrimary:
    """Stands in for RedisStore to control the timing of successes and failures."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False
        self.gate: asyncio.Event | None = None

    async def get(self, key: str) -> str | None:
        self.calls += 1
        gate = self.gate  # captured per call, so a test can hold one call and let later ones through
        if gate is not None:
            await gate.wait()
        if self.fail:
            raise redis.exceptions.ConnectionError("down")
        return "from-redis"

    async def check(self) -> None:
        """The probe a degraded store makes before its call: counted as a call."""
        self.calls += 1
        if self.fail:
            raise redis.exceptions.ConnectionError("down")

    async def ping(self) -> bool:
        return not self.fail

    async def close(self) -> None:
        return None


def resilient(stub: StubPrimary, clock: FakeClock) -> ResilientStore:
    return ResilientStore(cast(Any, stub), MemoryStore(clock=clock), retry_interval=5, clock=clock)


async def test_only_one_call_probes_redis_per_interval() -> None:
    clock, stub = FakeClock(), StubPrimary()
    store = resilient(stub, clock)
    stub.fail = True
    assert await store.get("card:1") is None
    assert stub.calls == 1
    clock.advance(5)
    stub.gate = asyncio.Event()
    calls: list[Awaitable[str | None]] = [store.get("card:1") for _ in range(10)]
    pending = asyncio.gather(*calls)
    await asyncio.sleep(0)
    stub.gate.set()
    assert await pending == [None] * 10
    assert stub.calls == 2  # one probe; the other nine went straight to memory


async def test_a_success_that_started_before_the_outage_is_not_a_recovery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    clock, stub = FakeClock(), StubPrimary()
    store = resilient(stub, clock)
    stub.gate = old_gate = asyncio.Event()
    slow = asyncio.ensure_future(store.get("card:1"))  # in flight when Redis "goes down"
    await asyncio.sleep(0)
    stub.gate, stub.fail = None, True
    assert await store.get("card:2") is None
    assert store.state == "redis-degraded"
    stub.fail = False
    old_gate.set()
    assert await slow == "from-redis"
    assert store.state == "redis-degraded"  # only a call started after the outage proves recovery
    assert records(caplog, BACK) == []
    clock.advance(5)
    assert await store.get("card:3") == "from-redis"
    assert store.state == "redis"
    assert len(records(caplog, BACK)) == 1


async def test_programming_errors_are_not_mistaken_for_an_outage() -> None:
    clock, stub = FakeClock(), StubPrimary()
    store = resilient(stub, clock)

    async def wrong_type(key: str) -> str | None:
        raise redis.exceptions.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")

    stub.get = wrong_type  # type: ignore[method-assign]
    with pytest.raises(redis.exceptions.ResponseError):
        await store.get("votes:T1:w1")
    assert store.state == "redis"


async def test_durable_maps_go_to_redis_and_to_memory_only_while_it_is_down(
    redis_url: str, redis_raw: aioredis.Redis
) -> None:
    """The documented gap: a binding made while Redis is down lives in that replica's memory only."""
    up = ResilientStore(RedisStore(redis_url), MemoryStore())
    down = ResilientStore(RedisStore(f"redis://127.0.0.1:{unused_port()}/15"), MemoryStore())
    try:
        await up.keep("bindings:{T1}", "C1", "orders")
        assert await redis_raw.hgetall("jwtcheck:bindings:{T1}") == {"C1": "orders"}
        assert await redis_raw.ttl("jwtcheck:bindings:{T1}") == -1
        assert await up.kept("bindings:{T1}") == {"C1": "orders"} and up.state == "redis"
        assert await up.recall("bindings:{T1}", "C1") == "orders"
        await down.keep("bindings:{T1}", "C2", "billing")
        assert down.state == "redis-degraded" and await down.kept("bindings:{T1}") == {"C2": "billing"}
        assert await down.forget("bindings:{T1}", "C2") is True
        assert await up.forget("bindings:{T1}", "C1") is True and await redis_raw.exists("jwtcheck:bindings:{T1}") == 0
    finally:
        await up.close()
        await down.close()
