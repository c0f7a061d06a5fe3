"""Redaction: the signature never survives, wherever the token stands, and the rest of the text does."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis.redact import REDACTION_MARKER, contains_signature_like, fingerprint, redact_text
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
