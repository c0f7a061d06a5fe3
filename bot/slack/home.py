"""The App Home tab: what the bot does and how to reach it, the configured services (never a secret, an
environment variable's name or a key URL's path), the channels bound to each, and the workspace's last 30
days (diagnoses per cause, fixes voted on here beside the source card's rates).

Published with ``views.publish`` for whoever opens the tab. The figures come from ``bot.chat.stats``
(cached 60 s per workspace); when Redis is down the view still goes out, saying what it cannot show.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat import stats
from bot.chat.bindings import FROM_FILE, Binding, bindings
from bot.config import Service, ServicesConfig
from bot.diagnosis.ids import CauseId
from bot.keys.config import KeyConfig
from bot.keys.urls import host_of
from bot.knowledge import Knowledge, percent
from bot.render.blocks import VOTE_DIDNT_HELP, VOTE_FIXED
from bot.render.mrkdwn import clip, code_span, escape
from bot.slack.deps import Deps

log = logging.getLogger(__name__)

OPEN_PRIVATE_CHECK = "open_private_check"  # the other engineer's action: it opens the private-check modal
MAX_HOME_BLOCKS = 100  # Slack's limit for a Home tab
MAX_SERVICES = 25  # one section each; the rest are counted
SERVICES_BUDGET = 6000  # characters of service sections: the Home stays readable (and far from any size limit)
SERVICE_MAX = 1500
MAX_CHANNELS = 15  # per service
MAX_VALUES = 8  # issuers, audiences, algorithms per service
MAX_CAUSES = 15
MAX_FIXES = 15
SECTION_MAX = 3000
DEGRADED = "redis-degraded"


@dataclass(frozen=True, slots=True)
class HomeData:
    """What one Home shows, gathered before drawing (drawing is pure)."""

    services: ServicesConfig | None
    bindings: Sequence[Binding]
    bindings_complete: bool  # False: the bindings made in chat could not be read (Redis down)
    figures: stats.Figures


async def gather(deps: Deps, team: str) -> HomeData:
    """Everything the Home needs; never raises (what cannot be read is said to be unavailable)."""
    found = await stats.figures(deps.store, deps.knowledge, team, deps.chat.clock().date())
    try:
        bound = await bindings(deps.store, deps.services, team)
        complete = deps.store.state != DEGRADED
    except Exception as failure:
        log.warning("the Home's bindings are unavailable (%s)", type(failure).__name__)
        bound, complete = [], False
    if not complete:  # the file's bindings alone: memory holds one replica's, made during the outage
        bound = _file_bindings(deps.services)
    return HomeData(deps.services, bound, complete, found)


def _file_bindings(services: ServicesConfig | None) -> list[Binding]:
    if services is None:
        return []
    return sorted(
        (Binding(channel, s.name, FROM_FILE) for s in services.services.values() for channel in s.channels),
        key=lambda binding: binding.channel,
    )


async def publish_home(deps: Deps, client: AsyncWebClient, user: str, team: str) -> None:
    """The ``home`` job: draw the Home for ``user`` of ``team`` and publish it."""
    view = home_view(await gather(deps, team), deps.knowledge)
    try:
        await client.views_publish(user_id=user, view=view)
    except SlackApiError as failure:
        error = failure.response.get("error", "unknown") if failure.response else "unknown"
        log.warning("views.publish failed: %s", error)


def home_view(data: HomeData, knowledge: Knowledge) -> View:
    blocks: list[Block] = [
        HeaderBlock(text="jwtcheck: why did the API refuse this JWT?", block_id="title"),
        _section(
            "Paste a JWT or the error an API gave you, and jwtcheck says why it was refused (clock skew, "
            "expired, wrong audience or issuer, a rotated key…) with the fixes that worked, their rates from "
            "the source card, and this workspace's votes. Signatures are never shown or stored.",
            "about",
        ),
        _section(
            "*How to reach it*\n"
            "• `/jwtcheck &lt;token or error text&gt;` in a channel (add `private` for an answer only you see)\n"
            "• mention @jwtcheck with a token, or in a thread to look through it\n"
            "• paste a token or a JWT error line in a channel the bot is in: the card goes in its thread\n"
            "• on any message, *⋯ → Diagnose with jwtcheck*\n"
            "• check a token privately, here:",
            "reach",
        ),
        ActionsBlock(
            block_id="private",
            elements=[
                ButtonElement(
                    text="Check a token privately", action_id=OPEN_PRIVATE_CHECK, value="home", style="primary"
                )
            ],
        ),
        DividerBlock(block_id="div-services"),
        HeaderBlock(text="Services", block_id="services"),
        *_services(data),
        DividerBlock(block_id="div-figures"),
        HeaderBlock(text=f"This workspace, last {stats.WINDOW_DAYS} days", block_id="figures"),
        *_figures(data.figures, knowledge),
    ]
    return View(type="home", blocks=blocks[:MAX_HOME_BLOCKS])


def _services(data: HomeData) -> list[Block]:
    if data.services is None or not data.services.services:
        return [
            _section(
                "No services file is configured (`JWTCHECK_CONFIG`): tokens are judged on their own, or against "
                "`aud=`, `iss=` and `alg=` given with them.",
                "no-services",
            )
        ]
    by_service: dict[str, list[Binding]] = {}
    for binding in data.bindings:
        by_service.setdefault(binding.service, []).append(binding)
    names = sorted(data.services.services)
    blocks: list[Block] = []
    budget = SERVICES_BUDGET
    for name in names[:MAX_SERVICES]:
        text = _service_text(data.services.services[name], by_service.get(name, []))
        budget -= len(text)
        if budget < 0 and blocks:
            break
        blocks.append(_section(text, f"service-{len(blocks)}"))
    notes = []
    if len(names) > len(blocks):
        notes.append(f"and {len(names) - len(blocks)} more services")
    stale = sum(1 for binding in data.bindings if not binding.known)
    if stale:
        notes.append(f"{stale} channel(s) bound to a service the file no longer has (ignored)")
    if not data.bindings_complete:
        notes.append("channels bound with `/jwtcheck bind` are unavailable right now (Redis is down)")
    notes.append("Bind a channel with `/jwtcheck bind &lt;service&gt;`; `/jwtcheck bindings` lists them.")
    blocks.append(_context("; ".join(notes), "services-notes"))
    return blocks


def _service_text(service: Service, bound: Sequence[Binding]) -> str:
    expected = service.expectations
    lines = [f"*{escape(service.name)}*"]
    for label, values in (
        ("Issuers", expected.issuers),
        ("Audiences", expected.audiences),
        ("Algorithms", expected.algorithms),
    ):
        if values:
            lines.append(f"{label}: {_values(values)}")
    lines.append(f"Keys: {key_sources(service.keys)}")
    if bound:
        shown = [f"<#{b.channel}> ({'services file' if b.source == FROM_FILE else '/jwtcheck bind'})" for b in bound]
        more = f", and {len(shown) - MAX_CHANNELS} more" if len(shown) > MAX_CHANNELS else ""
        lines.append(f"Channels: {', '.join(shown[:MAX_CHANNELS])}{more}")
    return clip("\n".join(lines), SERVICE_MAX)


def _values(values: Sequence[str]) -> str:
    shown = ", ".join(code_span(clip(escape(value), 120)) for value in values[:MAX_VALUES])
    return shown + (f", and {len(values) - MAX_VALUES} more" if len(values) > MAX_VALUES else "")


def key_sources(keys: KeyConfig) -> str:
    """The key sources by host only: never a URL's path, a file's path, a variable's name or a secret."""
    parts = []
    if keys.jwks_uri:
        parts.append(f"JWKS at {escape(host_of(keys.jwks_uri))}")
    if keys.discovery:
        parts.append(f"discovery at {escape(host_of(keys.discovery))}")
    files = len(keys.key_files) or len(keys.static_keys)
    if files:
        parts.append(f"{files} key file{'s' if files > 1 else ''}")
    if keys.hmac_secret_env:
        parts.append("a shared secret")
    return ", ".join(parts) or "none (signatures are not checked)"


