"""No fragment of a signature leaves the engine, wherever a user puts the token and however it is wrapped.

Tokens are generated (random JSON headers and payloads, random signature bytes of realistic lengths:
32, 64 and 256 bytes), cut over lines the ways terminals, mail clients and Slack quotes cut them, and
placed where a user can put text. The whole pipeline runs on them (scan, judge, advise) and the three
faces draw the report (text, the JSON contract, Block Kit cards); the report itself (what a card's
state keeps), the last pass and the Slack scrubber are checked too. A leak is any 12-character piece
of the signature's base64url that the output holds and the input held nowhere but in the signature.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.diagnosis import Expectations
from bot.diagnosis.error_texts import ErrorTextMatch
from bot.diagnosis.redact import last_pass
from bot.diagnosis.scan import scan
from bot.knowledge import default_catalogue, default_knowledge
from bot.pipeline import diagnose_text
from bot.render.blocks import CardOptions, render_cards
from bot.render.json import dumps, report_to_dict
from bot.render.text import Style, render_report
from bot.slack.client import scrubbed
from bot.slack.options import OptionError, parse_request
from tests.support.tokens import AUDIENCE, ISSUER, NOW, T

KNOWLEDGE = default_knowledge()
NOTHING_EXPECTED = Expectations()
FRAGMENT = 12
EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

# How a line break lands inside a token: a terminal's wrap, an indented YAML or kubectl block, a quoted
# mail, Slack's quote marks, Windows line ends, a blank line, a JSON log's escape, a URL-encoded body.
BREAKS = ("\n", "\r\n", "\n  ", "\n\t", "\n> ", "\r\n> > ", "\n>     ", " \n", "\n\n")
ERRORS = (
    "401 Unauthorized: jwt expired",
    "401 Unauthorized: JWT claims validation failed",
    "jwt audience invalid. expected: orders-api",
    "Signature has expired",
    "IDX10223: Lifetime validation failed. The token is expired.",
    'WWW-Authenticate: Bearer error="invalid_token", error_description="Jwt expired at 2026-11-28T19:00:00Z"',
    "token is expired",
    "invalid_token",
)
PLACES = (
    "{error} token={token}",
    "{error}: {token} (see logs)",
    "{token} {error}",
    "{error}\n{token}",
    "{token}\n{error}",
    "Authorization: Bearer {token}\n{error}",
    "curl -H 'Authorization: Bearer {token}' https://api.acme.test/orders\n{error}",
    '{{"level":"error","msg":"{error}","token":"{token}"}}',
    "> {error}\n> Bearer {token}",
    "{token}",
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.text(max_size=12), st.sampled_from([T - 7200, T + 600])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


OUTER_HEADER = b64(b'{"alg":"HS256"}')


@dataclass(frozen=True)
class Token:
    header: str
    payload: str
    signature: str

    @property
    def whole(self) -> str:
        return f"{self.header}.{self.payload}.{self.signature}"


@st.composite
def tokens(draw: st.DrawFn) -> Token:
    header: dict[str, Any] = {"alg": draw(st.sampled_from(["RS256", "HS256", "ES256", "PS512", "EdDSA", "none"]))}
    header.update(draw(st.dictionaries(st.sampled_from(["typ", "kid", "cty", "x"]), json_scalars, max_size=2)))
    payload: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "exp": draw(st.sampled_from([T - 7200, T + 600]))}
    payload.update(draw(st.dictionaries(st.text(min_size=1, max_size=6), json_values, max_size=3)))
    size = draw(st.sampled_from([32, 64, 256]))
    signature = draw(st.binary(min_size=size, max_size=size))
    return Token(b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature))


@st.composite
def wrapped(draw: st.DrawFn, token: Token) -> str:
    """The token cut at one to three places (in the header, the payload or the signature)."""
    text = token.whole
    cuts = draw(st.lists(st.integers(1, len(text) - 1), min_size=1, max_size=3, unique=True))
    for cut in sorted(cuts, reverse=True):
        text = text[:cut] + draw(st.sampled_from(BREAKS)) + text[cut:]
    return text


def leaks(output: str, token: Token, benign: str) -> list[str]:
    """The signature's pieces in ``output`` that the input did not also hold outside the signature."""
    signature = token.signature
    pieces = {signature[i : i + FRAGMENT] for i in range(len(signature) - FRAGMENT + 1)}
    return sorted(piece for piece in pieces if piece in output and piece not in benign)


