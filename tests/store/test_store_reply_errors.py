"""Redis that answers but refuses the work (OOM under noeviction, BUSY running a script) degrades the store to
memory, and says so: ``state``, ``last_failure`` and ``ping()``. A redis-server of our own per test."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
import redis.exceptions
from redis._parsers.base import BaseParser

from bot.store import MemoryStore, RedisStore, ResilientStore
from bot.store.resilient import failure_reason, unavailable
from tests.store.test_store_resilient import DOWN, LOGGER, FakeClock, records
from tests.support import redis_topologies
from tests.support.redis_topologies import Server, wait_until_async


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    redis_topologies.require()
    own = Server(tmp_path / "redis", redis_topologies.free_port(), ["busy-reply-threshold 20"]).start()
    try:
        own.wait_ready()
        yield own
    finally:
        own.stop()


@pytest.fixture
async def admin(server: Server) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis(port=server.port, decode_responses=True, socket_timeout=5)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def store(server: Server) -> AsyncIterator[tuple[ResilientStore, FakeClock]]:
    clock = FakeClock()
    resilient = ResilientStore(
        RedisStore(f"redis://127.0.0.1:{server.port}/0"), MemoryStore(clock=clock), retry_interval=5, clock=clock
    )
    try:
        yield resilient, clock
    finally:
        await resilient.close()


async def every_operation(store: ResilientStore, n: int) -> None:
    """One of each store call, as an answer makes them: each must succeed (from Redis or from memory)."""
    assert await store.claim(f"evt:Ev{n}", ttl=60) is True
    await store.set(f"card:c{n}", "state", ttl=60)
    assert await store.get(f"card:c{n}") == "state"
    assert await store.vote("votes:{T1}:w", f"U{n}", "fixed", ttl=60)
    assert await store.append(f"clock:T1:C1:{n}", ["row"], ttl=60, keep=5) == ["row"]
    assert await store.tallies(["votes:{T1}:w"]) != [{}]
    await store.release(f"evt:Ev{n}")


async def test_out_of_memory_degrades_every_write_and_health_says_so(
    store: tuple[ResilientStore, FakeClock], admin: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    resilient, clock = store
    await every_operation(resilient, 0)
    assert resilient.state == "redis" and resilient.last_failure is None
    assert await resilient.ping() is True

    await admin.config_set("maxmemory-policy", "noeviction")
    await admin.config_set("maxmemory", "1")
    for n in range(1, 26):  # the incident's 25 answers: none lost
        await every_operation(resilient, n)
        clock.advance(1)
    assert resilient.state == "redis-degraded" and resilient.degraded
    assert resilient.last_failure == "OOM"
    assert await resilient.ping() is False  # PING alone answers; the health write does not
    assert await admin.exists("jwtcheck:card:c25") == 0
    assert len(records(caplog, DOWN)) == 1  # reads that still work do not flap the state

    await admin.config_set("maxmemory", "0")
    assert await resilient.ping() is True
    assert resilient.state == "redis"
    await every_operation(resilient, 26)
    assert await admin.get("jwtcheck:card:c26") == "state"
    assert resilient.last_failure == "OOM"  # the latest failure is remembered after the recovery


async def test_each_operation_degrades_on_out_of_memory_on_its_own(server: Server, admin: aioredis.Redis) -> None:
    await admin.config_set("maxmemory-policy", "noeviction")
    await admin.config_set("maxmemory", "1")
    calls = {
        "set": lambda s: s.set("card:1", "x", ttl=60),
        "claim": lambda s: s.claim("evt:1", ttl=60),
        "vote": lambda s: s.vote("votes:{T1}:w", "U1", "fixed", ttl=60),
        "append": lambda s: s.append("clock:T1:C1:x", ["row"], ttl=60, keep=5),
    }
    for name, call in calls.items():
        resilient = ResilientStore(RedisStore(f"redis://127.0.0.1:{server.port}/0"), MemoryStore())
        try:
            await call(resilient)
            assert (resilient.state, resilient.last_failure) == ("redis-degraded", "OOM"), name
        finally:
            await resilient.close()


async def test_a_busy_script_degrades_and_script_kill_recovers(
    server: Server, store: tuple[ResilientStore, FakeClock], admin: aioredis.Redis
) -> None:
    resilient, clock = store
    await every_operation(resilient, 0)
    runner = aioredis.Redis(port=server.port, decode_responses=True, socket_timeout=None)
    busy = asyncio.ensure_future(runner.eval("while true do end", 0))
    try:

        async def is_busy() -> bool:
            try:
                await admin.ping()
            except redis.exceptions.ResponseError as error:
                return str(error).startswith("BUSY")
            return False

        await wait_until_async("the BUSY script", is_busy)
        for n in range(1, 31):  # the incident's 30 answers: none lost
            await every_operation(resilient, n)
            clock.advance(1)
        assert (resilient.state, resilient.last_failure) == ("redis-degraded", "BUSY")
        assert await resilient.ping() is False

        await admin.script_kill()
        with pytest.raises(redis.exceptions.ResponseError):
            await busy
        assert await resilient.ping() is True
        assert resilient.state == "redis"
        await every_operation(resilient, 31)
        assert await admin.get("jwtcheck:card:c31") == "state"
    finally:
        if not busy.done():
            with contextlib.suppress(redis.exceptions.RedisError):
                await admin.script_kill()
            with contextlib.suppress(redis.exceptions.RedisError):
                await busy
        await runner.aclose()


@pytest.mark.parametrize(
    "reply",
    [
        "OOM command not allowed when used memory > 'maxmemory'.",
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
        "LOADING Redis is loading the dataset in memory",
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        "CLUSTERDOWN The cluster is down",
        "TRYAGAIN Multiple keys request during rehashing of slot",
        "MOVED 3999 127.0.0.1:6381",
        "ASK 3999 127.0.0.1:6381",
        "READONLY You can't write against a read only replica.",
        "NOSCRIPT No matching script. Please use EVAL.",
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.",
        "NOREPLICAS Not enough good replicas to write.",
        "NOPERM this user has no permissions to run the 'set' command",
        "WRONGPASS invalid username-password pair or user is disabled.",
    ],
)
def test_replies_that_say_redis_cannot_serve_now_degrade(reply: str) -> None:
    error = BaseParser.parse_error(reply)  # what redis-py makes of the server's reply
    assert unavailable(error), reply
    assert failure_reason(error) in {reply.split()[0], type(error).__name__}
    error.args = (f"Command # 1 (HSET k f v) of pipeline caused error: {reply}",)  # as a pipeline annotates it
    assert unavailable(error), reply


@pytest.mark.parametrize(
    "reply",
    [
        "WRONGTYPE Operation against a key holding the wrong kind of value",
        "CROSSSLOT Keys in request don't hash to the same slot",
        "ERR wrong number of arguments for 'hset' command",
        "ERR Error running script (call to f_0123): @user_script:1: Script attempted to access nonexistent global",
        "EXECABORT Transaction discarded because of previous errors.",
    ],
)
def test_replies_that_say_we_misused_redis_propagate(reply: str) -> None:
    assert not unavailable(BaseParser.parse_error(reply)), reply


def test_the_cluster_clients_refusals_of_our_requests_propagate() -> None:
    assert not unavailable(redis.exceptions.CrossSlotTransactionError("keys in several slots"))
    assert not unavailable(redis.exceptions.InvalidPipelineStack("bad"))
    assert unavailable(redis.exceptions.RedisClusterException("Redis Cluster cannot be connected."))
    assert unavailable(redis.exceptions.ClusterError("TTL exhausted."))  # a MOVED/ASK storm it gave up on


def test_the_failure_reason_never_holds_the_message() -> None:
    error = redis.exceptions.ConnectionError("Error 111 connecting to redis.internal:6380. pw-SECRET")
    assert failure_reason(error) == "ConnectionError"
    assert failure_reason(BaseParser.parse_error("BUSY Redis is busy running a script.")) == "BUSY"
