"""The outbox on a real Redis stream: delivered once and in order, retried, resumed, handed back, taken over,
dead-lettered; and in process memory without Redis. The platform is a recording double of ``Sender``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.outbox import DEAD, GROUP, STREAM, Call, Delivery, Outbox, Refused, Retry
from bot.outbox.delivery import encode
from bot.store import MemoryStore
from bot.store.connect import redis_client

pytestmark = pytest.mark.redis


@dataclass
class Platform:
    """Answers every call in turn with the next planned failure, or a message ``ts``."""

    failures: list[Exception] = field(default_factory=list)
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    attempts: int = 0
    down: set[str] = field(default_factory=set)  # methods that keep failing (503)

    async def send(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        self.attempts += 1
        if method in self.down:
            raise Retry("http_503", after=0.02)
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((method, args))
        return {"ts": f"1.{len(self.sent):06d}", "channel": args.get("channel", "C1")}


def card_delivery(name: str, created: float | None = None, **extra: Any) -> Delivery:
    calls = (
        Call("chat.postMessage", {"channel": "C1", "text": f"{name} summary"}),
        Call("chat.postMessage", {"channel": "C1", "text": f"{name} card"}, thread_of=0, card_id=f"{name}card"),
    )
    return Delivery(name, calls, time.time() if created is None else created, **extra)


@pytest.fixture
async def stream(redis_url: str, redis_raw: aioredis.Redis) -> AsyncIterator[Any]:
    client = redis_client(redis_url, socket_timeout=5)
    yield client
    await client.aclose()


async def started(platform: Platform, redis: Any, **options: Any) -> Outbox:
    outbox = Outbox(platform, MemoryStore(), redis, cannot_post=frozenset({"not_in_channel"}), **options)
    outbox.start()
    return outbox


async def test_a_delivery_is_made_once_in_order_its_cards_in_the_summary_s_thread(stream: Any) -> None:
    platform, placed = Platform(), []

    async def on_posted(card_id: str, channel: str, ts: str) -> None:
        placed.append((card_id, channel, ts))

    outbox = await started(platform, stream, on_posted=on_posted)
    await outbox.put(card_delivery("a"))
    await outbox.idle()
    assert [args["text"] for _, args in platform.sent] == ["a summary", "a card"]
    assert platform.sent[1][1]["thread_ts"] == "1.000001" and placed == [("acard", "C1", "1.000002")]
    assert await stream.xlen(STREAM) == 0 and (await stream.xpending(STREAM, GROUP))["pending"] == 0
    await outbox.close()


async def test_a_rate_limit_and_server_errors_are_retried_and_what_was_made_is_not_made_again(stream: Any) -> None:
    seen: list[tuple[str, str]] = []
    platform = Platform(failures=[Retry("ratelimited", after=0.05)])
    outbox = await started(platform, stream, observe=lambda event, detail: seen.append((event, detail)))
    delivery = card_delivery("b")
    await outbox.put(delivery)
    await outbox.idle()
    # The next summary goes out, then its card meets three 502s in a row: the summary is not posted again.
    second = card_delivery("c")
    real_send = platform.send
    calls = 0

    async def flaky(method: str, args: dict[str, Any]) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls in (2, 3, 4):
            raise Retry("http_502")
        return await real_send(method, args)

    platform.send = flaky  # type: ignore[method-assign]
    await outbox.put(second)
    await outbox.idle()
    texts = [args["text"] for _, args in platform.sent]
    assert texts == ["b summary", "b card", "c summary", "c card"]
    assert ("retry", "ratelimited") in seen and seen.count(("retry", "http_502")) == 3
    await outbox.close()


async def test_a_channel_the_bot_cannot_post_in_gets_the_private_plan(stream: Any) -> None:
    platform = Platform(failures=[Refused("not_in_channel")])
    instead = (Call("response_url", {"url": "https://hooks.slack.com/x", "body": {"text": "private card"}}),)
    outbox = await started(platform, stream)
    await outbox.put(card_delivery("d", instead=instead))
    await outbox.idle()
    assert platform.sent == [("response_url", instead[0].args)]
    await outbox.close()


async def test_an_answer_slack_never_takes_is_dead_lettered_and_its_last_word_sent_once(stream: Any) -> None:
    sorry = Call("response_url", {"url": "https://hooks.slack.com/x", "body": {"text": "sorry"}})
    platform = Platform(down={"chat.postMessage"})
    events: list[str] = []
    outbox = await started(platform, stream, give_up_after=0.05, observe=lambda event, _: events.append(event))
    await outbox.put(card_delivery("e", created=time.time(), last_word=sorry))
    await outbox.idle()
    assert "dead" in events and platform.sent == [("response_url", sorry.args)]
    assert await stream.xlen(DEAD) == 1 and await stream.xlen(STREAM) == 0
    await outbox.close()


async def test_a_stopping_replica_hands_its_entries_back_and_another_delivers_them_once(stream: Any) -> None:
    down = Platform(failures=[Retry("connection_refused", after=60)])
    leaving = await started(down, stream)
    await leaving.put(card_delivery("f"))
    while down.attempts == 0:
        await asyncio.sleep(0.01)
    assert await leaving.close(timeout=1) == 1
    assert await stream.xlen(STREAM) == 1 and (await stream.xpending(STREAM, GROUP))["pending"] == 0
    up = Platform()
    staying = await started(up, stream)
    await staying.idle()
    assert [args["text"] for _, args in up.sent] == ["f summary", "f card"]
    await staying.close()


async def test_the_entries_of_a_replica_that_died_are_taken_over(stream: Any) -> None:
    await stream.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    await stream.xadd(STREAM, {"d": encode(card_delivery("g"))})
    # A replica read it, then died without a word: the entry stays pending under its name.
    await stream.xreadgroup(GROUP, "dead-replica", {STREAM: ">"}, count=1)
    platform = Platform()
    outbox = await started(platform, stream, claim_idle=0.2)
    await outbox.idle(timeout=10)
    assert [args["text"] for _, args in platform.sent] == ["g summary", "g card"]
    await outbox.close()


async def test_an_older_redraw_never_overwrites_a_newer_one(stream: Any) -> None:
    platform = Platform()
    outbox = await started(platform, stream)
    now = time.time()
    for name, created in (("new", now), ("old", now - 1)):
        update = Call("chat.update", {"channel": "C1", "ts": "1.1", "text": name}, overwrites="card:x")
        await outbox.put(Delivery(name, (update,), created))
        await outbox.idle()
    assert [args["text"] for _, args in platform.sent] == ["new"]
    await outbox.close()


async def test_an_entry_this_version_cannot_read_is_dropped_not_retried(stream: Any) -> None:
    await stream.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    await stream.xadd(STREAM, {"d": '{"v": "delivery/99"}'})
    platform = Platform()
    outbox = await started(platform, stream)
    await outbox.idle()
    assert platform.sent == [] and await stream.xlen(STREAM) == 0
    await outbox.close()


async def test_without_redis_answers_wait_and_are_retried_in_process() -> None:
    platform = Platform(failures=[Retry("http_500", after=0.01)])
    events: list[str] = []
    outbox = await started(platform, None, observe=lambda event, _: events.append(event))
    await outbox.put(card_delivery("h"))
    await outbox.idle()
    assert [args["text"] for _, args in platform.sent] == ["h summary", "h card"] and "memory" in events
    await outbox.close()


async def test_an_unreachable_redis_keeps_the_answer_in_process() -> None:
    platform = Platform()
    unreachable = redis_client("redis://127.0.0.1:1/0", connect_timeout=0.2)
    outbox = await started(platform, unreachable)
    await outbox.put(card_delivery("i"))
    await outbox.idle()
    assert [args["text"] for _, args in platform.sent] == ["i summary", "i card"]
    await outbox.close()
    await unreachable.aclose()
