"""App Home's "Check a token privately" button (``action_id: open_private_check``): ack, then open the
private check's modal with the click's trigger_id (it expires after 3 s)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.deps import Deps
from bot.slack.private_check import OPEN_ACTION_ID, open_check

ACTION_ID = OPEN_ACTION_ID


def open_private_check_listener(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def open_private_check(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        trigger_id = body.get("trigger_id")
        await open_check(deps, client, trigger_id if isinstance(trigger_id, str) else "")

    return open_private_check
