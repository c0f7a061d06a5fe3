"""The advice a diagnosis carries: workarounds with their per-library snippets, and dead ends.

Plain immutable data, defined in the core so that ``Diagnosis`` can hold it without the core importing
the knowledge base; ``bot.knowledge`` loads these from the data files and chooses them (``advise``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, TypeAlias

from bot.diagnosis.ids import CauseId

RateSource: TypeAlias = Literal["card", "jwtcheck"]
"""``card``: text and rate come from a source card. ``jwtcheck``: added by this project, never rated."""

ANY_LIBRARY = "any"
"""Snippet key for a fix that is not a code change in one library (a shell command, a request)."""

PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\|([^{}|]{1,40})\}\}")
"""``{{leeway|30}}`` in a snippet: a value the evidence can fill in (the leeway that accepts the tokens
seen), with the default the snippet shows when there is none."""
PLACEHOLDER_NAMES = frozenset({"leeway"})


@dataclass(frozen=True, slots=True)
class Snippet:
    library: str
    version: str
    language: str
    code: str
    note: str = ""

    def render(self, values: Mapping[str, str] | None = None) -> str:
        """The code with its placeholders filled from ``values``, or with their defaults."""
        if "{{" not in self.code:
            return self.code
        given = values or {}
        return PLACEHOLDER.sub(lambda m: given.get(m.group(1)) or m.group(2), self.code)


@dataclass(frozen=True, slots=True)
class Workaround:
    """A fix. ``only_for`` restricts it to the named libraries (empty: it applies whatever the library)."""

    id: str
    title: str
    detail: str
    success_rate: float | None
    source: RateSource
    card_id: str
    causes: tuple[CauseId, ...]
    snippets: Mapping[str, Snippet] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    only_for: tuple[str, ...] = ()

    def applies_to(self, library: str | None) -> bool:
        return not self.only_for or library in self.only_for

    def snippet_for(self, library: str) -> Snippet | None:
        return self.snippets.get(library)


@dataclass(frozen=True, slots=True)
class DeadEnd:
    """Something that does not fix the causes listed. ``same_as`` names the workaround that is the
    same action where it does help (regenerating the token does fix a plainly expired token)."""

    id: str
    title: str
    why: str
    fail_rate: float | None
    source: RateSource
    card_id: str
    causes: tuple[CauseId, ...]
    same_as: str | None = None


__all__ = ["ANY_LIBRARY", "PLACEHOLDER", "PLACEHOLDER_NAMES", "DeadEnd", "RateSource", "Snippet", "Workaround"]
