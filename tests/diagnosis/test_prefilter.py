"""The prefilters say exactly what a plain search would: nothing is skipped that could be found."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis import prefilter, scan
from bot.diagnosis.error_texts import ErrorTextMatch, _candidate_lines, find_error_texts
from bot.diagnosis.model import Diagnosis, Expectations
from bot.diagnosis.prefilter import LiteralSet, gate_of, hyperscan_available
from bot.diagnosis.redact import TOKEN_START, TOKEN_STARTS
from bot.diagnosis.scan import STARTS, TokenCandidate, find_tokens
from bot.knowledge import default_catalogue
from bot.pipeline import diagnose_text
from tests.support.tokens import NOW, make_token, raw_token

LITERALS = ["eyJ", "ewo", "oken", "key", "key ", "JW", "Jwt:", "(alg)", "a", "padding", "verif", "val"]
needs_hyperscan = pytest.mark.skipif(not hyperscan_available(), reason="the hyperscan package does not import here")
BACKENDS = ["python", pytest.param("hyperscan", marks=needs_hyperscan)]


def test_the_token_starts_are_exactly_what_the_token_pattern_starts_with() -> None:
    trigrams = {a + b + c for a in "e" for b in "ywx" for c in "IJAKokl0123"}
    assert {t for t in trigrams if re.fullmatch(TOKEN_START, t)} == set(TOKEN_STARTS)


def test_the_gate_is_the_character_chat_holds_least() -> None:
    assert gate_of("oken") == "k"
    assert gate_of("Jwt:") == "J"  # capitals and punctuation count as rarest; the first one wins
    assert gate_of("padding") == "p"


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("eyJwokn atdigpvlrfJW:()_\n"), max_size=300))
def test_literal_set_finds_exactly_what_find_finds(backend: prefilter.BackendChoice, text: str) -> None:
    literals = LiteralSet(LITERALS, backend=backend)
    assert literals.backend == backend
    assert sorted(literals.present(text)) == sorted(lit for lit in LITERALS if lit in text)
    assert literals.any_present(text) == any(lit in text for lit in LITERALS)


# Any str: the literals' own characters (so that they overlap and touch), NUL, other control characters,
# non-ASCII letters, characters outside the BMP, lone surrogates.
ANY_CHAR = st.one_of(
    st.sampled_from("abkey?\0\n"),
    st.characters(codec=None, categories=["Cc", "Ll", "Lo", "Nd", "So", "Zs"]),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"]),
    st.characters(min_codepoint=0x10000),
)
ASCII_LITERAL = st.text(alphabet=st.sampled_from("abkey :?(_"), min_size=1, max_size=5)


@settings(max_examples=400, deadline=None)
@given(
    literals=st.lists(ASCII_LITERAL, min_size=1, max_size=12),
    parts=st.lists(st.one_of(ASCII_LITERAL, st.text(alphabet=ANY_CHAR, max_size=8)), max_size=12),
)
def test_both_backends_answer_as_in_does_on_any_text(literals: list[str], parts: list[str]) -> None:
    """Texts made of literals (at the very start, the very end, overlapping, adjacent) and anything else."""
    text = "".join(parts)
    python = LiteralSet(literals, backend="python")
    expected = [literal for literal in python.literals if literal in text]
    assert sorted(python.present(text)) == sorted(expected)
    assert python.any_present(text) == bool(expected)
    if hyperscan_available():
        fast = LiteralSet(literals)
        assert fast.backend == "hyperscan"
        assert fast.present(text) == python.present(text)  # the same order too
        assert fast.any_present(text) == bool(expected)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("eyJ", ["eyJ"]),  # the whole text
        ("eyJ at the start", ["eyJ", "a"]),
        ("at the end: Jwt:", ["Jwt:", "a"]),
        ("keykey ", ["key", "key "]),  # one inside the other, and adjacent
        ("paddinpadding", ["a", "padding"]),  # a false start just before the real one
        ("\0eyJ\0", ["eyJ"]),
        ("\udcffke\ud800y \U0001f600val\u00e9", ["a", "val"]),  # a surrogate splits "key"
        ("ÿeyJé verif(alg)", ["eyJ", "(alg)", "a", "verif"]),
    ],
)
def test_fixed_texts(backend: prefilter.BackendChoice, text: str, expected: list[str]) -> None:
    literals = LiteralSet(LITERALS, backend=backend)
    assert sorted(literals.present(text)) == sorted(expected)
    assert literals.any_present(text) == bool(expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_character_that_utf8_cannot_encode_is_neither_dropped_nor_replaced(backend: prefilter.BackendChoice) -> None:
    literals = LiteralSet(["ab", "a?b"], backend=backend)
    assert literals.present("a\ud800b") == []
    assert literals.present("\ud800a\udfffb a?b\ud800") == ["a?b"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_named_gates_share_a_pass_and_must_belong_to_the_literal(backend: prefilter.BackendChoice) -> None:
    shared = LiteralSet(["ewo", "ewk", "ew0"], gates={"ewo": "w", "ewk": "w", "ew0": "w"}, backend=backend)
    assert shared.present("x ew0 y ewk") == ["ewk", "ew0"]
    with pytest.raises(ValueError, match="gate"):
        LiteralSet(["abc"], gates={"abc": "z"}, backend=backend)
    with pytest.raises(ValueError, match="non-empty"):
        LiteralSet([""], backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_order_is_by_gate_then_as_given_whichever_the_backend(backend: prefilter.BackendChoice) -> None:
    literals = LiteralSet(["zb", "ax", "zc", "ay"], gates={"zb": "z", "zc": "z", "ax": "a", "ay": "a"}, backend=backend)
    assert literals.present("ay zc ax zb") == ["zb", "zc", "ax", "ay"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_literal_set_is_linear_on_hostile_text(backend: prefilter.BackendChoice) -> None:
    literals = LiteralSet(["aaab", "aab", "ab"], backend=backend)
    assert literals.present("a" * 200_000) == []
    assert literals.present("a" * 200_000 + "b") == ["aaab", "aab", "ab"]


@needs_hyperscan
def test_hyperscan_is_the_default_backend_when_it_imports() -> None:
    assert LiteralSet(LITERALS).backend == "hyperscan"
    assert STARTS.backend == "hyperscan"
    catalogue = default_catalogue()
    assert catalogue.anchor_set.backend == "hyperscan"
    assert catalogue.prefilter.backend == "hyperscan"
    assert sorted(catalogue.prefilter.literals) == sorted(catalogue.by_needle)  # the needles, see _prefilter
    assert STARTS.union(catalogue.prefilter).backend == "hyperscan"


def test_the_default_backend_follows_the_import() -> None:
    installed = importlib.util.find_spec("hyperscan") is not None
    assert hyperscan_available() == installed
    assert LiteralSet(["abc"]).backend == ("hyperscan" if installed else "python")
    assert LiteralSet(["abc"], backend="python").backend == "python"
    assert LiteralSet([]).backend == "python"  # nothing to scan for
    assert LiteralSet([]).present("abc") == []
    assert not LiteralSet([]).any_present("abc")


@pytest.mark.parametrize("literal", ["caf\u00e9", "a\0b", "\U0001f600"])
def test_a_literal_hyperscan_cannot_take_falls_back_to_python_or_is_refused(literal: str) -> None:
    literals = LiteralSet(["abc", literal])
    assert literals.backend == "python"
    assert literals.present(f"x{literal}y abc") == ["abc", literal]
    with pytest.raises(ValueError, match="ASCII"):
        LiteralSet(["abc", literal], backend="hyperscan")
    with pytest.raises(ValueError, match="backend"):
        LiteralSet(["abc"], backend="other")  # type: ignore[arg-type]


@needs_hyperscan
def test_any_present_stops_at_the_first_literal_and_says_so() -> None:
    literals = LiteralSet(["a", "b"])
    assert literals.any_present("ab" * 1000)  # the scan is terminated by the first match, not an error
    assert not literals.any_present("c" * 1000)
    assert literals.present("ab" * 1000) == ["a", "b"]  # each literal reported once


@needs_hyperscan
def test_a_text_too_long_for_one_hyperscan_scan_is_answered_by_python(monkeypatch: pytest.MonkeyPatch) -> None:
    literals = LiteralSet(["ab", "cd"])
    assert literals.present("xx ab cd") == ["ab", "cd"]
    monkeypatch.setattr(prefilter, "_HYPERSCAN_MAX_BYTES", 4)
    assert literals.present("xx ab cd") == ["ab", "cd"]
    assert literals.present("abc") == ["ab"]
    assert literals.any_present("xx cd")
    assert not literals.any_present("xx ac")
    assert literals.present("éab") == ["ab"]  # 3 characters, 4 bytes: still hyperscan
    fast = literals._engine
    assert isinstance(fast, prefilter._HyperscanEngine) and fast._python is not None  # the fallback did answer


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_union_holds_both_sets_and_is_built_once(backend: prefilter.BackendChoice) -> None:
    starts = LiteralSet(["ewo", "ewk", "eyJ"], gates={"ewo": "w", "ewk": "w"}, backend=backend)
    others = LiteralSet(["oken", "ewk", "Jwt:"], backend=backend)
    union = starts.union(others)
    assert union is starts.union(others)
    assert union.literals == ("ewo", "ewk", "eyJ", "oken", "Jwt:")
    assert union.backend == backend
    assert "ewk" in union and "oken" in union and "ew" not in union
    text = "a Jwt: token ewk"
    assert sorted(union.present(text)) == ["Jwt:", "ewk", "oken"]
    assert union.union(LiteralSet([], backend=backend)).present(text) == union.present(text)


@needs_hyperscan
def test_threads_scanning_at_once_each_get_the_right_answer() -> None:
    """A scratch space serves one scan at a time and the scan releases the GIL: shared, scans running at
    once would fail (ScratchInUseError) or garble each other's matches."""
    literals = LiteralSet([*LITERALS, "needle"])
    filler = "the quick brown fox jumps over the lazy dog. " * 5000  # long scans, so that they overlap
    texts = [filler + (literal if n % 3 else "") + filler for n, literal in enumerate(literals.literals * 4)]
    expected = [sorted(lit for lit in literals.literals if lit in text) for text in texts]
    start = threading.Barrier(8)

    def scan(index: int) -> tuple[list[str], bool]:
        if index < 8:
            start.wait()
        return sorted(literals.present(texts[index])), literals.any_present(texts[index])

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(scan, range(len(texts))))
    assert [found for found, _ in results] == expected
    assert [anything for _, anything in results] == [bool(found) for found in expected]


