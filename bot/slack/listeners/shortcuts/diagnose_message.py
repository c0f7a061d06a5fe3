""" "Diagnose with jwtcheck" on any message (a message shortcut, ``callback_id: diagnose_message``): ack at
once; the answer is the ``diagnose_message`` job (``bot.slack.shortcuts``).

The payload carries the message's text, so this works on messages the bot cannot read (a channel it is
not in, a direct message between people) with the ``commands`` scope alone. The trigger_id expires after
3 s and is not used: no modal is opened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.slack.answer import text_of
from bot.slack.deps import Deps

CALLBACK_ID = "diagnose_message"


def diagnose_message_listener(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def diagnose_message(ack: AsyncAck, shortcut: dict[str, Any]) -> None:
        await ack()
        message, user = _field(shortcut, "message"), _field(shortcut, "user")
        deps.work.submit(
            "diagnose_message",
            team=text_of(_field(shortcut, "team").get("id")) or text_of(user.get("team_id")),
            channel=text_of(_field(shortcut, "channel").get("id")),
            user=text_of(user.get("id")),
            ts=text_of(message.get("ts")) or text_of(shortcut.get("message_ts")),
            thread_ts=text_of(message.get("thread_ts")),
            text=text_of(message.get("text")),
            response_url=text_of(shortcut.get("response_url")),
            trigger_id=text_of(shortcut.get("trigger_id")),
        )

    return diagnose_message


def _field(payload: dict[str, Any], name: str) -> dict[str, Any]:
    """An object of the payload; ``{}`` when absent or, in a damaged payload, not an object."""
    value = payload.get(name)
    return value if isinstance(value, dict) else {}
