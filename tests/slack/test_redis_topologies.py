"""The bot on Redis in its production shapes (our own Cluster, Sentinel and TLS servers): a signed /jwtcheck,
a retried event and a click each answered exactly once, and a Sentinel failover in the middle of a run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.store import ResilientStore
from tests.slack.conftest import Bot, BotFactory
from tests.support import redis_topologies, slack_requests
from tests.support.redis_topologies import SERVICE, Cluster, SentinelSetup, Server, TlsServer, wait_until_async
from tests.support.slack_api import MockSlack
from tests.support.slack_requests import message
from tests.support.tokens import T, claims, make_token, signature_of

pytestmark = pytest.mark.redis
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(params=["cluster", "sentinel", "tls"])
def topology_url(request: pytest.FixtureRequest) -> str:
    """The URL of one of our own topologies, flushed first."""
    if request.param == "cluster":
        cluster: Cluster = request.getfixturevalue("redis_cluster")
        cluster.flush()
        return cluster.url
    if request.param == "sentinel":
        sentinel: SentinelSetup = request.getfixturevalue("redis_sentinel")
        sentinel.flush()
        return sentinel.url
    tls: TlsServer = request.getfixturevalue("redis_tls")
    tls.flush()
    return tls.url()


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [element for block in blocks if block["type"] == "actions" for element in block["elements"]]


def button(blocks: list[dict[str, Any]], label: str) -> dict[str, Any]:
    return next(b for b in buttons(blocks) if b["text"]["text"] == label)


def on_redis(bot: Bot) -> None:
    """The bot's store is the Redis store and is serving from Redis (not from its in-process fallback)."""
    store = bot.runtime.deps.store
    assert isinstance(store, ResilientStore) and store.state == "redis", store.state


async def command_card(bot: Bot, slack: MockSlack, token: str, response: str) -> dict[str, Any]:
    """A signed /jwtcheck (its own trigger id: a command is one delivery per trigger): one summary in the channel
    and one card in its thread. The card's call."""
    posts = len(slack.of("chat.postMessage"))
    body = slack_requests.command(f"Bearer {token} aud=orders-api", slack.response_url(response))
    reply = await bot.post(body.replace("trigger_id=1.2.3", f"trigger_id=1.2.{response}"), FORM)
    assert reply.status == 200 and reply.text == ""
    await bot.settle()
    summary, card = slack.of("chat.postMessage")[posts:]
    assert "thread_ts" not in summary.params and "ran `/jwtcheck`" in summary.params["text"]
    assert card.params["thread_ts"] and "Token refused" in card.params["text"]
    return card.params


async def test_a_command_a_retried_event_and_a_click_are_each_answered_once(
    topology_url: str, make_bot: BotFactory, slack: MockSlack
) -> None:
    poster, clicker = await make_bot(redis_url=topology_url), await make_bot(redis_url=topology_url)
    token = make_token(claims(nbf=T + 70))
    card = await command_card(poster, slack, token, "r1")

    # A pasted token delivered twice (Slack's retry), once to each replica: one card.
    pasted = make_token(claims(exp=T - 7200))
    for bot in (poster, clicker):
        await bot.event(message(pasted, ts="1795899990.000100"), "EvRetried")
        await bot.settle()
    assert len(slack.of("chat.postMessage")) == 3

    # The card's state is in the shared Redis: the other replica takes the click.
    pyjwt = button(card["blocks"], "Show fix: PyJWT")
    reply = await clicker.click(pyjwt["action_id"], pyjwt["value"], message_ts="1795900000.000002")
    assert reply.status == 200
    await clicker.settle()
    [update] = slack.of("chat.update")
    assert "leeway=" in json.dumps(update.params["blocks"])

    for bot in (poster, clicker):
        on_redis(bot)
    sent = slack.everything_sent()
    assert signature_of(token) not in sent and signature_of(pasted) not in sent


async def test_a_sentinel_failover_between_commands_delivers_every_card_once(
    redis_sentinel: SentinelSetup, make_bot: BotFactory, slack: MockSlack
) -> None:
    redis_sentinel.flush()
    bot = await make_bot(redis_url=redis_sentinel.url)
    before = await command_card(bot, slack, make_token(claims(nbf=T + 70)), "r1")
    first = make_token(claims(exp=T - 7200))
    await bot.event(message(first, ts="1795899990.000100"), "EvBefore")
    await bot.settle()
    assert len(slack.of("chat.postMessage")) == 3
    on_redis(bot)

    # Every write so far is on the replica (replication is asynchronous; a real failover may lose the last
    # ones, which is Redis's trade-off, not what this test is about), then the Sentinel promotes it.
    with redis_sentinel.sentinel.client() as sentinel:
        _, old_port = sentinel.sentinel_get_master_addr_by_name(SERVICE)
    async with aioredis.Redis(port=int(old_port)) as old_primary:
        assert await old_primary.wait(1, 5000) == 1
    new_port = await redis_sentinel.failover()
    assert new_port != int(old_port)

    # A readiness probe after the failover: the store may degrade for a moment, then finds the new primary.
    async def redis_up() -> bool:
        status, body = await bot.get("/healthz")
        return status == 200 and json.loads(body)["redis"] == "up"

    await wait_until_async("the bot's Redis after the failover", redis_up)
    on_redis(bot)

    after = await command_card(bot, slack, make_token(claims(nbf=T + 90)), "r2")
    assert after["thread_ts"]
    await bot.event(message(first, ts="1795899990.000100"), "EvBefore")  # Slack retries the delivery from before
    await bot.settle()
    assert len(slack.of("chat.postMessage")) == 5  # two summaries and three cards, each once

    pyjwt = button(before["blocks"], "Show fix: PyJWT")  # a card posted before the failover takes a click
    await bot.click(pyjwt["action_id"], pyjwt["value"], message_ts="1795900000.000002")
    await bot.settle()
    [update] = slack.of("chat.update")
    assert "leeway=" in json.dumps(update.params["blocks"])
    on_redis(bot)
    async with aioredis.Redis(port=new_port, decode_responses=True) as primary:
        assert (await primary.info("replication"))["role"] == "master"
        assert [key async for key in primary.scan_iter("jwtcheck:card:*")]


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[Server]:
    """A redis-server of our own, to fill up."""
    redis_topologies.require()
    server = Server(tmp_path / "redis", redis_topologies.free_port(), []).start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


async def test_out_of_memory_loses_no_answer_and_health_says_redis_is_down(
    own_redis: Server, make_bot: BotFactory, slack: MockSlack
) -> None:
    bot = await make_bot(redis_url=f"redis://127.0.0.1:{own_redis.port}/0")
    await command_card(bot, slack, make_token(claims(nbf=T + 70)), "r0")
    async with aioredis.Redis(port=own_redis.port) as admin:
        await admin.config_set("maxmemory-policy", "noeviction")
        await admin.config_set("maxmemory", "1")
    for n in range(1, 6):
        await command_card(bot, slack, make_token(claims(nbf=T + 70 + n)), f"r{n}")
    assert len(slack.of("chat.postMessage")) == 12  # six summaries, six cards: every answer delivered
    status, body = await bot.get("/healthz")
    assert status == 200 and json.loads(body)["redis"] == "down"
    assert "jwtcheck_redis_up 0.0" in (await bot.get("/metrics"))[1]
    store = bot.runtime.deps.store
    assert isinstance(store, ResilientStore) and store.degraded and store.last_failure == "OOM"
