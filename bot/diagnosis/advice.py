"""The advice a diagnosis carries: workarounds with their per-library snippets, and dead ends.

Plain immutable data, defined in the core so that ``Diagnosis`` can hold it without the core importing
the knowledge base; ``bot.knowledge`` loads these from the data files and chooses them (``advise``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, TypeAlias

from bot.diagnosis.ids import CauseId

RateSource: TypeAlias = Literal["card", "jwtcheck"]
"""``card``: text and rate come from a source card. ``jwtcheck``: added by this project, never rated."""

ANY_LIBRARY = "any"
"""Snippet key for a fix that is not a code change in one library (a shell command, a request)."""

PLACEHOLDER = re.compile(r"\{\{([a-z_]+)(?:\|([^{}|]{0,40}))?\}\}")
"""``{{leeway|30}}`` in a snippet or a title: a value filled in from the token, the service and the card's
one leeway figure; after the bar, the default shown when there is none. ``{{audience}}`` (no bar) takes
the knowledge base's default for its name. A line holding nothing but a placeholder that comes out empty
is dropped (``{{key_import}}`` where the key needs no import)."""
_ALONE_ON_A_LINE = re.compile(r"^[ \t]*\{\{([a-z_]+)(?:\|([^{}|]{0,40}))?\}\}[ \t]*\n", re.MULTILINE)

PLACEHOLDER_NAMES = frozenset({"leeway", "alg", "alg_bits", "audience", "issuer", "jwks_url", "secret_env"})
"""The placeholders ``bot.render.snippets`` fills from the card; beyond them, a snippet may name the
values of its library's key styles (``{{key}}``, ``{{key_import}}``…, see ``KEY_STYLES``)."""
TITLE_PLACEHOLDERS = frozenset({"leeway"})
"""The placeholders a workaround's title may hold: the card's one leeway figure."""

KEY_STYLES = ("hmac", "public", "jwks")
"""How a snippet holds the key: ``hmac``, the shared secret of an HS* token, read from the environment;
``public``, a public key for RS/PS/ES; ``jwks``, the same from the issuer's JWKS URL when it is known
(a library without a ``jwks`` style takes its ``public`` one)."""


def fill(text: str, values: Mapping[str, str] | None = None) -> str:
    """``text`` with its placeholders filled from ``values``, else with their defaults (or nothing).

    A value may hold placeholders of its own (a key style's ``os.environ["{{secret_env}}"]``): they are
    filled from the same values, one level deep. A line left holding only an empty placeholder is dropped.
    """
    if "{{" not in text:
        return text
    given = values or {}

    def value(name: str, default: str | None) -> str:
        found = given.get(name)
        if not found:
            return default or ""
        if "{{" not in found:
            return found
        return PLACEHOLDER.sub(lambda inner: given.get(inner.group(1)) or inner.group(2) or "", found)

    text = _ALONE_ON_A_LINE.sub(lambda m: m.group(0) if value(m.group(1), m.group(2)) else "", text)
    return PLACEHOLDER.sub(lambda m: value(m.group(1), m.group(2)), text)


def placeholders(text: str) -> set[str]:
    """The names of the placeholders in ``text``."""
    return {match.group(1) for match in PLACEHOLDER.finditer(text)}


@dataclass(frozen=True, slots=True)
class Snippet:
    """One library's code for a fix. ``defaults`` are the knowledge base's values for the placeholders
    without one of their own (the example audience, issuer…), ``styles`` the library's key styles
    (``KEY_STYLES``: the values of ``{{key}}`` and its kin for each); both shared by every snippet."""

    library: str
    version: str
    language: str
    code: str
    note: str = ""
    defaults: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), compare=False, repr=False)
    styles: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, repr=False
    )

    def render(self, values: Mapping[str, str] | None = None, style: str = "public") -> str:
        """The code with its placeholders filled from ``values``, then from the key ``style``'s values and
        the defaults: a snippet for the knowledge base's example token (RS256) when nothing is given."""
        if "{{" not in self.code:
            return self.code
        merged = {**self.defaults, **self.styles.get(style, {}), **(values or {})}
        return fill(self.code, merged)


@dataclass(frozen=True, slots=True)
class Workaround:
    """A fix. ``only_for`` restricts it to the named libraries (empty: it applies whatever the library).

    ``title`` is what every face shows when the card has no leeway figure; a title that names the leeway
    keeps its template (``title_template``, ``{{leeway}}`` in it), filled with the card's recommended
    figure, and ``title_beyond`` for a card whose evidence needs more than any safe leeway."""

    id: str
    title: str
    detail: str
    success_rate: float | None
    source: RateSource
    card_id: str
    causes: tuple[CauseId, ...]
    snippets: Mapping[str, Snippet] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    only_for: tuple[str, ...] = ()
    title_template: str = ""
    title_beyond: str = ""

    def applies_to(self, library: str | None) -> bool:
        return not self.only_for or library in self.only_for

    @property
    def sets_leeway(self) -> bool:
        """The fix is a clock leeway in the validator (its title names the figure): a validator with no such
        setting (Kong's jwt plugin, AWS's JWT authorizer) cannot take it."""
        return "{{leeway" in self.title_template

    def snippet_for(self, library: str) -> Snippet | None:
        return self.snippets.get(library)


@dataclass(frozen=True, slots=True)
class DeadEnd:
    """Something that does not fix the causes listed. ``same_as`` names the workaround that is the
    same action where it does help (regenerating the token does fix a plainly expired token).

    ``why`` is true of every cause listed; ``reasons`` says it for one cause in particular (a regenerated
    token carries the same skewed times, the same audience, the same algorithm…): see :meth:`why_for`."""

    id: str
    title: str
    why: str
    fail_rate: float | None
    source: RateSource
    card_id: str
    causes: tuple[CauseId, ...]
    same_as: str | None = None
    reasons: Mapping[CauseId, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    def why_for(self, causes: Iterable[CauseId]) -> str:
        """Why it fails for a card with these causes (most likely first): the reason written for the first
        of them this dead end is shown for, else ``why``."""
        for cause in causes:
            if cause in self.reasons:
                return self.reasons[cause]
            if cause in self.causes:
                return self.why
        return self.why


__all__ = [
    "ANY_LIBRARY",
    "KEY_STYLES",
    "PLACEHOLDER",
    "PLACEHOLDER_NAMES",
    "TITLE_PLACEHOLDERS",
    "DeadEnd",
    "RateSource",
    "Snippet",
    "Workaround",
    "fill",
    "placeholders",
]
