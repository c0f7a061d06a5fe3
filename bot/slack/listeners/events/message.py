"""Any message in a channel the bot is in: a card in its thread when it holds a JWT or an error text.

Bots (itself included), edits, deletions and joins are ignored. Most messages hold nothing, so the
scan is the cheap part; nothing is posted for them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.slack.deps import Deps

ANSWERED_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})


def should_ignore(event: dict[str, Any], deps: Deps) -> bool:
    return (
        event.get("subtype") not in ANSWERED_SUBTYPES
        or bool(event.get("bot_id"))
        or bool(event.get("bot_profile"))
        or (deps.identity.user_id is not None and event.get("user") == deps.identity.user_id)
        or not event.get("text")
    )


def message_listener(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def message(event: dict[str, Any], body: dict[str, Any]) -> None:
        if should_ignore(event, deps):
            return
        deps.work.submit("message", event=event, event_id=body.get("event_id"), mention=False)

    return message
