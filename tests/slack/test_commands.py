"""/jwtcheck: ack at once, a summary in the channel, the card in its thread; private when asked."""

from __future__ import annotations

import json

from tests.slack.conftest import Bot
from tests.support.slack_api import MockSlack
from tests.support.tokens import T, claims, make_token, signature_of


def card_blocks(call_params: dict[str, object]) -> str:
    return json.dumps(call_params.get("blocks"))


async def test_command_acks_empty_then_posts_a_summary_and_the_card_in_its_thread(bot: Bot, slack: MockSlack) -> None:
    token = make_token(claims(nbf=T + 70))
    reply = await bot.command(f"Bearer {token} aud=orders-api")
    assert reply.status == 200 and reply.text == ""
    await bot.settle()
    summary, card = slack.of("chat.postMessage")
    assert "thread_ts" not in summary.params and "<@UALICE01> ran `/jwtcheck`" in summary.params["text"]
    assert card.params["thread_ts"] == "1795900000.000001"
    assert "Token refused" in card.params["text"]
    assert token not in slack.everything_sent() and signature_of(token) not in slack.everything_sent()


async def test_private_answers_only_the_user_through_response_url(bot: Bot, slack: MockSlack) -> None:
    await bot.command(f"{make_token(claims(exp=T - 7200))} private")
    await bot.settle()
    assert slack.of("chat.postMessage") == []
    [answer] = slack.of("response:r1")
    assert answer.params["response_type"] == "ephemeral" and "blocks" in answer.params


async def test_a_channel_the_bot_is_not_in_gets_a_private_answer(bot: Bot, slack: MockSlack) -> None:
    slack.not_in_channel.add("CSECRET")
    await bot.command(make_token(), channel="CSECRET")
    await bot.settle()
    assert len(slack.of("chat.postMessage")) == 1  # the refused summary attempt, nothing else
    assert slack.of("response:r1")[0].params["response_type"] == "ephemeral"


async def test_help_shows_usage_privately(bot: Bot, slack: MockSlack) -> None:
    await bot.command("?")  # an empty command opens the private check (tests/slack/test_private_check.py)
    await bot.command("help", response="r2")
    await bot.settle()
    for name in ("r1", "r2"):
        [usage] = slack.of(f"response:{name}")
        assert usage.params["response_type"] == "ephemeral" and "Usage" in usage.params["text"]


async def test_nothing_to_diagnose_is_said_privately(bot: Bot, slack: MockSlack) -> None:
    await bot.command("is the api down?")
    await bot.settle()
    assert "no JWT" in slack.of("response:r1")[0].params["text"] and slack.of("chat.postMessage") == []


async def test_a_bad_option_is_one_line_privately(bot: Bot, slack: MockSlack) -> None:
    await bot.command(f"{make_token()} leeway=forever")
    await bot.settle()
    assert slack.of("response:r1")[0].params["text"] == "⚠️ leeway= takes a number of seconds, not 'forever'"
