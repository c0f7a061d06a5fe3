"""Redis first, in-process memory when Redis is unreachable, Redis again when it answers.

A Redis outage must degrade the bot (de-duplication becomes per-replica, caches go cold), never
stop it, and never stall a Slack ack: while degraded, calls go straight to memory and Redis is
tried again by at most one call per ``retry_interval`` (bounded by RedisStore's 1 s timeouts).
The transition is logged once each way, not once per call.

Known, accepted gaps while degraded: claims and votes made in memory are not copied to Redis when it
returns (a Slack retry that straddles the recovery may be answered twice), and a ``release`` of a
claim made in Redis cannot reach it (that claim then lives out its TTL).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.store.base import Store
from bot.store.memory import MemoryStore
from bot.store.redis_store import RedisStore

log = logging.getLogger(__name__)

DEFAULT_RETRY_INTERVAL = 5.0

# "Redis is not there right now", as opposed to a bug in how we call it (ResponseError, ValueError...),
# which must propagate. OSError covers refused/reset sockets and the builtin TimeoutError; redis-py's
# ConnectionError also covers authentication and "loading dataset" errors; READONLY is a replica that
# has not been promoted yet during a failover.
UNAVAILABLE: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError, ReadOnlyError, OSError)

T = TypeVar("T")


class ResilientStore:
    """A ``Store`` that prefers ``primary`` and falls back to ``fallback`` while it is unreachable."""

    def __init__(
        self,
        primary: RedisStore,
        fallback: MemoryStore,
        *,
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._primary = primary
        self._fallback = fallback
        self._retry_interval = retry_interval
        self._clock = clock
        self._degraded = False
        self._down_since = 0.0
        self._next_attempt = 0.0
        # Bumped on every transition to degraded: a call that started before Redis went down and
        # happens to succeed afterwards proves nothing about recovery.
        self._generation = 0

    @property
    def name(self) -> str:
        return "redis"

    @property
    def state(self) -> str:
        return "redis-degraded" if self._degraded else "redis"

    @property
    def degraded(self) -> bool:
        return self._degraded

    async def get(self, key: str) -> str | None:
        return await self._call(lambda s: s.get(key))

    async def set(self, key: str, value: str, ttl: int) -> None:
        await self._call(lambda s: s.set(key, value, ttl))

    async def claim(self, key: str, ttl: int) -> bool:
        return await self._call(lambda s: s.claim(key, ttl))

    async def release(self, key: str) -> None:
        await self._call(lambda s: s.release(key))

    async def vote(self, poll_key: str, voter: str, choice: str, ttl: int) -> dict[str, int]:
        return await self._call(lambda s: s.vote(poll_key, voter, choice, ttl))

    async def tally(self, poll_key: str) -> dict[str, int]:
        return await self._call(lambda s: s.tally(poll_key))

    async def append(self, key: str, values: Sequence[str], ttl: int, keep: int) -> list[str]:
        return await self._call(lambda s: s.append(key, values, ttl, keep))

    async def tallies(self, poll_keys: Sequence[str]) -> list[dict[str, int]]:
        return await self._call(lambda s: s.tallies(poll_keys))

    async def ping(self) -> bool:
        """Probe Redis now (ignoring the retry interval) and update the state. True if Redis answered.

        The store keeps serving either way, so a readiness check should report ``state`` rather
        than fail on False: otherwise a Redis outage takes every replica out of the load balancer.
        """
        generation = self._generation
        if await self._primary.ping():
            self._mark_up(generation)
            return True
        self._mark_down("ping failed")
        return False

    async def close(self) -> None:
        with contextlib.suppress(*UNAVAILABLE):
            await self._primary.close()
        await self._fallback.close()

    async def _call(self, op: Callable[[Store], Awaitable[T]]) -> T:
        if self._degraded:
            if self._clock() < self._next_attempt:
                return await op(self._fallback)
            # This call is the probe; concurrent calls keep using memory until the next interval.
            self._next_attempt = self._clock() + self._retry_interval
        generation = self._generation
        try:
            result = await op(self._primary)
        except UNAVAILABLE as exc:
            self._mark_down(type(exc).__name__)
            return await op(self._fallback)
        self._mark_up(generation)
        return result

    def _mark_down(self, reason: str) -> None:
        self._next_attempt = self._clock() + self._retry_interval
        if self._degraded:
            return
        self._degraded = True
        self._generation += 1
        self._down_since = self._clock()
        # The reason is an exception class name only: messages can include host names or URLs.
        log.warning(
            "Redis unavailable, serving from the in-process cache (%s); retrying at most every %g s",
            reason,
            self._retry_interval,
        )

    def _mark_up(self, generation: int) -> None:
        if not self._degraded or generation != self._generation:
            return
        self._degraded = False
        log.info("Redis is back after %.1f s; using it again", self._clock() - self._down_since)
