"""The message shortcut "Diagnose with jwtcheck": ack at once, the card in the message's thread, or only
to the clicker when the bot may not post there; one private line when the message holds nothing."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bot.slack.shortcuts import NOTHING_IN_IT
from tests.slack.conftest import Bot, Reply
from tests.support.redis_dump import everything_in_redis
from tests.support.slack_api import MockSlack
from tests.support.slack_requests import message_action
from tests.support.tokens import T, claims, make_token, signature_of

TS = "1795899990.000100"
FORM = "application/x-www-form-urlencoded"


async def shortcut(bot: Bot, text: str | None, *, response: str = "sc", **extra: object) -> Reply:
    body = message_action(text, response_url=bot.slack.response_url(response), **extra)  # type: ignore[arg-type]
    return await bot.post(body, FORM)


@pytest.fixture
async def attacker() -> AsyncIterator[MockSlack]:
    """A server on another origin than the Web API's: where a forged response_url would point."""
    elsewhere = await MockSlack().start()
    yield elsewhere
    await elsewhere.stop()


async def test_a_token_in_a_channel_the_bot_is_in_gets_one_card_in_the_message_s_thread(
    bot: Bot, slack: MockSlack
) -> None:
    token = make_token(claims(nbf=T + 70))
    reply = await shortcut(bot, f"prod says 401 for {token}")
    assert reply.status == 200 and reply.text == ""
    await bot.settle()
    [card] = slack.of("chat.postMessage")
    assert card.params["channel"] == "CINCIDENT" and card.params["thread_ts"] == TS
    assert "Token refused" in card.params["text"] and card.params["blocks"]
    assert [c for c in slack.calls if c.method.startswith("response:")] == []
    assert slack.of("chat.postEphemeral") == []


async def test_a_message_in_a_thread_gets_the_card_in_that_thread(bot: Bot, slack: MockSlack) -> None:
    await shortcut(bot, make_token(claims(exp=T - 7200)), ts="1795899995.000200", thread_ts=TS)
    await bot.settle()
    [card] = slack.of("chat.postMessage")
    assert card.params["thread_ts"] == TS


async def test_a_channel_the_bot_cannot_post_in_gets_the_answer_privately(bot: Bot, slack: MockSlack) -> None:
    slack.not_in_channel.add("CSECRET")
    token = make_token(claims(exp=T - 7200))
    await shortcut(bot, token, channel="CSECRET")
    await bot.settle()
    assert len(slack.of("chat.postMessage")) == 1  # the refused attempt in the thread, nothing else
    answers = slack.of("response:sc")
    assert answers and all(a.params["response_type"] == "ephemeral" for a in answers)
    assert "blocks" in answers[0].params and answers[0].params["replace_original"] is False
    assert slack.of("chat.postEphemeral") == []


async def test_many_tokens_privately_stay_within_the_response_url_s_five_answers(bot: Bot, slack: MockSlack) -> None:
    slack.not_in_channel.add("CSECRET")
    await shortcut(bot, " ".join(make_token(claims(exp=T - 7200 - i)) for i in range(7)), channel="CSECRET")
    await bot.settle()
    *cards, summary = slack.of("response:sc")
    assert len(cards) == 4 and all("blocks" in card.params for card in cards)
    assert "3 tokens" in summary.params["text"]


async def test_a_message_with_nothing_to_diagnose_gets_one_private_line(bot: Bot, slack: MockSlack) -> None:
    await shortcut(bot, "is the api down? &lt;@here&gt;")
    await shortcut(bot, None, response="empty", trigger_id="2.3.4")  # a message of blocks or files only
    await bot.settle()
    assert slack.of("chat.postMessage") == []
    for name in ("sc", "empty"):
        [line] = slack.of(f"response:{name}")
        assert line.params == {"text": NOTHING_IN_IT, "response_type": "ephemeral", "replace_original": False}


async def test_escaped_text_is_read_as_written(bot: Bot, slack: MockSlack) -> None:
    token = make_token(claims(exp=T - 7200))
    await shortcut(bot, f"curl -H 'Authorization: Bearer {token}' &lt;https://api.acme.test/orders&gt; &amp;&amp; echo")
    await bot.settle()
    [card] = slack.of("chat.postMessage")
    assert "expired" in card.params["text"].lower()


async def test_without_a_trusted_response_url_the_private_line_is_an_ephemeral_message(
    bot: Bot, slack: MockSlack, attacker: MockSlack
) -> None:
    body = message_action("nothing here", response_url=attacker.response_url("steal"))
    await bot.post(body, FORM)
    await bot.settle()
    [line] = slack.of("chat.postEphemeral")
    assert line.params == {"channel": "CINCIDENT", "user": "UBOB0001", "text": NOTHING_IN_IT}
    assert attacker.calls == []


async def test_no_signature_reaches_slack_redis_or_the_logs(
    bot: Bot, slack: MockSlack, redis_raw: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slack.not_in_channel.add("CSECRET")
    token = make_token(claims(nbf=T + 70))
    await shortcut(bot, f"Bearer {token}")
    await shortcut(bot, f"Bearer {token}", channel="CSECRET", response="private", trigger_id="2.3.4")
    await bot.settle()
    assert slack.of("chat.postMessage") and slack.of("response:private")
    sent = slack.everything_sent()
    assert token not in sent and signature_of(token) not in sent
    assert signature_of(token) not in await everything_in_redis(redis_raw)
    logged = caplog.text + "".join(str(r.exc_info or "") for r in caplog.records)
    assert signature_of(token) not in logged
