""" "This fixed it" / "Didn't help": one vote per user per workaround in this workspace; a second click
changes it. The counts show beside the card's rate ("85% · 4 of 5 here")."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.cards import CardGone
from bot.render.blocks import parse_vote_value
from bot.slack.answer import update_card
from bot.slack.deps import Deps
from bot.slack.listeners.actions.gone import card_gone


def vote_listener(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def vote(
        ack: AsyncAck, action: dict[str, Any], body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        parsed = parse_vote_value(str(action.get("value") or ""))
        user = str((body.get("user") or {}).get("id") or "")
        if parsed is not None and user:
            deps.tasks.spawn(_record(deps, client, respond, body, user, *parsed), name="vote")

    return vote


async def _record(
    deps: Deps,
    client: AsyncWebClient,
    respond: AsyncRespond,
    body: dict[str, Any],
    user: str,
    card_id: str,
    workaround_id: str,
    choice: str,
) -> None:
    state = await deps.chat.cards.load(card_id)
    if isinstance(state, CardGone):
        await card_gone(respond, state)
        return
    if workaround_id in state.workaround_ids:
        await deps.chat.cards.vote(state.team, workaround_id, user, choice)
    await update_card(deps, client, respond, state, body)
