"""Causes from error texts follow their times, each cause says its own why, and the arithmetic with a
library's default leeway is right (issue 11: "Error texts get a skew cause the times rule out", "Wrong
arithmetic")."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis import error_texts
from bot.diagnosis.error_texts import ErrorTextMatch
from bot.diagnosis.model import CauseId, Finding, Library
from bot.knowledge.catalogue import default_catalogue, packaged_files

C = CauseId
L = Library
NOW = datetime(2026, 12, 3, 9, 10, 30, tzinfo=UTC).timestamp()
WINDOW = default_catalogue().plausible_skew_seconds
SPRING = "An error occurred while attempting to decode the Jwt: "


def one(text: str, now: float | None = NOW) -> ErrorTextMatch:
    matches = error_texts.find_error_texts(text, default_catalogue(), now=now)
    assert len(matches) == 1, matches
    return matches[0]


def causes(match: ErrorTextMatch) -> list[CauseId]:
    return [finding.cause for finding in match.findings]


def finding(match: ErrorTextMatch, cause: CauseId) -> Finding:
    return next(f for f in match.findings if f.cause is cause)


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dotnet(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%m/%d/%Y %H:%M:%S")


def idx10223(gap: float, utc: bool = False) -> str:
    label = " (UTC)" if utc else ""
    return (
        f"IDX10223: Lifetime validation failed. The token is expired. ValidTo{label}: '{dotnet(NOW - gap)}', "
        f"Current time{label}: '{dotnet(NOW)}'."
    )


def sentences(detail: str) -> set[str]:
    """The sentences of an evidence detail ("; " and ". " separate them)."""
    return {part.strip(" .") for part in re.split(r"; |\. ", detail) if part.strip(" .")}


def assert_no_shared_sentence(match: ErrorTextMatch) -> None:
    seen: dict[str, CauseId] = {}
    for item in match.findings:
        for sentence in sentences(item.evidence.detail):
            assert seen.setdefault(sentence, item.cause) is item.cause, (sentence, match.findings)
    assert len(causes(match)) == len(set(causes(match)))  # every cause once, clock_skew included


# ------------------------------------------------------------------------------ the issue's examples


def test_spring_expiry_seventy_minutes_ago_is_expired_only() -> None:
    match = one(SPRING + f"Jwt expired at {iso(NOW - 70 * 60)}")
    assert match.library is L.SPRING_SECURITY
    assert causes(match) == [C.EXPIRED]
    detail = match.findings[0].evidence.detail
    assert "1 h 10 min before now" in detail and "expired whatever the clocks say" in detail
    assert match.findings[0].summary == "expired 1 h 10 min ago"


def test_spring_expiry_forty_seconds_ago_keeps_skew_with_its_own_sentence() -> None:
    match = one(SPRING + f"Jwt expired at {iso(NOW - 40)}")
    assert causes(match) == [C.EXPIRED, C.CLOCK_SKEW]
    assert "40 s before now" in finding(match, C.EXPIRED).evidence.detail
    skew = finding(match, C.CLOCK_SKEW).evidence.detail
    assert skew.startswith("exp is only 40 s before now") and "clock was running fast" in skew
    assert_no_shared_sentence(match)


def test_an_exp_still_ahead_of_now_yet_refused_is_clock_skew_only() -> None:
    match = one(SPRING + f"Jwt expired at {iso(NOW + 600)}")
    assert causes(match) == [C.CLOCK_SKEW]
    assert "still 10 min after now" in match.findings[0].evidence.detail
    assert match.findings[0].likelihood == pytest.approx(0.7)  # the one explanation left


def test_idx10223_150_s_gap_says_the_clock_skew_in_force_was_below_it() -> None:
    """ValidTo 09:08:00, Current time 09:10:30: a 150 s gap is refused only when the ClockSkew in force is
    below 150 s, so the default 300 s was not in force; 151 s accepts it (the clock is printed truncated)."""
    match = one(idx10223(150))
    assert causes(match) == [C.EXPIRED, C.CLOCK_SKEW]
    expired = finding(match, C.EXPIRED).evidence
    assert expired.seconds_off == 150 and expired.leeway_needed == 151
    assert "the ClockSkew in force was below 150 s" in expired.detail
    assert "not the default 300 s" in expired.detail
    assert "only a ClockSkew of at least 151 s would accept it" in expired.detail
    assert "already included" not in expired.detail
    assert "would have to be at least 150" not in expired.detail
    assert "the token expired 2 min 30 s before the validator checked it" in expired.detail
    skew = finding(match, C.CLOCK_SKEW).evidence
    assert skew.leeway_needed == 151
    assert skew.detail.startswith(
        "exp passed only 2 min 30 s before the validator's clock: a validator clock 2 min 30 s fast would refuse "
        "a token that is still valid"
    )
    assert_no_shared_sentence(match)


def test_idx10223_forty_seconds_reads_as_the_issue_words_it() -> None:
    match = one(idx10223(40, utc=True))
    assert "exp passed only 40 s before the validator's clock: a validator clock 40 s fast would refuse" in (
        finding(match, C.CLOCK_SKEW).evidence.detail
    )
    assert "the token expired 40 s before the validator checked it" in finding(match, C.EXPIRED).evidence.detail


def test_idx10223_beyond_the_default_clock_skew_says_the_default_refuses_it_too() -> None:
    expired = finding(one(idx10223(400)), C.EXPIRED).evidence
    assert "the default ClockSkew of 300 s refuses a gap that large too" in expired.detail
    assert "in force was below" not in expired.detail
    assert expired.leeway_needed == 401


def test_idx10223_seventy_minutes_is_expired_only() -> None:
    match = one(idx10223(70 * 60))
    assert causes(match) == [C.EXPIRED]
    assert "far beyond any clock skew" in match.findings[0].evidence.detail


def test_idx10222_small_lead_below_the_default_and_a_far_lead() -> None:
    text = (
        "IDX10222: Lifetime validation failed. The token is not yet valid. "
        f"ValidFrom (UTC): '{dotnet(NOW + 100)}', Current time (UTC): '{dotnet(NOW)}'."
    )
    match = one(text)
    assert causes(match) == [C.CLOCK_SKEW, C.NOT_YET_VALID]
    not_yet = finding(match, C.NOT_YET_VALID).evidence
    assert "the ClockSkew in force was below 100 s" in not_yet.detail and "not the default 300 s" in not_yet.detail
    assert not_yet.leeway_needed == 100  # refused while nbf > now + ClockSkew: 100 s accepts it
    assert_no_shared_sentence(match)
    far = one(text.replace(dotnet(NOW + 100), dotnet(NOW + 3600)))
    assert causes(far) == [C.NOT_YET_VALID]
    assert "the issuer set nbf wrong" in far.findings[0].evidence.detail


def test_spring_nbf_far_ahead_is_not_yet_valid_only() -> None:
    assert causes(one(SPRING + f"Jwt used before {iso(NOW + 7200)}")) == [C.NOT_YET_VALID]
    assert causes(one(SPRING + f"Jwt used before {iso(NOW + 30)}")) == [C.CLOCK_SKEW, C.NOT_YET_VALID]


def test_golang_v4_duration_decides_like_the_validators_own_clock() -> None:
    near = one("token is expired by 42s")
    assert causes(near) == [C.EXPIRED, C.CLOCK_SKEW]
    assert finding(near, C.EXPIRED).evidence.leeway_needed == 43
    assert causes(one("token is expired by 2h")) == [C.EXPIRED]


# ------------------------------------------------------------------------------ times under a Node error


def test_jsonwebtoken_expired_at_in_a_json_log_line() -> None:
    far = '{"name":"TokenExpiredError","message":"jwt expired","expiredAt":"' + iso(NOW - 3600) + '"}'
    assert causes(one(far)) == [C.EXPIRED]
    near = far.replace(iso(NOW - 3600), iso(NOW - 30))
    assert causes(one(near)) == [C.EXPIRED, C.CLOCK_SKEW]
    assert finding(one(near), C.EXPIRED).evidence.reason == "time_in_message"


def test_jsonwebtoken_expired_at_printed_under_the_stack() -> None:
    """What Node 20 prints for an uncaught jsonwebtoken 9.0.0 TokenExpiredError (captured, paths shortened)."""
    text = (
        "/app/node_modules/jsonwebtoken/verify.js:40\n"
        "      if (err) throw err;\n"
        "               ^\n"
        "TokenExpiredError: jwt expired\n"
        "    at /app/node_modules/jsonwebtoken/verify.js:190:21\n"
        "    at getSecret (/app/node_modules/jsonwebtoken/verify.js:97:14)\n"
        "    at module.exports [as verify] (/app/node_modules/jsonwebtoken/verify.js:101:10)\n"
        "    at node:internal/main/run_main_module:28:49 {\n"
        f"  expiredAt: {iso(NOW - 5400)[:-1]}.000Z\n"
        "}\n\n"
        "Node.js v20.20.2\n"
    )
    match = one(text)
    assert match.excerpt == "TokenExpiredError: jwt expired"
    assert causes(match) == [C.EXPIRED]
    assert "1 h 30 min before now" in match.findings[0].evidence.detail


def test_jsonwebtoken_not_before_date() -> None:
    text = "NotBeforeError: jwt not active\n    at /app/node_modules/jsonwebtoken/verify.js:181:21 {\n"
    text += f"  date: {iso(NOW + 7200)[:-1]}.000Z\n}}"
    assert causes(one(text)) == [C.NOT_YET_VALID]


def test_jose_payload_under_the_error_gives_exp() -> None:
    """jose 6.2.19's console.error(err) for an expired token (captured from the library, paths shortened)."""
    exp = int(NOW - 42)
    text = (
        "file:///app/node_modules/jose/dist/webapi/lib/jwt_claims_set.js:93\n"
        '    throw new JWTExpired(\'"exp" claim timestamp check failed\', claimsSet, "exp", checkFailed);\n'
        "          ^\n\n"
        'JWTExpired: "exp" claim timestamp check failed\n'
        "    at validateClaimsSet (file:///app/node_modules/jose/dist/webapi/lib/jwt_claims_set.js:93:11)\n"
        "    at Module.jwtVerify (file:///app/node_modules/jose/dist/webapi/jwt/verify.js:8:19)\n"
        "    at async file:///app/uncaught.mjs:4:1 {\n"
        "  code: 'ERR_JWT_EXPIRED',\n"
        "  claim: 'exp',\n"
        "  reason: 'check_failed',\n"
        f"  payload: {{ sub: 'u', exp: {exp} }},\n"
        "  [cause]: {\n"
        "    claim: 'exp',\n"
        "    reason: 'check_failed',\n"
        f"    payload: {{ sub: 'u', exp: {exp} }}\n"
        "  }\n"
        "}\n"
    )
    match = one(text)  # the source excerpt and the code property are not errors of their own
    assert match.library is L.JOSE
    assert causes(match) == [C.EXPIRED, C.CLOCK_SKEW]
    assert finding(match, C.EXPIRED).summary == "expired 42 s ago"
    far = one(text.replace(str(exp), str(exp - 7200)))
    assert causes(far) == [C.EXPIRED]  # the bare ERR_JWT_EXPIRED code does not bring skew back


