"""The scanner finds tokens wherever engineers paste them, and nothing where there are none."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis.scan import find_tokens
from tests.support.tokens import make_token, raw_token

TOKEN = make_token()


@pytest.mark.parametrize(
    "text",
    [
        TOKEN,
        f"Authorization: Bearer {TOKEN}",
        f"curl -H 'Authorization: Bearer {TOKEN}' https://api.acme.test/orders",
        f'{{"access_token": "{TOKEN}", "token_type": "Bearer"}}',
        f"2026-11-28T20:59:01Z WARN rejected token={TOKEN} status=401",
        f"`{TOKEN}`",
        f"```\n{TOKEN}\n```",
        f"<{TOKEN}>",
        f"here it is: {TOKEN}.",
        f"https://app.acme.test/callback#id_token={TOKEN}&state=x",
        f"text=Authorization%3A+Bearer%20{TOKEN}&user_id=U1",
        f"token%3D{TOKEN}",
    ],
)
def test_finds_the_token_wherever_it_is_pasted(text: str) -> None:
    assert [candidate.token for candidate in find_tokens(text)] == [TOKEN]


def test_reports_every_token_in_order_of_appearance() -> None:
    second = make_token({"sub": "u2"})
    found = find_tokens(f"first {TOKEN} then {second}")
    assert [c.token for c in found] == [TOKEN, second]
    assert found[0].start < found[1].start


def test_rejoins_a_token_wrapped_by_a_terminal() -> None:
    line = f"Authorization: Bearer {TOKEN}"
    wrapped = "\n".join(line[i : i + 40] for i in range(0, len(line), 40))
    assert [c.token for c in find_tokens(wrapped)] == [TOKEN]


def test_does_not_glue_the_next_line_to_a_complete_token() -> None:
    assert [c.token for c in find_tokens(f"{TOKEN}\nThanksEveryone")] == [TOKEN]


def test_one_token_per_line_in_a_log_stays_separate() -> None:
    tokens = [make_token({"n": n}) for n in range(3)]
    assert [c.token for c in find_tokens("\n".join(tokens))] == tokens


def test_finds_encrypted_tokens_with_five_segments() -> None:
    jwe = raw_token({"alg": "RSA-OAEP", "enc": "A256GCM"}, "k") + ".aXY.Y2lwaGVy"
    assert [c.token for c in find_tokens(f"token: {jwe}")] == [jwe]


def test_keeps_a_truncated_token_so_it_can_be_called_malformed() -> None:
    cut = TOKEN[: TOKEN.index(".") + 30]
    assert [c.token for c in find_tokens(cut)] == [cut]


@pytest.mark.parametrize("text", ["eyes.on.it", "keep an eye.on.the logs", "see e.g. this", "ew.gross.stuff"])
def test_ignores_words_that_merely_look_dotted(text: str) -> None:
    assert find_tokens(text) == []


def test_megabytes_of_token_like_text_scan_in_linear_time() -> None:
    started = time.process_time()
    find_tokens("eyJ" * 400_000)
    find_tokens(("eyJhbGc." * 100_000) + "x")
    find_tokens("a" * 2_000_000)
    assert time.process_time() - started < 10  # generous: only a quadratic blow-up would reach it


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("eyJw.-_aA0\n\r \t<>&`"), max_size=400))
def test_no_text_crashes_the_scanner(text: str) -> None:
    for candidate in find_tokens(text):
        assert candidate.token in text.replace("\r", "").replace("\n", "") or "\n" in text
