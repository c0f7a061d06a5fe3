"""The private check's form submitted (``view_submission``): answered in the ack itself, with inline errors
or the modal updated with the card (``bot.slack.private_check``). Only the submitter ever sees it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.slack.deps import Deps
from bot.slack.private_check import acked_answer, finish_later


def private_check_listener(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def private_check(ack: AsyncAck, body: dict[str, Any]) -> None:
        answer, slow = await acked_answer(deps, body)
        await ack(**answer)
        view = body.get("view")
        view_id = view.get("id") if isinstance(view, dict) else None
        if slow is not None:
            if isinstance(view_id, str) and view_id:
                deps.tasks.spawn(finish_later(deps, slow, view_id), "private_check")
            else:
                slow.cancel()

    return private_check
