"""Short, safe descriptions of hostile claim values for evidence sentences."""

from __future__ import annotations

import json

from bot.diagnosis.decode import UnrepresentableNumber
from bot.diagnosis.model import JSONValue
from bot.diagnosis.redact import redact_text

MAX_SHOWN = 80
_JSON = json.JSONEncoder(ensure_ascii=False)  # json.dumps(value, ensure_ascii=False), built once
_JSON_STRING = json.encoder.encode_basestring  # its string case, in C


def show(value: JSONValue, limit: int = MAX_SHOWN) -> str:
    """The value as JSON text, redacted and cut to ``limit`` characters.

    Short strings are memoised: the expected audience and issuer are shown for every token of a log that
    misses them, and its tokens repeat their values. What is shown depends on nothing but the value and
    the limit (tests/diagnosis/checks/test_values.py), so a remembered text is the text.
    """
    if type(value) is str and limit == MAX_SHOWN and len(value) <= _MEMO_CHARS:
        shown = _SHOWN.get(value)
        if shown is None:
            shown = _show(value, limit)
            if len(_SHOWN) >= _MEMO_VALUES:
                _SHOWN.clear()
            _SHOWN[value] = shown
        return shown
    return _show(value, limit)


_SHOWN: dict[str, str] = {}
_MEMO_CHARS = 256  # strings up to this long are remembered …
_MEMO_VALUES = 1024  # … this many of them


def _show(value: JSONValue, limit: int) -> str:
    if isinstance(value, UnrepresentableNumber):
        text = str(value)
    elif type(value) is str:
        text = _JSON_STRING(value)
    else:
        try:
            text = _JSON.encode(value)
        except (ValueError, RecursionError):
            text = "<unprintable>"
    text = printable(redact_text(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_of(expected: tuple[str, ...]) -> str:
    """``"orders-api"`` or ``one of "a", "b"``: the expected values, shown safely, at most five."""
    if len(expected) == 1:
        return show(expected[0])
    return "one of " + ", ".join(show(item) for item in expected[:5])


def kind_of(value: JSONValue) -> str:
    if isinstance(value, UnrepresentableNumber):
        return "a number too large to represent"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


def printable(text: str) -> str:
    """Escape control and format characters (ANSI escapes, bidi overrides) so text can't restyle a screen."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() or char == " " else f"\\u{ord(char):04x}" for char in text)
