"""Shared fixtures: a real Redis for the store tests.

``REDIS_URL`` (default ``redis://127.0.0.1:6379/15``) must point at a throwaway database: it is
FLUSHDB'd before and after every test that uses ``redis_raw`` or ``redis_store``. Database 0 is
refused. With no Redis answering, those tests are skipped locally and fail under CI (env ``CI``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
import redis.asyncio as aioredis

from bot.store.redis_store import RedisStore
from tests.keys.server import KeyServer
from tests.oracle.paths import OraclePaths, OracleUnavailable, ensure_installed
from tests.support import redis_topologies

DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis URL, once it has answered a PING (skip, or fail under CI, otherwise)."""
    url = os.environ.get("REDIS_URL") or DEFAULT_TEST_REDIS_URL
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    kwargs = client.connection_pool.connection_kwargs
    where = f"{kwargs.get('host', 'unix socket')}:{kwargs.get('port', '')}/{kwargs.get('db', 0)}"
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        reason = (
            f"no Redis answers at {where} ({type(exc).__name__}): start one, e.g. "
            "`docker run --rm -p 6379:6379 redis:7-alpine`, or set REDIS_URL"
        )
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    finally:
        client.close()
    if int(kwargs.get("db", 0)) == 0:
        pytest.fail(f"refusing to FLUSHDB {where}: point REDIS_URL at a test database such as /15", pytrace=False)
    return url


@pytest.fixture
async def redis_raw(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A plain client on the test database, flushed before and after the test."""
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture
async def redis_store(redis_url: str, redis_raw: aioredis.Redis) -> AsyncIterator[RedisStore]:
    """A RedisStore on the (flushed) test database."""
    store = RedisStore(redis_url)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def issuer() -> AsyncIterator[KeyServer]:
    """A local key server: the issuer the config trusts."""
    async with KeyServer.running() as server:
        yield server


@pytest.fixture
async def attacker() -> AsyncIterator[KeyServer]:
    """A second local server a hostile token points at: it must receive no request at all."""
    async with KeyServer.running() as server:
        yield server


@pytest.fixture(scope="session")
def oracle_paths() -> OraclePaths:
    """The real JWT libraries (tests/oracle/install.sh), installed on first use: skipped locally when they
    cannot be installed, a failure in CI."""
    try:
        return ensure_installed()
    except OracleUnavailable as problem:
        reason = f"the oracle libraries are not available: {problem}"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[redis_topologies.Cluster]:
    """A 3-node Redis Cluster of our own (``.url`` is its ``redis+cluster://``), for the whole session."""
    redis_topologies.require()
    cluster = redis_topologies.start_cluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def redis_sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[redis_topologies.SentinelSetup]:
    """A primary, a replica and a Sentinel of our own (``.url`` is its ``redis+sentinel://``), for the whole
    session. A test may fail it over: the URL stays right, the primary's port changes."""
    redis_topologies.require()
    setup = redis_topologies.start_sentinel(tmp_path_factory.mktemp("redis-sentinel"))
    try:
        yield setup
    finally:
        setup.stop()


@pytest.fixture(scope="session")
def redis_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[redis_topologies.TlsServer]:
    """A Redis of our own on a TLS port only, with its CA, a client certificate and an ACL user."""
    redis_topologies.require()
    server = redis_topologies.start_tls_server(tmp_path_factory.mktemp("redis-tls"))
    try:
        yield server
    finally:
        server.stop()
