"""The Slack side of the work done after the ack: read the payload, ask ``bot.chat`` for the answer, and
post it with the Web API (in the thread, in the channel, or only to the asker through ``respond``).

Listeners stay thin: they ack, read the payload, and hand one of these coroutines to the task tracker.
What is not Slack's (diagnosing, the clock book, the cards' state and rendering) is in ``bot.chat``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.answer import Answer, Place
from bot.chat.cards import CardState
from bot.chat.claims import event_key, message_key
from bot.diagnosis import Expectations
from bot.render.blocks import render_summary_line
from bot.render.mrkdwn import escape
from bot.slack.deps import Deps
from bot.slack.options import OptionError, Request, parse_request
from bot.slack.text import unescape_slack

log = logging.getLogger(__name__)
MAX_CARDS = 5
MAX_EPHEMERAL_CARDS = 4  # a response_url takes 5 responses: 4 cards and a summary
THREAD_MESSAGES = 100
CANNOT_POST = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "restricted_action",
        "cannot_reply_to_message",
        "ekm_access_denied",
        "team_access_not_granted",
    }
)
USAGE = (
    "*Usage:* `/jwtcheck <token, Authorization header, curl line or error text> "
    "[aud=… iss=… alg=… require=… leeway=… service=…] [private]`\n"
    "I say which claim failed and why, what fixes it and what not to bother with. "
    "The signature is never shown or stored. Add `private` to see the answer only yourself.\n"
    "`/jwtcheck probe [service]` reads that service's clock from its probe_url.\n"
    "In a channel, mention me in a thread with a token or an error line, or just paste one."
)
NOTHING_HERE = (
    "I found no JWT and no known JWT error message here. Paste the token, the `Authorization` "
    "header or the error line, or try `/jwtcheck help`."
)
Respond = Callable[..., Awaitable[Any]]
T = TypeVar("T")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")


async def answer_message(
    deps: Deps, client: AsyncWebClient, event: dict[str, Any], *, event_id: str | None, mention: bool
) -> None:
    """A channel message or a mention: the cards go in the message's thread, once per message."""
    channel, ts = str(event.get("channel", "")), str(event.get("ts", ""))
    if not channel or not ts:
        return
    chat = deps.chat
    place = Place(str(event.get("team") or deps.identity.team_id or ""), channel, str(event.get("thread_ts") or ts))
    try:
        request = parse_request(str(event.get("text") or ""))
        expectations = request.expectations(chat.services)
        keys = request.keys(chat.services)
    except OptionError as problem:
        request, expectations, keys = Request(unescape_slack(str(event.get("text") or ""))), Expectations(), None
        if mention:
            await _post_text(deps, client, place, f"⚠️ {escape(str(problem))}")
            return
    thread_ts = str(event.get("thread_ts") or "")

    async def thread() -> list[tuple[str, float]]:
        return await _thread_messages(deps, client, channel, thread_ts)

    answer = await chat.answer(
        place,
        request.text,
        expectations,
        keys,
        service=request.service,
        seen_at=_seconds(ts),
        thread=thread if mention and thread_ts else None,
    )
    if not answer.report.diagnoses and not mention:
        return  # an ordinary message: no reply
    claims = ([event_key(event_id)] if event_id else []) + [message_key(channel, ts)]
    if not await chat.claims.begin(*claims):
        return  # another delivery of this event, or the twin app_mention/message event, has it
    try:
        if answer.report.diagnoses:
            await post_cards(deps, client, place, answer, exposes_tokens=True)
        else:
            await _post_text(deps, client, place, NOTHING_HERE)
    except BaseException:
        await chat.claims.abandon(*claims)
        raise
    await chat.claims.finish(*claims)


async def answer_command(
    deps: Deps, client: AsyncWebClient, respond: Respond, command: dict[str, Any], sent_at: float | None = None
) -> None:
    """``/jwtcheck``: a short summary in the channel and the cards in its thread; ephemeral when asked or
    when the bot cannot post there. The command text is never echoed."""
    chat = deps.chat
    try:
        request = parse_request(str(command.get("text") or ""))
        if request.wants_help:
            await respond(text=USAGE, response_type="ephemeral")
            return
        if request.text.split(maxsplit=1)[:1] == ["probe"]:
            await answer_probe(deps, respond, request)
            return
        expectations = request.expectations(chat.services)
        keys = request.keys(chat.services)
    except OptionError as problem:
        await respond(text=f"⚠️ {escape(str(problem))}", response_type="ephemeral")
        return
    team, channel = str(command.get("team_id", "")), str(command.get("channel_id", ""))
    # Slack's request timestamp (whole seconds on Slack's clock) is when the command was seen.
    answer = await chat.answer(
        Place(team, channel, None),
        request.text,
        expectations,
        keys,
        service=request.service,
        seen_at=sent_at,
        seen_resolution=1.0,
    )
    report = answer.report
    if not report.diagnoses:
        await respond(text=NOTHING_HERE, response_type="ephemeral")
        return
    if not request.private:
        user = str(command.get("user_id", ""))
        asked = f"<@{user}> ran `/jwtcheck`: " if _USER_ID.match(user) else "`/jwtcheck`: "
        try:
            summary = await _slack(
                deps,
                "chat.postMessage",
                client.chat_postMessage(
                    channel=channel, text=asked + render_summary_line(report), unfurl_links=False, unfurl_media=False
                ),
            )
        except SlackApiError as failure:
            if _error_code(failure) not in CANNOT_POST:
                raise
            log.info("cannot post in the channel: answering privately")
        else:
            place = Place(team, str(summary.get("channel") or channel), str(summary["ts"]))
            await post_cards(deps, client, place, answer, exposes_tokens=False)
            return
    await post_ephemeral_cards(deps, respond, Place(team, channel, None), answer)