FRAGMENTS = st.sampled_from(
    [
        "jwt expired",
        "TokenExpiredError: ",
        "IDX10223: Lifetime validation failed. The token is expired.",
        "invalid signature",
        "JsonWebTokenError: ",
        "Signature has expired",
        "token is expired by 1h",
        "\n",
        "Invalid audience",
        "Jwt expired at 2026-11-28T20:00:00Z",
        'error_description="',
        "padding",
        "the ",
        "val",
        "keyfunc",
        "key ",
        " claim value",
        "Bearer token is malformed",
        "ERR_JWT_EXPIRED",
        "eyJhbGciOiJIUzI1NiJ9.e30.",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=12)), max_size=30))
def test_the_anchor_prefilter_keeps_every_candidate_line(parts: list[str]) -> None:
    text = "".join(parts)
    catalogue = default_catalogue()
    every_anchor = list(catalogue.anchors)
    assert _candidate_lines(text, catalogue, None) == _candidate_lines(text, catalogue, every_anchor)


@pytest.mark.parametrize("prefilter_of", ["default", "anchors"])
@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.one_of(FRAGMENTS, st.text(max_size=12)), max_size=30))
def test_scan_finds_what_a_scan_without_prefilter_finds(prefilter_of: str, parts: list[str]) -> None:
    """Whichever set scan() looks for in every message (the needles with hyperscan, the anchors with Python),
    it finds every token (the first of each) and error text that looking everywhere finds."""
    text = "".join(parts)
    catalogue = default_catalogue()
    if prefilter_of == "anchors":
        catalogue = dataclasses.replace(catalogue, prefilter=catalogue.anchor_set)
    tokens = {candidate.token: candidate for candidate in reversed(find_tokens(text, has_start=True))}
    everything: list[TokenCandidate | ErrorTextMatch] = [
        *tokens.values(),
        *find_error_texts(text, catalogue, now=0.0, anchors=list(catalogue.anchors)),
    ]
    expected = sorted(everything, key=lambda item: item.start)
    found = scan(text, catalogue, at=0.0)
    assert (list(found.items), found.omitted) == (expected, 0)


