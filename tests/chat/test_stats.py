"""The Home's figures: diagnoses counted per workspace per day from every answer, read back over 30 days with
the workspace's votes, cached a minute, and unavailable (never partial) while Redis is down."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import redis.asyncio as aioredis

from bot.chat import stats
from bot.chat.answer import Chat, Place
from bot.chat.cards import CardStore
from bot.diagnosis import Expectations
from bot.knowledge import default_knowledge
from bot.render import blocks
from bot.store import MemoryStore, RedisStore, ResilientStore, Store
from bot.store.base import KEY_PREFIX
from tests.support.tokens import NOW, T, claims, make_token

KNOWLEDGE = default_knowledge()
TEAM = "T0STATS01"
TODAY = NOW.date()


class Counting(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.counted: list[tuple[str, dict[str, int]]] = []

    async def count(self, key: str, increments: Mapping[str, int], ttl: int) -> None:
        self.counted.append((key, dict(increments)))
        await super().count(key, increments, ttl)


class Broken(MemoryStore):
    async def count(self, key: str, increments: Mapping[str, int], ttl: int) -> None:
        raise RuntimeError("boom")


def down() -> ResilientStore:
    return ResilientStore(RedisStore("redis://127.0.0.1:1/0", connect_timeout=0.2), MemoryStore())


async def answer(store: Store, text: str, team: str = TEAM) -> None:
    chat = Chat(store, KNOWLEDGE, None, renderer=blocks, clock=lambda: NOW)
    await chat.answer(Place(team, "C1", None), text, Expectations(audiences=("orders-api",)), None)


async def test_an_answer_counts_its_diagnoses_per_cause_in_one_call() -> None:
    store = Counting()
    expired, fine = make_token(claims(exp=T - 3600)), make_token()
    await answer(store, f"{expired} and {fine} and {make_token(claims(aud='billing-api'))}")
    [(key, counts)] = store.counted
    assert key == f"stats:{{{TEAM}}}:20261128"
    assert counts == {"all": 3, "expired": 1, "audience_mismatch": 1, "none": 1}
    await answer(store, "nothing here")  # nothing diagnosed: nothing counted
    await answer(store, expired, team="")  # no workspace known: nothing counted
    assert len(store.counted) == 1


async def test_counting_never_fails_the_answer() -> None:
    await answer(Broken(), make_token(claims(exp=T - 3600)))
    await answer(down(), make_token(claims(exp=T - 3600)))  # Redis down: counted in memory, answered


async def test_a_days_counters_live_31_days_in_redis(redis_store: RedisStore, redis_raw: aioredis.Redis) -> None:
    chat = Chat(redis_store, KNOWLEDGE, None, renderer=blocks, clock=lambda: NOW)
    await chat.answer(Place(TEAM, "C1", None), make_token(claims(exp=T - 3600)), Expectations(), None)
    key = KEY_PREFIX + stats.stats_key(TEAM, TODAY)
    assert await redis_raw.hgetall(key) == {"all": "1", "expired": "1"}
    assert 31 * 24 * 3600 - 60 < await redis_raw.ttl(key) <= 31 * 24 * 3600


async def test_figures_add_up_30_days_with_the_workspaces_votes(
    redis_store: RedisStore, redis_raw: aioredis.Redis
) -> None:
    await redis_store.count(stats.stats_key(TEAM, TODAY), {"all": 3, "expired": 2, "none": 1}, 60)
    await redis_store.count(
        stats.stats_key(TEAM, TODAY - timedelta(days=29)), {"all": 5, "expired": 1, "clock_skew": 4}, 60
    )
    await redis_store.count(stats.stats_key(TEAM, TODAY - timedelta(days=30)), {"expired": 100}, 60)  # too old
    await redis_store.count(stats.stats_key("T0OTHER01", TODAY), {"expired": 7}, 60)  # another workspace
    cards = CardStore(redis_store, KNOWLEDGE)
    await cards.vote(TEAM, "clock_leeway", "U1", "fixed")
    await cards.vote(TEAM, "clock_leeway", "U2", "didnt_help")
    await cards.vote("T0OTHER01", "sync_clocks_ntp", "U1", "fixed")
    found = await stats.figures(redis_store, KNOWLEDGE, TEAM, TODAY)
    assert found.available
    assert found.causes == (("clock_skew", 4), ("expired", 3), ("none", 1))
    assert found.diagnoses == 8 and found.without_cause == 1
    assert {w: dict(c) for w, c in found.votes.items()} == {"clock_leeway": {"didnt_help": 1, "fixed": 1}}
    assert 0 < await redis_raw.ttl(KEY_PREFIX + stats.figures_key(TEAM)) <= 60


async def test_a_burst_of_homes_costs_one_computation() -> None:
    store = MemoryStore()
    await store.count(stats.stats_key(TEAM, TODAY), {"all": 1, "expired": 1}, 60)
    first = await stats.figures(store, KNOWLEDGE, TEAM, TODAY)
    await store.count(stats.stats_key(TEAM, TODAY), {"all": 1, "expired": 1}, 60)
    assert await stats.figures(store, KNOWLEDGE, TEAM, TODAY) == first  # from the cache, for a minute
    await store.release(stats.figures_key(TEAM))
    found = await stats.figures(store, KNOWLEDGE, TEAM, TODAY)
    assert found.diagnoses == 2 and found.causes == (("expired", 2),)


async def test_cached_figures_read_back_as_written_and_damaged_ones_are_recomputed() -> None:
    found = stats.Figures(4, (("expired", 3), ("none", 1)), {"clock_leeway": {"fixed": 2}})
    again = stats.decode(stats.encode(found))
    assert (
        again is not None
        and (again.diagnoses, again.causes) == (4, found.causes)
        and dict(again.votes["clock_leeway"]) == {"fixed": 2}
    )
    damaged: list[Any] = [
        "{",
        '{"v": 99, "diagnoses": 1, "causes": [], "votes": {}}',
        '{"v": 1, "diagnoses": 1, "causes": [["x"]], "votes": {}}',
        '{"v": 1, "causes": [], "votes": {}}',
        "[]",
    ]
    assert [stats.decode(raw) for raw in damaged] == [None] * len(damaged)
    store = MemoryStore()
    await store.set(stats.figures_key(TEAM), "{", 60)
    await store.count(stats.stats_key(TEAM, TODAY), {"expired": 1}, 60)
    assert (await stats.figures(store, KNOWLEDGE, TEAM, TODAY)).causes == (("expired", 1),)


async def test_figures_are_unavailable_while_redis_is_down_never_partial() -> None:
    store = down()
    await store.count(stats.stats_key(TEAM, TODAY), {"expired": 1}, 60)  # lands in memory
    found = await stats.figures(store, KNOWLEDGE, TEAM, TODAY)
    assert found.available is False and found.causes == ()
    assert (await stats.figures(MemoryStore(), KNOWLEDGE, "not a team", TODAY)).available is False
