"""Slack's escaping is undone once, at the edge, on every way text comes in: the core takes text as it is.

The signal is where the core found the token (``position``, kept in the card's state): in the text as
the user typed it (``<&> eyJ…``: 4), not as Slack sent it (``&lt;&amp;&gt; eyJ…``: 14).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.chat.cards import CardState
from bot.slack.text import unescape_slack
from tests.slack.conftest import Bot
from tests.support.slack_api import BOT_USER, MockSlack
from tests.support.slack_requests import message
from tests.support.tokens import T, claims, make_token

TS = "1795899990.000100"
THREAD = "1795899000.000001"
TYPED = "<&> "  # what the user typed before the token; Slack sends it escaped
SENT = "&lt;&amp;&gt; "
TOKEN = make_token(claims(exp=T - 7200))


def test_slack_escapes_are_undone() -> None:
    assert unescape_slack("a &lt;b&gt; &amp;lt;") == "a <b> &lt;"
    assert unescape_slack("no escapes <@U1>") == "no escapes <@U1>"
    assert unescape_slack(SENT) == TYPED


async def position_in(bot: Bot, card: Any) -> int:
    """Where the core found the token of this card, from the card's state in the store."""
    card_id = card.params["blocks"][0]["block_id"].split("-")[1]  # jc-<card id>-r<revision>-head
    state = await bot.runtime.deps.chat.cards.load(card_id)
    assert isinstance(state, CardState)
    return state.diagnosis.position


async def test_a_message(bot: Bot, slack: MockSlack) -> None:
    await bot.event(message(SENT + TOKEN, ts=TS), "Ev1")
    await bot.settle()
    [card] = slack.of("chat.postMessage")
    assert await position_in(bot, card) == len(TYPED)


async def test_a_message_whose_options_do_not_parse(bot: Bot, slack: MockSlack) -> None:
    await bot.event(message(f"{SENT}{TOKEN} leeway=soon", ts=TS), "Ev1")
    await bot.settle()
    [card] = slack.of("chat.postMessage")
    assert await position_in(bot, card) == len(TYPED)


async def test_a_mention(bot: Bot, slack: MockSlack) -> None:
    mention = {**message(f"<@{BOT_USER}> {SENT}{TOKEN}", ts=TS), "type": "app_mention"}
    await bot.event(mention, "EvMention")
    await bot.settle()
    [card] = slack.of("chat.postMessage")
    assert await position_in(bot, card) == len(TYPED)


async def test_a_command(bot: Bot, slack: MockSlack) -> None:
    await bot.command(f"{SENT}{TOKEN} private")
    await bot.settle()
    [card] = slack.of("response:r1")
    assert await position_in(bot, card) == len(TYPED)


async def test_the_messages_of_a_thread(bot: Bot, slack: MockSlack) -> None:
    slack.threads[("CINCIDENT", THREAD)] = [{"user": "UCAROL01", "text": SENT + TOKEN, "ts": THREAD}]
    mention = {**message(f"<@{BOT_USER}> what is wrong here?", ts=TS, thread_ts=THREAD), "type": "app_mention"}
    await bot.event(mention, "EvMention")
    await bot.settle()
    [card] = slack.of("chat.postMessage")
    assert await position_in(bot, card) == len(TYPED)


@pytest.mark.parametrize("value", ["&lt;https://login.acme.test/&gt;", "<https://login.acme.test/>"])
async def test_an_option_value(bot: Bot, slack: MockSlack, value: str) -> None:
    await bot.command(f"{make_token(claims(iss='https://login.acme.test'))} iss={value} private")
    await bot.settle()
    [card] = slack.of("response:r1")
    assert "trailing slash" in str(card.params["blocks"]).lower()
