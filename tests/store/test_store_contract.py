"""The behaviour every Store must share, run against MemoryStore and a real Redis."""

from __future__ import annotations

import asyncio

import pytest

from bot.store import MemoryStore, RedisStore, Store, make_store


@pytest.fixture(params=["memory", "redis", "cluster", "sentinel", "tls"])
def store(request: pytest.FixtureRequest) -> Store:
    """Memory, the shared test Redis, and our own Redis Cluster, Sentinel-watched primary and TLS server."""
    # Sync on purpose: pytest-asyncio sets the async stores up on its own loop runner.
    if request.param == "memory":
        return MemoryStore()
    store: Store = request.getfixturevalue(f"{request.param}_store")
    return store


async def test_is_a_store(store: Store) -> None:
    assert isinstance(store, Store)
    assert store.state in {"memory", "redis"}


async def test_get_set_overwrite(store: Store) -> None:
    assert await store.get("card:1") is None
    await store.set("card:1", '{"expanded": false}', ttl=60)
    assert await store.get("card:1") == '{"expanded": false}'
    await store.set("card:1", "ünïcode ✓", ttl=60)
    assert await store.get("card:1") == "ünïcode ✓"


async def test_claim_is_first_caller_only_until_released(store: Store) -> None:
    assert await store.claim("evt:Ev123", ttl=60) is True
    assert await store.claim("evt:Ev123", ttl=60) is False
    assert await store.claim("evt:Ev124", ttl=60) is True
    await store.release("evt:Ev123")
    assert await store.claim("evt:Ev123", ttl=60) is True
    await store.release("evt:never-claimed")  # harmless


async def test_second_vote_by_same_voter_replaces_the_first(store: Store) -> None:
    assert await store.vote("votes:T1:rotate-keys", "U1", "worked", ttl=600) == {"worked": 1}
    assert await store.vote("votes:T1:rotate-keys", "U2", "worked", ttl=600) == {"worked": 2}
    counts = await store.vote("votes:T1:rotate-keys", "U1", "did-not-work", ttl=600)
    assert counts == {"did-not-work": 1, "worked": 1}
    assert await store.tally("votes:T1:rotate-keys") == counts
    assert await store.tally("votes:T1:other") == {}
    assert await store.tally("votes:T2:rotate-keys") == {}


@pytest.mark.parametrize("ttl", [0, -1, True, 1.5])
async def test_every_write_needs_a_positive_int_ttl(store: Store, ttl: int) -> None:
    with pytest.raises(ValueError):
        await store.set("card:1", "x", ttl=ttl)
    with pytest.raises(ValueError):
        await store.claim("evt:1", ttl=ttl)
    with pytest.raises(ValueError):
        await store.vote("votes:T:w", "U1", "up", ttl=ttl)


@pytest.mark.parametrize("key", ["", "has space", "line\nbreak", "é", "x" * 257])
async def test_keys_are_ids_only(store: Store, key: str) -> None:
    with pytest.raises(ValueError):
        await store.set(key, "x", ttl=60)
    with pytest.raises(ValueError):
        await store.get(key)
    with pytest.raises(ValueError):
        await store.vote("votes:T:w", key, "up", ttl=60)


async def test_values_must_be_strings(store: Store) -> None:
    with pytest.raises(TypeError):
        await store.set("card:1", b"bytes", ttl=60)  # type: ignore[arg-type]


async def test_ping(store: Store) -> None:
    assert await store.ping() is True


def test_make_store_without_url_is_memory() -> None:
    assert isinstance(make_store(None), MemoryStore)
    assert isinstance(make_store(""), MemoryStore)
    assert isinstance(make_store("  "), MemoryStore)


def test_make_store_rejects_a_malformed_url() -> None:
    with pytest.raises(ValueError):
        make_store("http://not-redis.example/0")


def test_redis_store_does_not_connect_on_construction() -> None:
    store = RedisStore("redis://127.0.0.1:1/15")  # nothing listens on port 1
    assert store.describe() == "127.0.0.1:1/15"


async def test_several_polls_are_tallied_together_in_the_order_asked(store: Store) -> None:
    await store.vote("votes:T1:a", "U1", "fixed", 60)
    await store.vote("votes:T1:a", "U2", "didnt_help", 60)
    await store.vote("votes:T1:c", "U1", "fixed", 60)
    assert await store.tallies(["votes:T1:c", "votes:T1:b", "votes:T1:a"]) == [
        {"fixed": 1},
        {},
        {"didnt_help": 1, "fixed": 1},
    ]
    assert await store.tallies([]) == []


