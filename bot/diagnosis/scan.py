"""The first step: find JWTs and known error messages in free text (Bearer headers, curl lines, JSON,
logs, chat messages, terminal wraps), and opaque access tokens where a JWT was expected.

The token scan is linear in the text: one regular expression with possessive quantifiers and a
look-behind, so there is one candidate start per run of base64url characters. The text is taken as it
is: a chat edge undoes its own escaping before it calls :func:`scan`.

An opaque token is looked for only where ``Bearer`` or ``access_token`` stands (the same one prefilter pass
tells whether they do), with one bounded match there (:func:`bot.diagnosis.redact.find_opaque_values`).
It is a credential: the scan keeps only what may be shown of it (its first four characters and its
length) and its fingerprint, never its value.

Error texts are read with the tails of wrapped tokens redacted (``bot.diagnosis.redact.wrapped_tails``):
a signature's tail that a line break put at the head of an error's line is no part of the error's
excerpt. The tails are looked for only when an error's line starts where a tail could
(:func:`bot.diagnosis.redact.may_hold_a_tail`), so a log of one-line errors pays nothing for it.
"""

from __future__ import annotations

import base64
import binascii
import re
from bisect import bisect_right
from dataclasses import dataclass, replace
from typing import NamedTuple

from bot.diagnosis.error_texts import LINE_CAP, Catalogue, ErrorTextMatch, find_error_texts
from bot.diagnosis.ids import Library
from bot.diagnosis.prefilter import LiteralSet
from bot.diagnosis.redact import (
    OPAQUE_MARKERS,
    TOKEN_START,
    TOKEN_STARTS,
    find_opaque_values,
    fingerprint,
    may_hold_a_tail,
    opaque_shown,
    wrapped_tails,
)

# A token starts where a JSON object's base64url does (see redact.TOKEN_START), even glued to other
# characters ("Bearer%20eyJ…"). Every attempt that starts succeeds and consumes its whole dotted run,
# so the scan never restarts inside a run: linear in the text.
_CANDIDATE = re.compile(TOKEN_START + r"[A-Za-z0-9_\-]*+(?:\.[A-Za-z0-9_\-]*+)*+")
# The bot scans every message and most hold no token: the starts are looked for first, in a pass or two.
# ("ewo", "ewk", "ew0": one pass over the w's rather than three over o, k and 0).
START_GATES = {start: "w" for start in TOKEN_STARTS if start.startswith("ew")}
STARTS = LiteralSet(TOKEN_STARTS, gates=START_GATES)
# Where an opaque token may stand; with the token starts, one set (the Python backend's gates: "B", "b" and
# "_" are rarer in chat than any letter of the words).
MARKERS = LiteralSet(OPAQUE_MARKERS, gates={"Bearer": "B", "bearer": "b", "BEARER": "B", "access_token": "_"})
_TOKEN_LITERALS = STARTS.union(MARKERS)
MAX_OPAQUE = 500  # opaque tokens kept per text (a log of them is not what they are looked for in)
# A wrapped token's next line: token characters, after the indentation of YAML, kubectl or a quoted mail.
_TOKEN_LINE = re.compile(r"[ \t]*+(?:>[ \t]*+)*+([A-Za-z0-9_\-.]++)")
_MAX_WRAPPED_CHARS = 20 * 1024


@dataclass(frozen=True, slots=True)
class TokenCandidate:
    start: int
    token: str


@dataclass(frozen=True, slots=True)
class OpaqueCandidate:
    """An opaque access token where a JWT belongs: after ``Bearer`` or ``access_token``, no dots, 16 to 512
    base64url or base64 characters. Its value is not kept: ``shown`` is what may be shown of it
    (``2Yot… (22 chars)``), ``fingerprint`` identifies it, ``marker`` says where it stood."""

    start: int
    shown: str
    fingerprint: str
    marker: str  # "Bearer" or "access_token"


