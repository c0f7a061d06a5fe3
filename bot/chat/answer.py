"""The answer to a chat message, whatever the platform: diagnose, measure the clocks, make the cards.

:class:`Chat` is built once per app. An edge (``bot/slack/answer.py``) turns its platform's payloads
into text (its escaping undone), expectations and a :class:`Place`, calls these, and posts the
messages they return; it keeps only its platform's calls, error codes and ways of answering.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from bot.chat import stats
from bot.chat.cards import CardState, CardStore
from bot.chat.claims import Claims
from bot.chat.clocks import ClockBook, Estimates, clock_note, clock_reading, involves_time, probe_note
from bot.config import ConfigError, Service, ServicesConfig
from bot.diagnosis import Diagnosis, Expectations, Report, Source
from bot.keys.config import KeyConfig
from bot.knowledge import Knowledge
from bot.render.blocks import CardOptions, Message
from bot.render.snippets import fit_for
from bot.service import DiagnosisService
from bot.store import Store

SCAN_LIMIT = 50  # items diagnosed in one message or thread (the rest are counted)
Thread = Callable[[], Awaitable[Sequence[tuple[str, float]]]]
"""The messages of a thread, each with the instant the platform stamped it (epoch seconds)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Place:
    """Where the cards go: a workspace, a channel, and a thread (None for an answer only the asker sees)."""

    team: str
    channel: str
    thread_ts: str | None


class CardRenderer(Protocol):
    """How the edge's platform draws cards: ``bot.render.blocks`` (Block Kit) for Slack."""

    def render_cards(
        self,
        report: Report,
        knowledge: Knowledge,
        options_for: Callable[[int, Diagnosis], CardOptions],
        max_cards: int = 5,
    ) -> list[Message]: ...

    def render_card(self, diagnosis: Diagnosis, now: float, knowledge: Knowledge, options: CardOptions) -> Message: ...


@dataclass(frozen=True, slots=True)
class Answer:
    """What a message holds and what the evidence says of the clocks: what its cards are made from."""

    report: Report
    estimates: Estimates  # the clock estimates the report's evidence sharpened, by clock
    probed: str | None = None  # what a probe of the service's clock found, for the cards of time diagnoses
    keys: KeyConfig | None = None  # the service's key sources: the snippets name its JWKS URL, its secret's variable
    seen_at: float | None = None  # when the platform stamped the message (None: unknown, or a thread's messages)
    judged_against: str | None = None  # the configured service named (service= or a channel's binding)


