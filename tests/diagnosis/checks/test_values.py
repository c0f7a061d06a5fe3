"""show: what a remembered string shows is what it would show."""

from __future__ import annotations

from bot.diagnosis.checks import values
from bot.diagnosis.checks.values import MAX_SHOWN, show

TOKENISH = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXRoYXQtaXMtbG9uZw"


def test_shown_strings_are_remembered_and_shown_as_without_the_memo() -> None:
    samples = ["orders-api", "https://login.acme.test/", "\u202eevil", "x" * 200, TOKENISH, "Bearer " + "A" * 30, ""]
    for value in samples:
        first, again = show(value), show(value)
        assert first == again == values._show(value, MAX_SHOWN)
    assert show("x" * 200, limit=10) == values._show("x" * 200, 10)  # another limit: not from the memo


def test_the_memo_is_bounded() -> None:
    for n in range(values._MEMO_VALUES + 10):
        show(f"value-{n}")
    assert len(values._SHOWN) <= values._MEMO_VALUES
    long = "y" * (values._MEMO_CHARS + 1)
    show(long)
    assert long not in values._SHOWN
