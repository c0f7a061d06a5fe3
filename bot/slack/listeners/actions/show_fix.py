""" "Show fix: <library>", or a stack picked in the card's "Other stacks…" select: expand the card
in place with that library's snippets (click the button again to fold)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.cards import CardGone
from bot.render.blocks import parse_show_fix_value
from bot.slack.answer import update_card
from bot.slack.deps import Deps
from bot.slack.listeners.actions.gone import card_gone


def show_fix_listener(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def show_fix(ack: AsyncAck, action: dict[str, Any], body: dict[str, Any]) -> None:
        await ack()
        picked = action.get("selected_option")  # the select of the other stacks
        value = picked.get("value") if isinstance(picked, dict) else action.get("value")
        parsed = parse_show_fix_value(str(value or ""))
        if parsed is not None:
            card_id, library = parsed
            deps.work.submit("show_fix", body=body, card_id=card_id, library=library)

    return show_fix


async def expand_fix(deps: Deps, client: AsyncWebClient, body: dict[str, Any], card_id: str, library: str) -> None:
    """The ``show_fix`` job."""
    state = await deps.chat.cards.load(card_id)
    if isinstance(state, CardGone):
        await card_gone(deps, body, state)
        return
    expanded = None if state.options.expanded_library == library else library
    await update_card(deps, state.with_options(expanded_library=expanded), body)
