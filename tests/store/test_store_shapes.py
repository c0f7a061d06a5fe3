"""The URL shapes of ``bot.store.connect``: TLS, Sentinel and Cluster against real servers of our own, the
hash-tag rule, the last redaction pass on every value, and no password anywhere it could be shown."""

from __future__ import annotations

import logging

import pytest
import redis.asyncio as aioredis
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.sentinel import SentinelConnectionPool
from redis.crc import key_slot

from bot.chat.cards import vote_key
from bot.diagnosis.redact import REDACTION_MARKER
from bot.store import KEY_PREFIX, MemoryStore, RedisStore, ResilientStore, make_store
from bot.store.connect import redis_client
from tests.support.redis_topologies import TLS_PASSWORD, Cluster, SentinelSetup, TlsServer
from tests.support.tcp_proxy import unused_port
from tests.support.tokens import claims, make_token, signature_of

PASSWORD = "pw-S3CRET-value"


@pytest.mark.parametrize(
    ("url", "described"),
    [
        (f"redis://:{PASSWORD}@redis.internal:6380/2", "redis.internal:6380/2"),
        (f"rediss://bot:{PASSWORD}@redis.internal:6380/2?ssl_ca_certs=/etc/ca.pem", "redis.internal:6380/2 tls"),
        (
            f"redis+sentinel://bot:{PASSWORD}@s1.internal:26379,s2.internal/jwtcheck/3",
            "sentinel s1.internal:26379,s2.internal:26379 service jwtcheck/3",
        ),
        (
            f"rediss+sentinel://bot:{PASSWORD}@s1.internal:26380/jwtcheck?ssl_cert_reqs=none",
            "sentinel s1.internal:26380 service jwtcheck/0 tls",
        ),
        (
            f"redis+cluster://bot:{PASSWORD}@c1.internal:7000,c2.internal:7001",
            "cluster c1.internal:7000,c2.internal:7001",
        ),
        (f"rediss+cluster://:{PASSWORD}@c1.internal:7000/0", "cluster c1.internal:7000 tls"),
    ],
)
def test_every_shape_is_described_without_its_password(url: str, described: str) -> None:
    store = RedisStore(url)  # does not connect
    assert store.describe() == described
    assert PASSWORD not in repr(store) and PASSWORD not in store.describe()


def test_the_credentials_and_options_reach_the_data_nodes() -> None:
    sentinel = redis_client(
        f"redis+sentinel://bot:{PASSWORD}@127.0.0.1:26379/jwtcheck/3?sentinel_password=s-pw", socket_timeout=0.5
    )
    assert isinstance(sentinel, Redis) and isinstance(sentinel.connection_pool, SentinelConnectionPool)
    options = sentinel.connection_pool.connection_kwargs
    assert (options["username"], options["password"], options["db"], options["socket_timeout"]) == (
        "bot",
        PASSWORD,
        3,
        0.5,
    )
    assert sentinel.connection_pool.sentinel_manager.sentinel_kwargs["password"] == "s-pw"
    cluster = redis_client(f"rediss+cluster://bot:{PASSWORD}@127.0.0.1:7000?ssl_ca_certs=/ca.pem")
    assert isinstance(cluster, RedisCluster)
    options = cluster.nodes_manager.connection_kwargs
    assert (options["username"], options["password"], options["ssl_ca_certs"]) == ("bot", PASSWORD, "/ca.pem")
    assert options["connection_class"].__name__ == "SSLConnection"


@pytest.mark.parametrize(
    "url",
    [
        "http://not-redis.example/0",
        "redis+cluster://c1:7000/2",  # a cluster has database 0 only
        "redis+cluster://",
        "redis+sentinel://s1:26379",  # no service name
        "redis+sentinel://s1:26379/svc/db/extra",
        "redis+sentinel://s1:26379/svc/notanumber",
        f"redis+sentinel://:{PASSWORD}@s1:port/svc",
        f"redis://:{PASSWORD}@r1:6379/0?ssl_ca_certs=/ca.pem",  # TLS options on a plain URL
        f"redis+cluster://:{PASSWORD}@c1:7000?ssl_certfile=/c.pem",
    ],
)
def test_a_malformed_url_fails_at_startup_without_quoting_it(url: str) -> None:
    with pytest.raises(ValueError) as raised:
        make_store(url)
    assert PASSWORD not in str(raised.value)


def test_the_polls_read_together_share_a_hash_slot() -> None:
    slots = {key_slot((KEY_PREFIX + vote_key("T0123", w)).encode()) for w in ("clock_leeway", "fix_aud", "x" * 40)}
    assert len(slots) == 1
    assert key_slot((KEY_PREFIX + vote_key("T0123", "a")).encode()) != key_slot(
        (KEY_PREFIX + vote_key("T9999", "a")).encode()
    )


# --- the topologies -----------------------------------------------------------------------------------------