Item = TokenCandidate | ErrorTextMatch | OpaqueCandidate


class Found(NamedTuple):
    """What :func:`scan` found in one text, for :func:`bot.diagnosis.judge.judge`."""

    items: tuple[Item, ...]  # tokens, error texts and opaque tokens, in order of appearance
    library: Library | None  # the one library the error texts name, if exactly one
    omitted: int = 0  # items beyond the scan's limit

    @property
    def tokens(self) -> tuple[str, ...]:
        """The JWTs (and JWEs) found: what is examined and cached. Opaque tokens are not among them."""
        return tuple(item.token for item in self.items if isinstance(item, TokenCandidate))


NOTHING_FOUND = Found((), None)


def scan(text: str, catalogue: Catalogue, *, at: float | None = None, limit: int | None = None) -> Found:
    """Tokens and the catalogue's error texts in ``text``; ``at`` (epoch seconds) lets the evidence of an
    error text say how long ago a time it prints was; ``limit`` caps the items kept (the rest are counted)."""
    # One pass for every question: the token starts, the words an opaque token follows, and the catalogue's
    # needles (or their anchors, with the pure-Python backend; see Catalogue.prefilter).
    present = _TOKEN_LITERALS.union(catalogue.prefilter).present(text)
    if not present:
        return NOTHING_FOUND  # most messages: no token start, no error message
    hits = set(present)
    has_start = any(literal in STARTS for literal in present)
    markers = [literal for literal in present if literal in MARKERS]
    # The anchors whose needles may be in the text; the other anchors' needles are not in it.
    anchors = [
        anchor for anchor, needles in catalogue.anchors.items() if anchor in hits or not hits.isdisjoint(needles)
    ]
    errors = _find_error_texts(text, catalogue, at, anchors) if anchors else []
    tokens = _first_of_each(find_tokens(text, has_start=True)) if has_start else []
    opaque = find_opaque(text, markers) if markers else []
    items: list[Item] = sorted([*tokens, *errors, *opaque], key=lambda item: item.start)
    omitted = 0
    if limit is not None and len(items) > limit:
        items, omitted = items[:limit], len(items) - limit
    libraries = {match.library for match in errors if match.library is not None}
    return Found(tuple(items), libraries.pop() if len(libraries) == 1 else None, omitted)


def _find_error_texts(text: str, catalogue: Catalogue, at: float | None, anchors: list[str]) -> list[ErrorTextMatch]:
    """The error texts, read with the tails of wrapped tokens redacted; positions are the original text's."""
    errors = find_error_texts(text, catalogue, now=at, anchors=anchors)
    if not any(may_hold_a_tail(text[error.start : min(error.end, error.start + LINE_CAP)]) for error in errors):
        return errors  # most texts: no error's line starts where a wrapped token's tail could
    tails = wrapped_tails(text)  # the whole text: a token cut in its start ("e", a break, "yJ…") has no TOKEN_STARTS
    if not tails:
        return errors
    pieces: list[str] = []
    ends: list[int] = []  # where each replacement ends in the masked text
    shifts: list[int] = []  # original minus masked position, after it
    last = shift = 0
    for start, end, replacement in tails:
        pieces += [text[last:start], replacement]
        shift += (end - start) - len(replacement)
        ends.append(end - shift)
        shifts.append(shift)
        last = end
    pieces.append(text[last:])

    def original(position: int) -> int:
        index = bisect_right(ends, position) - 1
        return position if index < 0 else position + shifts[index]

    found = find_error_texts("".join(pieces), catalogue, now=at, anchors=anchors)
    return [replace(match, start=original(match.start), end=original(match.end)) for match in found]


def _first_of_each(tokens: list[TokenCandidate]) -> list[TokenCandidate]:
    """One token pasted twice (a header and a curl line, a log repeating itself) is one diagnosis."""
    if len(tokens) < 2:
        return tokens
    seen: set[str] = set()
    first = []
    for candidate in tokens:
        if candidate.token not in seen:
            seen.add(candidate.token)
            first.append(candidate)
    return first


