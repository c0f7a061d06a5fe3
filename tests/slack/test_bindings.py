"""Channel bindings over HTTP: ``/jwtcheck bind|unbind|bindings`` on two replicas sharing Redis, and a bound
channel's tokens judged against its service, in commands and pasted messages alike."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.chat.bindings import bindings_key
from bot.config import ServicesConfig, load_services
from bot.render.blocks import Message, judged_against
from bot.store.base import KEY_PREFIX
from tests.render.test_blocks import assert_slack_limits
from tests.slack.conftest import Bot, BotFactory
from tests.support.redis_dump import everything_in_redis
from tests.support.slack_api import TEAM, MockSlack
from tests.support.slack_requests import message, message_action
from tests.support.tokens import make_token, signature_of

BOUND, QUIET, FILED = "CINCIDENT", "C0QUIET01", "C0ORDERS1"


@pytest.fixture
def services(tmp_path: Path) -> ServicesConfig:
    path = tmp_path / "services.toml"
    path.write_text(
        f'[services.orders]\naudiences = ["orders-api"]\nchannels = ["{FILED}"]\n'
        '[services.billing]\naudiences = ["billing-api"]\n',
        encoding="utf-8",
    )
    return load_services(path)


async def replicas(make_bot: BotFactory, services: ServicesConfig) -> tuple[Bot, Bot]:
    return await make_bot(services=services), await make_bot(services=services)


def said(slack: MockSlack, response: str) -> str:
    [reply] = slack.of(f"response:{response}")
    assert reply.params["response_type"] == "ephemeral"
    text: str = reply.params["text"]
    return text


def cards_in(slack: MockSlack, channel: str) -> list[dict[str, Any]]:
    return [call.params for call in slack.of("chat.postMessage") if call.params["channel"] == channel]


async def test_bind_on_one_replica_unbind_on_the_other_listed_privately(
    make_bot: BotFactory, slack: MockSlack, services: ServicesConfig, redis_raw: Any
) -> None:
    a, b = await replicas(make_bot, services)
    await a.command("bind billing", response="bind")
    await a.settle()
    assert "bound to billing" in said(slack, "bind")
    key = KEY_PREFIX + bindings_key(TEAM)
    assert await redis_raw.hgetall(key) == {BOUND: "billing"} and await redis_raw.ttl(key) == -1  # durable
    await b.command("bindings", response="list")
    await b.settle()
    listed = said(slack, "list")
    assert f"<#{BOUND}> → billing (/jwtcheck bind)" in listed and f"<#{FILED}> → orders (services file)" in listed
    await b.command("unbind", response="unbind")
    await b.settle()  # the unbind is done before the other replica is asked
    await a.command("bindings", response="after", channel=QUIET)
    await a.settle()
    assert "no longer judged against billing" in said(slack, "unbind")
    assert BOUND not in said(slack, "after") and await redis_raw.exists(key) == 0
    assert slack.of("chat.postMessage") == []  # all of it private


async def test_a_bound_channels_commands_and_messages_are_judged_against_its_service_and_no_other(
    make_bot: BotFactory, slack: MockSlack, services: ServicesConfig
) -> None:
    a, b = await replicas(make_bot, services)
    await a.command("bind billing", response="bind")
    await a.settle()
    token = make_token()  # for orders-api: refused by billing, judged on its own elsewhere
    await b.command(token, response="cmd")
    await b.event(message(f"401 with {token}", ts="1795899990.000100"), "Ev1")
    await b.event(message(f"401 with {token}", ts="1795899991.000100", channel=QUIET), "Ev2")
    await b.settle()
    summary, *bound_cards = cards_in(slack, BOUND)
    assert "1 refused" in summary["text"] and len(bound_cards) == 2  # the command's card and the message's
    for card in bound_cards:
        assert judged_against("billing") in card["text"] and judged_against("billing") in json.dumps(card["blocks"])
        assert "Token refused" in card["text"]
        assert_slack_limits(Message(card["text"], card["blocks"]))
    [elsewhere] = cards_in(slack, QUIET)
    assert "judged against" not in elsewhere["text"] and "judged against" not in json.dumps(elsewhere["blocks"])
    assert "Token refused" not in elsewhere["text"]
    assert signature_of(token) not in slack.everything_sent()


async def test_inline_service_or_aud_wins_over_the_binding_for_that_one_diagnosis(
    make_bot: BotFactory, slack: MockSlack, services: ServicesConfig
) -> None:
    bot = await make_bot(services=services)
    await bot.command("bind billing", response="bind")
    await bot.settle()
    await bot.command(f"{make_token()} service=orders private", response="service")
    await bot.command(f"{make_token()} aud=orders-api private", response="aud")
    await bot.settle()
    by_service, by_aud = said(slack, "service"), said(slack, "aud")
    assert judged_against("orders") in by_service and "Token refused" not in by_service
    assert judged_against("billing") in by_aud and "Token refused" not in by_aud  # billing, its audience replaced


async def test_the_services_file_wins_over_a_command(
    make_bot: BotFactory, slack: MockSlack, services: ServicesConfig, redis_raw: Any
) -> None:
    bot = await make_bot(services=services)
    await bot.command("bind billing", response="bind", channel=FILED)
    await bot.command("unbind", response="unbind", channel=FILED)
    await bot.command(f"{make_token()} private", response="cmd", channel=FILED)
    await bot.settle()
    assert said(slack, "bind").startswith("⚠️ the services file binds this channel to orders")
    assert said(slack, "unbind").startswith("⚠️ the services file binds this channel to orders")
    assert judged_against("orders") in said(slack, "cmd")
    assert await redis_raw.exists(KEY_PREFIX + bindings_key(TEAM)) == 0


async def test_an_unknown_service_is_one_line_listing_the_known_ones_never_echoing_a_token(
    make_bot: BotFactory, slack: MockSlack, services: ServicesConfig, redis_raw: Any
) -> None:
    bot = await make_bot(services=services)
    token = make_token()
    await bot.command("bind nope", response="nope")
    await bot.command(f"bind {token}", response="token")
    await bot.command("bind &lt;!channel&gt;", response="ping")
    await bot.settle()
    assert said(slack, "nope") == "⚠️ no service named 'nope' (services: billing, orders)"
    assert said(slack, "token") == said(slack, "ping") == "⚠️ no service named that (services: billing, orders)"
    assert signature_of(token) not in slack.everything_sent() and token.split(".")[0] not in slack.everything_sent()
    assert await redis_raw.exists(KEY_PREFIX + bindings_key(TEAM)) == 0


async def test_without_a_services_file_bind_is_explained(bot: Bot, slack: MockSlack) -> None:
    await bot.command("bind orders")
    await bot.settle()
    assert "no services are configured" in said(slack, "r1")


async def test_who_bound_what_is_logged_once_with_ids_only(
    make_bot: BotFactory, slack: MockSlack, services: ServicesConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = await make_bot(services=services)
    await bot.command("bind billing", response="bind")
    await bot.settle()
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.chat.bindings"]
    assert lines == [f"channel bound: team={TEAM} channel={BOUND} user=UALICE01 service=billing"]
    assert [r.levelno for r in caplog.records if r.name == "bot.chat.bindings"] == [logging.INFO]


async def test_no_signature_anywhere_slack_redis_or_logs(
    make_bot: BotFactory, slack: MockSlack, services: ServicesConfig, redis_raw: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    a, b = await replicas(make_bot, services)
    token = make_token()
    await a.command(f"bind {token}", response="token")
    await a.command(f"bind billing {token}", response="two")
    await a.command("bind billing", response="bind")
    await a.settle()
    await b.event(message(f"401 with {token}", ts="1795899990.000100"), "Ev1")
    await b.command(f"{token} service=billing", response="cmd")
    await b.command("bindings", response="list")
    await b.settle()
    stored = await everything_in_redis(redis_raw, "jwtcheck:*")
    signature = signature_of(token)
    pieces = {signature[i : i + 12] for i in range(len(signature) - 11)}  # the drills' rule: no 12-character piece
    for where in (slack.everything_sent(), stored, caplog.text):
        assert not [piece for piece in pieces if piece in where]


async def test_the_message_shortcut_judges_against_the_channel_s_binding_too(
    make_bot: BotFactory, slack: MockSlack, services: ServicesConfig
) -> None:
    bot = await make_bot(services=services)
    await bot.command("bind billing", response="bind")
    await bot.settle()
    body = message_action(f"401 {make_token()}", response_url=slack.response_url("sc"), channel=BOUND)
    reply = await bot.post(body, "application/x-www-form-urlencoded")
    await bot.settle()
    assert reply.status == 200
    [card] = cards_in(slack, BOUND)
    assert judged_against("billing") in json.dumps(card["blocks"], ensure_ascii=False)
