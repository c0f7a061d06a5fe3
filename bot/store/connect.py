"""One way to reach Redis from a URL, for the store and the outbox alike.

Tuned to fail fast rather than to try hard: short connect and read timeouts and no client-side retries,
because a Slack ack has 3 s and the callers have a better answer than waiting.

The URL shapes (README, "Deploy"):

- ``redis://[user:password@]host:port/db``, ``unix:///path?db=N``: one server;
- ``rediss://…``: the same over TLS, with redis-py's own query parameters for the certificates
  (``ssl_ca_certs=``, ``ssl_certfile=``, ``ssl_keyfile=``, ``ssl_cert_reqs=``, ``ssl_check_hostname=``…);
- ``redis+sentinel://[user:password@]host:port[,host:port…]/service[/db]`` (``rediss+sentinel://`` for TLS to
  the sentinels and the data nodes alike): the primary Sentinel names, followed through failovers. The URL's
  credentials are the data nodes'; sentinels that want their own take ``?sentinel_username=&sentinel_password=``;
- ``redis+cluster://[user:password@]host:port[,host:port…]`` (``rediss+cluster://``): a Redis Cluster,
  found from any of the nodes named.

A URL may carry a password: it is never logged, and :func:`describe_client` says where a client points
without it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException

DEFAULT_CONNECT_TIMEOUT = 1.0
DEFAULT_SOCKET_TIMEOUT = 1.0
DEFAULT_MAX_CONNECTIONS = 64
DEFAULT_SENTINEL_PORT = 26379
DEFAULT_PORT = 6379

RedisClient = Redis | RedisCluster

_SENTINEL = {"redis+sentinel": "redis", "rediss+sentinel": "rediss"}
_CLUSTER = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
# What redis-py's SSLConnection takes, as URL query parameters: meaningless (and refused) without TLS.
_SSL_OPTIONS = frozenset(
    {
        "ssl_ca_certs",
        "ssl_ca_path",
        "ssl_ca_data",
        "ssl_cert_reqs",
        "ssl_certfile",
        "ssl_keyfile",
        "ssl_password",
        "ssl_check_hostname",
        "ssl_include_verify_flags",
        "ssl_exclude_verify_flags",
        "ssl_min_version",
        "ssl_ciphers",
    }
)


def redis_client(
    url: str,
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
) -> RedisClient:
    """A client for ``url`` (decoded replies). Does not connect: an unreachable Redis shows at the first command.

    A malformed URL raises ``ValueError`` (its message never quotes the URL).
    """
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_connect_timeout": connect_timeout,
        "socket_timeout": socket_timeout,
        "retry": Retry(NoBackoff(), 0),  # redis-py's default retries with backoff for seconds
        "max_connections": max_connections,
    }
    scheme = url.partition("://")[0].lower()
    if scheme in _SENTINEL:
        return _sentinel_client(url, _SENTINEL[scheme], options)
    if scheme in _CLUSTER:
        return _cluster_client(url, _CLUSTER[scheme], options)
    if scheme == "redis" and _SSL_OPTIONS & _query_names(url):
        raise ValueError("Redis URL: ssl_* parameters need a rediss:// URL")
    return Redis.from_url(url, **options)


async def ready(client: RedisClient) -> RedisClient:
    """The client, its cluster topology discovered first: redis-py's cluster client, when cold (or after a
    topology change), lets concurrent commands race its discovery and fail with "Connection closed", while
    concurrent ``initialize()`` calls wait for one another. A no-op for one server or Sentinel."""
    if isinstance(client, RedisCluster):
        await client.initialize()
    return client


async def close_client(client: RedisClient) -> None:
    """Close the client's connections, and a Sentinel client's connections to its sentinels too."""
    await client.aclose()
    pool = getattr(client, "connection_pool", None)
    if isinstance(pool, SentinelConnectionPool):
        await pool.sentinel_manager.aclose()


def describe_client(client: RedisClient) -> str:
    """Where the client points, for a log line: hosts, ports, db, service; never a password or a URL."""
    if isinstance(client, RedisCluster):
        nodes = ",".join(client.nodes_manager.startup_nodes)
        return f"cluster {nodes}{_tls(client.nodes_manager.connection_kwargs)}"
    pool = client.connection_pool
    kwargs: dict[str, Any] = pool.connection_kwargs
    if isinstance(pool, SentinelConnectionPool):
        manager: Sentinel = pool.sentinel_manager
        sentinels = ",".join(_address(s.connection_pool.connection_kwargs) for s in manager.sentinels)
        tls = " tls" if _is_tls(pool) else ""
        return f"sentinel {sentinels} service {pool.service_name}/{kwargs.get('db', 0)}{tls}"
    if "path" in kwargs:
        return f"unix socket/{kwargs.get('db', 0)}"
    tls = " tls" if _is_tls(pool) else ""
    return f"{_address(kwargs)}/{kwargs.get('db', 0)}{tls}"


def _address(kwargs: dict[str, Any]) -> str:
    return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"


def _is_tls(pool: Any) -> bool:
    return "SSL" in getattr(pool, "connection_class", type(None)).__name__


def _tls(kwargs: dict[str, Any]) -> str:
    connection_class = kwargs.get("connection_class")
    return " tls" if connection_class is not None and "SSL" in connection_class.__name__ else ""


def _query_names(url: str) -> set[str]:
    query = urlsplit(url).query
    return {part.partition("=")[0] for part in query.split("&") if part}


Hosts = list[tuple[str, int]]


def _multi_host(url: str, base_scheme: str, default_port: int) -> tuple[Hosts, list[str], dict[str, Any]]:
    """The hosts of a ``scheme://[userinfo@]host:port[,host:port…]/path?query`` URL, its path segments, and
    redis-py's own reading of the rest (credentials, db, query parameters)."""
    try:
        parts = urlsplit(url)
        userinfo, _, hostlist = parts.netloc.rpartition("@")
        hosts: Hosts = []
        for item in hostlist.split(","):
            node = urlsplit(f"//{item.strip()}")
            if not node.hostname:
                raise ValueError
            hosts.append((unquote(node.hostname), node.port or default_port))
    except ValueError:
        raise ValueError("Redis URL: expected host:port[,host:port…] after the scheme") from None
    segments = [unquote(segment) for segment in parts.path.split("/") if segment]
    single = urlunsplit((base_scheme, f"{userinfo}@localhost" if userinfo else "localhost", "", parts.query, ""))
    kwargs: dict[str, Any] = dict(parse_url(single))
    for name in ("host", "port", "connection_class"):
        kwargs.pop(name, None)
    if base_scheme == "rediss":
        kwargs["ssl"] = True
    elif _SSL_OPTIONS & kwargs.keys():
        raise ValueError("Redis URL: ssl_* parameters need a rediss+… URL")
    return hosts, segments, kwargs