def test_the_prefilter_is_the_needles_with_hyperscan_else_the_anchors() -> None:
    catalogue = default_catalogue()
    expected = set(catalogue.by_needle) if hyperscan_available() else set(catalogue.anchors)
    assert set(catalogue.prefilter.literals) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from([make_token(), "ewoiYWxnIjoiSFMyNTYifQ.e30.c2ln", ".", " ", "\n"]),
            st.text(alphabet="eywJIAok0.-_ab \n", max_size=20),
        ),
        max_size=12,
    )
)
def test_the_token_prefilter_never_hides_a_token(parts: list[str]) -> None:
    text = "".join(parts)
    assert STARTS.any_present(text) == any(start in text for start in TOKEN_STARTS)
    assert find_tokens(text) == find_tokens(text, has_start=True)


@pytest.mark.parametrize(
    "text",
    [
        "the deploy is rolling out, eyes on the dashboard; who owns the gateway config? e.g. see the runbook",
        "a new review of the few keys we use",
    ],
)
def test_chat_holds_nothing_to_diagnose(text: str) -> None:
    assert scan(text, default_catalogue(), at=0.0) == ((), None, 0)


def test_scan_finds_tokens_and_error_texts_behind_the_prefilter() -> None:
    token = make_token()
    found = scan(f"see {token}\nTokenExpiredError: jwt expired", default_catalogue(), at=0.0)
    assert [type(item).__name__ for item in found.items] == ["TokenCandidate", "ErrorTextMatch"]
    assert found.library is not None
    # the caller said: no anchor
    assert find_error_texts("TokenExpiredError: jwt expired", default_catalogue(), anchors=[]) == []