def test_an_iat_printed_in_seconds_rules_out_milliseconds() -> None:
    text = 'JWTClaimValidationFailed: "iat" claim timestamp check failed (it should be in the past)\n'
    text += "    at validateClaimsSet (file:///app/jwt_claims_set.js:80:11) {\n"
    text += f"  payload: {{ iat: {int(NOW + 7200)} }}\n}}"
    assert causes(one(text)) == [C.ISSUED_IN_FUTURE]
    assert C.MILLISECONDS_TIMESTAMP in causes(one(text.split("\n")[0]))  # without the payload it may be


# ------------------------------------------------------------------------------ without times


def test_without_times_clock_skew_is_listed_once_with_a_sentence_of_its_own() -> None:
    match = one("TokenExpiredError: jwt expired", now=None)
    assert causes(match) == [C.EXPIRED, C.CLOCK_SKEW]
    skew = finding(match, C.CLOCK_SKEW).evidence.detail
    assert "no times" in skew and "jsonwebtoken found" not in skew
    assert_no_shared_sentence(match)


@pytest.mark.parametrize(
    "text",
    [
        "ImmatureSignatureError: The token is not yet valid (nbf)",
        "ImmatureSignatureError: The token is not yet valid (iat)",
        "IDX10503: Signature validation failed. Token does not have a kid. Keys tried: 'x'.",
        "JsonWebTokenError: jwt malformed",
        SPRING + "Signed JWT rejected: Another algorithm expected, or no matching key(s) found",
        "token has invalid claims: token is expired, token is not valid yet",
    ],
)
def test_two_causes_never_share_one_evidence_sentence(text: str) -> None:
    match = one(text, now=None)
    assert len(match.findings) >= 2
    assert_no_shared_sentence(match)


