"""Redis first, in-process memory when Redis is unreachable or refuses work, Redis again when it answers.

A Redis outage must degrade the bot (de-duplication becomes per-replica, caches go cold), never
stop it, and never stall a Slack ack: while degraded, calls go straight to memory and Redis is
tried again by at most one call per ``retry_interval`` (bounded by RedisStore's 1 s timeouts).
The transition is logged once each way, not once per call.

"Unavailable" is every failure that is not our bug (:func:`unavailable`): the connection (refused, reset,
timed out, authentication, LOADING, a Sentinel with no primary), a server that answers but refuses the work
(OOM under ``noeviction``, BUSY running a long script, READONLY during a failover, MASTERDOWN, MISCONF,
NOREPLICAS, NOPERM from an ACL), and a cluster that cannot serve (CLUSTERDOWN, TRYAGAIN, a slot not
covered, MOVED/ASK redirections the cluster client gave up following). NOSCRIPT counts too: redis-py
loads the script and retries by itself, so one that still surfaces is a script cache flushed under us
(a failover to a fresh node, ``SCRIPT FLUSH``), not a mistake of ours. What propagates is ours to fix:
WRONGTYPE, a syntax or Lua error, CROSSSLOT (keys used together without a common hash tag), a bad
argument.

The probe that ends a degradation is :meth:`RedisStore.check` (PING and a tiny write with a TTL) before
the call itself, so a Redis that answers reads but refuses writes (OOM) stays degraded rather than
flapping; :meth:`ping`, which health checks call, is that probe too. ``last_failure`` keeps the reason of
the latest failure (a server error code such as ``OOM`` or an exception class name, never a message:
messages can hold host names, keys or values).

Known, accepted gaps while degraded: claims and votes made in memory are not copied to Redis when it
returns (a Slack retry that straddles the recovery may be answered twice), and a ``release`` of a
claim made in Redis cannot reach it (that claim then lives out its TTL). The durable maps (channel
bindings) are Redis's alone: while degraded, ``recall`` and ``kept`` read memory, where the bindings made in Redis are
not (a bound channel is judged without its binding until Redis is back), and a ``keep`` or ``forget`` made
then is not copied to Redis when it returns.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from redis.exceptions import (
    AskError,
    ClusterError,
    CrossSlotTransactionError,
    InvalidPipelineStack,
    NoPermissionError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    ResponseError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.store.base import Store
from bot.store.memory import MemoryStore
from bot.store.redis_store import RedisStore

log = logging.getLogger(__name__)

DEFAULT_RETRY_INTERVAL = 5.0

# The exception classes of "Redis cannot do it right now". OSError covers refused/reset sockets and the
# builtin TimeoutError; redis-py's ConnectionError covers authentication, LOADING (BusyLoadingError), a full
# pool and a Sentinel that knows no primary; ClusterError covers CLUSTERDOWN and MASTERDOWN; AskError covers
# MOVED too.
UNAVAILABLE: tuple[type[Exception], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    ReadOnlyError,
    OutOfMemoryError,
    NoPermissionError,
    NoScriptError,
    ClusterError,
    TryAgainError,
    AskError,
    SlotNotCoveredError,
    OSError,
)
# The cluster client's own refusals of what we asked (keys of several slots in one transaction).
OUR_CLUSTER_MISTAKES: tuple[type[Exception], ...] = (CrossSlotTransactionError, InvalidPipelineStack)
# Server error codes redis-py has no class for (a plain ResponseError), also seen annotated inside a
# pipeline's error ("Command # 1 (…) of pipeline caused error: BUSY …").
_UNAVAILABLE_CODES = frozenset({"BUSY", "MISCONF", "NOREPLICAS", "OOM", "LOADING", "READONLY", "MASTERDOWN"})
_CODE = re.compile(r"(?:^|caused error: )([A-Z]{3,16})\b")


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says Redis cannot serve right now (degrade), rather than that we misused it."""
    if isinstance(exc, UNAVAILABLE):
        return True
    if isinstance(exc, RedisClusterException):  # not a RedisError: "cannot be connected", no slot table…
        return not isinstance(exc, OUR_CLUSTER_MISTAKES)
    return isinstance(exc, ResponseError) and _server_code(exc) in _UNAVAILABLE_CODES


def failure_reason(exc: BaseException) -> str:
    """What may be said of a failure: a server error code (``OOM``, ``BUSY``…) or the exception's class name."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, str) and status.isalpha() and status.isupper():
        return status
    code = _server_code(exc)
    return code if code in _UNAVAILABLE_CODES else type(exc).__name__


def _server_code(exc: BaseException) -> str | None:
    status = getattr(exc, "status_code", None)
    if isinstance(status, str) and status:
        return status
    match = _CODE.search(str(exc.args[0])) if exc.args else None
    return match.group(1) if match else None


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
        self._last_failure: str | None = None
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

    @property
    def last_failure(self) -> str | None:
        """The reason of the latest Redis failure (``OOM``, ``BUSY``, ``ConnectionError``…), kept after a
        recovery; None if Redis never failed. Safe to show: a code or a class name, never a message."""
        return self._last_failure

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

    async def count(self, key: str, increments: Mapping[str, int], ttl: int) -> None:
        await self._call(lambda s: s.count(key, increments, ttl))

    async def counters(self, keys: Sequence[str]) -> list[dict[str, int]]:
        return await self._call(lambda s: s.counters(keys))

    async def keep(self, key: str, field: str, value: str) -> None:
        await self._call(lambda s: s.keep(key, field, value))

    async def forget(self, key: str, field: str) -> bool:
        return await self._call(lambda s: s.forget(key, field))

    async def recall(self, key: str, field: str) -> str | None:
        return await self._call(lambda s: s.recall(key, field))

    async def kept(self, key: str) -> dict[str, str]:
        return await self._call(lambda s: s.kept(key))

    async def ping(self) -> bool:
        """Probe Redis now (ignoring the retry interval) and update the state. True if Redis answered.

        The store keeps serving either way, so a readiness check should report ``state`` rather
        than fail on False: otherwise a Redis outage takes every replica out of the load balancer.
        """
        generation = self._generation
        try:
            await self._primary.check()
        except Exception as exc:
            # Whatever it is, Redis is not up for a health check; only an outage changes where calls go.
            if unavailable(exc):
                self._mark_down(failure_reason(exc))
            else:
                self._last_failure = failure_reason(exc)
            return False
        self._mark_up(generation)
        return True

    async def close(self) -> None:
        with contextlib.suppress(RedisError, RedisClusterException, OSError):
            await self._primary.close()
        await self._fallback.close()

    async def _call(self, op: Callable[[Store], Awaitable[T]]) -> T:
        generation = self._generation
        try:
            if self._degraded:
                if self._clock() < self._next_attempt:
                    return await op(self._fallback)
                # This call is the probe; concurrent calls keep using memory until the next interval. Redis
                # must take a write first: one that answers reads but refuses writes (OOM) stays degraded.
                self._next_attempt = self._clock() + self._retry_interval
                await self._primary.check()
            result = await op(self._primary)
        except Exception as exc:
            if not unavailable(exc):
                raise
            self._mark_down(failure_reason(exc))
            return await op(self._fallback)
        self._mark_up(generation)
        return result

    def _mark_down(self, reason: str) -> None:
        self._next_attempt = self._clock() + self._retry_interval
        self._last_failure = reason
        if self._degraded:
            return
        self._degraded = True
        self._generation += 1
        self._down_since = self._clock()
        # The reason is a server error code or an exception class name: messages can include host names or URLs.
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