def test_a_token_start_hidden_behind_a_json_escape_in_a_claim_is_still_redacted() -> None:
    inner = make_token()
    escaped = "\\u0065" + inner[1:]  # "e" written as a JSON escape: no token start in the raw payload text
    payload = '{"sub": "u1", "act": "' + escaped + '"}'
    [diagnosis] = scan_and_diagnose(raw_token({"alg": "HS256"}, payload))
    assert diagnosis.token is not None and diagnosis.token.claims is not None
    assert inner.rsplit(".", 1)[1] not in json.dumps(diagnosis.token.claims)


def scan_and_diagnose(text: str) -> tuple[Diagnosis, ...]:
    return diagnose_text(text, Expectations(), NOW).diagnoses


@given(st.text(min_size=1, max_size=40))
def test_the_gate_is_the_literals_rarest_character_in_chat(literal: str) -> None:
    """gate_of's fast rank (a dict lookup) is the definition: the character latest in CHAT_LETTERS, any
    other character ranking past the end, the first on a tie."""
    from bot.diagnosis.prefilter import CHAT_LETTERS

    ranks = [CHAT_LETTERS.find(char) if char in CHAT_LETTERS else len(CHAT_LETTERS) for char in literal]
    assert gate_of(literal) == literal[ranks.index(max(ranks))]
