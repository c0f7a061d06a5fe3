"""The Slack side of the work done after the ack: read the payload, ask ``bot.chat`` for the answer, and
put what to post in the outbox (``bot.outbox``), which delivers it: in the thread, in the channel, or only
to the asker through the ``response_url``.

Listeners stay thin: they ack, read the payload, and submit it as a job (``deps.work``); these are the jobs.
What is not Slack's (diagnosing, the clock book, the cards' state and rendering) is in ``bot.chat``.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat import bindings
from bot.chat.answer import Place
from bot.chat.cards import CardState
from bot.chat.claims import event_key, message_key
from bot.config import MESSAGE_TS, USER_ID
from bot.diagnosis import Expectations
from bot.outbox import Call, Delivery, delivery_id
from bot.render.blocks import render_summary_line
from bot.render.mrkdwn import escape
from bot.slack.deps import Deps
from bot.slack.options import OptionError, Request, parse_request
from bot.slack.private_check import result_view
from bot.slack.sender import RESPONSE_URL, count_failure, error_code, trusted_response_url
from bot.slack.text import unescape_slack

log = logging.getLogger(__name__)
MAX_CARDS = 5
MAX_EPHEMERAL_CARDS = 4  # a response_url takes 5 responses: 4 cards and a summary
THREAD_MESSAGES = 100
BINDINGS_SHOWN = 100  # lines of `/jwtcheck bindings`: one message stays well inside Slack's limits
USAGE = (
    "*Usage:* `/jwtcheck <token, Authorization header, curl line or error text> "
    "[aud=… iss=… alg=… require=… leeway=… service=…] [private]`\n"
    "I say which claim failed and why, what fixes it and what not to bother with. "
    "The signature is never shown or stored. Add `private` to see the answer only yourself.\n"
    "`/jwtcheck probe [service]` reads that service's clock from its probe_url.\n"
    "`/jwtcheck bind <service>` judges this channel's tokens against that service; "
    "`/jwtcheck unbind` undoes it, `/jwtcheck bindings` lists them.\n"
    "In a channel, mention me in a thread with a token or an error line, or just paste one."
)
NOTHING_HERE = (
    "I found no JWT and no known JWT error message here. Paste the token, the `Authorization` "
    "header or the error line, or try `/jwtcheck help`."
)
UNDELIVERED = "⚠️ Slack would not take my answer for a quarter of an hour, so I gave up on it. Try again later."
T = TypeVar("T")


async def answer_message(
    deps: Deps, client: AsyncWebClient, event: dict[str, Any], *, event_id: str | None, mention: bool
) -> None:
    """A channel message or a mention: the cards go in the message's thread, once per message."""
    channel, ts = text_of(event.get("channel")), text_of(event.get("ts"))
    if not channel or not ts:
        return
    chat = deps.chat
    thread_ts = text_of(event.get("thread_ts"))
    place = Place(text_of(event.get("team")) or deps.identity.team_id or "", channel, thread_ts or ts)
    service: str | None = None
    try:
        request = parse_request(text_of(event.get("text")))
        judging = await bindings.for_place(chat.store, chat.services, place.team, channel, request)
        expectations, keys, service = judging.expectations, judging.keys, judging.service
    except OptionError as problem:
        request, expectations, keys = Request(unescape_slack(text_of(event.get("text")))), Expectations(), None
        if mention:
            await deliver_answer(
                deps, delivery_id("msg", channel, ts), (post_call(place, f"⚠️ {escape(str(problem))}"),)
            )
            return

    async def thread() -> list[tuple[str, float]]:
        return await _thread_messages(deps, client, channel, thread_ts)

    answer = await chat.answer(
        place,
        request.text,
        expectations,
        keys,
        service=service,
        seen_at=_seconds(ts),
        thread=thread if mention and thread_ts else None,
    )
    if not answer.report.diagnoses and not mention:
        return  # an ordinary message: no reply
    claims = ([event_key(event_id)] if event_id else []) + [message_key(channel, ts)]
    if not await chat.claims.begin(*claims):
        return  # another delivery of this event, or the twin app_mention/message event, has it
    try:
        calls: tuple[Call, ...]
        if answer.report.diagnoses:
            messages = await chat.make_cards(answer, place, MAX_CARDS, exposes_tokens=True, ephemeral=False)
            calls = tuple(post_call(place, message.text, message.blocks, card_id) for message, card_id in messages)
        else:
            calls = (post_call(place, NOTHING_HERE),)
        user = text_of(event.get("user"))
        sorry = _sorry_in_channel(place, user) if USER_ID.fullmatch(user) else None
        await deliver_answer(deps, delivery_id("msg", channel, ts), calls, last_word=sorry)
    except BaseException:
        await chat.claims.abandon(*claims)
        raise
    await chat.claims.finish(*claims)


