"""MemoryStore: TTLs on a monotonic clock, and a hard size bound."""

from __future__ import annotations

import pytest

from bot.store.memory import MemoryStore


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_value_expires_after_its_ttl(clock: FakeClock) -> None:
    store = MemoryStore(clock=clock)
    await store.set("diag:abc:def", "cached", ttl=10)
    clock.advance(9.9)
    assert await store.get("diag:abc:def") == "cached"
    clock.advance(0.1)
    assert await store.get("diag:abc:def") is None
    assert len(store) == 0


async def test_claim_can_be_taken_again_after_expiry_or_release(clock: FakeClock) -> None:
    store = MemoryStore(clock=clock)
    assert await store.claim("evt:Ev1", ttl=60) is True
    assert await store.claim("evt:Ev1", ttl=60) is False
    clock.advance(60)
    assert await store.claim("evt:Ev1", ttl=60) is True
    await store.release("evt:Ev1")
    assert await store.claim("evt:Ev1", ttl=60) is True


async def test_poll_expires_and_each_vote_refreshes_its_ttl(clock: FakeClock) -> None:
    store = MemoryStore(clock=clock)
    await store.vote("votes:T1:w1", "U1", "up", ttl=100)
    clock.advance(90)
    await store.vote("votes:T1:w1", "U2", "down", ttl=100)
    clock.advance(90)
    assert await store.tally("votes:T1:w1") == {"down": 1, "up": 1}
    clock.advance(10)
    assert await store.tally("votes:T1:w1") == {}


async def test_size_is_bounded_and_the_oldest_write_is_evicted_first(clock: FakeClock) -> None:
    store = MemoryStore(max_entries=3, clock=clock)
    for i in range(3):
        await store.set(f"card:{i}", str(i), ttl=3600)
    await store.set("card:0", "rewritten", ttl=3600)  # a write makes an entry the newest
    await store.set("card:3", "3", ttl=3600)
    assert len(store) == 3
    assert await store.get("card:1") is None
    assert [await store.get(f"card:{i}") for i in (0, 2, 3)] == ["rewritten", "2", "3"]


async def test_expired_entries_are_evicted_before_live_ones(clock: FakeClock) -> None:
    store = MemoryStore(max_entries=3, clock=clock)
    await store.set("card:old", "x", ttl=3600)
    await store.set("card:short", "x", ttl=1)
    await store.set("card:new", "x", ttl=3600)
    clock.advance(2)
    await store.set("card:newest", "x", ttl=3600)
    assert await store.get("card:old") == "x"  # the expired entry made room, not the oldest live one
    assert await store.get("card:short") is None


async def test_many_writes_stay_within_the_bound(clock: FakeClock) -> None:
    store = MemoryStore(max_entries=1000, clock=clock)
    for i in range(20_000):
        await store.claim(f"evt:{i}", ttl=3600)
        clock.advance(0.001)
    assert len(store) == 1000
    assert await store.claim("evt:19999", ttl=3600) is False
    assert await store.claim("evt:0", ttl=3600) is True  # evicted long ago


async def test_close_forgets_everything() -> None:
    store = MemoryStore()
    await store.set("card:1", "x", ttl=60)
    await store.close()
    assert await store.get("card:1") is None


def test_max_entries_must_be_positive() -> None:
    with pytest.raises(ValueError):
        MemoryStore(max_entries=0)


async def test_name_and_state() -> None:
    store = MemoryStore()
    assert (store.name, store.state) == ("memory", "memory")
    assert await store.ping() is True
