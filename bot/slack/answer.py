"""The work done after the ack: diagnose, post the cards in the thread, keep their state for clicks.

Listeners stay thin: they ack, read the payload, and hand one of these coroutines to the task tracker.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import ConfigError
from bot.diagnosis.clock import ClockEstimate
from bot.diagnosis.model import Diagnosis, Expectations, Report, Source
from bot.diagnosis.scan import unescape_slack
from bot.keys.config import KeyConfig
from bot.render.blocks import CardOptions, Message, render_card, render_cards, render_summary_line
from bot.render.mrkdwn import escape
from bot.slack.clocks import clock_note, involves_time, service_note
from bot.slack.deps import Deps
from bot.slack.options import OptionError, Request, parse_request
from bot.slack.state import CardState, event_key, message_key

log = logging.getLogger(__name__)
MAX_CARDS = 5
MAX_EPHEMERAL_CARDS = 4  # a response_url takes 5 responses: 4 cards and a summary
SCAN_LIMIT = 50
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
Estimates = dict[str, ClockEstimate]
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")


@dataclass(frozen=True, slots=True)
class Place:
    team: str
    channel: str
    thread_ts: str | None


async def answer_message(
    deps: Deps, client: AsyncWebClient, event: dict[str, Any], *, event_id: str | None, mention: bool
) -> None:
    """A channel message or a mention: the cards go in the message's thread, once per message."""
    channel, ts = str(event.get("channel", "")), str(event.get("ts", ""))
    if not channel or not ts:
        return
    place = Place(str(event.get("team") or deps.identity.team_id or ""), channel, str(event.get("thread_ts") or ts))
    try:
        request = parse_request(str(event.get("text") or ""))
        expectations = request.expectations(deps.services)
        keys = request.keys(deps.services)
    except OptionError as problem:
        request, expectations, keys = Request(str(event.get("text") or "")), Expectations(), None
        if mention:
            await _post_text(deps, client, place, f"⚠️ {escape(str(problem))}")
            return
    report = await _diagnose(deps, request.text, expectations, keys)
    estimates: Estimates = {}
    if report.diagnoses:
        estimates = await deps.clocks.record(place.team, channel, report, _seconds(ts))
    elif mention and event.get("thread_ts"):
        found: list[Diagnosis] = []
        for text, message_ts in await _thread_messages(deps, client, channel, str(event["thread_ts"])):
            seen = await _diagnose(deps, text, expectations, keys)
            estimates.update(await deps.clocks.record(place.team, channel, seen, _seconds(message_ts)))
            found.extend(seen.diagnoses)
        report = Report(report.evaluated_at, expectations, tuple(found[:SCAN_LIMIT]), max(0, len(found) - SCAN_LIMIT))
    if not report.diagnoses and not mention:
        return  # an ordinary message: no reply
    probed = await _probe_if_time(deps, request, report)
    claims = ([event_key(event_id)] if event_id else []) + [message_key(channel, ts)]
    if not await deps.claims.begin(*claims):
        return  # another delivery of this event, or the twin app_mention/message event, has it
    try:
        if report.diagnoses:
            await post_cards(deps, client, place, report, exposes_tokens=True, estimates=estimates, probed=probed)
        else:
            await _post_text(deps, client, place, NOTHING_HERE)
    except BaseException:
        await deps.claims.abandon(*claims)
        raise
    await deps.claims.finish(*claims)


async def answer_command(
    deps: Deps, client: AsyncWebClient, respond: Respond, command: dict[str, Any], sent_at: float | None = None
) -> None:
    """``/jwtcheck``: a short summary in the channel and the cards in its thread; ephemeral when asked or
    when the bot cannot post there. The command text is never echoed."""
    try:
        request = parse_request(str(command.get("text") or ""))
        if request.wants_help:
            await respond(text=USAGE, response_type="ephemeral")
            return
        if request.text.split(maxsplit=1)[:1] == ["probe"]:
            await answer_probe(deps, respond, request)
            return
        expectations = request.expectations(deps.services)
        keys = request.keys(deps.services)
    except OptionError as problem:
        await respond(text=f"⚠️ {escape(str(problem))}", response_type="ephemeral")
        return
    report = await _diagnose(deps, request.text, expectations, keys)
    if not report.diagnoses:
        await respond(text=NOTHING_HERE, response_type="ephemeral")
        return
    team, channel = str(command.get("team_id", "")), str(command.get("channel_id", ""))
    estimates: Estimates = {}
    if sent_at is not None:  # Slack's request timestamp: whole seconds on Slack's clock
        estimates = await deps.clocks.record(team, channel, report, sent_at, seen_resolution=1.0)
    probed = await _probe_if_time(deps, request, report)
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
            await post_cards(deps, client, place, report, exposes_tokens=False, estimates=estimates, probed=probed)
            return
    await post_ephemeral_cards(deps, respond, team, channel, report, estimates, probed)


async def answer_probe(deps: Deps, respond: Respond, request: Request) -> None:
    """``/jwtcheck probe [service]``: read the service's clock now, from its probe_url's Date header."""
    words = request.text.split()
    name = words[1] if len(words) > 1 else request.service
    try:
        service = deps.services.pick(name) if deps.services else None
    except ConfigError:
        service = None
    if service is None or service.probe_url is None:
        known = sorted(s.name for s in deps.services.services.values() if s.probe_url) if deps.services else []
        hint = f" Services with one: {', '.join(known)}." if known else ""
        await respond(text=escape(f"⚠️ No probe_url is configured for that service.{hint}"), response_type="ephemeral")
        return
    measured = await deps.clocks.service_clock(service, fresh=True)
    await respond(text=f"🕒 {escape(service_note(measured))}", response_type="ephemeral")


