"""Every key of a Redis database and its value, whatever its type, as text: what leak hunts search.

Values are read by type (not DUMP, which may compress a long value and hide a leak); a client with or
without ``decode_responses`` gives the same text (bytes are read as Latin-1, so nothing is lost).
"""

from __future__ import annotations

import contextlib
from typing import Any


async def everything_in_redis(client: Any, match: str = "*") -> str:
    """One line per key: ``key = type value``."""
    lines = []
    async for key in client.scan_iter(match=match, count=500):
        lines.append(f"{as_text(key)} = {await value_of(client, key)}")
    return "\n".join(lines)


async def value_of(client: Any, key: Any) -> str:
    kind = as_text(await client.type(key))
    value: Any
    if kind == "string":
        value = await client.get(key)
    elif kind == "hash":
        value = await client.hgetall(key)
    elif kind == "list":
        value = await client.lrange(key, 0, -1)
    elif kind == "set":
        value = await client.smembers(key)
    elif kind == "zset":
        value = await client.zrange(key, 0, -1, withscores=True)
    elif kind == "stream":
        value = await client.xrange(key)
        with contextlib.suppress(Exception):
            value = [value, await client.xinfo_groups(key)]
    else:
        value = f"<{kind}>"
    return f"{kind} {as_text(value)}"


def as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{as_text(k)}: {as_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple | set):
        return "[" + ", ".join(as_text(item) for item in value) + "]"
    return str(value)
