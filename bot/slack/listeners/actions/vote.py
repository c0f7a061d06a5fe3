""" "This fixed it" / "Didn't help": one vote per user per workaround in this workspace; a second click
changes it. The counts show beside the card's rate ("85% · 4 of 5 here"). The workspace is the card's own
(from its stored state), never the click's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.cards import CardGone
from bot.config import USER_ID
from bot.render.blocks import parse_vote_value
from bot.slack.answer import update_card
from bot.slack.deps import Deps
from bot.slack.listeners.actions.gone import card_gone


def vote_listener(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def vote(ack: AsyncAck, action: dict[str, Any], body: dict[str, Any]) -> None:
        await ack()
        parsed = parse_vote_value(str(action.get("value") or ""))
        user = body.get("user")
        user_id = user.get("id") if isinstance(user, dict) else None
        user_id = user_id if isinstance(user_id, str) else ""
        if parsed is not None and USER_ID.fullmatch(user_id):
            card_id, workaround_id, choice = parsed
            deps.work.submit(
                "vote", body=body, user=user_id, card_id=card_id, workaround_id=workaround_id, choice=choice
            )

    return vote


async def record_vote(
    deps: Deps, client: AsyncWebClient, body: dict[str, Any], user: str, card_id: str, workaround_id: str, choice: str
) -> None:
    """The ``vote`` job."""
    state = await deps.chat.cards.load(card_id)
    if isinstance(state, CardGone):
        await card_gone(deps, body, state)
        return
    if workaround_id in state.workaround_ids:
        await deps.chat.cards.vote(state.team, workaround_id, user, choice)
    await update_card(deps, state, body)
