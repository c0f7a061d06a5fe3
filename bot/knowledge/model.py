"""The knowledge base as immutable data: failure cards, causes, workarounds, dead ends, snippets.

``Knowledge`` also answers the two questions a renderer asks: what to advise for the causes found
(``advise``) and in which order to offer the per-library snippets (``libraries_for``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple, TypeAlias

from bot.diagnosis.advice import (
    ANY_LIBRARY,
    KEY_STYLES,
    PLACEHOLDER,
    PLACEHOLDER_NAMES,
    DeadEnd,
    RateSource,
    Snippet,
    Workaround,
)
from bot.diagnosis.ids import CauseId
from bot.diagnosis.leeway import SmallLeeway

_VERIFICATION_WORDING = {
    "ai_generated": "AI-generated estimates",
    "human_verified": "human-verified rates",
    "community": "community-reported rates",
}


class LibraryVersion(NamedTuple):  # not a dataclass: cheaper to define at every start-up
    library: str
    display: str
    version: str

    @property
    def label(self) -> str:
        return f"{self.display} {self.version}" if self.version else self.display


class StackKind(StrEnum):
    """Where a validator sits: in the service (a library) or in front of it (a gateway, a mesh's proxy)."""

    LIBRARY = "library"
    GATEWAY = "gateway"
    MESH = "mesh"


class Stack(NamedTuple):  # not a dataclass: cheaper to define at every start-up
    """A validator of a stack file (``data/stacks/<library>.toml``): who it is, and how it takes a leeway."""

    library: str
    display: str
    version: str
    kind: StackKind
    language: str
    source: str
    no_leeway: str | None = None  # the stack has no leeway option: what to do instead

    @property
    def in_front(self) -> bool:
        """A gateway or a mesh: it refuses the request before the service sees it."""
        return self.kind is not StackKind.LIBRARY


class CauseInfo(NamedTuple):  # not a dataclass: cheaper to define at every start-up
    id: CauseId
    title: str
    explanation: str


class Card(NamedTuple):  # not a dataclass: cheaper to define at every start-up
    id: str
    title: str
    domain: str
    category: str
    verification: str
    fix_rate: float
    root_cause: str
    versions: tuple[LibraryVersion, ...]

    @property
    def rates_wording(self) -> str:
        return _VERIFICATION_WORDING.get(self.verification, f"{self.verification.replace('_', ' ')} rates")


@dataclass(frozen=True, slots=True)
class SnippetData:
    """What fits a snippet to a token: the knowledge base's default for each placeholder (the example
    audience, issuer, algorithm…), the key style of each algorithm (``hmac`` for HS256, ``public`` for
    RS256…), and each library's key styles (``library → style → placeholder → text``)."""

    defaults: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    algorithms: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    styles: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=lambda: MappingProxyType({}))


Advice: TypeAlias = tuple[tuple[Workaround, ...], tuple[DeadEnd, ...]]
MAX_REMEMBERED_ADVICE = 4096  # distinct (causes, library) combinations; real logs have a few dozen


def percent(rate: float) -> str:
    """A rate as people read it: ``0.85`` is ``85%``."""
    return f"{round(rate * 100)}%"


def _by_rate(items: Iterable[Workaround]) -> tuple[Workaround, ...]:
    """Highest success rate first, unrated last; ties keep the order of the data files."""
    return tuple(sorted(items, key=lambda w: (w.success_rate is None, -(w.success_rate or 0.0))))


