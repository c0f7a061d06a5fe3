"""Redaction: the signature segment of a token never leaves the engine.

``redact_text`` is the edge filter for any free text that may hold tokens (error excerpts, log
records, exception messages): it keeps the readable header and payload and replaces everything
after the second dot with a fixed marker. It is linear in the length of the text.
"""

from __future__ import annotations

import hashlib
import re

REDACTION_MARKER = "[redacted]"

# Where a token starts: base64url of a JSON object's opening ('{"' is "eyJ" or "eyI", '{ "' is "eyA",
# '{' and a line break is "ewo", "ew0" or "ewk"), wherever it stands, even glued to other characters
# ("%20eyJ…" in a URL-encoded body). The pattern always matches to the end of the dotted run it
# starts, so no attempt fails and restarts inside a run: the substitution stays linear.
TOKEN_START = r"e(?:y[IJA]|w[ok0])"
TOKEN_STARTS = ("eyJ", "eyI", "eyA", "ewo", "ewk", "ew0")  # the same, as literals
_TOKENISH = re.compile(TOKEN_START + r"[A-Za-z0-9_\-]*+(?:\.[A-Za-z0-9_\-]*+)*+")


def redact_text(text: str) -> str:
    """Replace every signature (and, for a JWE, everything after the second segment) with the marker."""
    if "." not in text:
        return text
    return _TOKENISH.sub(_redact_match, text)


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
