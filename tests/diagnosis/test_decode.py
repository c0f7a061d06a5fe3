"""Decoding never trusts the token and names the segment that fails."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis.decode import MAX_TOKEN_CHARS, UnrepresentableNumber, decode_token
from bot.diagnosis.model import CauseId
from tests.support.tokens import make_token, raw_token


def _details(raw: str) -> list[str]:
    decoded = decode_token(raw)
    assert all(problem.cause is CauseId.MALFORMED for problem in decoded.problems)
    return [problem.evidence.detail for problem in decoded.problems]


def test_a_good_token_decodes_with_no_problems() -> None:
    decoded = decode_token(make_token())
    assert decoded.problems == []
    assert decoded.header == {"alg": "HS256", "typ": "JWT"}
    assert decoded.claims is not None and decoded.claims["sub"] == "u1"


def test_bad_base64_in_the_payload_names_the_payload() -> None:
    header = make_token().split(".")[0]
    assert any("payload" in d and "base64url" in d for d in _details(f"{header}.e$$.sig"))


def test_impossible_base64_length_is_reported() -> None:
    header = make_token().split(".")[0]
    assert any("impossible base64url length" in d for d in _details(f"{header}.eyJhY.sig"))


def test_payload_that_is_not_json_is_reported() -> None:
    assert any("payload is not valid JSON" in d for d in _details(raw_token({"alg": "HS256"}, "not json")))


def test_payload_that_is_json_but_not_an_object_is_reported() -> None:
    assert any("not an object (it is an array)" in d for d in _details(raw_token({"alg": "HS256"}, [1, 2])))


def test_header_without_alg_is_malformed() -> None:
    assert any('no "alg"' in d for d in _details(raw_token({"typ": "JWT"}, {"sub": "x"})))


def test_non_utf8_payload_is_reported() -> None:
    header = make_token().split(".")[0]
    payload = base64.urlsafe_b64encode(b"\xff\xfe{}").rstrip(b"=").decode()
    assert any("not UTF-8" in d for d in _details(f"{header}.{payload}.sig"))


def test_json_nested_thousands_deep_is_refused_not_crashed() -> None:
    deep = "[" * 5_000 + "]" * 5_000
    assert any("deeper than" in d for d in _details(raw_token({"alg": "HS256"}, '{"a":' + deep + "}")))


def test_json_nested_twenty_thousand_deep_is_too_large_to_decode() -> None:
    deep = "[" * 20_000 + "]" * 20_000
    assert any("KiB" in d for d in _details(raw_token({"alg": "HS256"}, '{"a":' + deep + "}")))


def test_moderately_deep_json_is_also_refused() -> None:
    nested = '{"a":' * 100 + "1" + "}" * 100
    assert any("deeper than" in d for d in _details(raw_token({"alg": "HS256"}, nested)))


def test_numbers_beyond_floats_are_kept_as_unrepresentable() -> None:
    decoded = decode_token(raw_token({"alg": "HS256"}, '{"exp": 1e400}'))
    assert decoded.claims is not None and isinstance(decoded.claims["exp"], UnrepresentableNumber)


def test_integers_with_thousands_of_digits_do_not_crash() -> None:
    assert any("not valid JSON" in d for d in _details(raw_token({"alg": "HS256"}, '{"exp": ' + "9" * 5000 + "}")))


def test_nan_is_not_json() -> None:
    assert _details(raw_token({"alg": "HS256"}, '{"exp": NaN}'))


def test_empty_signature_on_a_signed_alg_means_the_copy_was_cut() -> None:
    token = make_token()
    assert any("signature segment is empty" in d for d in _details(token.rsplit(".", 1)[0] + "."))


def test_wrong_segment_count_is_explained() -> None:
    assert any("4 dot-separated segments" in d for d in _details(make_token() + ".extra"))


def test_oversized_token_is_not_decoded() -> None:
    huge = raw_token({"alg": "HS256"}, {"pad": "x" * MAX_TOKEN_CHARS})
    decoded = decode_token(huge)
    assert decoded.claims is None and "KiB" in decoded.problems[0].evidence.detail


def test_jwe_keeps_only_its_header() -> None:
    decoded = decode_token(raw_token({"alg": "dir", "enc": "A128GCM"}, "k") + ".aXY.dGFn")
    assert decoded.kind == "jwe" and decoded.claims is None and decoded.problems == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_no_string_crashes_the_decoder(text: str) -> None:
    decode_token(text)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
        max_leaves=30,
    )
)
def test_any_json_payload_decodes_or_is_reported(payload: object) -> None:
    decoded = decode_token(raw_token({"alg": "HS256"}, {"exp": payload}))
    assert decoded.claims is not None or decoded.problems


@pytest.mark.parametrize("raw", ["", ".", "..", "....", "eyJ.eyJ.", "a.b.c", "ey.ey.ey.ey.ey"])
def test_degenerate_shapes_are_reported_as_malformed(raw: str) -> None:
    decoded = decode_token(raw)
    assert decoded.problems, raw


@pytest.mark.parametrize(
    "text",
    [
        '{"sub":"a","exp":1795003600,"aud":["x","y"],"n":{"d":[1,2.5,null,true]}}',
        ' {"a":1}',  # white space before: decode skips it
        '{"a":1} ',  # and after
        '{"a":1}x',  # extra data
        '{"a":1}{"b":2}',
        '{"a":}',  # inner errors
        '{"a":1,}',
        "[1,]",
        "",
        "   ",
        "x",
        '{"a":NaN}',  # rejected constants
        '{"a":1e400}',  # numbers beyond a double
        '{"a":123456789012345678901234567890}',
        '{"a":"\\ud800"}',  # a lone surrogate
        '"just a string"',
        "12",
        '{"a":1,"a":2}',
    ],
)
def test_parse_json_without_decode_s_wrapper_is_decode(text: str) -> None:
    """The invariant of _parse_json's fast path: the same value, or the same error, as JSONDecoder.decode."""
    from bot.diagnosis.decode import _JSON, _parse_json

    def outcome(parse: Any) -> tuple[str, Any]:
        try:
            value = parse(text)
        except Exception as error:  # compared, not handled
            return type(error).__name__, str(error)
        return "value", repr(value)

    assert outcome(_parse_json) == outcome(_JSON.decode)


@given(st.text(alphabet="AQgwBb01-_+/=.! \n\u00e9", max_size=14))
@settings(max_examples=500)
def test_strict_base64url_accepts_only_what_the_step_by_step_checks_accept(segment: str) -> None:
    """_strict_base64url's bytes are those of the regex, length and lenient-decode checks, or it declines."""
    import binascii

    from bot.diagnosis.decode import _BASE64URL, _TO_STANDARD, _strict_base64url

    fast = _strict_base64url(segment)
    if fast is None:
        return  # the caller takes the step-by-step path
    assert _BASE64URL.fullmatch(segment) and len(segment) % 4 != 1
    padded = segment.encode("ascii").translate(_TO_STANDARD) + b"=" * (-len(segment) % 4)
    assert fast == binascii.a2b_base64(padded)


@pytest.mark.parametrize("segment", ["eyJhIjoxfQ", "eyJhIjoxfQ==", "eyJhIjox+Q", "e", "eyJh IjoxfQ", "eyJhIjoxfé"])
def test_a_segment_that_is_not_plain_base64url_is_declined_by_the_fast_path(segment: str) -> None:
    from bot.diagnosis.decode import _strict_base64url

    assert (_strict_base64url(segment) is not None) == (segment == "eyJhIjoxfQ")
