"""In-process store: a single replica's state, or the fallback while Redis is unreachable.

Bounded (oldest entries are evicted first) and TTL-honouring on a monotonic clock, so a long-running
replica cannot grow without bound. The durable maps (:meth:`MemoryStore.keep`) are kept apart: never
expired, never evicted (their owner bounds them: ``bot.chat.bindings``). Not shared between processes:
with more than one replica, claims made here only de-duplicate within this process.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.store.base import check_increments, check_key, check_ttl, count_choices, counter_values

DEFAULT_MAX_ENTRIES = 50_000
# A full sweep for expired entries is O(n): do it at most this often, and only when at capacity.
SWEEP_INTERVAL = 1.0


@dataclass(slots=True)
class _Entry:
    value: str | dict[str, str] | list[str]
    expires_at: float


class MemoryStore:
    """A dict with TTLs and a size cap. Safe within one event loop (no awaits between read and write)."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries <= 0:
            raise ValueError("max_entries must be positive")
        self._max_entries = max_entries
        self._clock = clock
        self._data: OrderedDict[str, _Entry] = OrderedDict()
        self._next_sweep = 0.0
        self._kept: dict[str, dict[str, str]] = {}

    @property
    def name(self) -> str:
        return "memory"

    @property
    def state(self) -> str:
        return "memory"

    def __len__(self) -> int:
        """Live entries (expired ones are dropped first)."""
        self._purge_expired()
        return len(self._data)

    async def get(self, key: str) -> str | None:
        entry = self._live(check_key(key))
        if entry is None:
            return None
        if not isinstance(entry.value, str):
            raise TypeError("store key holds a poll or a list, not a string")
        return entry.value

    async def set(self, key: str, value: str, ttl: int) -> None:
        if not isinstance(value, str):
            raise TypeError("store values are strings")
        self._put(check_key(key), value, check_ttl(ttl))

    async def claim(self, key: str, ttl: int) -> bool:
        check_key(key)
        check_ttl(ttl)
        if self._live(key) is not None:
            return False
        self._put(key, "1", ttl)
        return True

    async def release(self, key: str) -> None:
        self._data.pop(check_key(key), None)

    async def vote(self, poll_key: str, voter: str, choice: str, ttl: int) -> dict[str, int]:
        check_key(poll_key)
        check_key(voter)
        check_key(choice)
        check_ttl(ttl)
        entry = self._live(poll_key)
        ballots: dict[str, str] = {}
        if entry is not None:
            if not isinstance(entry.value, dict):
                raise TypeError("store key holds a string, not a poll")
            ballots = entry.value
        ballots[voter] = choice
        self._put(poll_key, ballots, ttl)  # like HSET + EXPIRE: a vote refreshes the poll's TTL
        return count_choices(list(ballots.values()))

    async def tally(self, poll_key: str) -> dict[str, int]:
        entry = self._live(check_key(poll_key))
        if entry is None:
            return {}
        if not isinstance(entry.value, dict):
            raise TypeError("store key holds a string, not a poll")
        return count_choices(list(entry.value.values()))

    async def append(self, key: str, values: Sequence[str], ttl: int, keep: int) -> list[str]:
        check_key(key)
        check_ttl(ttl)
        if keep <= 0 or not all(isinstance(value, str) for value in values):
            raise ValueError("append keeps a positive number of string items")
        entry = self._live(key)
        items: list[str] = []
        if entry is not None:
            if not isinstance(entry.value, list):
                raise TypeError("store key holds a string or a poll, not a list")
            items = entry.value
        items = [*items, *values][-keep:]
        self._put(key, items, ttl)
        return list(items)

    async def tallies(self, poll_keys: Sequence[str]) -> list[dict[str, int]]:
        return [await self.tally(key) for key in poll_keys]

    async def count(self, key: str, increments: Mapping[str, int], ttl: int) -> None:
        check_key(key)
        check_ttl(ttl)
        by = check_increments(increments)
        entry = self._live(key)
        counts: dict[str, str] = {}
        if entry is not None:
            if not isinstance(entry.value, dict):
                raise TypeError("store key holds a string or a list, not counters")
            counts = entry.value
        for field, step in by.items():
            counts[field] = str(int(counts.get(field, "0")) + step)
        self._put(key, counts, ttl)  # like HINCRBY + EXPIRE: a count refreshes the map's TTL

    async def counters(self, keys: Sequence[str]) -> list[dict[str, int]]:
        found = []
        for key in keys:
            entry = self._live(check_key(key))
            if entry is not None and not isinstance(entry.value, dict):
                raise TypeError("store key holds a string or a list, not counters")
            found.append(counter_values(entry.value) if entry is not None and isinstance(entry.value, dict) else {})
        return found

    async def keep(self, key: str, field: str, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("store values are strings")
        self._kept.setdefault(check_key(key), {})[check_key(field)] = value

    async def forget(self, key: str, field: str) -> bool:
        kept = self._kept.get(check_key(key), {})
        found = kept.pop(check_key(field), None) is not None
        if not kept:
            self._kept.pop(key, None)
        return found

    async def recall(self, key: str, field: str) -> str | None:
        return self._kept.get(check_key(key), {}).get(check_key(field))

    async def kept(self, key: str) -> dict[str, str]:
        return dict(self._kept.get(check_key(key), {}))

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()
        self._kept.clear()

    def _live(self, key: str) -> _Entry | None:
        entry = self._data.get(key)
        if entry is not None and entry.expires_at <= self._clock():
            del self._data[key]
            return None
        return entry

    def _put(self, key: str, value: str | dict[str, str] | list[str], ttl: int) -> None:
        self._data[key] = _Entry(value, self._clock() + ttl)
        self._data.move_to_end(key)
        if len(self._data) > self._max_entries and self._clock() >= self._next_sweep:
            self._purge_expired()
            self._next_sweep = self._clock() + SWEEP_INTERVAL
        while len(self._data) > self._max_entries:
            self._data.popitem(last=False)  # the least recently written

    def _purge_expired(self) -> None:
        now = self._clock()
        for key in [k for k, e in self._data.items() if e.expires_at <= now]:
            del self._data[key]
