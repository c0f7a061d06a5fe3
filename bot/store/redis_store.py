"""Redis store (``redis.asyncio``): the state every replica shares.

Tuned to fail fast rather than to try hard: 1 s connect and read timeouts and no client-side
retries, because a Slack ack has 3 s and ``ResilientStore`` has a better answer than waiting
(serve from memory). Errors propagate as ``redis.exceptions`` / ``OSError``; this class never
swallows them except in ``ping``.

One server, Sentinel or Cluster alike (``bot.store.connect``). On a cluster every command must touch
keys of one hash slot: each operation here touches one key (the poll, the list, the claim, the counters),
except ``tallies`` and ``counters``, non-transactional pipelines whose keys share their workspace's hash tag
(``bot.chat.cards.vote_key``, ``bot.chat.stats.stats_key``) so each stays one round trip to one node. The
durable maps (``keep``, ``forget``, ``recall``, ``kept``) are hashes with no expiry, one per workspace, so
they too touch one key. Every value written passes through ``last_pass`` first: no signature reaches Redis
even if a caller forgot to redact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from redis.exceptions import RedisClusterException, RedisError

from bot.diagnosis.redact import last_pass
from bot.store.base import KEY_PREFIX, check_increments, check_key, check_ttl, count_choices, counter_values
from bot.store.connect import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_SOCKET_TIMEOUT,
    RedisClient,
    close_client,
    describe_client,
    ready,
    redis_client,
)

# append(): push, keep the last ARGV[2] items, (re)set the expiry, and read the list back, atomically.
_APPEND = """
if #ARGV > 2 then redis.call('RPUSH', KEYS[1], unpack(ARGV, 3)) end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
return redis.call('LRANGE', KEYS[1], 0, -1)
"""
HEALTH_KEY = "health"  # written by check(): a server that answers PING but refuses writes is not up
HEALTH_TTL = 60


class RedisStore:
    """Every key is ``{prefix}{key}``; every write sets an expiry in the same command or transaction, except
    the durable maps of ``keep``, which the Store protocol names as such."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = KEY_PREFIX,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        # from_url does not connect: an unreachable Redis is only noticed by the first command.
        self._client: RedisClient = redis_client(
            url, connect_timeout=connect_timeout, socket_timeout=socket_timeout, max_connections=max_connections
        )
        self._prefix = prefix
        # One atomic script (EVALSHA, loaded on first use) rather than MULTI/EXEC around four commands: the
        # bot appends clock evidence on every answer, and a transaction pipeline costs several times more
        # client CPU than one command.
        self._append = self._client.register_script(_APPEND)

    @property
    def name(self) -> str:
        return "redis"

    @property
    def state(self) -> str:
        return "redis"

    def describe(self) -> str:
        """``host:port/db`` (or the sentinels and service, or the cluster's seed nodes) for a startup log line:
        never the URL, which may carry a password."""
        return describe_client(self._client)

    def _k(self, key: str) -> str:
        return self._prefix + check_key(key)

    async def get(self, key: str) -> str | None:
        full = self._k(key)
        client = await ready(self._client)
        value = await client.get(full)
        return None if value is None else _text(value)

    async def set(self, key: str, value: str, ttl: int) -> None:
        if not isinstance(value, str):
            raise TypeError("store values are strings")
        full, ttl = self._k(key), check_ttl(ttl)
        client = await ready(self._client)
        await client.set(full, last_pass(value), ex=ttl)

    async def claim(self, key: str, ttl: int) -> bool:
        full, ttl = self._k(key), check_ttl(ttl)
        client = await ready(self._client)
        won = await client.set(full, "1", nx=True, ex=ttl)
        return bool(won)

    async def release(self, key: str) -> None:
        full = self._k(key)
        client = await ready(self._client)
        await client.delete(full)

    async def vote(self, poll_key: str, voter: str, choice: str, ttl: int) -> dict[str, int]:
        key = self._k(poll_key)
        check_key(voter)
        choice = last_pass(check_key(choice))
        check_ttl(ttl)
        # MULTI/EXEC: the hash never exists without its expiry, and the counts include this vote.
        client = await ready(self._client)
        async with client.pipeline(transaction=True) as pipe:
            pipe.hset(key, voter, choice)
            pipe.expire(key, ttl)
            pipe.hvals(key)
            results: list[Any] = await pipe.execute()
        return count_choices([_text(v) for v in results[2]])

    async def append(self, key: str, values: Sequence[str], ttl: int, keep: int) -> list[str]:
        full = self._k(key)
        check_ttl(ttl)
        if keep <= 0 or not all(isinstance(value, str) for value in values):
            raise ValueError("append keeps a positive number of string items")
        await ready(self._client)
        rows: list[Any] = await self._append(keys=[full], args=[ttl, keep, *map(last_pass, values)])
        return [_text(item) for item in rows]

    async def tally(self, poll_key: str) -> dict[str, int]:
        full = self._k(poll_key)
        client = await ready(self._client)
        values = await client.hvals(full)
        return count_choices([_text(v) for v in values])

    async def tallies(self, poll_keys: Sequence[str]) -> list[dict[str, int]]:
        if not poll_keys:
            return []
        keys = [self._k(key) for key in poll_keys]
        client = await ready(self._client)
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.hvals(key)
        return [count_choices([_text(v) for v in values]) for values in await pipe.execute()]

    async def count(self, key: str, increments: Mapping[str, int], ttl: int) -> None:
        full, ttl = self._k(key), check_ttl(ttl)
        by = check_increments(increments)
        client = await ready(self._client)
        # MULTI/EXEC: the counters never exist without their expiry.
        async with client.pipeline(transaction=True) as pipe:
            for field, step in by.items():
                pipe.hincrby(full, field, step)
            pipe.expire(full, ttl)
            await pipe.execute()

    async def counters(self, keys: Sequence[str]) -> list[dict[str, int]]:
        if not keys:
            return []
        full = [self._k(key) for key in keys]
        client = await ready(self._client)
        pipe = client.pipeline(transaction=False)
        for key in full:
            pipe.hgetall(key)
        rows: list[dict[Any, Any]] = await pipe.execute()
        return [counter_values({_text(name): _text(value) for name, value in row.items()}) for row in rows]

    async def keep(self, key: str, field: str, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("store values are strings")
        full, name = self._k(key), check_key(field)
        client = await ready(self._client)
        await client.hset(full, name, last_pass(value))  # durable: no expiry, by the protocol's keep()

    async def forget(self, key: str, field: str) -> bool:
        full, name = self._k(key), check_key(field)
        client = await ready(self._client)
        return bool(await client.hdel(full, name))

    async def recall(self, key: str, field: str) -> str | None:
        full, name = self._k(key), check_key(field)
        client = await ready(self._client)
        value = await client.hget(full, name)
        return None if value is None else _text(value)

    async def kept(self, key: str) -> dict[str, str]:
        full = self._k(key)
        client = await ready(self._client)
        values: dict[Any, Any] = await client.hgetall(full)
        return {_text(name): _text(value) for name, value in values.items()}

    async def check(self) -> None:
        """PING, then a tiny write with a TTL: raises what a write would raise now (OOM, BUSY, READONLY…)."""
        client = await ready(self._client)
        await client.ping()
        await client.set(self._prefix + HEALTH_KEY, "1", ex=HEALTH_TTL)

    async def ping(self) -> bool:
        """Whether Redis answers and takes a write. Never raises."""
        try:
            await self.check()
        except (RedisError, RedisClusterException, OSError):
            return False
        return True

    async def close(self) -> None:
        await close_client(self._client)


def _text(value: bytes | str) -> str:
    """The client decodes responses; this only narrows the type (and copes with a custom pool)."""
    return value.decode() if isinstance(value, bytes) else value
