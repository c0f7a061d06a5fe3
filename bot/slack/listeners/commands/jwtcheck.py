"""``/jwtcheck <text> [options]``: ack at once, answer from a tracked task."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.answer import answer_command
from bot.slack.deps import Deps


def jwtcheck_command_listener(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def jwtcheck_command(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, request: AsyncBoltRequest
    ) -> None:
        await ack()
        deps.tasks.spawn(answer_command(deps, client, command, sent_at=_slack_timestamp(request)), name="command")

    return jwtcheck_command


def _slack_timestamp(request: AsyncBoltRequest) -> float | None:
    """When Slack sent the command, on Slack's clock (whole seconds); None in Socket Mode or if absent."""
    values = request.headers.get("x-slack-request-timestamp") or []
    value = values[0] if values else ""
    return float(value) if value.isdigit() else None
