"""The key source interface: given the token's kid (a lookup key, never a location), return keys."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from bot.diagnosis.signature import SourceFailure, TrustedKey


@dataclass(frozen=True, slots=True)
class SourceKeys:
    """What one source gave: its keys, or why not (``failure``), and whether a refetch was made or refused."""

    keys: tuple[TrustedKey, ...] = ()
    failure: SourceFailure | None = None
    answered: str | None = None  # the JWKS origin that answered, if any
    refetched: bool = False
    refetch_limited: bool = False


class KeySource(Protocol):
    origin: str

    async def lookup(self, kid: str | None) -> SourceKeys:
        """The source's keys. ``kid`` only decides whether a cached set is stale; it never names a place."""
        ...


T = TypeVar("T")


class SingleFlight(Generic[T]):
    """One fetch in flight per source: concurrent callers await the same task, shielded so that one
    caller's cancellation does not cancel the fetch for the others."""

    def __init__(self) -> None:
        self._task: asyncio.Task[T] | None = None

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    async def run(self, start: Callable[[], Coroutine[Any, Any, T]]) -> T:
        loop = asyncio.get_running_loop()
        task = self._task
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._task = loop.create_task(start())
            task.add_done_callback(self._forget)
        return await asyncio.shield(task)

    def _forget(self, task: asyncio.Task[T]) -> None:
        if self._task is task:
            self._task = None
