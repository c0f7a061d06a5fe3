"""What a click on a card whose state has expired gets."""

from __future__ import annotations

from slack_bolt.context.respond.async_respond import AsyncRespond

EXPIRED = "This card is too old to change. Run `/jwtcheck` again for a fresh one."


async def card_expired(respond: AsyncRespond) -> None:
    await respond(text=EXPIRED, response_type="ephemeral", replace_original=False)
