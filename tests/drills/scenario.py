"""Each drill module runs its scenario once (a bounded timeline against real processes) in a module-scoped
fixture, and its tests read the figures of one phase each: one slow run, one assertion per phase."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from tests.drills.harness import Drill, drill_in

T = TypeVar("T")


def run(scenario: Callable[[Drill], Awaitable[T]]) -> T:
    """Run ``scenario`` on a fresh drill (mock Slack, private Redis) in an event loop of its own; every
    process it started is killed and its folder removed whatever happens."""

    async def main() -> T:
        with tempfile.TemporaryDirectory(prefix="jwtcheck-drill-") as directory:
            async with drill_in(Path(directory)) as drill:
                return await scenario(drill)

    return asyncio.run(main())


async def paced(count: int, seconds: float, send: Callable[[int], Coroutine[Any, Any, T]]) -> list[T]:
    """``send(0)``, … ``send(count - 1)`` spread evenly over ``seconds``, each in a task of its own (a slow
    ack does not delay the next request)."""
    tasks: list[asyncio.Task[T]] = []
    for index in range(count):
        tasks.append(asyncio.create_task(send(index)))
        await asyncio.sleep(seconds / count)
    return list(await asyncio.gather(*tasks))
