"""At-most-once work per delivery: every key claimed or none, kept a day once done, freed on failure."""

from __future__ import annotations

from bot.chat.claims import Claims, event_key, message_key
from bot.store import MemoryStore


async def test_a_delivery_is_claimed_once_and_a_failed_one_can_be_retried() -> None:
    store = MemoryStore()
    claims = Claims(store)
    keys = (event_key("Ev1"), message_key("C1", "1.2"))
    assert await claims.begin(*keys)
    assert not await claims.begin(event_key("Ev2"), message_key("C1", "1.2"))  # the twin event
    assert await store.get(event_key("Ev2")) is None  # all or nothing
    await claims.abandon(*keys)
    assert await claims.begin(*keys)
    await claims.finish(*keys)
    assert not await claims.begin(*keys) and await store.get(keys[0]) == "done"
