"""The jobs of shortcuts: "Diagnose with jwtcheck" on a message (``diagnose_message``).

The message shortcut works on any message, one the bot could not read included: its payload carries the
message's text. The cards go in the message's thread when the bot may post there, otherwise only to the
person who clicked, through the shortcut's ``response_url``.

Why the private answer goes through the ``response_url`` rather than ``chat.postEphemeral``: the outbox
switches plans once (``Delivery.instead``, when the first call is refused with a "cannot post here" code)
and cannot fall back a second time; and where the bot may not post (not in the channel, a direct message
between people) ``chat.postEphemeral`` is refused for the same reasons, while the ``response_url`` takes
up to 5 answers for 30 minutes wherever the shortcut was used. ``chat.postEphemeral`` is the private answer
only when the payload has no ``response_url`` the bot trusts.
"""

from __future__ import annotations

import math
import secrets

from slack_sdk.web.async_client import AsyncWebClient

from bot.chat import bindings
from bot.chat.answer import Place
from bot.config import MESSAGE_TS, USER_ID
from bot.diagnosis import Expectations
from bot.outbox import Call, delivery_id
from bot.slack.answer import (
    MAX_CARDS,
    MAX_EPHEMERAL_CARDS,
    UNDELIVERED,
    deliver_answer,
    message_args,
    post_call,
    respond_call,
)
from bot.slack.deps import Deps
from bot.slack.options import OptionError, Request, parse_request
from bot.slack.sender import trusted_response_url
from bot.slack.text import unescape_slack

NOTHING_IN_IT = "I found no JWT and no known JWT error message in that message."


async def diagnose_message(
    deps: Deps,
    client: AsyncWebClient,
    *,
    team: str,
    channel: str,
    user: str,
    ts: str,
    thread_ts: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> None:
    """The ``diagnose_message`` job: the cards in the message's thread (its thread, or a new one under
    it), or privately to ``user`` when the bot may not post there; one private line when it holds nothing."""
    chat = deps.chat
    private = _Private(trusted_response_url(response_url, deps.slack_api_url), channel, user)
    request_id = delivery_id("shortcut", trigger_id or secrets.token_hex(16))  # one click, one answer
    team = team or deps.identity.team_id or ""
    in_thread = thread_ts if MESSAGE_TS.fullmatch(thread_ts) else ts
    seen = MESSAGE_TS.fullmatch(ts) is not None
    request, judging = await _read(text, deps, team, channel)
    answer = await chat.answer(
        Place(team, channel, in_thread if seen else None),
        request.text,
        judging.expectations,
        judging.keys,
        service=judging.service,
        seen_at=_seconds(ts) if seen else None,  # the message's own ts: when Slack saw the tokens in it
    )
    if not answer.report.diagnoses:
        line = private.line(NOTHING_IN_IT)
        if line is not None:
            await deliver_answer(deps, request_id, (line,))
        return
    # The message is in a channel where others see it: a live token in it gets a warning on the card.
    alone = Place(team, channel, None)
    limit = MAX_EPHEMERAL_CARDS if private.url is not None else MAX_CARDS
    drawn = await chat.make_cards(answer, alone, limit, exposes_tokens=True, ephemeral=True)
    privately = tuple(private.card(m.text, m.blocks) for m, _ in drawn)
    sorry = private.line(UNDELIVERED)
    if not channel or not seen:  # no message to reply to: the answer is the private one
        await deliver_answer(deps, request_id, privately, last_word=sorry)
        return
    thread = Place(team, channel, in_thread)
    messages = await chat.make_cards(answer, thread, MAX_CARDS, exposes_tokens=True, ephemeral=False)
    calls = tuple(post_call(thread, m.text, m.blocks, card_id) for m, card_id in messages)
    await deliver_answer(deps, request_id, calls, instead=privately, last_word=sorry)


class _Private:
    """How to answer only the person who clicked: the shortcut's response_url, else an ephemeral message."""

    def __init__(self, url: str | None, channel: str, user: str) -> None:
        self.url = url
        self._channel = channel
        self._user = user if USER_ID.fullmatch(user) else ""

    def card(self, text: str, blocks: list[dict[str, object]] | None) -> Call:
        if self.url is not None:
            return respond_call(self.url, text, blocks)
        args = message_args(self._channel, text, blocks)
        args["user"] = self._user
        return Call("chat.postEphemeral", args)

    def line(self, text: str) -> Call | None:
        if self.url is not None:
            return respond_call(self.url, text)
        if self._channel and self._user:
            return Call("chat.postEphemeral", {"channel": self._channel, "user": self._user, "text": text})
        return None


async def _read(text: str, deps: Deps, team: str, channel: str) -> tuple[Request, bindings.Judging]:
    """The message's text (Slack's escaping undone) and the options written in it, if they read, judged as
    the channel's binding says; a message was not written for the bot, so options that do not read are
    just text (judged against the binding alone)."""
    chat = deps.chat
    try:
        request = parse_request(text)
        return request, await bindings.for_place(chat.store, chat.services, team, channel, request)
    except OptionError:
        request = Request(unescape_slack(text))
        try:
            return request, await bindings.for_place(chat.store, chat.services, team, channel, request)
        except OptionError:
            return request, bindings.Judging(Expectations(), None, None, None)


def _seconds(ts: str) -> float | None:
    """A Slack ``ts`` (``1795899990.000100``) as epoch seconds on Slack's clock."""
    seconds = float(ts)
    return seconds if math.isfinite(seconds) else None
