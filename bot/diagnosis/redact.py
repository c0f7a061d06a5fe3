"""Redaction: the signature segment of a token never leaves the engine, nor does an opaque token.

``redact_text`` is the edge filter for any free text that may hold tokens (error excerpts, log
records, exception messages): it keeps the readable header and payload and replaces everything
after the second dot with a fixed marker. An opaque access token after ``Bearer`` or ``access_token``
(see :func:`find_opaque_values`) is a credential with nothing readable in it: only its first four
characters and its length are kept (:func:`opaque_shown`). It is linear in the length of the text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from string import ascii_letters, digits
from typing import NamedTuple

REDACTION_MARKER = "[redacted]"

# Where a token starts: base64url of a JSON object's opening ('{"' is "eyJ" or "eyI", '{ "' is "eyA",
# '{' and a line break is "ewo", "ew0" or "ewk"), wherever it stands, even glued to other characters
# ("%20eyJ…" in a URL-encoded body). The pattern always matches to the end of the dotted run it
# starts, so no attempt fails and restarts inside a run: the substitution stays linear.
TOKEN_START = r"e(?:y[IJA]|w[ok0])"
TOKEN_STARTS = ("eyJ", "eyI", "eyA", "ewo", "ewk", "ew0")  # the same, as literals
_TOKENISH = re.compile(TOKEN_START + r"[A-Za-z0-9_\-]*+(?:\.[A-Za-z0-9_\-]*+)*+")


# An opaque access token: the value right after "Bearer " (an Authorization header) or after "access_token"
# and an "=" or ":" (a query string, a form, JSON), that is no JWT: no dots, 16 to 512 base64url or base64
# characters (RFC 6750's token68 without "." and "~"), not starting like a JWT's JSON header. Redaction
# takes longer values too (an encrypted opaque token runs to a few KiB), up to REDACT_OPAQUE_MAX. Possessive
# quantifiers and a bounded run: a look at one place reads at most that many characters.
OPAQUE_MIN, OPAQUE_MAX = 16, 512
REDACT_OPAQUE_MAX = 16 * 1024
OPAQUE_MARKERS = ("Bearer", "bearer", "BEARER", "access_token")
_WORD = frozenset(ascii_letters + digits + "_")  # a marker glued to one of these is part of another word


def _after_markers(longest: int) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """What follows ``Bearer`` and what follows ``access_token``, the value (group 1) up to ``longest``."""
    value = rf"(?!{TOKEN_START})[A-Za-z0-9_\-+/]{{{OPAQUE_MIN},{longest}}}+={{0,2}}+(?![A-Za-z0-9_\-+/=.~])"
    bearer = re.compile(rf"[ \t]{{1,8}}+({value})")
    access_token = re.compile(rf"""(?:\\?["'])?+[ \t]{{0,8}}+[:=][ \t]{{0,8}}+(?:\\?["'])?+({value})""")
    return bearer, access_token


_AFTER = {OPAQUE_MAX: _after_markers(OPAQUE_MAX), REDACT_OPAQUE_MAX: _after_markers(REDACT_OPAQUE_MAX)}


class OpaqueValue(NamedTuple):
    """Where an opaque token's value stands in a text; ``marker`` is ``Bearer`` or ``access_token``."""

    marker: str
    start: int
    end: int


def find_opaque_values(
    text: str, markers: Iterable[str] = OPAQUE_MARKERS, *, longest: int = OPAQUE_MAX
) -> list[OpaqueValue]:
    """The opaque-token values after the ``markers`` (of :data:`OPAQUE_MARKERS`) in ``text``, in order;
    ``longest``: :data:`OPAQUE_MAX` (what the scan calls an opaque token) or :data:`REDACT_OPAQUE_MAX`.

    Looks only where a marker stands (``str.find``), with one bounded match there: linear in the text (a
    failed look reads a value that no other marker's look reads again: a marker inside it is glued to it).
    """
    bearer, access_token = _AFTER[longest]
    found: list[OpaqueValue] = []
    for marker in markers:
        after, name = (access_token, "access_token") if marker == "access_token" else (bearer, "Bearer")
        position = text.find(marker)
        while position >= 0:
            end = position + len(marker)
            if position == 0 or text[position - 1] not in _WORD:
                match = after.match(text, end)
                if match is not None:
                    found.append(OpaqueValue(name, match.start(1), match.end(1)))
                    end = match.end(1)
            position = text.find(marker, end)
    found.sort(key=lambda value: value.start)
    return found


def opaque_shown(value: str) -> str:
    """What may be shown of an opaque token: its first four characters and its length, ``2Yot… (22 chars)``."""
    return f"{value[:4]}… ({len(value)} chars)"


def redact_opaque(text: str) -> str:
    """``text`` with every opaque token after ``Bearer`` or ``access_token`` cut to :func:`opaque_shown`."""
    markers = [marker for marker in OPAQUE_MARKERS if marker in text]
    if not markers:
        return text
    values = find_opaque_values(text, markers, longest=REDACT_OPAQUE_MAX)
    if not values:
        return text
    pieces: list[str] = []
    last = 0
    for value in values:
        pieces += [text[last : value.start], opaque_shown(text[value.start : value.end])]
        last = value.end
    pieces.append(text[last:])
    return "".join(pieces)


def redact_text(text: str) -> str:
    """Replace every signature (and, for a JWE, everything after the second segment) with the marker, and
    every opaque token after ``Bearer`` or ``access_token`` with what may be shown of it."""
    if "." in text:
        text = _TOKENISH.sub(_redact_match, text)
    return redact_opaque(text)


def _redact_match(match: re.Match[str]) -> str:
    run = match.group(0)
    end = _signature_start(run)
    return run if end is None else run[:end] + REDACTION_MARKER


def _signature_start(run: str) -> int | None:
    """Where the third segment of a dotted run begins, if it has one."""
    first = run.find(".")
    second = run.find(".", first + 1) if first >= 0 else -1
    return second + 1 if second >= 0 else None


def contains_signature_like(text: str) -> bool:
    """True when the text still holds a token with something after its second dot (tests and guards)."""
    for match in _TOKENISH.finditer(text):
        start = _signature_start(match.group(0))
        if start is not None and start < len(match.group(0)):
            return True
    return False


def redacted_form(segments: list[str]) -> str:
    """The token as it may be shown: ``header.payload.`` + marker; a JWE keeps only its header."""
    if len(segments) == 5:
        return f"{segments[0]}.{REDACTION_MARKER}"
    return f"{segments[0]}.{segments[1]}.{REDACTION_MARKER}"


def fingerprint(token: str) -> str:
    """A truncated SHA-256 of the whole token: identifies it for caching without revealing it."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def shorten_redacted(redacted: str, longest: int, keep: int) -> str:
    """``eyJhbGciOi….eyJzdWIiOi….[redacted]``: each readable segment over ``longest`` characters cut to
    ``keep`` and an ellipsis; the marker is never cut."""
    return ".".join(
        part if len(part) <= longest or part == REDACTION_MARKER else part[:keep] + "…" for part in redacted.split(".")
    )


_SLACK_SECRETS = re.compile(r"\b(xox[abposre]|xapp)-[A-Za-z0-9-]{6,}")


def last_pass(text: str) -> str:
    """The last look at any text that leaves the process (Web API payloads, store writes, log records):
    JWT signatures, opaque tokens and Slack secrets redacted. Idempotent."""
    return _SLACK_SECRETS.sub(lambda m: m.group(1) + "-[redacted]", redact_text(text))
