"""Pastes that used to lose the token: indented wraps (YAML, kubectl, a quoted mail), and one token twice."""

from __future__ import annotations

import pytest

from bot.diagnosis import scan
from bot.diagnosis.scan import find_tokens
from bot.knowledge import default_catalogue
from tests.support.tokens import T, make_token

TOKEN = make_token()


def _wrapped(prefix: str, indent: str, width: int = 40) -> str:
    """``prefix`` then the token, hard-wrapped so that every line is ``width`` wide, continuation lines indented."""
    first = width - len(prefix)
    lines = [prefix + TOKEN[:first]]
    rest = TOKEN[first:]
    step = width - len(indent)
    lines += [indent + rest[i : i + step] for i in range(0, len(rest), step)]
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("prefix", "indent"),
    [
        ("token: ", "  "),  # YAML
        ("  id-token: ", "    "),  # kubectl get -o yaml
        ("> Bearer ", "> "),  # a quoted mail
        ("\tAuthorization: Bearer ", "\t"),
    ],
)
def test_a_token_wrapped_over_indented_lines_is_rejoined(prefix: str, indent: str) -> None:
    assert [c.token for c in find_tokens(_wrapped(prefix, indent))] == [TOKEN]


def test_an_indented_line_after_a_whole_token_is_not_glued_to_it() -> None:
    text = f"Authorization: Bearer {TOKEN}\n  Host"
    assert [c.token for c in find_tokens(text)] == [TOKEN]


def test_an_indented_yaml_key_after_a_cut_token_is_not_glued_to_it() -> None:
    cut = TOKEN[: TOKEN.index(".") + 10]
    text = f"token: {cut}\n  other: value"
    assert [c.token for c in find_tokens(text)] == [cut]


def test_one_token_pasted_twice_is_one_diagnosis() -> None:
    text = f"Authorization: Bearer {TOKEN}\ncurl -H 'Authorization: Bearer {TOKEN}' https://api.acme.test/"
    found = scan(text, default_catalogue(), at=T)
    assert found.tokens == (TOKEN,)
    assert found.items[0].start == text.index(TOKEN)


def test_two_different_tokens_stay_two() -> None:
    other = make_token({"sub": "u2"})
    found = scan(f"{TOKEN} {other} {TOKEN}", default_catalogue(), at=T)
    assert found.tokens == (TOKEN, other)