class Knowledge:
    """Everything loaded from the card files, validated. Build it with ``load_knowledge``."""

    __slots__ = (
        "_advice",
        "_by_cause",
        "_known_libraries",
        "cards",
        "causes",
        "dead_ends",
        "extra_libraries",
        "libraries",
        "small_leeway",
        "snippet_data",
        "stacks",
        "titles",
        "workarounds",
    )

    def __init__(
        self,
        cards: Sequence[Card],
        causes: Mapping[CauseId, CauseInfo],
        workarounds: Sequence[Workaround],
        dead_ends: Sequence[DeadEnd],
        extra_libraries: Sequence[LibraryVersion] = (),
        *,
        small_leeway: SmallLeeway,
        snippet_data: SnippetData | None = None,
        stacks: Sequence[Stack] = (),
    ) -> None:
        self.cards: tuple[Card, ...] = tuple(cards)
        self.stacks: Mapping[str, Stack] = MappingProxyType({stack.library: stack for stack in stacks})
        self.small_leeway = small_leeway  # what a "small" clock leeway is: a card recommends one in it, or none
        self.snippet_data = snippet_data or SnippetData()
        self.causes: Mapping[CauseId, CauseInfo] = MappingProxyType(dict(causes))
        self.workarounds: Mapping[str, Workaround] = MappingProxyType({w.id: w for w in workarounds})
        self.dead_ends: Mapping[str, DeadEnd] = MappingProxyType({d.id: d for d in dead_ends})
        libraries: dict[str, LibraryVersion] = {}
        for card in self.cards:
            for version in card.versions:
                libraries.setdefault(version.library, version)
        self.libraries: tuple[LibraryVersion, ...] = tuple(libraries.values())
        self.extra_libraries: tuple[LibraryVersion, ...] = tuple(
            lib for lib in extra_libraries if lib.library not in libraries
        )
        self._known_libraries: Mapping[str, LibraryVersion] = MappingProxyType(
            {lib.library: lib for lib in (*self.extra_libraries, *self.libraries)}
        )
        self._by_cause: Mapping[CauseId, tuple[Workaround, ...]] = MappingProxyType(
            {cause: _by_rate(w for w in self.workarounds.values() if cause in w.causes) for cause in CauseId}
        )
        self._advice: dict[tuple[tuple[CauseId, ...], str | None], Advice] = {}
        self.titles: Mapping[CauseId, str] = MappingProxyType(
            {cause: info.title for cause, info in self.causes.items()}
        )

    def advise(self, cause_ids: Sequence[CauseId], library: str | None = None) -> Advice:
        """Workarounds for the causes (given most likely first), then the dead ends to skip.

        Workarounds follow the causes' order, each cause's best rate first, without repeats. A dead
        end that is the same action as one of the workarounds returned is left out.

        Memoised, since a log of thousands of tokens repeats a few dozen combinations. Invariant: for
        equal ``cause_ids`` and ``library``, one Knowledge returns the *same* tuples for its whole life
        (up to MAX_REMEMBERED_ADVICE combinations; beyond that, equal tuples). ``bot.render.json`` keys
        its shared JSON lists on that identity.
        """
        key = (tuple(cause_ids), library)
        advice = self._advice.get(key)
        if advice is None:
            advice = self._choose(key[0], library)
            if len(self._advice) < MAX_REMEMBERED_ADVICE:
                self._advice[key] = advice
        return advice

    def _choose(self, cause_ids: tuple[CauseId, ...], library: str | None) -> Advice:
        chosen: dict[str, Workaround] = {}
        stack = self.stacks.get(library) if library else None
        no_leeway = stack is not None and stack.no_leeway is not None
        for cause in dict.fromkeys(cause_ids):
            for workaround in self._by_cause.get(cause, ()):
                if workaround.applies_to(library) and not (no_leeway and workaround.sets_leeway):
                    chosen.setdefault(workaround.id, workaround)
        if stack is not None and stack.in_front:
            # a gateway refused the request before the service saw it: its own configuration fix first
            ordered = sorted(chosen.values(), key=lambda w: library not in w.snippets)
            chosen = {w.id: w for w in ordered}
        wanted = set(cause_ids)
        dead_ends = tuple(
            dead_end
            for dead_end in self.dead_ends.values()
            if wanted.intersection(dead_end.causes) and dead_end.same_as not in chosen
        )
        return tuple(chosen.values()), dead_ends

    def in_front(self, library: str | None) -> str | None:
        """``"gateway"`` or ``"mesh"`` when ``library`` is a validator in front of the service (it refused the
        request before the service saw it), else None (a library, or one no stack file describes)."""
        stack = self.stacks.get(library) if library else None
        return stack.kind.value if stack is not None and stack.in_front else None

    def fix_libraries(
        self, recognised: str | None, bound: Sequence[str] = ()
    ) -> tuple[tuple[LibraryVersion, ...], tuple[LibraryVersion, ...]]:
        """The libraries whose fixes a card offers first (the recognised one, then the service's stacks, then
        the card's), and every other known one, by name."""
        first: dict[str, LibraryVersion] = {}
        for name in (recognised, *bound):
            known = self._known_libraries.get(name.casefold()) if name else None
            if known is not None:
                first.setdefault(known.library, known)
        for lib in self.libraries:
            first.setdefault(lib.library, lib)
        rest = sorted(
            (lib for lib in self.extra_libraries if lib.library not in first), key=lambda lib: lib.display.casefold()
        )
        return tuple(first.values()), tuple(rest)

    def libraries_for(self, library: str | None) -> tuple[LibraryVersion, ...]:
        """The card's libraries in the card's order, with the recognised one (if known) first."""
        recognised = self._known_libraries.get(library.casefold()) if library else None
        if recognised is None:
            return self.libraries
        return (recognised, *(lib for lib in self.libraries if lib.library != recognised.library))

    @property
    def provenance(self) -> str:
        """Where the rates come from, e.g. "Rates: AI-generated estimates from the source card
        (fix rate 80%)"."""
        if len(self.cards) == 1:
            card = self.cards[0]
            return f"Rates: {card.rates_wording} from the source card (fix rate {percent(card.fix_rate)})"
        parts = (f"{card.rates_wording} from card {card.id} (fix rate {percent(card.fix_rate)})" for card in self.cards)
        return "Rates: " + "; ".join(parts)


__all__ = [
    "ANY_LIBRARY",
    "KEY_STYLES",
    "PLACEHOLDER",
    "PLACEHOLDER_NAMES",
    "Advice",
    "Card",
    "CauseInfo",
    "DeadEnd",
    "Knowledge",
    "LibraryVersion",
    "RateSource",
    "SmallLeeway",
    "Snippet",
    "SnippetData",
    "Stack",
    "StackKind",
    "Workaround",
    "percent",
]
