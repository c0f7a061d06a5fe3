"""What a click on a card whose state is gone gets: it expired, or another version of the bot wrote it."""

from __future__ import annotations

from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.chat.cards import CardGone

EXPIRED = "This card is too old to change. Run `/jwtcheck` again for a fresh one."
OTHER_VERSION = (
    "This card was made by another version of jwtcheck and can't be changed. Run `/jwtcheck` again for a fresh one."
)


async def card_gone(respond: AsyncRespond, why: CardGone = CardGone.EXPIRED) -> None:
    text = OTHER_VERSION if why is CardGone.UNREADABLE else EXPIRED
    await respond(text=text, response_type="ephemeral", replace_original=False)
