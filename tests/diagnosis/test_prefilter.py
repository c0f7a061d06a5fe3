"""The prefilters say exactly what a plain search would: nothing is skipped that could be found."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis.engine import diagnose_text, scan_text
from bot.diagnosis.error_texts import (
    ANCHORS,
    CATALOGUE_PATH,
    _candidate_lines,
    anchor_of,
    default_catalogue,
    find_error_texts,
    load_catalogue,
)
from bot.diagnosis.model import Diagnosis, Expectations
from bot.diagnosis.prefilter import LiteralSet, gate_of
from bot.diagnosis.redact import TOKEN_START, TOKEN_STARTS
from bot.diagnosis.scan import STARTS, find_tokens
from tests.support.tokens import NOW, make_token, raw_token

LITERALS = ["eyJ", "ewo", "oken", "key", "key ", "JW", "Jwt:", "(alg)", "a", "padding", "verif", "val"]


def test_the_token_starts_are_exactly_what_the_token_pattern_starts_with() -> None:
    trigrams = {a + b + c for a in "e" for b in "ywx" for c in "IJAKokl0123"}
    assert {t for t in trigrams if re.fullmatch(TOKEN_START, t)} == set(TOKEN_STARTS)


def test_the_gate_is_the_character_chat_holds_least() -> None:
    assert gate_of("oken") == "k"
    assert gate_of("Jwt:") == "J"  # capitals and punctuation count as rarest; the first one wins
    assert gate_of("padding") == "p"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("eyJwokn atdigpvlrfJW:()_\n"), max_size=300))
def test_literal_set_finds_exactly_what_find_finds(text: str) -> None:
    literals = LiteralSet(LITERALS)
    assert sorted(literals.present(text)) == sorted(lit for lit in LITERALS if lit in text)
    assert literals.any_present(text) == any(lit in text for lit in LITERALS)


def test_named_gates_share_a_pass_and_must_belong_to_the_literal() -> None:
    shared = LiteralSet(["ewo", "ewk", "ew0"], gates={"ewo": "w", "ewk": "w", "ew0": "w"})
    assert shared.present("x ew0 y ewk") == ["ewk", "ew0"]
    with pytest.raises(ValueError, match="gate"):
        LiteralSet(["abc"], gates={"abc": "z"})
    with pytest.raises(ValueError, match="non-empty"):
        LiteralSet([""])


def test_the_literal_set_is_linear_on_hostile_text() -> None:
    literals = LiteralSet(["aaab", "aab", "ab"])
    assert literals.present("a" * 200_000) == []
    assert literals.present("a" * 200_000 + "b") == ["aaab", "aab", "ab"]


def test_every_needle_of_the_catalogue_has_an_anchor_from_the_list() -> None:
    """A needle outside ANCHORS would still be found (it is its own anchor), but it would cost every
    message a pass of its own: add an anchor for it."""
    catalogue = default_catalogue()
    orphans = [needle for needle in catalogue.by_needle if anchor_of(needle) not in ANCHORS]
    assert orphans == []
    grouped = [needle for needles in catalogue.anchors.values() for needle in needles]
    assert sorted(grouped) == sorted(catalogue.by_needle)  # each needle under exactly one anchor
    assert all(anchor in needle for anchor, needles in catalogue.anchors.items() for needle in needles)


def test_the_packaged_catalogue_passes_every_check_the_start_skips() -> None:
    checked = load_catalogue(CATALOGUE_PATH.read_text(encoding="utf-8"), checked=True)
    assert checked.patterns == default_catalogue().patterns


FRAGMENTS = st.sampled_from([
    "jwt expired", "TokenExpiredError: ", "IDX10223: Lifetime validation failed. The token is expired.",
    "invalid signature", "JsonWebTokenError: ", "Signature has expired", "token is expired by 1h", "\n",
    "Invalid audience", "Jwt expired at 2026-11-28T20:00:00Z", "error_description=\"", "padding", "the ", "val",
    "keyfunc", "key ", " claim value", "Bearer token is malformed", "ERR_JWT_EXPIRED", "eyJhbGciOiJIUzI1NiJ9.e30.",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=12)), max_size=30))
def test_the_anchor_prefilter_keeps_every_candidate_line(parts: list[str]) -> None:
    text = "".join(parts)
    catalogue = default_catalogue()
    every_anchor = list(catalogue.anchors)
    assert _candidate_lines(text, catalogue, None) == _candidate_lines(text, catalogue, every_anchor)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from([make_token(), "ewoiYWxnIjoiSFMyNTYifQ.e30.c2ln", ".", " ", "\n"]),
                          st.text(alphabet="eywJIAok0.-_ab \n", max_size=20)), max_size=12))
def test_the_token_prefilter_never_hides_a_token(parts: list[str]) -> None:
    text = "".join(parts)
    assert STARTS.any_present(text) == any(start in text for start in TOKEN_STARTS)
    assert find_tokens(text) == find_tokens(text, has_start=True)


@pytest.mark.parametrize("text", [
    "the deploy is rolling out, eyes on the dashboard; who owns the gateway config? e.g. see the runbook",
    "a new review of the few keys we use",
])
def test_chat_holds_nothing_to_diagnose(text: str) -> None:
    assert scan_text(text, 0.0) == ([], None, 0)


def test_scan_text_finds_tokens_and_error_texts_behind_the_prefilter() -> None:
    token = make_token()
    found, library, _ = scan_text(f"see {token}\nTokenExpiredError: jwt expired", 0.0)
    assert [type(item).__name__ for item in found] == ["TokenCandidate", "ErrorTextMatch"]
    assert library is not None
    assert find_error_texts("TokenExpiredError: jwt expired", anchors=[]) == []  # the caller said: no anchor


def test_a_token_start_hidden_behind_a_json_escape_in_a_claim_is_still_redacted() -> None:
    inner = make_token()
    escaped = "\\u0065" + inner[1:]  # "e" written as a JSON escape: no token start in the raw payload text
    payload = '{"sub": "u1", "act": "' + escaped + '"}'
    [diagnosis] = scan_and_diagnose(raw_token({"alg": "HS256"}, payload))
    assert diagnosis.token is not None and diagnosis.token.claims is not None
    assert inner.rsplit(".", 1)[1] not in json.dumps(diagnosis.token.claims)


def scan_and_diagnose(text: str) -> tuple[Diagnosis, ...]:
    return diagnose_text(text, Expectations(), NOW).diagnoses
