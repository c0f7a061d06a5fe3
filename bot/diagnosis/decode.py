"""Decode a token without trusting it.

Every failure names the segment that fails. Work is bounded: a token over 16 KiB is not decoded,
JSON deeper than 64 levels is refused, and numbers JSON cannot hold exactly (1e400, NaN) are kept as
:class:`UnrepresentableNumber` so that the checks can say so instead of crashing.

A log repeats its headers: the header segments decoded last are remembered (a bounded number of
short ones), and a copy of the remembered result is handed out.
"""

from __future__ import annotations

import binascii
import contextlib
import json
import math
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Literal, NamedTuple

from bot.diagnosis.ids import Reason
from bot.diagnosis.model import CauseId, Evidence, Finding, JSONValue
from bot.diagnosis.redact import TOKEN_START

MAX_TOKEN_CHARS = 16 * 1024
MAX_JSON_DEPTH = 64
_BASE64URL = re.compile(r"[A-Za-z0-9_\-]*")
_HOLDS_A_TOKEN = re.compile(TOKEN_START)
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_MEMO_SEGMENT_CHARS = 512  # header segments up to this long are remembered …
_MEMO_SEGMENTS = 256  # … this many of them
_SEGMENT_NAMES = {
    3: ("header", "payload", "signature"),
    5: ("protected header", "encrypted key", "initialization vector", "ciphertext", "authentication tag"),
}


class UnrepresentableNumber(str):
    """A JSON number that has no finite float value (``1e400``). Serialises as its original text."""

    __slots__ = ()


class DecodedToken(NamedTuple):
    """A token split and decoded as far as it goes. ``raw`` stays in memory and is never rendered.
    (A named tuple: one is built per token, and cheaply.)"""

    raw: str
    segments: list[str]
    kind: Literal["jws", "jwe"]
    header: dict[str, JSONValue] | None
    claims: dict[str, JSONValue] | None
    problems: list[Finding]
    # False when the decoded JSON texts hold no escape and no token start: then no string in the header
    # or claims can hold a token, and redaction has nothing to look for.
    may_hold_tokens: bool = True

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
        return DecodedToken(
            raw,
            segments,
            kind,
            None,
            None,
            [
                _malformed(
                    None,
                    Reason.TOO_LARGE,
                    f"the token is {len(raw):,} characters long, over the {MAX_TOKEN_CHARS // 1024} KiB this tool "
                    "decodes; real tokens are far smaller, so this is probably not one token",
                )
            ],
        )
    if len(segments) not in (3, 5):
        return _wrong_segment_count(raw, segments, kind)
    names = _SEGMENT_NAMES[len(segments)]

    try:
        header, header_plain = _decode_header_segment(segments[0], names[0])
    except SegmentError as failure:
        return DecodedToken(raw, segments, kind, None, None, [_malformed(None, Reason.BAD_HEADER, str(failure))])

    problems: list[Finding] = []
    alg = header.get("alg")
    if alg is None:
        problems.append(_malformed("alg", Reason.MISSING_ALG, f'the {names[0]} has no "alg" parameter'))
    elif not isinstance(alg, str):
        problems.append(_malformed("alg", Reason.BAD_ALG, f'the {names[0]}\'s "alg" is not a string'))

    if kind == "jwe":
        for index, name in enumerate(names[1:], start=1):
            if not _BASE64URL.fullmatch(segments[index]) or len(segments[index]) % 4 == 1:
                problems.append(
                    _malformed(None, Reason.BAD_SEGMENT, f"the {name} (segment {index + 1}) is not base64url")
                )
        return DecodedToken(raw, segments, kind, header, None, problems, not header_plain)

    claims: dict[str, JSONValue] | None
    claims_plain = True
    try:
        claims, claims_plain = _decode_json_text(segments[1], names[1])
    except SegmentError as failure:
        claims = None
        problems.append(_malformed(None, Reason.BAD_PAYLOAD, str(failure)))

    signature = segments[2]
    if not _BASE64URL.fullmatch(signature) or len(signature) % 4 == 1:
        problems.append(
            _malformed(
                None,
                Reason.BAD_SIGNATURE_ENCODING,
                "the signature (segment 3) is not valid base64url: the copy may be damaged",
            )
        )
    elif not signature and isinstance(alg, str) and alg.lower() != "none":
        problems.append(
            _malformed(
                None,
                Reason.MISSING_SIGNATURE,
                f"the signature segment is empty although alg is {alg!r}: "
                "the token was probably cut when it was copied",
            )
        )
    return DecodedToken(raw, segments, kind, header, claims, problems, not (header_plain and claims_plain))


def decode_header(raw: str) -> dict[str, JSONValue] | None:
    """Only the (protected) header, or None when it cannot be read: for choosing among trusted keys."""
    if len(raw) > MAX_TOKEN_CHARS:
        return None
    try:
        return _decode_header_segment(raw.split(".", 1)[0], "header")[0]
    except SegmentError:
        return None


def _wrong_segment_count(raw: str, segments: list[str], kind: Literal["jws", "jwe"]) -> DecodedToken:
    count = len(segments)
    hint = "it was probably cut or joined to other text when it was copied"
    detail = f"the token has {count} dot-separated segments; a signed JWT has 3 and an encrypted one 5: {hint}"
    header: dict[str, JSONValue] | None = None
    with contextlib.suppress(SegmentError):
        header = _decode_header_segment(segments[0], "header")[0]
    return DecodedToken(raw, segments, kind, header, None, [_malformed(None, Reason.SEGMENT_COUNT, detail)])