async def post_cards(
    deps: Deps,
    client: AsyncWebClient,
    place: Place,
    report: Report,
    *,
    exposes_tokens: bool,
    estimates: Estimates | None = None,
    probed: str | None = None,
) -> None:
    messages = await _render(
        deps,
        report,
        MAX_CARDS,
        place,
        exposes_tokens=exposes_tokens,
        ephemeral=False,
        estimates=estimates or {},
        probed=probed,
    )
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


async def post_ephemeral_cards(
    deps: Deps,
    respond: Respond,
    team: str,
    channel: str,
    report: Report,
    estimates: Estimates | None = None,
    probed: str | None = None,
) -> None:
    place = Place(team, channel, None)
    for message in await _render(
        deps,
        report,
        MAX_EPHEMERAL_CARDS,
        place,
        exposes_tokens=False,
        ephemeral=True,
        estimates=estimates or {},
        probed=probed,
    ):
        await respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False)
        deps.metrics.cards.labels("ephemeral").inc()


async def update_card(
    deps: Deps, client: AsyncWebClient, respond: Respond, state: CardState, body: dict[str, Any]
) -> None:
    """Re-render a card after a click: ``chat.update`` of the bot's own message, or the click's
    ``response_url`` for an ephemeral card. Re-rendering is idempotent, so a repeated click is harmless."""
    state.revision += 1
    votes = await deps.cards.votes(state.team, state.workaround_ids)
    diagnosis = state.restore(deps.knowledge)
    options = _options(state, votes)
    message = render_card(diagnosis, deps.clock().timestamp(), deps.knowledge, options)
    await deps.cards.save(state)
    if state.ephemeral:
        await respond(text=message.text, blocks=message.blocks, replace_original=True)
    else:
        channel = (body.get("channel") or {}).get("id") or state.channel
        ts = str((body.get("container") or {}).get("message_ts") or (body.get("message") or {}).get("ts") or state.ts)
        await _slack(
            deps, "chat.update", client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)
        )
    deps.metrics.cards.labels("updated").inc()


def is_live(diagnosis: Diagnosis, now: float) -> bool:
    """A token still worth stealing: readable and not expired, or unreadable (a JWE) and so unknown."""
    token = diagnosis.token
    if diagnosis.source is not Source.TOKEN or token is None:
        return False
    if token.kind == "jwe":
        return True
    if token.claims is None:
        return False
    exp = token.claims.get("exp")
    if exp is None:
        return True
    return isinstance(exp, int | float) and not isinstance(exp, bool) and exp > now


async def _render(
    deps: Deps,
    report: Report,
    limit: int,
    place: Place,
    *,
    exposes_tokens: bool,
    ephemeral: bool,
    estimates: Estimates,
    probed: str | None = None,
) -> list[Message]:
    """The cards (and a summary for the rest), with their state saved first so any replica can take a click."""
    now = report.evaluated_at.timestamp()
    states: list[CardState] = []
    for diagnosis in report.diagnoses[:limit]:
        note, leeway = clock_note(diagnosis, estimates)
        if probed and involves_time(diagnosis):
            note = f"{note} {probed}" if note else probed
        states.append(
            CardState.new(
                place.team,
                place.channel,
                diagnosis,
                now,
                thread_ts=place.thread_ts,
                ephemeral=ephemeral,
                live_token_warning=exposes_tokens and is_live(diagnosis, now),
                clock_note=note,
                measured_leeway=leeway,
            )
        )
    votes = {}
    for state in states:
        votes[state.card_id] = await deps.cards.votes(state.team, state.workaround_ids)
        await deps.cards.save(state)
    return render_cards(
        report, deps.knowledge, lambda index, _: _options(states[index], votes[states[index].card_id]), max_cards=limit
    )


def _options(state: CardState, votes: dict[str, dict[str, int]]) -> CardOptions:
    return CardOptions(
        card_id=state.card_id,
        expanded_library=state.expanded_library,
        votes=votes,
        live_token_warning=state.live_token_warning,
        revision=state.revision,
        ephemeral=state.ephemeral,
        clock_note=state.clock_note,
        measured_leeway=state.measured_leeway,
    )


async def _probe_if_time(deps: Deps, request: Request, report: Report) -> str | None:
    """When a diagnosis involves time and the service has a probe_url, what its clock says (cached a minute)."""
    if deps.services is None or not any(involves_time(d) for d in report.diagnoses):
        return None
    try:
        service = deps.services.pick(request.service)
    except ConfigError:
        return None
    if service is None or service.probe_url is None:
        return None
    return service_note(await deps.clocks.service_clock(service))


async def _diagnose(deps: Deps, text: str, expectations: Expectations, keys: KeyConfig | None) -> Report:
    report = await deps.service.diagnose(text, expectations, deps.clock(), limit=SCAN_LIMIT, keys=keys)
    for diagnosis in report.diagnoses:
        for cause in diagnosis.causes or ():
            deps.metrics.diagnoses.labels(cause.id.value).inc()
        if not diagnosis.causes:
            deps.metrics.diagnoses.labels("none").inc()
    return report


async def _thread_messages(deps: Deps, client: AsyncWebClient, channel: str, thread_ts: str) -> list[tuple[str, str]]:
    """The thread's messages (not the bot's) with their ts, for a mention that holds no token itself."""
    try:
        replies = await _slack(
            deps,
            "conversations.replies",
            client.conversations_replies(channel=channel, ts=thread_ts, limit=THREAD_MESSAGES),
        )
    except SlackApiError:
        return []
    return [
        (unescape_slack(str(message.get("text") or "")), str(message.get("ts") or thread_ts))
        for message in replies.get("messages") or []
        if not message.get("bot_id") and message.get("user") != deps.identity.user_id
    ]


def _seconds(ts: str) -> float:
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