async def test_tls_with_a_client_certificate_and_an_acl_user(tls_store: RedisStore, redis_tls: TlsServer) -> None:
    assert await tls_store.ping() is True
    await tls_store.set("card:1", "over TLS", ttl=60)
    with redis_tls.client() as raw:
        assert raw.get("jwtcheck:card:1") == "over TLS"
    assert TLS_PASSWORD not in tls_store.describe() and tls_store.describe().endswith(" tls")


@pytest.mark.parametrize("mistake", ["an untrusted CA", "no client certificate", "a wrong password"])
async def test_a_tls_mistake_degrades_and_says_why(
    redis_tls: TlsServer, mistake: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    if mistake == "an untrusted CA":
        url = redis_tls.url(ca=redis_tls.files.other_ca)
    elif mistake == "no client certificate":
        url = redis_tls.url(client_cert=False)
    else:
        url = redis_tls.url().replace(TLS_PASSWORD, "wrong-pw-S3cret")
    store = ResilientStore(RedisStore(url), MemoryStore())
    try:
        assert await store.claim("evt:Ev1", ttl=60) is True  # answered from memory
        assert store.state == "redis-degraded"
        assert store.last_failure is not None and "S3cret" not in store.last_failure
        assert await store.ping() is False
    finally:
        await store.close()
    assert "S3cret" not in caplog.text


@pytest.mark.parametrize("shape", ["redis+cluster://127.0.0.1:{port}", "redis+sentinel://127.0.0.1:{port}/svc"])
async def test_an_unreachable_cluster_or_sentinel_degrades(shape: str) -> None:
    store = ResilientStore(RedisStore(shape.format(port=unused_port())), MemoryStore())
    try:
        assert await store.claim("evt:Ev1", ttl=60) is True
        assert await store.claim("evt:Ev1", ttl=60) is False
        assert store.state == "redis-degraded" and store.last_failure
        assert await store.ping() is False
    finally:
        await store.close()


async def test_the_cluster_spreads_keys_and_keeps_a_workspaces_polls_on_one_node(
    cluster_store: RedisStore, redis_cluster: Cluster
) -> None:
    for n in range(30):
        await cluster_store.set(f"card:c{n}", "x", ttl=60)
    owners = []
    for node in redis_cluster.nodes:
        with node.client() as raw:
            owners.append(raw.dbsize())
    assert sum(owners) == 30 and all(owners)  # every node holds some: a real cluster, not one server
    keys = [vote_key("T1", w) for w in ("a", "b", "c")]
    for key in keys:
        await cluster_store.vote(key, "U1", "fixed", ttl=60)
    assert await cluster_store.tallies(keys) == [{"fixed": 1}] * 3
    assert await cluster_store.append("clock:T1:C1:k", ["a", "b"], 60, keep=5) == ["a", "b"]


async def test_sentinel_follows_the_primary_it_names(sentinel_store: RedisStore, redis_sentinel: SentinelSetup) -> None:
    await sentinel_store.set("card:1", "via sentinel", ttl=60)
    with redis_sentinel.sentinel.client() as sentinel:
        _, port = sentinel.sentinel_get_master_addr_by_name("jwtcheck-primary")
    primary = aioredis.Redis(port=int(port), decode_responses=True)
    try:
        assert await primary.get("jwtcheck:card:1") == "via sentinel"
        assert (await primary.info("replication"))["role"] == "master"
    finally:
        await primary.aclose()


# --- the last pass ------------------------------------------------------------------------------------------


async def test_no_value_written_holds_a_signature(redis_store: RedisStore, redis_raw: aioredis.Redis) -> None:
    token = make_token(claims())
    await redis_store.set("card:1", f'["card/3", "{token}"]', ttl=60)
    await redis_store.append("clock:T1:C1:k", [f"row {token}"], 60, keep=5)
    await redis_store.set("diag:x", "Authorization: Bearer 2YotnFZFEjr1zCsicMWpAA", ttl=60)
    written = [
        await redis_raw.get("jwtcheck:card:1"),
        *await redis_raw.lrange("jwtcheck:clock:T1:C1:k", 0, -1),
        await redis_raw.get("jwtcheck:diag:x"),
    ]
    for value in written:
        assert signature_of(token) not in value and "2YotnFZFEjr1zCsicMWpAA" not in value
    assert REDACTION_MARKER in written[0]


async def test_the_last_pass_leaves_redacted_values_as_they_are(redis_store: RedisStore) -> None:
    redacted = make_token(claims()).rsplit(".", 1)[0] + "." + REDACTION_MARKER
    value = f'["card/3", "{redacted}", "2Yot… (22 chars)"]'
    await redis_store.set("card:1", value, ttl=60)
    assert await redis_store.get("card:1") == value
    assert await redis_store.append("clock:T1:C1:k", [value], 60, keep=5) == [value]