async def answer_command(
    deps: Deps, client: AsyncWebClient, command: dict[str, Any], sent_at: float | None = None
) -> None:
    """``/jwtcheck``: a short summary in the channel and the cards in its thread; ephemeral when asked or
    when the bot cannot post there. The command text is never echoed."""
    chat = deps.chat
    response_url = trusted_response_url(command.get("response_url"), deps.slack_api_url)
    team, channel = text_of(command.get("team_id")), text_of(command.get("channel_id"))
    request_id = delivery_id("cmd", secrets.token_hex(16))  # Slack never retries a command: one entry, one id

    async def say(text: str) -> None:
        if response_url is not None:
            await deliver_answer(deps, request_id, (respond_call(response_url, text),))

    try:
        request = parse_request(text_of(command.get("text")))
        if request.wants_help:
            await say(USAGE)
            return
        if request.text.split(maxsplit=1)[:1] == ["probe"]:
            await say(await probe_answer(deps, request))
            return
        if request.text.split(maxsplit=1)[:1] in (["bind"], ["unbind"], ["bindings"]):
            await say(await binding_answer(deps, request, team, channel, text_of(command.get("user_id"))))
            return
        judging = await bindings.for_place(chat.store, chat.services, team, channel, request)
    except OptionError as problem:
        await say(f"⚠️ {escape(str(problem))}")
        return
    # Slack's request timestamp (whole seconds on Slack's clock) is when the command was seen.
    answer = await chat.answer(
        Place(team, channel, None),
        request.text,
        judging.expectations,
        judging.keys,
        service=judging.service,
        seen_at=sent_at,
        seen_resolution=1.0,
    )
    report = answer.report
    if not report.diagnoses:
        await say(NOTHING_HERE)
        return
    private: tuple[Call, ...] = ()
    if response_url is not None:
        place = Place(team, channel, None)
        messages = await chat.make_cards(answer, place, MAX_EPHEMERAL_CARDS, exposes_tokens=False, ephemeral=True)
        private = tuple(respond_call(response_url, m.text, m.blocks) for m, _ in messages)
    sorry = respond_call(response_url, UNDELIVERED) if response_url is not None else None
    if request.private:
        await deliver_answer(deps, request_id, private, last_word=sorry)
        return
    user = text_of(command.get("user_id"))
    asked = f"<@{user}> ran `/jwtcheck`: " if USER_ID.fullmatch(user) else "`/jwtcheck`: "
    summary = post_call(Place(team, channel, None), asked + render_summary_line(report))
    messages = await chat.make_cards(
        answer, Place(team, channel, None), MAX_CARDS, exposes_tokens=False, ephemeral=False
    )
    cards = tuple(
        Call("chat.postMessage", message_args(channel, m.text, m.blocks), thread_of=0, card_id=card_id)
        for m, card_id in messages
    )
    await deliver_answer(deps, request_id, (summary, *cards), instead=private, last_word=sorry)


