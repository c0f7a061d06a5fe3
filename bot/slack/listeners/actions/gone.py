"""What a click on a card whose state is gone gets: it expired, or another version of the bot wrote it."""

from __future__ import annotations

import secrets
import time
from typing import Any

from bot.chat.cards import CardGone
from bot.outbox import Call, Delivery, delivery_id
from bot.slack.deps import Deps
from bot.slack.sender import RESPONSE_URL, trusted_response_url

EXPIRED = "This card is too old to change. Run `/jwtcheck` again for a fresh one."
OTHER_VERSION = (
    "This card was made by another version of jwtcheck and can't be changed. Run `/jwtcheck` again for a fresh one."
)


async def card_gone(deps: Deps, body: dict[str, Any], why: CardGone = CardGone.EXPIRED) -> None:
    """Tell the clicker, through the click's response_url when it is Slack's."""
    url = trusted_response_url(body.get("response_url"), deps.slack_api_url)
    if url is None:
        return
    text = OTHER_VERSION if why is CardGone.UNREADABLE else EXPIRED
    trigger = body.get("trigger_id") if isinstance(body.get("trigger_id"), str) else secrets.token_hex(8)
    call = Call(
        RESPONSE_URL, {"url": url, "body": {"text": text, "response_type": "ephemeral", "replace_original": False}}
    )
    await deps.outbox.put(Delivery(delivery_id("gone", str(trigger)), (call,), time.time(), kind="gone"))
