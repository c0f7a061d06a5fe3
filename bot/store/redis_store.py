"""Redis store (``redis.asyncio``): the state every replica shares.

Tuned to fail fast rather than to try hard: 1 s connect and read timeouts and no client-side
retries, because a Slack ack has 3 s and ``ResilientStore`` has a better answer than waiting
(serve from memory). Errors propagate as ``redis.exceptions`` / ``OSError``; this class never
swallows them except in ``ping``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.store.base import KEY_PREFIX, check_key, check_ttl, count_choices
from bot.store.connect import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_SOCKET_TIMEOUT,
    redis_client,
)

# append(): push, keep the last ARGV[2] items, (re)set the expiry, and read the list back, atomically.
_APPEND = """
if #ARGV > 2 then redis.call('RPUSH', KEYS[1], unpack(ARGV, 3)) end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
return redis.call('LRANGE', KEYS[1], 0, -1)
"""


class RedisStore:
    """Every key is ``{prefix}{key}``; every write sets an expiry in the same command or transaction."""

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
        self._client: Redis = redis_client(
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
        """``host:port/db`` for a startup log line: never the URL, which may carry a password."""
        kwargs: dict[str, Any] = self._client.connection_pool.connection_kwargs
        if "path" in kwargs:
            return f"unix socket/{kwargs.get('db', 0)}"
        return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"

    def _k(self, key: str) -> str:
        return self._prefix + check_key(key)

    async def get(self, key: str) -> str | None:
        value = await self._client.get(self._k(key))
        return None if value is None else _text(value)

    async def set(self, key: str, value: str, ttl: int) -> None:
        if not isinstance(value, str):
            raise TypeError("store values are strings")
        await self._client.set(self._k(key), value, ex=check_ttl(ttl))

    async def claim(self, key: str, ttl: int) -> bool:
        won = await self._client.set(self._k(key), "1", nx=True, ex=check_ttl(ttl))
        return bool(won)

    async def release(self, key: str) -> None:
        await self._client.delete(self._k(key))

    async def vote(self, poll_key: str, voter: str, choice: str, ttl: int) -> dict[str, int]:
        key = self._k(poll_key)
        check_key(voter)
        check_key(choice)
        check_ttl(ttl)
        # MULTI/EXEC: the hash never exists without its expiry, and the counts include this vote.
        async with self._client.pipeline(transaction=True) as pipe:
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
        rows: list[Any] = await self._append(keys=[full], args=[ttl, keep, *values])
        return [_text(item) for item in rows]

    async def tally(self, poll_key: str) -> dict[str, int]:
        values = await self._client.hvals(self._k(poll_key))
        return count_choices([_text(v) for v in values])

    async def tallies(self, poll_keys: Sequence[str]) -> list[dict[str, int]]:
        if not poll_keys:
            return []
        pipe = self._client.pipeline(transaction=False)
        for key in poll_keys:
            pipe.hvals(self._k(key))
        return [count_choices([_text(v) for v in values]) for values in await pipe.execute()]

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._client.aclose()


def _text(value: bytes | str) -> str:
    """The client decodes responses; this only narrows the type (and copes with a custom pool)."""
    return value.decode() if isinstance(value, bytes) else value
