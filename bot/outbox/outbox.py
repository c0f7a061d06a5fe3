"""The durable outbox: every answer is an entry of a Redis stream before any call is made, and any replica
delivers it.

- ``put`` adds the entry (XADD); every replica reads new entries as one consumer group (XREADGROUP), so one
  of them makes the calls and acknowledges the entry (XACK, XDEL) only when all are made.
- A call that may succeed later (429, 5xx, timeout, refused connection) is retried by the replica holding
  the entry, after Retry-After or a growing back-off, while it keeps the entry claimed (XCLAIM resets the
  idle time). An entry whose replica died goes idle and another takes it (XAUTOCLAIM after ``claim_idle``).
- An entry still undelivered ``give_up_after`` seconds after it was made is dead-lettered: moved to a capped
  stream of its own, logged and counted, and its ``last_word`` (a short apology where the platform allows
  one) sent once.
- On shutdown a replica stops reading, lets the calls under way finish within a bound, and puts the entries
  it still holds back on the stream for the others.
- While Redis is down (or not configured) entries wait in this process, bounded, and are retried the same
  way; nothing else can take them, so a replica that stops then loses them (it says how many).

Every key is under the hash tag ``{outbox}``, so that on a Redis Cluster the stream, the dead letters and
the progress records live in one slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any

from redis.exceptions import RedisClusterException, RedisError, ResponseError

from bot.diagnosis.redact import last_pass
from bot.outbox.deliver import Posted, Retry, Sender, deliver
from bot.outbox.delivery import Delivery, UnreadableDelivery, decode, encode
from bot.store import Store
from bot.store.connect import ready
from bot.store.resilient import failure_reason

log = logging.getLogger(__name__)
AWAY = (RedisError, OSError, RedisClusterException)  # Redis cannot take or give an entry now: keep going without it

STREAM = "jwtcheck:{outbox}:stream"
DEAD = "jwtcheck:{outbox}:dead"
GROUP = "deliverers"
STREAM_MAXLEN = 100_000
DEAD_MAXLEN = 1_000
GIVE_UP_AFTER = 15 * 60.0
CLAIM_IDLE = 30.0
MEMORY_LIMIT = 10_000
BACKOFF_FIRST, BACKOFF_MOST = 0.5, 30.0

Observe = Callable[[str, str], None]
"""Told (event, detail): ``delivered``, ``retry`` (reason), ``dead`` (reason), ``handed_back``, ``memory``
(an entry kept in process), ``dropped`` (the in-process queue was full), ``lost`` (left in process at exit)."""


def _ignore(event: str, detail: str) -> None:
    return None


class Outbox:
    def __init__(
        self,
        sender: Sender,
        store: Store,
        redis: Any | None,
        *,
        cannot_post: frozenset[str] = frozenset(),
        on_posted: Posted | None = None,
        observe: Observe = _ignore,
        concurrency: int = 32,
        give_up_after: float = GIVE_UP_AFTER,
        claim_idle: float = CLAIM_IDLE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sender = sender
        self._store = store
        self._redis: Any = redis  # redis.asyncio's Redis or RedisCluster (bot.store.connect), or None
        self._cannot_post = cannot_post
        self._on_posted = on_posted
        self._observe = observe
        self._slots = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency
        self._give_up_after = give_up_after
        self._claim_idle = claim_idle
        self._clock = clock
        self._consumer = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._tasks: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._closing = asyncio.Event()
        self._in_memory = 0
        self._group_ready = False
        self._unacked: set[str] = set()  # delivered entries whose XACK failed: acknowledged when Redis answers

    # -- putting --------------------------------------------------------------------------------------------

    async def put(self, delivery: Delivery) -> None:
        """Keep ``delivery`` until it is delivered: on the stream, or in this process while Redis is away."""
        entry = last_pass(encode(delivery))
        if self._redis is not None:
            try:
                await (await ready(self._redis)).xadd(STREAM, {"d": entry}, maxlen=STREAM_MAXLEN, approximate=True)
                return
            except AWAY as failure:
                log.warning("outbox: Redis refused the entry (%s); keeping it in this process", failure_reason(failure))
        if self._in_memory >= MEMORY_LIMIT:
            self._observe("dropped", "memory_full")
            log.error("outbox: %d answers already wait in this process; dropping one", self._in_memory)
            return
        self._in_memory += 1
        self._observe("memory", "")
        self._spawn(self._hold(delivery, None))

    # -- running --------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._redis is not None and not self._loops:
            self._loops = [
                asyncio.get_running_loop().create_task(self._read(), name="outbox-read"),
                asyncio.get_running_loop().create_task(self._reclaim(), name="outbox-reclaim"),
            ]

    async def close(self, timeout: float = 10.0) -> int:
        """Stop reading, wait up to ``timeout`` for the calls under way, hand back what is held; returns how
        many entries were still held at the end (handed back, or lost if they were in process memory)."""
        self._closing.set()
        for loop in self._loops:
            loop.cancel()
        for loop in self._loops:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await loop
        self._loops = []
        held = set(self._tasks)
        if held:
            _, still = await asyncio.wait(held, timeout=timeout)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still, timeout=1.0)
            return len(held)
        return 0

    @property
    def held(self) -> int:
        return len(self._tasks)

    async def idle(self, timeout: float = 30.0) -> None:
        """Wait until nothing is held here and the stream has nothing undelivered (tests, the benchmark)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._tasks and not self._unacked and await self._stream_settled():
                return
            await asyncio.sleep(0.01)
        raise TimeoutError("the outbox did not settle")

    async def _stream_settled(self) -> bool:
        """Delivered and dead-lettered entries are deleted (XDEL), so the stream's length is what is left."""
        if self._redis is None:
            return True
        for _ in range(5):  # a connection broken by an outage fails once, then the pool reconnects
            try:
                return int(await self._redis.xlen(STREAM)) == 0
            except AWAY:
                await asyncio.sleep(0.05)
        return True  # Redis is away: what is held waits in this process, counted by the caller

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self._redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except ResponseError as failure:
            if "BUSYGROUP" not in str(failure):
                raise
        self._group_ready = True

    async def _read(self) -> None:
        pause = 0.0
        while not self._closing.is_set():
            if pause:
                await asyncio.sleep(pause)
            free = self._concurrency - len(self._tasks)
            if free <= 0:
                pause = 0.02
                continue
            try:
                await ready(self._redis)
                await self._ensure_group()
                answer = await self._redis.xreadgroup(GROUP, self._consumer, {STREAM: ">"}, count=free, block=1000)
            except ResponseError as failure:
                if "NOGROUP" in str(failure):  # the stream was deleted (a flushed database): make it again
                    self._group_ready = False
                    pause = 0.0
                    continue
                log.warning("outbox: reading the stream failed (%s)", failure_reason(failure))
                pause = 1.0
                continue
            except AWAY as failure:
                log.debug("outbox: Redis is away (%s)", failure_reason(failure))
                pause = 1.0
                continue
            pause = 0.0
            if self._unacked:
                for entry_id in list(self._unacked):
                    self._unacked.discard(entry_id)
                    await self._forget(entry_id)
            for _, entries in answer or ():
                for entry_id, fields in entries:
                    self._spawn(self._take(entry_id, fields))

    async def _reclaim(self) -> None:
        """Take the entries of replicas that stopped answering for them (idle for ``claim_idle``)."""
        while not self._closing.is_set():
            await asyncio.sleep(self._claim_idle / 2)
            free = self._concurrency - len(self._tasks)
            if free <= 0:
                continue
            try:
                await ready(self._redis)
                await self._ensure_group()
                answer = await self._redis.xautoclaim(
                    STREAM, GROUP, self._consumer, min_idle_time=int(self._claim_idle * 1000), count=free
                )
            except AWAY as failure:
                if "NOGROUP" in str(failure):
                    self._group_ready = False
                continue
            for entry_id, fields in answer[1] if len(answer) > 1 else ():
                if fields:
                    log.info("outbox: took over an answer another replica left")
                    self._spawn(self._take(entry_id, fields))

    async def _take(self, entry_id: str, fields: dict[str, str]) -> None:
        try:
            delivery = decode(str(fields.get("d") or ""))
        except UnreadableDelivery as problem:
            log.error("outbox: dropping an entry this version cannot read (%s)", problem)
            await self._forget(entry_id)
            return
        await self._hold(delivery, entry_id)

    async def _hold(self, delivery: Delivery, entry_id: str | None) -> None:
        """Deliver, retrying as the platform asks, until done, dead-lettered or handed back."""
        attempt = 0
        try:
            while True:
                try:
                    async with self._slots:
                        await deliver(delivery, self._sender, self._store, self._cannot_post, self._on_posted)
                except Retry as retry:
                    self._observe("retry", retry.reason)
                    if self._clock() - delivery.created >= self._give_up_after:
                        await self._dead_letter(delivery, entry_id, retry.reason)
                        return
                    wait = retry.after if retry.after is not None else _backoff(attempt)
                    attempt += 1
                    if not await self._wait(wait, entry_id):
                        await self._hand_back(delivery, entry_id)
                        return
                    continue
                except AWAY as failure:  # the progress record could not be read or written
                    self._observe("retry", "store")
                    log.warning("outbox: store failed during a delivery (%s); retrying", type(failure).__name__)
                    if not await self._wait(_backoff(attempt), entry_id):
                        await self._hand_back(delivery, entry_id)
                        return
                    attempt += 1
                    continue
                except Exception:
                    log.exception("outbox: a delivery failed on a bug; dead-lettering it")
                    await self._dead_letter(delivery, entry_id, "bug")
                    return
                self._observe("delivered", delivery.kind)
                await self._forget(entry_id)
                return
        finally:
            if entry_id is None:
                self._in_memory -= 1

    async def _wait(self, seconds: float, entry_id: str | None) -> bool:
        """Sleep ``seconds`` keeping the entry claimed; False if the outbox closes meanwhile."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), timeout=min(left, self._claim_idle / 3))
                return False
            if entry_id is not None and self._redis is not None:
                with contextlib.suppress(*AWAY):
                    await self._redis.xclaim(STREAM, GROUP, self._consumer, 0, [entry_id], justid=True)

    async def _forget(self, entry_id: str | None) -> None:
        if entry_id is None or self._redis is None:
            return
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xack(STREAM, GROUP, entry_id)
                pipe.xdel(STREAM, entry_id)
                await pipe.execute()
        except AWAY as failure:
            # Acknowledged again once Redis answers; if this replica stops first, another takes the entry after
            # claim_idle and its progress record skips every call made.
            self._unacked.add(entry_id)
            log.warning("outbox: could not acknowledge a delivered entry (%s)", type(failure).__name__)

    async def _hand_back(self, delivery: Delivery, entry_id: str | None) -> None:
        """Shutting down: put the entry back at the end of the stream, for a replica that stays."""
        if self._redis is None:
            self._observe("lost", "no_redis")
            log.error("outbox: stopping with an undelivered answer and no Redis to leave it in")
            return
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xadd(STREAM, {"d": last_pass(encode(delivery))}, maxlen=STREAM_MAXLEN, approximate=True)
                if entry_id is not None:
                    pipe.xack(STREAM, GROUP, entry_id)
                    pipe.xdel(STREAM, entry_id)
                await pipe.execute()
        except AWAY as failure:
            self._observe("lost", type(failure).__name__)
            log.error("outbox: could not hand an answer back (%s)", type(failure).__name__)
            return
        self._observe("handed_back", delivery.kind)

    async def _dead_letter(self, delivery: Delivery, entry_id: str | None, reason: str) -> None:
        age = self._clock() - delivery.created
        log.error("outbox: giving up on an answer after %.0f s (%s); dead-lettered", age, reason)
        self._observe("dead", reason)
        if self._redis is not None:
            with contextlib.suppress(*AWAY):
                await self._redis.xadd(
                    DEAD,
                    {"d": last_pass(encode(delivery)), "reason": reason},
                    maxlen=DEAD_MAXLEN,
                    approximate=True,
                )
        await self._forget(entry_id)
        if delivery.last_word is not None:
            try:
                await self._sender.send(delivery.last_word.method, delivery.last_word.args)
            except Exception as failure:  # best effort: the platform is likely still refusing
                log.warning("outbox: the apology could not be sent either (%s)", type(failure).__name__)


def _backoff(attempt: int) -> float:
    """0.5 s, 1 s, 2 s … up to 30 s, with ±20 % jitter so that replicas retrying together spread out."""
    return float(min(BACKOFF_MOST, BACKOFF_FIRST * 2**attempt)) * random.uniform(0.8, 1.2)  # noqa: S311 - not security
