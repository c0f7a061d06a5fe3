""" "Check a token privately" (a global shortcut, ``callback_id: check_privately``): ack, then open the
private check's modal at once with the shortcut's trigger_id (it expires after 3 s)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.deps import Deps
from bot.slack.private_check import SHORTCUT_ID, open_check

CALLBACK_ID = SHORTCUT_ID


def check_privately_listener(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def check_privately(ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        trigger_id = shortcut.get("trigger_id")
        await open_check(deps, client, trigger_id if isinstance(trigger_id, str) else "")

    return check_privately
