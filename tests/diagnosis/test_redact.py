"""Redaction: the signature never survives, wherever the token stands, and the rest of the text does."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis.redact import (
    _SLACK_SECRETS,
    REDACTION_MARKER,
    contains_signature_like,
    credential_shaped,
    fingerprint,
    last_pass,
    may_hold_a_tail,
    redact_text,
    wrapped_tails,
)
from tests.support.tokens import make_token, raw_token, signature_of

TOKEN = make_token()


@pytest.mark.parametrize(
    "template",
    [
        "{t}",
        "Bearer {t}",
        "Bearer%20{t}",
        "token%3D{t}&x=1",
        '{{"jwt":"{t}"}}',
        "`{t}`",
        "<{t}>",
        "a{t}",
        "{t}.",
        "{t}\nnext line",
    ],
)
def test_the_signature_is_replaced_wherever_the_token_stands(template: str) -> None:
    text = redact_text(template.format(t=TOKEN))
    assert signature_of(TOKEN) not in text
    assert TOKEN.rsplit(".", 1)[0] + "." + REDACTION_MARKER in text
    assert not contains_signature_like(text)


def test_an_encrypted_token_keeps_only_its_first_two_segments() -> None:
    jwe = raw_token({"alg": "dir", "enc": "A128GCM"}, "key") + ".aXY.Y2lwaGVy"
    assert redact_text(jwe) == ".".join(jwe.split(".")[:2]) + "." + REDACTION_MARKER


@pytest.mark.parametrize(
    "text",
    [
        "https://eyes-and-ears.example.com/x",
        "turkeysandwiches.prod.internal",
        "keycloak.acme.test",
        "e.g. this",
        "version 1.2.3",
        "no dots here eyJhbGciOiJIUzI1NiJ9",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_text(text) == text


def test_fingerprint_is_a_short_hash_of_the_whole_token() -> None:
    assert len(fingerprint(TOKEN)) == 16 and fingerprint(TOKEN) != fingerprint(TOKEN + "x")
    assert fingerprint(TOKEN) not in TOKEN


def test_redaction_is_linear_on_hostile_runs() -> None:
    started = time.process_time()
    redact_text("eyJ" * 300_000 + ".")
    redact_text("eyJa." * 200_000)
    redact_text("eyJ.eyJ." * 100_000)
    assert time.process_time() - started < 10  # generous: only a quadratic blow-up would reach it


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("eyJIAwok0.-_aZ9%= \n"), max_size=300))
def test_after_redaction_nothing_token_shaped_keeps_a_signature(text: str) -> None:
    assert not contains_signature_like(redact_text(text))


# ---------------------------------------------------------------------------------- wrapped tokens

HEADER, PAYLOAD, SIGNATURE = TOKEN.split(".")
SHOWN = f"{HEADER}.{PAYLOAD}.{REDACTION_MARKER}"


def _cut(at: int, line_break: str = "\n", token: str = TOKEN) -> str:
    return token[:at] + line_break + token[at:]


@pytest.mark.parametrize("line_break", ["\n", "\r\n", "\n  ", "\n\t", "\n> ", "\r\n> > ", " \n", "\n\n", "\n&gt; "])
@pytest.mark.parametrize("where", ["signature", "payload", "header", "token start", "before a dot", "after a dot"])
def test_a_token_wrapped_anywhere_keeps_no_piece_of_its_signature(where: str, line_break: str) -> None:
    at = {
        "signature": len(HEADER) + len(PAYLOAD) + 2 + 10,
        "payload": len(HEADER) + 1 + 7,
        "header": 9,
        "token start": 1,
        "before a dot": len(HEADER),
        "after a dot": len(HEADER) + 1,
    }[where]
    for template in ("401 Unauthorized: jwt expired token={t} jwt expired", "{t}", "Bearer {t}\nnext line"):
        text = redact_text(template.format(t=_cut(at, line_break)))
        assert not any(SIGNATURE[i : i + 12] in text for i in range(len(SIGNATURE) - 11)), text
        assert "jwt expired" in text or "next line" in text or template == "{t}"
        assert redact_text(text) == text


def test_the_tail_of_a_signature_broken_twice_is_replaced_line_by_line() -> None:
    cut = len(HEADER) + len(PAYLOAD) + 12
    text = f"jwt expired token={TOKEN[:cut]}\n  {TOKEN[cut : cut + 12]}\n  {TOKEN[cut + 12 :]} (see logs)"
    assert redact_text(text) == (
        f"jwt expired token={TOKEN[: len(HEADER) + len(PAYLOAD) + 2]}{REDACTION_MARKER}\n"
        f"  {REDACTION_MARKER}\n  {REDACTION_MARKER} (see logs)"
    )


@pytest.mark.parametrize(
    "escaped", ["\\n", "\\r\\n", "%0A", "%0A%3E+", "%0D%0A"], ids=["json", "json-crlf", "url", "url-quote", "url-crlf"]
)
def test_escaped_line_breaks_of_json_logs_and_form_bodies_are_line_breaks_too(escaped: str) -> None:
    text = redact_text("text=" + _cut(len(TOKEN) - 20, escaped) + "&x=1")
    assert TOKEN[-20:] not in text and SIGNATURE[:12] not in text


@pytest.mark.parametrize(
    "next_line",
    [
        "Thanks for looking",
        "IDX10223: Lifetime validation failed.",
        "ERR_JWT_EXPIRED was thrown",
        "invalid_token",
        "401 Unauthorized",
        "2026-11-28T19:50:15Z ERROR auth",
        "550e8400-e29b-41d4-a716-446655440000 request id",
        "U0123ABCD said so",
        "4bf92f3577b34da6a3ce929d0e0e4736 trace",
        "    at Object.verify (node_modules/jsonwebtoken/verify.js:190:21)",
        "WWW-Authenticate: Bearer",
        "x-request-id: 42",
    ],
)
def test_ordinary_words_after_a_token_at_the_end_of_a_line_are_left_alone(next_line: str) -> None:
    assert redact_text(f"Bearer {TOKEN}\n{next_line}") == f"Bearer {SHOWN}\n{next_line}"


def test_a_token_on_each_line_keeps_each_header_and_payload() -> None:
    other = make_token({"sub": "u2"})
    text = redact_text(f"{TOKEN}\n{other}\n  {TOKEN}")
    assert text == f"{SHOWN}\n{other.rsplit('.', 1)[0]}.{REDACTION_MARKER}\n  {SHOWN}"


def test_a_sentence_ending_before_a_token_does_not_hide_its_payload() -> None:
    assert redact_text(f"see the docs.\n{TOKEN}") == f"see the docs.\n{SHOWN}"
    assert redact_text(f"see the docs.{TOKEN}") == f"see the docs.{SHOWN}"


def test_a_random_run_after_a_redaction_marker_at_the_end_of_a_line_is_a_tail() -> None:
    assert redact_text(f"{SHOWN}\n  {SIGNATURE[:20]} jwt expired") == f"{SHOWN}\n  {REDACTION_MARKER} jwt expired"
    assert redact_text(f"{SHOWN}\nThanks") == f"{SHOWN}\nThanks"


def test_an_ordinary_looking_piece_is_a_tail_when_a_random_one_follows() -> None:
    cut = len(HEADER) + len(PAYLOAD) + 10
    text = redact_text(f"{TOKEN[:cut]}\nIjog\n{TOKEN[cut:]}")
    assert text == f"{SHOWN}\n{REDACTION_MARKER}\n{REDACTION_MARKER}"


@pytest.mark.parametrize(
    "text",
    [
        "the quick\nbrown fox",
        "ewok.txt\nreadme.md",
        "see e\nyes",
        "line one.\nline two.",
        f"{REDACTION_MARKER}\n{REDACTION_MARKER}",
    ],
)
def test_line_breaks_in_ordinary_text_change_nothing(text: str) -> None:
    assert redact_text(text) == text


def test_wrapped_tails_are_what_the_first_line_does_not_show() -> None:
    cut = len(HEADER) + len(PAYLOAD) + 10
    text = f"jwt expired {TOKEN[:cut]}\n  {TOKEN[cut:]} jwt expired"
    start = text.index("\n") + 3
    assert wrapped_tails(text) == [(start, start + len(TOKEN) - cut, REDACTION_MARKER)]
    assert wrapped_tails(f"jwt expired {TOKEN} jwt expired") == []


def test_which_lines_may_hold_a_tail() -> None:
    assert may_hold_a_tail(f"  {SIGNATURE[:20]} jwt expired") and may_hold_a_tail("> MDB9.AAAA jwt expired")
    assert may_hold_a_tail('{"msg":"jwt expired token=eyJ\\nabc"}') and may_hold_a_tail("invalid_token")
    assert not may_hold_a_tail("2026-11-28T20:00:00Z ERROR jwt expired") and not may_hold_a_tail("jwt expired")


def test_wrapped_redaction_is_linear_on_hostile_line_breaks() -> None:
    for text in ("e\n" * 200_000, "eyJa\n" * 100_000, "x.eyJ\n" * 100_000, "[redacted]\n" * 50_000, "a.\n" * 200_000):
        assert redact_text(redact_text(text)) == redact_text(text)  # completes; a blow-up would not


# ----------------------------------------------------------------------------- credential-shaped values


@pytest.mark.parametrize(
    "value",
    [
        "orders-api",
        "https://login.acme.test/",
        "api://orders",
        "00000003-0000-0000-c000-000000000000",
        "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
        "123456789012-abcdefghijklmnopqrstuvwxyz123456.apps.googleusercontent.com",
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123",
        "AbCdEf1234567890AbCdEf1234567890",  # an Auth0 client id
        "RS256",
        "exp",
    ],
)
def test_names_are_not_credential_shaped(value: str) -> None:
    assert not credential_shaped(value)


@pytest.mark.parametrize(
    "value",
    [
        TOKEN,
        TOKEN.rsplit(".", 1)[0],
        HEADER,
        f"orders-api,{TOKEN}",
        "xoxb-1234-5678-abcdefgh",
        "Bearer 2YotnFZFEjr1zCsicMWpAA",
        "Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTBhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ekFCQ0RFRkc",
    ],
)
def test_tokens_and_secrets_are_credential_shaped(value: str) -> None:
    assert credential_shaped(value)


_PIECES = st.sampled_from(
    ["\n", "\r\n", "  ", "> ", ".", "-", "_", "abcXYZ012", "Sig_-9q", "token=", "Bearer ", "access_token=", "xoxb-"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(alphabet="AZaz09_-.", max_size=40)), max_size=12), st.booleans())
def test_the_fast_path_of_the_last_pass_answers_as_the_whole_pass(pieces: list[str], with_token: bool) -> None:
    """last_pass returns a text without a token start, an opaque marker or a Slack prefix at once: the whole
    pass would leave it as it is."""
    if with_token:
        token = make_token()
        cut = len(pieces) // 2
        pieces = [*pieces[:cut], token[: len(token) // 2], "\n  ", token[len(token) // 2 :], *pieces[cut:]]
    text = "".join(pieces)
    whole = _SLACK_SECRETS.sub(lambda m: m.group(1) + "-[redacted]", redact_text(text))
    assert last_pass(text) == whole