def find_opaque(text: str, markers: list[str] | tuple[str, ...] = OPAQUE_MARKERS) -> list[OpaqueCandidate]:
    """The opaque tokens after ``markers`` in ``text`` (each once, at its first place; at most MAX_OPAQUE).

    A value with no digit or no letter is taken for a word or a placeholder (``Bearer YOUR_ACCESS_TOKEN``),
    not a token."""
    found: list[OpaqueCandidate] = []
    seen: set[str] = set()
    for value in find_opaque_values(text, markers):
        raw = text[value.start : value.end]
        if not _looks_random(raw):
            continue
        identity = fingerprint(raw)
        if identity in seen:
            continue
        seen.add(identity)
        found.append(OpaqueCandidate(value.start, opaque_shown(raw), identity, value.marker))
        if len(found) >= MAX_OPAQUE:
            break
    return found


def _looks_random(value: str) -> bool:
    return any(char.isdigit() for char in value) and any(char.isalpha() for char in value)


def find_tokens(text: str, *, has_start: bool | None = None) -> list[TokenCandidate]:
    """Every token in ``text``; ``has_start``: whether a token start (TOKEN_STARTS) is in it, when known."""
    found: list[TokenCandidate] = []
    if not (STARTS.any_present(text) if has_start is None else has_start):
        return found
    position = 0
    while (match := _CANDIDATE.search(text, position)) is not None:
        token, position = _join_wrapped_lines(text, match.group(0), match.end())
        token = _drop_sentence_dot(token)
        if _looks_like_a_token(token):
            found.append(TokenCandidate(match.start(), token))
    return found


def _join_wrapped_lines(text: str, piece: str, end: int) -> tuple[str, int]:
    """Rejoin a token that a terminal or a mail client wrapped over several lines.

    A line break is taken as part of the token only when the token is still incomplete (fewer than
    three segments), or when the lines so far were all cut at the same width, as a hard wrap does.
    A token alone on its line followed by another line is never glued to it.
    """
    widths: list[int] = []
    while end < len(text) and text[end] in "\r\n" and len(piece) < _MAX_WRAPPED_CHARS:
        line_start = text.rfind("\n", 0, end) + 1
        line_width = len(text[line_start:end].rstrip("\r"))
        next_start = end + (2 if text.startswith("\r\n", end) else 1)
        continuation = _TOKEN_LINE.match(text, next_start)
        if continuation is None:
            break
        next_end = continuation.end()
        if next_end < len(text) and text[next_end] not in "\r\n":
            break  # the next line holds more than token characters: it is prose, not a wrapped token
        incomplete = piece.count(".") < 2
        same_width = bool(widths) and widths[-1] == line_width
        if not (incomplete or same_width):
            break
        widths.append(line_width)
        piece += continuation.group(1)
        end = next_end
    return piece, end


def _drop_sentence_dot(token: str) -> str:
    """``… eyJ.eyJ.sig.`` at the end of a sentence: the last dot is punctuation, not a segment."""
    if token.endswith(".") and token.count(".") in (3, 5):
        return token[:-1]
    return token


def _looks_like_a_token(candidate: str) -> bool:
    """Keep candidates whose first segment is a JSON object header; drop words like ``eyes.on.it``."""
    segments = candidate.split(".")
    if len(segments) < 2:
        return False
    head = segments[0]
    if len(head) >= 12 and head.startswith("eyJ") and len(candidate) >= 30:
        return True
    return _header_is_json_object(head)


def _header_is_json_object(head: str) -> bool:
    if len(head) % 4 == 1 or len(head) > 4096:
        return False
    try:
        data = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))
    except (binascii.Error, ValueError):
        return False
    stripped = data.lstrip()
    return stripped.startswith(b"{") and data.rstrip().endswith(b"}")
