"""``/jwtcheck <text> [options]``: ack at once, answer from a tracked task."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.answer import answer_command
from bot.slack.deps import Deps


def jwtcheck_command_listener(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def jwtcheck_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond,
                               client: AsyncWebClient) -> None:
        await ack()
        deps.tasks.spawn(answer_command(deps, client, respond, command), name="command")

    return jwtcheck_command
