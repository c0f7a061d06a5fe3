"""The store on the Redis topologies of ``tests/support/redis_topologies.py``: each flushed before and after."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.store.redis_store import RedisStore
from tests.support.redis_topologies import Cluster, SentinelSetup, TlsServer


@pytest.fixture
async def cluster_store(redis_cluster: Cluster) -> AsyncIterator[RedisStore]:
    redis_cluster.flush()
    store = RedisStore(redis_cluster.url)
    try:
        yield store
    finally:
        await store.close()
        redis_cluster.flush()


@pytest.fixture
async def sentinel_store(redis_sentinel: SentinelSetup) -> AsyncIterator[RedisStore]:
    redis_sentinel.flush()
    store = RedisStore(redis_sentinel.url)
    try:
        yield store
    finally:
        await store.close()
        redis_sentinel.flush()


@pytest.fixture
async def tls_store(redis_tls: TlsServer) -> AsyncIterator[RedisStore]:
    redis_tls.flush()
    # TLS handshakes of a cold pool, twenty at once on a shared CI machine: more than the production second.
    store = RedisStore(redis_tls.url(), connect_timeout=10)
    try:
        yield store
    finally:
        await store.close()
        redis_tls.flush()
