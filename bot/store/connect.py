"""One way to reach Redis from a URL, for the store and the outbox alike.

Tuned to fail fast rather than to try hard: short connect and read timeouts and no client-side retries,
because a Slack ack has 3 s and the callers have a better answer than waiting.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

DEFAULT_CONNECT_TIMEOUT = 1.0
DEFAULT_SOCKET_TIMEOUT = 1.0
DEFAULT_MAX_CONNECTIONS = 64


def redis_client(
    url: str,
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
) -> Redis:
    """A client for ``url`` (decoded replies). Does not connect: an unreachable Redis shows at the first command."""
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=connect_timeout,
        socket_timeout=socket_timeout,
        retry=Retry(NoBackoff(), 0),  # redis-py's default retries with backoff for seconds
        max_connections=max_connections,
    )
