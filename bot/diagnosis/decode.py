"""Decode a token without trusting it.

Every failure names the segment that fails. Work is bounded: a token over 16 KiB is not decoded,
JSON deeper than 64 levels is refused, and numbers JSON cannot hold exactly (1e400, NaN) are kept as
:class:`UnrepresentableNumber` so that the checks can say so instead of crashing.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Literal

from bot.diagnosis.model import CauseId, Evidence, Finding, JSONValue

MAX_TOKEN_CHARS = 16 * 1024
MAX_JSON_DEPTH = 64
_BASE64URL = re.compile(r"[A-Za-z0-9_\-]*")
_SEGMENT_NAMES = {
    3: ("header", "payload", "signature"),
    5: ("protected header", "encrypted key", "initialization vector", "ciphertext", "authentication tag"),
}


class UnrepresentableNumber(str):
    """A JSON number that has no finite float value (``1e400``). Serialises as its original text."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class DecodedToken:
    """A token split and decoded as far as it goes. ``raw`` stays in memory and is never rendered."""

    raw: str
    segments: list[str]
    kind: Literal["jws", "jwe"]
    header: dict[str, JSONValue] | None
    claims: dict[str, JSONValue] | None
    problems: list[Finding] = field(default_factory=list)

    @property
    def alg(self) -> str | None:
        value = self.header.get("alg") if self.header else None
        return value if isinstance(value, str) else None


class SegmentError(ValueError):
    pass


def decode_token(raw: str) -> DecodedToken:
    segments = raw.split(".")
    kind: Literal["jws", "jwe"] = "jwe" if len(segments) == 5 else "jws"
    if len(raw) > MAX_TOKEN_CHARS:
        return DecodedToken(raw, segments, kind, None, None, [_malformed(
            None, "too_large",
            f"the token is {len(raw):,} characters long, over the {MAX_TOKEN_CHARS // 1024} KiB this tool "
            "decodes; real tokens are far smaller, so this is probably not one token",
        )])
    if len(segments) not in (3, 5):
        return _wrong_segment_count(raw, segments, kind)
    names = _SEGMENT_NAMES[len(segments)]

    try:
        header = _decode_json_object(segments[0], names[0])
    except SegmentError as failure:
        return DecodedToken(raw, segments, kind, None, None, [_malformed(None, "bad_header", str(failure))])

    problems: list[Finding] = []
    alg = header.get("alg")
    if alg is None:
        problems.append(_malformed("alg", "missing_alg", f"the {names[0]} has no \"alg\" parameter"))
    elif not isinstance(alg, str):
        problems.append(_malformed("alg", "bad_alg", f"the {names[0]}'s \"alg\" is not a string"))

    if kind == "jwe":
        for index, name in enumerate(names[1:], start=1):
            if not _BASE64URL.fullmatch(segments[index]) or len(segments[index]) % 4 == 1:
                problems.append(_malformed(None, "bad_segment", f"the {name} (segment {index + 1}) is not base64url"))
        return DecodedToken(raw, segments, kind, header, None, problems)

    claims: dict[str, JSONValue] | None
    try:
        claims = _decode_json_object(segments[1], names[1])
    except SegmentError as failure:
        claims = None
        problems.append(_malformed(None, "bad_payload", str(failure)))

    signature = segments[2]
    if not _BASE64URL.fullmatch(signature) or len(signature) % 4 == 1:
        problems.append(_malformed(None, "bad_signature_encoding",
                                   "the signature (segment 3) is not valid base64url: the copy may be damaged"))
    elif not signature and isinstance(alg, str) and alg.lower() != "none":
        problems.append(_malformed(None, "missing_signature",
                                   f"the signature segment is empty although alg is {alg!r}: "
                                   "the token was probably cut when it was copied"))
    return DecodedToken(raw, segments, kind, header, claims, problems)


def decode_header(raw: str) -> dict[str, JSONValue] | None:
    """Only the (protected) header, or None when it cannot be read: for choosing among trusted keys."""
    if len(raw) > MAX_TOKEN_CHARS:
        return None
    try:
        return _decode_json_object(raw.split(".", 1)[0], "header")
    except SegmentError:
        return None


def _wrong_segment_count(raw: str, segments: list[str], kind: Literal["jws", "jwe"]) -> DecodedToken:
    count = len(segments)
    hint = "it was probably cut or joined to other text when it was copied"
    detail = f"the token has {count} dot-separated segments; a signed JWT has 3 and an encrypted one 5: {hint}"
    header: dict[str, JSONValue] | None = None
    with contextlib.suppress(SegmentError):
        header = _decode_json_object(segments[0], "header")
    return DecodedToken(raw, segments, kind, header, None, [_malformed(None, "segment_count", detail)])


def _decode_json_object(segment: str, name: str) -> dict[str, JSONValue]:
    if not segment:
        raise SegmentError(f"the {name} is empty")
    if not _BASE64URL.fullmatch(segment):
        raise SegmentError(f"the {name} holds characters outside base64url (A-Z a-z 0-9 - _)")
    if len(segment) % 4 == 1:
        raise SegmentError(f"the {name} has an impossible base64url length ({len(segment)}): a character is missing")
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SegmentError(f"the {name} is not valid base64url") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SegmentError(f"the {name} decodes to bytes that are not UTF-8 text") from exc
    try:
        value = json.loads(text, parse_float=_parse_float, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise SegmentError(f"the {name} nests JSON deeper than {MAX_JSON_DEPTH} levels") from exc
    except (ValueError, TypeError) as exc:
        raise SegmentError(f"the {name} is not valid JSON ({_short_reason(exc)})") from exc
    if not isinstance(value, dict):
        raise SegmentError(f"the {name} is JSON but not an object (it is {_json_type(value)})")
    if _depth(value) > MAX_JSON_DEPTH:
        raise SegmentError(f"the {name} nests JSON deeper than {MAX_JSON_DEPTH} levels")
    return value


def _parse_float(text: str) -> float | UnrepresentableNumber:
    number = float(text)
    return number if math.isfinite(number) else UnrepresentableNumber(text[:40])


def _reject_constant(name: str) -> JSONValue:
    raise ValueError(f"{name} is not allowed in JSON")


def _short_reason(exc: Exception) -> str:
    message = str(exc).split(":", 1)[0] if isinstance(exc, json.JSONDecodeError) else str(exc)
    return message[:120]


def _json_type(value: object) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _depth(value: JSONValue) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_JSON_DEPTH:
            return level
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


def _malformed(claim: str | None, reason: str, detail: str) -> Finding:
    return Finding(CauseId.MALFORMED, Evidence(claim, reason, detail), 1.0)
