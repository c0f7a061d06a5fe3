"""Through Slack (real Redis, the fake Web API): the source card's own headline pasted in a channel gets the
triage card, and an opaque token gets its own card, its value in no message, log record or Redis value."""

from __future__ import annotations

import json
import logging

import pytest
import redis.asyncio as aioredis

from tests.slack.conftest import Bot
from tests.support.redis_dump import everything_in_redis
from tests.support.slack_api import MockSlack
from tests.support.slack_requests import message

TS = "1795899990.000100"
OPAQUE = "2YotnFZFEjr1zCsicMWpAA"


async def test_the_seed_headline_in_a_channel_gets_the_triage_card(bot: Bot, slack: MockSlack) -> None:
    await bot.event(message("orders-api: 401 Unauthorized: JWT claims validation failed", ts=TS), "Ev1")
    await bot.settle()
    [card] = slack.of("chat.postMessage")
    assert card.params["thread_ts"] == TS
    assert card.params["text"].startswith("⛔ JWT refused, no claim named: first check Audience (aud) mismatch")
    blocks = json.dumps(card.params["blocks"], ensure_ascii=False)
    assert "*Next steps*" in blocks and "logging.level.org.springframework.security=TRACE" in blocks
    assert "/jwtcheck &lt;token&gt; private" in blocks and "pbpaste | jwtcheck" in blocks
    assert "Make aud and iss match what the API expects" in blocks and "*90%*" in blocks


async def test_an_opaque_token_in_a_channel_is_called_opaque_and_never_repeated(
    bot: Bot, slack: MockSlack, redis_raw: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    text = f"getting 401s with curl -H 'Authorization: Bearer {OPAQUE}' https://api.acme.test/orders"
    await bot.event(message(text, ts=TS), "Ev1")
    await bot.settle()
    [card] = slack.of("chat.postMessage")
    assert card.params["text"] == "⚠️ Token can't be checked: Opaque access token, not a JWT: no claims to read"
    assert "2Yot… (22 chars)" in json.dumps(card.params["blocks"], ensure_ascii=False)
    stored = await everything_in_redis(redis_raw)
    assert "jwtcheck:card:" in stored  # the card's state was saved
    for where in (slack.everything_sent(), stored, caplog.text):
        assert OPAQUE not in where and OPAQUE[4:] not in where