async def test_append_keeps_the_last_items_with_a_ttl(store: Store) -> None:
    assert await store.append("clock:T1:C1:abc", ["a", "b"], 60, keep=3) == ["a", "b"]
    assert await store.append("clock:T1:C1:abc", ["c", "d"], 60, keep=3) == ["b", "c", "d"]
    assert await store.append("clock:T1:C1:abc", [], 60, keep=3) == ["b", "c", "d"]
    with pytest.raises(ValueError):
        await store.append("clock:T1:C1:abc", ["e"], 60, keep=0)


async def test_appends_from_two_replicas_at_once_lose_nothing(store: Store) -> None:
    await asyncio.gather(*(store.append("clock:T1:C1:race", [f"v{n}"], 60, keep=100) for n in range(20)))
    assert sorted(await store.append("clock:T1:C1:race", [], 60, keep=100)) == sorted(f"v{n}" for n in range(20))


# --- the durable maps: the only writes without a TTL -----------------------------------------------------


async def test_a_durable_map_keeps_fields_until_forgotten(store: Store) -> None:
    assert await store.kept("bindings:{T1}") == {}
    await store.keep("bindings:{T1}", "C1", "orders")
    await store.keep("bindings:{T1}", "C2", "billing")
    await store.keep("bindings:{T1}", "C1", "payments")  # replaces
    await store.keep("bindings:{T2}", "C1", "orders")
    assert await store.kept("bindings:{T1}") == {"C1": "payments", "C2": "billing"}
    assert await store.recall("bindings:{T1}", "C1") == "payments"
    assert await store.recall("bindings:{T1}", "C3") is None and await store.recall("bindings:{T9}", "C1") is None
    assert await store.forget("bindings:{T1}", "C1") is True
    assert await store.forget("bindings:{T1}", "C1") is False  # harmless, and says so
    assert await store.kept("bindings:{T1}") == {"C2": "billing"}
    assert await store.kept("bindings:{T2}") == {"C1": "orders"}
    assert await store.forget("bindings:{T9}", "C1") is False


@pytest.mark.parametrize("bad", ["", "has space", "line\nbreak", "é", "x" * 257])
async def test_durable_keys_and_fields_are_ids_only(store: Store, bad: str) -> None:
    with pytest.raises(ValueError):
        await store.keep(bad, "C1", "orders")
    with pytest.raises(ValueError):
        await store.keep("bindings:{T1}", bad, "orders")
    with pytest.raises(ValueError):
        await store.forget("bindings:{T1}", bad)
    with pytest.raises(ValueError):
        await store.kept(bad)
    with pytest.raises(ValueError):
        await store.recall("bindings:{T1}", bad)
    with pytest.raises(TypeError):
        await store.keep("bindings:{T1}", "C1", b"orders")  # type: ignore[arg-type]


# --- counters: the Home's figures (bot.chat.stats) --------------------------------------------------------


async def test_counters_add_up_and_are_read_together_in_the_order_asked(store: Store) -> None:
    await store.count("stats:{T1}:20261203", {"expired": 2, "clock_skew": 1}, ttl=60)
    await store.count("stats:{T1}:20261203", {"expired": 1}, ttl=60)
    await store.count("stats:{T1}:20261201", {"wrong_audience": 5}, ttl=60)
    await store.count("stats:{T1}:20261130", {}, ttl=60)  # nothing to add: harmless
    assert await store.counters(["stats:{T1}:20261201", "stats:{T1}:20261202", "stats:{T1}:20261203"]) == [
        {"wrong_audience": 5},
        {},
        {"clock_skew": 1, "expired": 3},
    ]
    assert await store.counters([]) == []


async def test_counts_from_two_replicas_at_once_lose_nothing(store: Store) -> None:
    await asyncio.gather(*(store.count("stats:{T1}:race", {"expired": 1, "none": 2}, ttl=60) for _ in range(20)))
    assert await store.counters(["stats:{T1}:race"]) == [{"expired": 20, "none": 40}]


@pytest.mark.parametrize("ttl", [0, -1, True, 1.5])
async def test_a_count_needs_a_positive_int_ttl(store: Store, ttl: int) -> None:
    with pytest.raises(ValueError):
        await store.count("stats:{T1}:d", {"expired": 1}, ttl=ttl)


@pytest.mark.parametrize("bad", ["", "has space", "line\nbreak", "é", "x" * 257])
async def test_counter_keys_and_fields_are_ids_only(store: Store, bad: str) -> None:
    with pytest.raises(ValueError):
        await store.count(bad, {"expired": 1}, ttl=60)
    with pytest.raises(ValueError):
        await store.count("stats:{T1}:d", {bad: 1}, ttl=60)
    with pytest.raises(ValueError):
        await store.count("stats:{T1}:d", {"expired": True}, ttl=60)
    with pytest.raises(ValueError):
        await store.counters([bad])