def _decode_header_segment(segment: str, name: str) -> tuple[dict[str, JSONValue], bool]:
    """:func:`_decode_json_text`, remembered for short segments; the caller gets its own copy."""
    if len(segment) > _MEMO_SEGMENT_CHARS:
        return _decode_json_text(segment, name)
    outcome = _remembered_header(segment, name)
    if isinstance(outcome, str):
        raise SegmentError(outcome)
    header, plain = outcome
    return dict(header), plain


@lru_cache(maxsize=_MEMO_SEGMENTS)
def _remembered_header(segment: str, name: str) -> tuple[dict[str, JSONValue], bool] | str:
    try:
        return _decode_json_text(segment, name)
    except SegmentError as failure:
        return str(failure)


def _decode_json_text(segment: str, name: str) -> tuple[dict[str, JSONValue], bool]:
    """The JSON object in ``segment``, and whether its text is *plain*: no escape, no token start."""
    if not segment:
        raise SegmentError(f"the {name} is empty")
    data = _strict_base64url(segment)
    if data is None:  # not plain base64url: the checks one by one, each with its own sentence
        if not _BASE64URL.fullmatch(segment):
            raise SegmentError(f"the {name} holds characters outside base64url (A-Z a-z 0-9 - _)")
        if len(segment) % 4 == 1:
            raise SegmentError(
                f"the {name} has an impossible base64url length ({len(segment)}): a character is missing"
            )
        try:  # base64url checked above: translate to the standard alphabet and decode in C
            data = binascii.a2b_base64(segment.encode("ascii").translate(_TO_STANDARD) + b"=" * (-len(segment) % 4))
        except (binascii.Error, ValueError) as exc:
            raise SegmentError(f"the {name} is not valid base64url") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SegmentError(f"the {name} decodes to bytes that are not UTF-8 text") from exc
    try:
        value = _parse_json(text)
    except RecursionError as exc:
        raise SegmentError(f"the {name} nests JSON deeper than {MAX_JSON_DEPTH} levels") from exc
    except (ValueError, TypeError) as exc:
        raise SegmentError(f"the {name} is not valid JSON ({_short_reason(exc)})") from exc
    if not isinstance(value, dict):
        raise SegmentError(f"the {name} is JSON but not an object (it is {_json_type(value)})")
    # Each level of nesting opens with a bracket: text with fewer brackets than the limit cannot be
    # too deep, and only the rare deeper candidate is walked.
    if text.count("{") + text.count("[") > MAX_JSON_DEPTH and _depth(value) > MAX_JSON_DEPTH:
        raise SegmentError(f"the {name} nests JSON deeper than {MAX_JSON_DEPTH} levels")
    return value, "\\" not in text and _HOLDS_A_TOKEN.search(text) is None


def _strict_base64url(segment: str) -> bytes | None:
    """The bytes of a segment that is plain base64url, or None for any other (then the caller checks it
    step by step, for the sentence that says what is wrong).

    One pass in C instead of a regular expression and a decode: translated to the standard alphabet and
    padded, a segment that held none of ``+ / =`` decodes in strict mode only if every character was in
    base64url's alphabet and its length is possible; strict and lenient decoding give the same bytes for
    such input. Invariant tested in tests/diagnosis/test_decode.py.
    """
    if "=" in segment or "+" in segment or "/" in segment:
        return None
    try:
        return binascii.a2b_base64(
            segment.encode("ascii").translate(_TO_STANDARD) + b"=" * (-len(segment) % 4), strict_mode=True
        )
    except (binascii.Error, UnicodeEncodeError):
        return None


def _parse_json(text: str) -> JSONValue:
    """``json.loads`` with the hostile-number rules, through one decoder built once."""
    if text.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    # The decoder's scanner, called as JSONDecoder.decode calls it, without decode's Python around it:
    # a value that starts at 0 and runs to the end is decode's answer (decode starts after any leading
    # white space, and there is none where a value starts at 0; it fails only on text after the value,
    # and there is none). Anything else, its errors included, is decode's own work. Invariant tested in
    # tests/diagnosis/test_decode.py.
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        end = -1
    if end != len(text):
        value = _JSON.decode(text)
    return value


def _parse_float(text: str) -> float | UnrepresentableNumber:
    number = float(text)
    return number if math.isfinite(number) else UnrepresentableNumber(text[:40])


def _reject_constant(name: str) -> JSONValue:
    raise ValueError(f"{name} is not allowed in JSON")


_JSON = json.JSONDecoder(parse_float=_parse_float, parse_constant=_reject_constant)
_SCAN: Callable[[str, int], tuple[JSONValue, int]] = _JSON.scan_once  # type: ignore[attr-defined]


def _short_reason(exc: Exception) -> str:
    message = str(exc).split(":", 1)[0] if isinstance(exc, json.JSONDecodeError) else str(exc)
    return message[:120]


def _json_type(value: object) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


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


def _malformed(claim: str | None, reason: Reason, detail: str) -> Finding:
    return Finding(CauseId.MALFORMED, Evidence(claim, reason, detail), 1.0)