async def probe_answer(deps: Deps, request: Request) -> str:
    """``/jwtcheck probe [service]``: the service's clock read now, from its probe_url's Date header."""
    words = request.text.split()
    service = deps.chat.probed_service(words[1] if len(words) > 1 else request.service)
    if service is None:
        known = deps.chat.probed_services()
        hint = f" Services with one: {', '.join(known)}." if known else ""
        return escape(f"⚠️ No probe_url is configured for that service.{hint}")
    return f"🕒 {escape(await deps.chat.probe(service))}"


async def binding_answer(deps: Deps, request: Request, team: str, channel: str, user: str) -> str:
    """``/jwtcheck bind <service>``, ``unbind`` and ``bindings``: one private line (or a short list)."""
    chat = deps.chat
    words = request.text.split()
    verb, rest = words[0], words[1:]
    try:
        if verb == "bindings" and not rest:
            found = await bindings.bindings(chat.store, chat.services, team)
            return bindings_list(found)
        if verb == "unbind" and not rest:
            gone = await bindings.unbind(chat.store, chat.services, team, channel, user=user)
            if gone is None:
                return "This channel was not bound to a service: nothing to undo."
            return f"✅ This channel is no longer judged against {escape(gone.service)}."
        name = rest[0] if len(rest) == 1 else request.service if not rest else None
        if verb == "bind" and name is not None:
            bound = await bindings.bind(chat.store, chat.services, team, channel, name, user=user)
            whence = " by the services file" if bound.source == bindings.FROM_FILE else ""
            return (
                f"✅ This channel is bound{whence} to {escape(bound.service)}: its tokens and error texts are "
                "judged against that service's audiences, issuers, algorithms, leeway and keys. "
                "`service=` or `aud=` in a message still wins for that message."
            )
    except bindings.BindRefused as refused:
        return f"⚠️ {escape(str(refused))}"
    return "*Usage:* `/jwtcheck bind <service>`, `/jwtcheck unbind` or `/jwtcheck bindings`"


def bindings_list(found: list[bindings.Binding]) -> str:
    if not found:
        return "No channel is bound to a service. `/jwtcheck bind <service>` in a channel binds it."
    lines = ["*Channel bindings:*"]
    for binding in found[:BINDINGS_SHOWN]:
        whence = "services file" if binding.source == bindings.FROM_FILE else "/jwtcheck bind"
        stale = " (no such service in the services file now: ignored)" if not binding.known else ""
        lines.append(f"• <#{binding.channel}> → {escape(binding.service)} ({whence}){stale}")
    if len(found) > BINDINGS_SHOWN:
        lines.append(f"…and {len(found) - BINDINGS_SHOWN} more")
    return "\n".join(lines)


async def update_card(deps: Deps, state: CardState, body: dict[str, Any]) -> None:
    """Re-render a card after a click: ``chat.update`` of the message the card's stored state names, or,
    for an ephemeral card, the click's ``response_url`` when it is Slack's, or, for a card in a modal (a
    private check), ``views.update`` of the view its state names. Where the card is comes from its state,
    never from the click: a signed payload may still name another message, view or team."""
    if state.options.view_id is not None:
        await _update_card_in_view(deps, state, body, state.options.view_id)
        return
    url = ts = None
    if state.options.ephemeral:
        url = trusted_response_url(body.get("response_url"), deps.slack_api_url)
        if url is None:
            log.warning("a click on an ephemeral card came without a Slack response_url; not redrawn")
            return
    else:
        ts = state.ts or _clicked_ts(body, state.channel)
        if ts is None:
            log.warning("a click on a card whose message is unknown; not redrawn")
            return
    state, message = await deps.chat.redraw(state)
    trigger = text_of(body.get("trigger_id")) or secrets.token_hex(8)
    request_id = delivery_id("act", trigger, state.card_id, str(state.options.revision))
    if url is not None:
        body_out = {"text": message.text, "blocks": message.blocks, "replace_original": True}
        call = Call(RESPONSE_URL, {"url": url, "body": body_out}, overwrites=f"card:{state.card_id}")
    else:
        args = {"channel": state.channel, "ts": ts, "text": message.text, "blocks": message.blocks}
        call = Call("chat.update", args, overwrites=f"card:{state.card_id}")
    await deliver_answer(deps, request_id, (call,), kind="update")
    deps.metrics.cards.labels("updated").inc()


