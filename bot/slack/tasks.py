"""Background work after the ack: tracked, bounded, and drained on shutdown so a deploy loses no card.

Bolt's own async runner uses fire-and-forget futures that nothing holds or drains; this keeps a
reference to every task, caps how many run at once, and waits for them on SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class TaskTracker:
    def __init__(self, concurrency: int = 32) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(concurrency)
        self._closing = False

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None] | None:
        if self._closing:
            work.close()
            log.warning("shutting down: dropped %s", name)
            return None
        task = asyncio.get_running_loop().create_task(self._run(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, work: Coroutine[Any, Any, None], name: str) -> None:
        async with self._slots:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background work %s failed", name)

    async def drain(self, timeout: float = 25.0) -> int:
        """Stop taking work and wait for what runs; returns how many tasks had to be cancelled."""
        self._closing = True
        pending = set(self._tasks)
        if not pending:
            return 0
        log.info("draining %d background task(s)", len(pending))
        _, still = await asyncio.wait(pending, timeout=timeout)
        for task in still:
            task.cancel()
        return len(still)

    async def idle(self) -> None:
        """Wait until no task is running (tests and the benchmark use it)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