EXAMPLES = [
    example
    for path in packaged_files()
    for entry in tomllib.loads(path.read_text(encoding="utf-8")).get("pattern", [])
    for example in entry["examples"]
]


@pytest.mark.parametrize("example", EXAMPLES, ids=[e[:50] for e in EXAMPLES])
def test_no_catalogue_example_shares_a_sentence_between_causes(example: str) -> None:
    for now in (None, NOW):
        for match in error_texts.find_error_texts(example, default_catalogue(), now=now):
            assert_no_shared_sentence(match)


# ------------------------------------------------------------------------------ properties


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=86_400), st.booleans())
def test_idx10223_causes_and_arithmetic_follow_the_gap(gap: int, utc: bool) -> None:
    match = one(idx10223(gap, utc))
    assert (C.CLOCK_SKEW in causes(match)) == (gap <= WINDOW)
    assert causes(match)[0] is C.EXPIRED
    expired = finding(match, C.EXPIRED).evidence
    assert expired.seconds_off == gap and expired.leeway_needed == gap + 1
    if gap == 0:
        assert "so it was set to 0 s, not the default 300 s" in expired.detail
    elif gap + 1 <= 300:
        assert f"the ClockSkew in force was below {gap} s" in expired.detail
    else:
        assert "the default ClockSkew of 300 s refuses a gap that large too" in expired.detail
    assert_no_shared_sentence(match)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-3 * 86_400, max_value=3 * 86_400))
def test_spring_causes_follow_exp_against_now(offset: int) -> None:
    """offset: now - exp. Past the window: expired only; within it: both; exp still ahead: skew only."""
    listed = causes(one(SPRING + f"Jwt expired at {iso(NOW - offset)}"))
    assert (C.CLOCK_SKEW in listed) == (offset <= WINDOW)
    assert (C.EXPIRED in listed) == (offset >= 0)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=2 * 86_400))
def test_nbf_causes_follow_the_lead(lead: int) -> None:
    text = (
        "IDX10222: Lifetime validation failed. The token is not yet valid. "
        f"ValidFrom: '{dotnet(NOW + lead)}', Current time: '{dotnet(NOW)}'."
    )
    match = one(text)
    assert (C.CLOCK_SKEW in causes(match)) == (lead <= WINDOW)
    assert C.NOT_YET_VALID in causes(match)
    assert finding(match, C.NOT_YET_VALID).evidence.leeway_needed == lead
    assert_no_shared_sentence(match)