async def answer_probe(deps: Deps, respond: Respond, request: Request) -> None:
    """``/jwtcheck probe [service]``: read the service's clock now, from its probe_url's Date header."""
    words = request.text.split()
    service = deps.chat.probed_service(words[1] if len(words) > 1 else request.service)
    if service is None:
        known = deps.chat.probed_services()
        hint = f" Services with one: {', '.join(known)}." if known else ""
        await respond(text=escape(f"⚠️ No probe_url is configured for that service.{hint}"), response_type="ephemeral")
        return
    await respond(text=f"🕒 {escape(await deps.chat.probe(service))}", response_type="ephemeral")


async def post_cards(deps: Deps, client: AsyncWebClient, place: Place, answer: Answer, *, exposes_tokens: bool) -> None:
    messages = await deps.chat.make_cards(answer, place, MAX_CARDS, exposes_tokens=exposes_tokens, ephemeral=False)
    for message in messages:
        await _slack(
            deps,
            "chat.postMessage",
            client.chat_postMessage(
                channel=place.channel,
                thread_ts=place.thread_ts,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
            ),
        )
        deps.metrics.cards.labels("posted").inc()


async def post_ephemeral_cards(deps: Deps, respond: Respond, place: Place, answer: Answer) -> None:
    for message in await deps.chat.make_cards(answer, place, MAX_EPHEMERAL_CARDS, exposes_tokens=False, ephemeral=True):
        await respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False)
        deps.metrics.cards.labels("ephemeral").inc()


async def update_card(
    deps: Deps, client: AsyncWebClient, respond: Respond, state: CardState, body: dict[str, Any]
) -> None:
    """Re-render a card after a click: ``chat.update`` of the bot's own message, or the click's
    ``response_url`` for an ephemeral card."""
    state, message = await deps.chat.redraw(state)
    if state.options.ephemeral:
        await respond(text=message.text, blocks=message.blocks, replace_original=True)
    else:
        channel = (body.get("channel") or {}).get("id") or state.channel
        ts = str((body.get("container") or {}).get("message_ts") or (body.get("message") or {}).get("ts") or state.ts)
        await _slack(
            deps, "chat.update", client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)
        )
    deps.metrics.cards.labels("updated").inc()


async def _thread_messages(deps: Deps, client: AsyncWebClient, channel: str, thread_ts: str) -> list[tuple[str, float]]:
    """The thread's messages (not the bot's), unescaped, with the instant Slack stamped each: for a mention
    that holds no token itself."""
    try:
        replies = await _slack(
            deps,
            "conversations.replies",
            client.conversations_replies(channel=channel, ts=thread_ts, limit=THREAD_MESSAGES),
        )
    except SlackApiError:
        return []
    return [
        (unescape_slack(str(message.get("text") or "")), _seconds(str(message.get("ts") or thread_ts)))
        for message in replies.get("messages") or []
        if not message.get("bot_id") and message.get("user") != deps.identity.user_id
    ]


def _seconds(ts: str) -> float:
    """A Slack ``ts`` (``1795899990.000100``) as epoch seconds on Slack's clock."""
    try:
        return float(ts)
    except ValueError:
        return 0.0


async def _post_text(deps: Deps, client: AsyncWebClient, place: Place, text: str) -> None:
    await _slack(
        deps,
        "chat.postMessage",
        client.chat_postMessage(
            channel=place.channel, thread_ts=place.thread_ts, text=text, unfurl_links=False, unfurl_media=False
        ),
    )


async def _slack(deps: Deps, method: str, call: Awaitable[T]) -> T:
    """A Web API call whose failure is counted and logged (its error code only) before it propagates."""
    try:
        return await call
    except SlackApiError as failure:
        _count_error(deps, method, _error_code(failure))
        raise


def _error_code(failure: SlackApiError) -> str:
    response = failure.response
    data = getattr(response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    return str(error or f"http_{getattr(response, 'status_code', 'unknown')}")[:64]


def _count_error(deps: Deps, method: str, error: str) -> None:
    deps.metrics.slack_errors.labels(method, error).inc()
    log.warning("Slack %s failed: %s", method, error)