def faces(text: str, expectations: Expectations = NOTHING_EXPECTED) -> str:
    """Everything the pipeline lets out for ``text``: the report itself and its three faces."""
    report = diagnose_text(text, expectations, NOW)
    cards = render_cards(report, KNOWLEDGE, lambda index, _: CardOptions(f"c{index}"))
    return "\n".join(
        [
            repr(report),
            render_report(report, KNOWLEDGE, Style()),
            dumps(report_to_dict(report, KNOWLEDGE)),
            *(json.dumps({"text": card.text, "blocks": card.blocks}) for card in cards),
        ]
    )


def check(text: str, token: Token, benign: str, output: str) -> None:
    found = leaks(output, token, benign)
    assert not found, f"signature pieces {found[:3]} leaked for input {text!r}"


@EXAMPLES
@given(st.data(), tokens(), st.sampled_from(PLACES), st.sampled_from(ERRORS), st.booleans())
def test_a_wrapped_token_leaves_no_piece_of_its_signature_anywhere(
    data: st.DataObject, token: Token, place: str, error: str, quoted: bool
) -> None:
    text = place.format(token=data.draw(wrapped(token)), error=error)
    if quoted:
        text = "\n".join("> " + line for line in text.split("\n"))
    benign = place.format(token=f"{token.header}.{token.payload}.", error=error)
    check(text, token, benign, faces(text))
    check(text, token, benign, last_pass(text))
    check(text, token, benign, json.dumps(scrubbed({"text": text, text: [text, (text,)]})))


@EXAMPLES
@given(tokens(), st.sampled_from(["service", "require", "aud", "iss", "alg", "leeway", "skew"]), st.booleans())
def test_a_token_given_as_an_option_value_is_never_echoed_nor_kept(token: Token, option: str, listed: bool) -> None:
    value = f"orders-api,{token.whole}" if listed else token.whole
    text = f"Signature has expired {option}={value}"
    benign = f"Signature has expired {option}=orders-api,{token.header}.{token.payload}."
    try:
        request = parse_request(text)
    except OptionError as problem:
        check(text, token, benign, str(problem))
    else:  # pragma: no cover - every token-shaped value is refused
        raise AssertionError(f"{option}= accepted a token: {request!r}")


@EXAMPLES
@given(st.data(), tokens())
def test_a_token_inside_another_tokens_claims_leaves_nothing(data: st.DataObject, token: Token) -> None:
    inner = data.draw(wrapped(token))
    outer_payload = {"iss": ISSUER, "aud": AUDIENCE, "exp": T + 600, "act": {"token": inner}, "note": f"was {inner}"}
    outer = f"{OUTER_HEADER}.{b64(json.dumps(outer_payload).encode())}.c2lnbmF0dXJlLWJ5dGVz"
    text = f"Bearer {outer}"
    benign = text.replace(token.signature, "")
    check(text, token, benign, faces(text, Expectations(audiences=(AUDIENCE,), issuers=(ISSUER,))))


@EXAMPLES
@given(st.data(), tokens(), st.sampled_from(ERRORS))
def test_the_command_text_with_options_leaves_nothing(data: st.DataObject, token: Token, error: str) -> None:
    text = f"{data.draw(wrapped(token))} {error} aud=orders-api iss=<https://login.acme.test/> leeway=30"
    benign = f"{token.header}.{token.payload}. {error} aud=orders-api iss=<https://login.acme.test/> leeway=30"
    request = parse_request(text)
    check(text, token, benign, repr(request.__class__(text="", **_fields(request))))
    check(text, token, benign, faces(request.text, request.expectations(None)))


def _fields(request: Any) -> dict[str, Any]:
    return {name: getattr(request, name) for name in request.__slots__ if name != "text"}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("eyJIAwok0.-_aZ9%= \n\r\t>[]redact\\"), max_size=200))
def test_the_last_pass_is_idempotent(text: str) -> None:
    once = last_pass(text)
    assert last_pass(once) == once


def test_the_drills_example_keeps_the_error_and_its_place_but_not_the_tail() -> None:
    """A token cut in its signature and the error on the tail's line, as the fault drills pasted it: the
    error is still read, at its own place in the text, and neither it nor the card holds the tail."""
    token = tokens_for_drill()
    cut = len(token.whole) - 30
    first = f"curl -H 'Authorization: Bearer {token.whole[:cut]}"
    text = f"{first}\n>   {token.whole[cut:]}' → 401 Unauthorized: jwt expired\nnext"
    [error] = [item for item in scan(text, default_catalogue()).items if isinstance(item, ErrorTextMatch)]
    assert error.start == len(first) + 1 and text[error.end :] == "\nnext"
    assert error.excerpt == ">   [redacted]' → 401 Unauthorized: jwt expired"
    assert not leaks(faces(text), token, first)


def tokens_for_drill() -> Token:
    header = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"sub": "u1", "exp": T - 7200}).encode())
    return Token(header, payload, b64(bytes((7 * i + 3) % 256 for i in range(256))))
