"""``/jwtcheck <text> [options]``: ack at once; the answer is the ``command`` job (``answer_command``).

``/jwtcheck`` with no text opens the private check's modal right after the ack (its trigger_id lives 3 s);
``/jwtcheck help`` still answers with the usage, and so does an empty command when the modal cannot open."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.deps import Deps
from bot.slack.private_check import open_check


def jwtcheck_command_listener(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def jwtcheck_command(
        ack: AsyncAck, command: dict[str, Any], request: AsyncBoltRequest, client: AsyncWebClient
    ) -> None:
        await ack()
        text, trigger_id = command.get("text"), command.get("trigger_id")
        empty = not (isinstance(text, str) and text.strip())
        if empty and isinstance(trigger_id, str) and await open_check(deps, client, trigger_id):
            return
        deps.work.submit("command", command=command, sent_at=_slack_timestamp(request))

    return jwtcheck_command


def _slack_timestamp(request: AsyncBoltRequest) -> float | None:
    """When Slack sent the command, on Slack's clock (whole seconds); None in Socket Mode or if absent."""
    values = request.headers.get("x-slack-request-timestamp") or []
    value = values[0] if values else ""
    return float(value) if value.isdigit() else None
