"""Card state in a real Redis: saved in one round trip, read back by any replica, and a state of
another version refused cleanly rather than misread."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.chat.cards import CARD_TTL, CardGone, CardState, CardStore
from bot.diagnosis import Expectations
from bot.diagnosis.leeway import LeewayFigure
from bot.knowledge import default_knowledge
from bot.pipeline import diagnose_text
from bot.render.snippets import Fit
from bot.store import MemoryStore, RedisStore
from bot.store.codec import CARD
from tests.support.tokens import NOW, T, claims, make_token

pytestmark = pytest.mark.redis
KNOWLEDGE = default_knowledge()
LEGACY = json.loads((Path(__file__).parents[1] / "store" / "legacy_cards.json").read_text(encoding="utf-8"))


class Counting(MemoryStore):
    """A store that counts its round trips."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    async def set(self, key: str, value: str, ttl: int) -> None:
        self.calls.append("set")
        await super().set(key, value, ttl)

    async def tallies(self, poll_keys: Any) -> list[dict[str, int]]:
        self.calls.append("tallies")
        return await super().tallies(poll_keys)


def skew_state(**options: Any) -> CardState:
    [diagnosis] = diagnose_text(make_token(claims(nbf=T + 70)), Expectations(), NOW, knowledge=KNOWLEDGE).diagnoses
    return CardState.new("T1", "C1", diagnosis, NOW.timestamp(), thread_ts="1.2", **options)


async def test_a_saved_state_is_read_back_by_another_replica(redis_url: str, redis_store: RedisStore) -> None:
    fit = Fit(LeewayFigure(75, 80, 70), "HS256", "hmac", "orders-api", "https://login.acme.test/", None, "JWT_KEY")
    state = skew_state(live_token_warning=True, clock_note="note", fit=fit)
    await CardStore(redis_store, KNOWLEDGE).save(state)
    other = RedisStore(redis_url)
    try:
        loaded = await CardStore(other, KNOWLEDGE).load(state.card_id)
    finally:
        await other.close()
    assert loaded == state and isinstance(loaded, CardState)
    assert loaded.workaround_ids == [w.id for w in state.diagnosis.workarounds] != []


async def test_a_save_is_one_write_with_the_cards_ttl(redis_store: RedisStore, redis_raw: aioredis.Redis) -> None:
    store = Counting()
    state = skew_state()
    await CardStore(store, KNOWLEDGE).save(state)
    assert store.calls == ["set"]
    await CardStore(redis_store, KNOWLEDGE).save(state)
    key = f"jwtcheck:card:{state.card_id}"
    assert 0 < await redis_raw.ttl(key) <= CARD_TTL
    stored = await redis_raw.get(key)
    assert stored is not None and json.loads(stored)[0] == CARD


async def test_a_state_the_previous_version_wrote_is_read(redis_store: RedisStore, redis_raw: aioredis.Redis) -> None:
    stored = json.loads(LEGACY["skew"])
    await redis_raw.set(f"jwtcheck:card:{stored['card_id']}", LEGACY["skew"], ex=60)
    loaded = await CardStore(redis_store, KNOWLEDGE).load(stored["card_id"])
    assert isinstance(loaded, CardState)
    assert loaded.options.expanded_library == "pyjwt" and loaded.options.revision == 2
    assert loaded.workaround_ids == stored["workaround_ids"]


@pytest.mark.parametrize(
    "stored",
    [
        '["card/2", "0a1b2c3d4e5f6071", "T1", "C1"]',  # a newer version's, during a rollback
        "{not json",
        '{"card_id": "0a1b2c3d4e5f6071", "team": "T1"}',
        LEGACY["validator"],  # another card's state under this id
    ],
)
async def test_a_state_this_version_cannot_read_is_refused_not_misread(
    redis_store: RedisStore, redis_raw: aioredis.Redis, stored: str
) -> None:
    await redis_raw.set("jwtcheck:card:0a1b2c3d4e5f6071", stored, ex=60)
    assert await CardStore(redis_store, KNOWLEDGE).load("0a1b2c3d4e5f6071") is CardGone.UNREADABLE


@pytest.mark.parametrize("card_id", ["0123456789abcdef", "../../etc", "a" * 65, ""])
async def test_no_state_is_an_expired_card(redis_store: RedisStore, card_id: str) -> None:
    assert await CardStore(redis_store, KNOWLEDGE).load(card_id) is CardGone.EXPIRED


async def test_votes_are_per_workspace_and_read_in_one_round_trip(redis_store: RedisStore) -> None:
    cards = CardStore(redis_store, KNOWLEDGE)
    await cards.vote("T1", "clock_leeway", "U1", "fixed")
    await cards.vote("T1", "clock_leeway", "U2", "didnt_help")
    await cards.vote("T2", "clock_leeway", "U1", "fixed")
    assert await cards.votes("T1", ["clock_leeway", "ntp_sync"]) == {
        "clock_leeway": {"didnt_help": 1, "fixed": 1},
        "ntp_sync": {},
    }
    store = Counting()
    await CardStore(store, KNOWLEDGE).votes("T1", ["a", "b", "c"])
    assert store.calls == ["tallies"]


def test_a_click_changes_a_copy() -> None:
    state = skew_state()
    changed = state.with_options(expanded_library="pyjwt", revision=1)
    assert state.options.expanded_library is None and state.options.revision == 0
    assert changed.options.expanded_library == "pyjwt" and changed.card_id == state.card_id
    assert isinstance(changed, CardState)