def _db(segment: str) -> int:
    try:
        return int(segment)
    except ValueError:
        raise ValueError("Redis URL: the database is a number") from None


def _sentinel_client(url: str, base_scheme: str, options: dict[str, Any]) -> Redis:
    sentinels, segments, kwargs = _multi_host(url, base_scheme, DEFAULT_SENTINEL_PORT)
    if not 1 <= len(segments) <= 2:
        raise ValueError("Redis URL: redis+sentinel://host:port[,host:port…]/service_name[/db]")
    service = segments[0]
    if len(segments) == 2:
        kwargs["db"] = _db(segments[1])
    # The sentinels: the same timeouts and TLS settings as the data nodes, their own credentials if any.
    sentinel_kwargs: dict[str, Any] = {
        "socket_connect_timeout": options["socket_connect_timeout"],
        "socket_timeout": options["socket_timeout"],
        "retry": Retry(NoBackoff(), 0),
        "decode_responses": True,
    }
    for name in ("sentinel_username", "sentinel_password"):
        if name in kwargs:
            sentinel_kwargs[name.removeprefix("sentinel_")] = kwargs.pop(name)
    if kwargs.get("ssl"):
        sentinel_kwargs.update({k: v for k, v in kwargs.items() if k == "ssl" or k in _SSL_OPTIONS})
    sentinel = Sentinel(sentinels, sentinel_kwargs=sentinel_kwargs, **{**options, **kwargs})  # type: ignore[no-untyped-call]
    client: Redis = sentinel.master_for(service)
    return client


def _cluster_client(url: str, base_scheme: str, options: dict[str, Any]) -> RedisCluster:
    nodes, segments, kwargs = _multi_host(url, base_scheme, DEFAULT_PORT)
    if segments not in ([], ["0"]) or kwargs.get("db", 0) != 0:
        raise ValueError("Redis URL: a Redis Cluster has database 0 only: redis+cluster://host:port[,host:port…]")
    kwargs.pop("db", None)
    try:
        return RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in nodes], **{**options, **kwargs})
    except (TypeError, RedisClusterException) as problem:
        raise ValueError(f"Redis URL: not a usable cluster URL ({type(problem).__name__})") from None
