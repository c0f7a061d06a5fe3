"""``@jwtcheck …`` in a channel or thread. The same message also arrives as a ``message`` event with
another ``event_id``; the per-message claim in ``answer_message`` makes sure one card is posted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.slack.deps import Deps
from bot.slack.listeners.events.message import should_ignore


def app_mention_listener(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def app_mention(event: dict[str, Any], body: dict[str, Any]) -> None:
        if should_ignore(event, deps):
            return
        deps.work.submit("message", event=event, event_id=body.get("event_id"), mention=True)

    return app_mention
