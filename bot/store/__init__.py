"""The bot's only state. ``make_store`` picks memory (one replica, no Redis) or Redis with fallback."""

from __future__ import annotations

from bot.store.base import KEY_PREFIX, Store, check_key, check_ttl, key_kind
from bot.store.memory import MemoryStore
from bot.store.redis_store import RedisStore
from bot.store.resilient import ResilientStore

__all__ = [
    "KEY_PREFIX",
    "MemoryStore",
    "RedisStore",
    "ResilientStore",
    "Store",
    "check_key",
    "check_ttl",
    "key_kind",
    "make_store",
]


def make_store(redis_url: str | None) -> Store:
    """MemoryStore without a URL; otherwise Redis with an in-process fallback.

    Does not connect (an unreachable Redis is not an error here), but a malformed URL raises
    ``ValueError`` so a misconfiguration fails at startup.
    """
    if not redis_url or not redis_url.strip():
        return MemoryStore()
    return ResilientStore(RedisStore(redis_url.strip()), MemoryStore())
