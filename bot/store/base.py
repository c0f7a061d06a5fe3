"""The store interface: the bot's only state, shared by every replica when it is Redis.

Keys are passed WITHOUT the ``jwtcheck:`` prefix (implementations that share a keyspace add it) and
hold ids only, never token material. Every write carries a TTL, so no key lives forever, except the
durable maps: :meth:`Store.keep` writes a field of one (a workspace's channel bindings,
``bindings:{TEAM}``), which lives until :meth:`Store.forget` removes it; :meth:`Store.recall` and
:meth:`Store.kept` read them. ``keep`` is the only write without a TTL, so what is durable is said at the
call, never by a TTL left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

KEY_PREFIX = "jwtcheck:"
MAX_KEY_LENGTH = 256
# Ids, hashes and Slack timestamps: no whitespace or control characters, so a key can never carry
# a pasted token line or a log-injection payload.
_KEY_RE = re.compile(r"[!-~]+")


@runtime_checkable
class Store(Protocol):
    """Async key/value + claim + poll store. All TTLs are in seconds and must be positive."""

    @property
    def name(self) -> str:
        """The configured backend: ``"memory"`` or ``"redis"``."""
        ...

    @property
    def state(self) -> str:
        """What is serving right now: ``"memory"``, ``"redis"`` or ``"redis-degraded"``."""
        ...

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl: int) -> None: ...

    async def claim(self, key: str, ttl: int) -> bool:
        """SET NX EX: True for the first caller only, until the claim expires or is released."""
        ...

    async def release(self, key: str) -> None:
        """Delete a claim, so a retry can do the work the first attempt failed to do."""
        ...

    async def vote(self, poll_key: str, voter: str, choice: str, ttl: int) -> dict[str, int]:
        """Record ``voter``'s choice (replacing any earlier one) and return the counts per choice."""
        ...

    async def tally(self, poll_key: str) -> dict[str, int]: ...

    async def append(self, key: str, values: Sequence[str], ttl: int, keep: int) -> list[str]:
        """Add ``values`` to the list at ``key``, keep its last ``keep`` items, refresh its TTL, and return
        the whole list: one atomic round trip, so replicas appending at once lose nothing."""
        ...

    async def tallies(self, poll_keys: Sequence[str]) -> list[dict[str, int]]:
        """The counts of several polls in one round trip, in the order asked."""
        ...

    async def count(self, key: str, increments: Mapping[str, int], ttl: int) -> None:
        """Add each of ``increments`` to its field of the counter map at ``key`` (HINCRBY) and refresh its TTL:
        one atomic round trip, so replicas counting at once lose nothing."""
        ...

    async def counters(self, keys: Sequence[str]) -> list[dict[str, int]]:
        """The counter maps at ``keys`` in one round trip, in the order asked (``{}`` for a missing one). Keys
        read together share a hash tag (one cluster slot)."""
        ...

    async def keep(self, key: str, field: str, value: str) -> None:
        """DURABLE, no TTL: set ``field`` of the map at ``key`` to ``value`` (HSET). For settings a person
        made and expects to stay (channel bindings), never for caches or claims."""
        ...

    async def forget(self, key: str, field: str) -> bool:
        """Remove ``field`` of the durable map at ``key`` (HDEL); True when it was there."""
        ...

    async def recall(self, key: str, field: str) -> str | None:
        """One field of the durable map at ``key`` (HGET), None when it is not there."""
        ...

    async def kept(self, key: str) -> dict[str, str]:
        """The whole durable map at ``key`` (HGETALL), ``{}`` when there is none: one key, one round trip."""
        ...

    async def ping(self) -> bool:
        """Whether the backing service answers and takes a write (a Redis refusing writes, OOM or BUSY, is not
        up). Never raises."""
        ...

    async def close(self) -> None: ...


def check_key(key: str) -> str:
    """Reject keys that are empty, too long, or contain whitespace/control/non-ASCII characters."""
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not _KEY_RE.fullmatch(key):
        raise ValueError(f"invalid store key (kind {key_kind(key)!r}): 1-{MAX_KEY_LENGTH} printable ASCII, no spaces")
    return key


def check_ttl(ttl: int) -> int:
    """A TTL is a positive whole number of seconds (``bool`` is refused: it is an ``int`` by accident)."""
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
        raise ValueError(f"store TTL must be a positive int of seconds, got {ttl!r}")
    return ttl


def key_kind(key: object) -> str:
    """The part of a key before the first ``:`` (e.g. ``evt``): the most a log line may show of a key."""
    if not isinstance(key, str):
        return type(key).__name__
    kind = key.split(":", 1)[0][:16]
    return kind if _KEY_RE.fullmatch(kind) else "?"


def check_increments(increments: Mapping[str, int]) -> dict[str, int]:
    """Fields are ids (as keys are), increments whole numbers (``bool`` refused)."""
    checked = {}
    for field, by in increments.items():
        if isinstance(by, bool) or not isinstance(by, int):
            raise ValueError(f"a counter grows by a whole number, got {by!r}")
        checked[check_key(field)] = by
    return checked


def counter_values(raw: Mapping[str, str]) -> dict[str, int]:
    """A counter map as read back, in a stable (sorted) order; a field that is not a whole number is skipped."""
    values = {}
    for field in sorted(raw):
        value = raw[field]
        if value.lstrip("-").isdigit():
            values[field] = int(value)
    return values


def count_choices(choices: list[str]) -> dict[str, int]:
    """Counts per choice, in a stable (sorted) order."""
    counts: dict[str, int] = {}
    for choice in sorted(choices):
        counts[choice] = counts.get(choice, 0) + 1
    return counts