def _figures(found: stats.Figures, knowledge: Knowledge) -> list[Block]:
    if not found.available:
        return [_section("Figures are unavailable right now (Redis is down); they come back with it.", "no-figures")]
    if not found.diagnoses:
        return [_section("No diagnoses yet in this workspace.", "no-diagnoses")]
    causes = [(cause, count) for cause, count in found.causes if cause != stats.NO_CAUSE]
    lines = [f"*{found.diagnoses} diagnoses* by cause:"]
    lines += [f"• {escape(cause_title(cause, knowledge))}: {count}" for cause, count in causes[:MAX_CAUSES]]
    if len(causes) > MAX_CAUSES:
        lines.append(f"• and {len(causes) - MAX_CAUSES} more causes")
    if found.without_cause:
        lines.append(f"• nothing wrong found: {found.without_cause}")
    blocks: list[Block] = [_section(clip("\n".join(lines), SECTION_MAX), "causes")]
    tallied = ((w, _tally(counts)) for w, counts in found.votes.items() if w in knowledge.workarounds)
    voted = sorted(
        ((w, tally) for w, tally in tallied if tally[1] > 0), key=lambda item: (-item[1][1], -item[1][0], item[0])
    )
    if not voted:
        blocks.append(
            _section("No votes on fixes yet: “This fixed it” and “Didn't help” on cards count here.", "fixes")
        )
    else:
        fixes = ["*Fixes voted on here* (the source card's rate · this workspace's votes):"]
        for workaround_id, (fixed, total) in voted[:MAX_FIXES]:
            workaround = knowledge.workarounds[workaround_id]
            rate = percent(workaround.success_rate) if workaround.success_rate is not None else "unrated"
            share = percent(fixed / total)
            fixes.append(
                f"• {escape(clip(workaround.title, 150))}: {rate} · {fixed} of {total} fixed it here ({share})"
            )
        if len(voted) > MAX_FIXES:
            fixes.append(f"• and {len(voted) - MAX_FIXES} more fixes")
        blocks.append(_section(clip("\n".join(fixes), SECTION_MAX), "fixes"))
    blocks.append(_context(f"{knowledge.provenance}; “here” counts this workspace's votes.", "rates"))
    return blocks


def cause_title(cause: str, knowledge: Knowledge) -> str:
    try:
        return knowledge.titles.get(CauseId(cause), cause)
    except ValueError:  # counted by another version of the bot
        return cause


def _tally(counts: Mapping[str, int]) -> tuple[int, int]:
    """("This fixed it" votes, all votes)."""
    fixed = max(0, counts.get(VOTE_FIXED, 0))
    return fixed, fixed + max(0, counts.get(VOTE_DIDNT_HELP, 0))


def _section(text: str, block_id: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text), block_id=block_id)


def _context(text: str, block_id: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(text, SECTION_MAX))], block_id=block_id)