async def _update_card_in_view(deps: Deps, state: CardState, body: dict[str, Any], view_id: str) -> None:
    """``views.update`` of the card's own view, through the outbox like every redraw (retried, never older
    over newer). The click's ``hash`` goes with it only when the click came from that view: Slack then
    refuses the update (``hash_conflict``) if the view changed meanwhile, and the newer drawing stands."""
    state, message = await deps.chat.redraw(state)
    args: dict[str, Any] = {"view_id": view_id, "view": result_view(message.blocks)}
    clicked = body.get("view")
    clicked = clicked if isinstance(clicked, dict) else {}
    if text_of(clicked.get("id")) == view_id and text_of(clicked.get("hash")):
        args["hash"] = text_of(clicked.get("hash"))
    trigger = text_of(body.get("trigger_id")) or secrets.token_hex(8)
    request_id = delivery_id("act", trigger, state.card_id, str(state.options.revision))
    call = Call("views.update", args, overwrites=f"card:{state.card_id}")
    await deliver_answer(deps, request_id, (call,), kind="update")
    deps.metrics.cards.labels("updated").inc()


def _clicked_ts(body: dict[str, Any], channel: str) -> str | None:
    """The clicked message's ts, for a card saved before states recorded their ts: only when the click
    comes from the card's own channel."""
    clicked_in = body.get("channel")
    if not isinstance(clicked_in, dict) or text_of(clicked_in.get("id")) != channel:
        return None
    container = body.get("container")
    container = container if isinstance(container, dict) else {}
    ts = text_of(container.get("message_ts"))
    return ts if MESSAGE_TS.fullmatch(ts) else None


async def deliver_answer(
    deps: Deps,
    request_id: str,
    calls: tuple[Call, ...],
    *,
    instead: tuple[Call, ...] = (),
    last_word: Call | None = None,
    kind: str = "answer",
) -> None:
    delivery = Delivery(request_id, calls, time.time(), instead=instead, last_word=last_word, kind=kind)
    await deps.outbox.put(delivery)


def message_args(channel: str, text: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    args: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False, "unfurl_media": False}
    if blocks is not None:
        args["blocks"] = blocks
    return args


def post_call(place: Place, text: str, blocks: list[dict[str, Any]] | None = None, card_id: str | None = None) -> Call:
    args = message_args(place.channel, text, blocks)
    if place.thread_ts:
        args["thread_ts"] = place.thread_ts
    return Call("chat.postMessage", args, card_id=card_id)


def respond_call(url: str, text: str, blocks: list[dict[str, Any]] | None = None) -> Call:
    body: dict[str, Any] = {"text": text, "response_type": "ephemeral", "replace_original": False}
    if blocks is not None:
        body["blocks"] = blocks
    return Call(RESPONSE_URL, {"url": url, "body": body})


def _sorry_in_channel(place: Place, user: str) -> Call:
    return Call("chat.postEphemeral", {"channel": place.channel, "user": user, "text": UNDELIVERED})


def text_of(value: object) -> str:
    """A payload field as text: Slack sends strings, a forged or damaged payload may not."""
    return value if isinstance(value, str) else ""


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
        seconds = float(ts)
    except ValueError:
        return 0.0
    return seconds if math.isfinite(seconds) else 0.0


async def _slack(deps: Deps, method: str, call: Awaitable[T]) -> T:
    """A Web API call whose failure is counted and logged (its error code only) before it propagates."""
    try:
        return await call
    except SlackApiError as failure:
        count_failure(deps.metrics, method, error_code(failure))
        raise