class Chat:
    """The chat-neutral services an edge answers with: diagnosis service, claims, cards and clock book.

    ``renderer`` draws the cards in the edge's platform's format; ``on_cache`` is told ``hit`` or ``miss``
    at each facts-cache lookup, and ``on_diagnosis`` each cause id diagnosed (``none`` for a diagnosis
    without one): the edge's metrics.
    """

    def __init__(
        self,
        store: Store,
        knowledge: Knowledge,
        services: ServicesConfig | None,
        *,
        renderer: CardRenderer,
        clock: Callable[[], datetime] = utc_now,
        on_cache: Callable[[str], None] | None = None,
        on_diagnosis: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.knowledge = knowledge
        self.services = services
        self.clock = clock
        self.renderer = renderer
        self.service = DiagnosisService(store, knowledge, on_cache=on_cache)
        self.claims = Claims(store)
        self.cards = CardStore(store, knowledge)
        self.clocks = ClockBook(store)
        self._on_diagnosis = on_diagnosis

    async def answer(
        self,
        place: Place,
        text: str,
        expectations: Expectations,
        keys: KeyConfig | None,
        *,
        service: str | None = None,
        seen_at: float | None = None,
        seen_resolution: float = 0.0,
        thread: Thread | None = None,
    ) -> Answer:
        """Diagnose ``text``, seen at ``seen_at`` on the platform's clock (None: unknown), and record what its
        tokens say of their issuers' clocks. When it holds nothing and ``thread`` is given, the thread's
        messages are diagnosed instead. A time diagnosis probes ``service``'s clock, if it has a probe_url;
        the cards say they were judged against ``service`` when it is a configured one."""
        report = await self.diagnose(text, expectations, keys)
        estimates: Estimates = {}
        seen = seen_at
        if report.diagnoses:
            if seen_at is not None:
                estimates = await self.clocks.record(place.team, place.channel, report, seen_at, seen_resolution)
        elif thread is not None:
            found: list[Diagnosis] = []
            seen = None  # each message of the thread was seen at its own instant
            for message, message_seen_at in await thread():
                diagnosed = await self.diagnose(message, expectations, keys)
                estimates.update(await self.clocks.record(place.team, place.channel, diagnosed, message_seen_at))
                found.extend(diagnosed.diagnoses)
            report = Report(
                report.evaluated_at, expectations, tuple(found[:SCAN_LIMIT]), max(0, len(found) - SCAN_LIMIT)
            )
        await stats.record(self.store, place.team, report, self.clock())  # the Home's figures; never raises
        known = service if self.services is not None and service in self.services.services else None
        return Answer(report, estimates, await self._probe_if_time(service, report), keys, seen, known)

    async def diagnose(self, text: str, expectations: Expectations, keys: KeyConfig | None) -> Report:
        report = await self.service.diagnose(text, expectations, self.clock(), limit=SCAN_LIMIT, keys=keys)
        if self._on_diagnosis is not None:
            for diagnosis in report.diagnoses:
                for cause in diagnosis.causes:
                    self._on_diagnosis(cause.id.value)
                if not diagnosis.causes:
                    self._on_diagnosis("none")
        return report

    async def make_cards(
        self, answer: Answer, place: Place, limit: int, *, exposes_tokens: bool, ephemeral: bool
    ) -> list[tuple[Message, str | None]]:
        """The cards (and a summary of the rest), each with its card id (None for the summary), their state
        saved first so any replica can take a click.

        ``exposes_tokens``: the tokens were pasted where others see them, so a live one gets a warning.
        """
        report = answer.report
        now = report.evaluated_at.timestamp()
        window = report.expectations.leeway + report.expectations.skew_window  # beyond it no lead is skew
        keys = answer.keys
        states: list[CardState] = []
        for diagnosis in report.diagnoses[:limit]:
            # One leeway figure per card, computed once (bot.diagnosis.leeway): this token's own need and
            # what its issuer's clock evidence needs; the note, the fix's title and every snippet show it.
            reading = clock_reading(diagnosis, answer.estimates, answer.seen_at, window)
            fit = fit_for(
                diagnosis,
                report.expectations,
                self.knowledge,
                jwks_url=keys.jwks_uri if keys is not None else None,
                secret_env=keys.hmac_secret_env if keys is not None else None,
                evidence_needs=(reading.need,) if reading is not None else (),
            )
            note = clock_note(reading, fit.leeway)
            if answer.probed and involves_time(diagnosis):
                note = f"{note} {answer.probed}" if note else answer.probed
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
                    fit=fit,
                    judged_against=answer.judged_against,
                )
            )
        stacks = self.stacks_of(answer.judged_against)
        drawn = []
        for state in states:
            votes = await self.cards.votes(state.team, state.workaround_ids)
            await self.cards.save(state)
            drawn.append(replace(state.options, votes=votes, stacks=stacks))
        messages = self.renderer.render_cards(report, self.knowledge, lambda index, _: drawn[index], max_cards=limit)
        return [(message, states[i].card_id if i < len(states) else None) for i, message in enumerate(messages)]

    async def redraw(self, state: CardState) -> tuple[CardState, Message]:
        """A card again after a click, with the workspace's votes; saved under a new revision (fresh block
        ids). Drawing is idempotent, so a repeated click is harmless."""
        state = state.with_options(revision=state.options.revision + 1)
        votes = await self.cards.votes(state.team, state.workaround_ids)
        options = replace(state.options, votes=votes, stacks=self.stacks_of(state.options.judged_against))
        message = self.renderer.render_card(state.diagnosis, self.clock().timestamp(), self.knowledge, options)
        await self.cards.save(state)
        return state, message

    def stacks_of(self, name: str | None) -> tuple[str, ...]:
        """The stacks of the service a card was judged against (their fixes get buttons), if it names one."""
        if self.services is None or name is None:
            return ()
        service = self.services.services.get(name)
        return tuple(stack.value for stack in service.stacks) if service is not None else ()

    def probed_service(self, name: str | None) -> Service | None:
        """The service ``name`` names (or the only one), when it has a probe_url."""
        if self.services is None:
            return None
        try:
            service = self.services.pick(name)
        except ConfigError:
            return None
        return service if service is not None and service.probe_url is not None else None

    def probed_services(self) -> list[str]:
        """The services with a probe_url, by name."""
        if self.services is None:
            return []
        return sorted(s.name for s in self.services.services.values() if s.probe_url)

    async def probe(self, service: Service) -> str:
        """The service's clock read now from its probe_url, in words."""
        return probe_note(await self.clocks.service_clock(service, fresh=True))

    async def _probe_if_time(self, name: str | None, report: Report) -> str | None:
        """When a diagnosis involves time and the service has a probe_url, what its clock says (cached a minute)."""
        if self.services is None or not any(involves_time(d) for d in report.diagnoses):
            return None
        service = self.probed_service(name)
        if service is None:
            return None
        return probe_note(await self.clocks.service_clock(service))


def is_live(diagnosis: Diagnosis, now: float) -> bool:
    """A token still worth stealing: readable and not expired, or unreadable (a JWE, an opaque access
    token) and so unknown."""
    token = diagnosis.token
    if diagnosis.source is not Source.TOKEN or token is None:
        return False
    if token.kind != "jws":
        return True
    if token.claims is None:
        return False
    exp = token.claims.get("exp")
    if exp is None:
        return True
    return isinstance(exp, int | float) and not isinstance(exp, bool) and exp > now
