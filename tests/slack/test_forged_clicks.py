"""A validly signed click still names its channel, message, team and response_url itself: the bot takes
them from the card's stored state (and a response_url only when it is Slack's), so a click cannot
rewrite another message, post a private card to a chosen URL or count a vote in another workspace.
Malformed ids and timestamps end quietly, never in a traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
import redis.asyncio as aioredis

from tests.slack.conftest import Bot
from tests.support.slack_api import TEAM, MockSlack
from tests.support.slack_requests import block_action, message
from tests.support.tokens import T, claims, make_token

TS = "1795899990.000100"


@pytest.fixture
async def attacker() -> AsyncIterator[MockSlack]:
    """A server on another origin than the Web API's: where a forged response_url would point."""
    elsewhere = await MockSlack().start()
    yield elsewhere
    await elsewhere.stop()


def forged(action_id: str, value: str, **changes: Any) -> str:
    """A block_actions payload, signed later as Slack signs, with fields changed after the fact."""
    payload = json.loads(parse_qs(block_action(action_id, value, response_url="x"))["payload"][0])
    for path, new in changes.items():
        target = payload
        *parents, last = path.split("__")
        for key in parents:
            target = target[key]
        target[last] = new
    return urlencode({"payload": json.dumps(payload)})


def button(blocks: list[dict[str, Any]], label: str) -> dict[str, Any]:
    elements = [e for block in blocks if block["type"] == "actions" for e in block["elements"]]
    return next(e for e in elements if e["text"]["text"] == label)


async def skew_card(bot: Bot, slack: MockSlack) -> tuple[str, list[dict[str, Any]]]:
    await bot.event(message(make_token(claims(nbf=T + 70)), ts=TS), "Ev1")
    await bot.settle()
    [card] = slack.of("chat.postMessage")
    return "1795900000.000001", card.params["blocks"]  # the mock's first ts


async def test_a_click_naming_another_channel_message_and_team_changes_the_card_s_own(
    bot: Bot, slack: MockSlack, redis_raw: aioredis.Redis, attacker: MockSlack
) -> None:
    card_ts, blocks = await skew_card(bot, slack)
    vote = button(blocks, "This fixed it")
    body = forged(
        vote["action_id"],
        vote["value"],
        team__id="TOTHER999",
        user__team_id="TOTHER999",
        channel__id="CVICTIM01",
        container__channel_id="CVICTIM01",
        container__message_ts="1700000000.000001",
        response_url=attacker.response_url("steal"),
    )
    reply = await bot.post(body, "application/x-www-form-urlencoded")
    await bot.settle()
    assert reply.status == 200
    [update] = slack.of("chat.update")
    assert update.params["channel"] == "CINCIDENT" and update.params["ts"] == card_ts
    keys = await redis_raw.keys("jwtcheck:votes:*")
    assert keys and all(f"{{{TEAM}}}" in key for key in keys)  # counted in the card's workspace only
    assert attacker.calls == []


async def test_a_private_card_is_redrawn_only_through_slack_s_response_url(
    bot: Bot, slack: MockSlack, attacker: MockSlack
) -> None:
    await bot.command(f"{make_token(claims(nbf=T + 70))} private")
    await bot.settle()
    [card] = [call for call in slack.of("response:r1") if call.params.get("blocks")]
    pyjwt = button(card.params["blocks"], "Show fix: PyJWT")
    await bot.post(
        forged(pyjwt["action_id"], pyjwt["value"], response_url=attacker.response_url("steal")),
        "application/x-www-form-urlencoded",
    )
    await bot.settle()
    assert attacker.calls == []
    await bot.click(pyjwt["action_id"], pyjwt["value"], response="mine", ephemeral=True)
    await bot.settle()
    [redrawn] = slack.of("response:mine")
    assert redrawn.params["replace_original"] is True and "leeway=" in json.dumps(redrawn.params["blocks"])


async def test_malformed_card_ids_and_timestamps_end_quietly(
    bot: Bot, slack: MockSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    _, blocks = await skew_card(bot, slack)
    pyjwt, vote = button(blocks, "Show fix: PyJWT"), button(blocks, "This fixed it")
    card_id = pyjwt["value"].split("|")[0]
    for action, value in (
        (pyjwt, pyjwt["value"].replace(card_id, "ä" * len(card_id))),
        (vote, vote["value"].replace(card_id, "é" * len(card_id))),
        (vote, vote["value"] + "|ä"),
    ):
        reply = await bot.click(action["action_id"], value)
        assert reply.status == 200
    for ts in (12345, None, ["1.2"], {"a": 1}, "nan", "1e400"):
        inner = {**message(f"401 {make_token(claims(exp=T - 7200))}", ts="1.1"), "ts": ts}
        reply = await bot.event(inner, f"Ev{abs(hash(str(ts)))}")
        assert reply.status == 200
    await bot.settle()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_only_slack_s_response_urls_or_the_configured_api_s_host_are_trusted() -> None:
    from bot.slack.sender import trusted_response_url

    api = "http://127.0.0.1:4000/api/"
    for url in ("https://hooks.slack.com/commands/T1/2/x", "https://hooks.slack-gov.com/actions/T1/2/x"):
        assert trusted_response_url(url, None) == url
    assert trusted_response_url("http://127.0.0.1:4000/response/r1", api) is not None
    for url in (
        "http://hooks.slack.com/commands/x",
        "https://hooks.slack.com.evil.test/x",
        "https://evil.test/https://hooks.slack.com/",
        "http://127.0.0.1:4001/response/r1",
        "",
        None,
        42,
    ):
        assert trusted_response_url(url, api) is None
