"""``/jwtcheck <text> [options]``: ack at once; the answer is the ``command`` job (``answer_command``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.deps import Deps


def jwtcheck_command_listener(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def jwtcheck_command(ack: AsyncAck, command: dict[str, Any], request: AsyncBoltRequest) -> None:
        await ack()
        deps.work.submit("command", command=command, sent_at=_slack_timestamp(request))

    return jwtcheck_command


def _slack_timestamp(request: AsyncBoltRequest) -> float | None:
    """When Slack sent the command, on Slack's clock (whole seconds); None in Socket Mode or if absent."""
    values = request.headers.get("x-slack-request-timestamp") or []
    value = values[0] if values else ""
    return float(value) if value.isdigit() else None
