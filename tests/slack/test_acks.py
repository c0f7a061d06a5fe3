"""Every entry point answers Slack before its work is done: the work runs in the bot's tracked tasks.

The Bolt app runs listeners inline before it answers (``process_before_response``), so a listener that
awaited its work would hold the HTTP answer; here the Web API is made slow and the answer must come
while the work still waits on it.
"""

from __future__ import annotations

from tests.slack.conftest import Bot
from tests.support.slack_api import MockSlack
from tests.support.slack_requests import message
from tests.support.tokens import T, claims, make_token

SLOW = 2.0  # seconds the mock Web API takes over every answer


async def test_a_command_is_acked_while_its_card_is_still_being_posted(bot: Bot, slack: MockSlack) -> None:
    slack.delays.update({"chat.postMessage": SLOW, "chat.postEphemeral": SLOW, "conversations.info": SLOW})
    reply = await bot.command(f"Bearer {make_token(claims(exp=T - 7200))}")
    assert reply.status == 200 and bot.runtime.deps.tasks.in_flight == 1
    await bot.settle()
    assert slack.of("chat.postMessage")


async def test_a_message_event_is_acked_while_its_card_is_still_being_posted(bot: Bot, slack: MockSlack) -> None:
    slack.delays.update({"chat.postMessage": SLOW, "conversations.replies": SLOW})
    reply = await bot.event(message(f"401 with {make_token(claims(exp=T - 7200))}", ts=f"{T}.000100"), "Ev1")
    assert reply.status == 200 and bot.runtime.deps.tasks.in_flight == 1
    await bot.settle()
    assert slack.of("chat.postMessage")
