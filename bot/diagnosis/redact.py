"""Redaction: the signature segment of a token never leaves the engine.

``redact_text`` is the edge filter for any free text that may hold tokens (error excerpts, log
records, exception messages): it keeps the readable header and payload and replaces everything
after the second dot with a fixed marker. It is linear in the length of the text.
"""

from __future__ import annotations

import hashlib
import re

REDACTION_MARKER = "[redacted]"

# A base64url run that starts like a JSON object ("{" encodes to "ey" or "ew"), followed by at least
# two more dot-separated runs. Possessive quantifiers and the look-behind keep this linear: there is
# one candidate start per run of base64url characters and no backtracking inside a run.
_TOKENISH = re.compile(
    r"(?<![A-Za-z0-9_\-.])(e[yw][A-Za-z0-9_\-]*+\.[A-Za-z0-9_\-]*+\.)([A-Za-z0-9_\-.]*+)"
)
_JWT_LIKE = re.compile(r"(?<![A-Za-z0-9_\-.])e[yw][A-Za-z0-9_\-]*+\.[A-Za-z0-9_\-]*+\.[A-Za-z0-9_\-]")


def redact_text(text: str) -> str:
    """Replace every signature (and, for a JWE, everything after the header) with the marker."""
    if "." not in text:
        return text
    return _TOKENISH.sub(_redact_match, text)


def _redact_match(match: re.Match[str]) -> str:
    return match.group(1) + REDACTION_MARKER


def contains_signature_like(text: str) -> bool:
    """True when the text still holds something shaped like a signed token (used by tests and guards)."""
    return _JWT_LIKE.search(text) is not None


def redacted_form(segments: list[str]) -> str:
    """The token as it may be shown: ``header.payload.`` + marker; a JWE keeps only its header."""
    if len(segments) == 5:
        return f"{segments[0]}.{REDACTION_MARKER}"
    return f"{segments[0]}.{segments[1]}.{REDACTION_MARKER}"


def fingerprint(token: str) -> str:
    """A truncated SHA-256 of the whole token: identifies it for caching without revealing it."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:16]
