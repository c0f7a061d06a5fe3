"""The error-text recognizer: known JWT-library messages in free text -> causes and library."""

from __future__ import annotations

import time
import tomllib
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis import error_texts
from bot.diagnosis.error_texts import EXCERPT_LIMIT, LINE_CAP, MAX_MATCHES, ErrorTextMatch
from bot.diagnosis.model import CauseId, Library
from bot.diagnosis.redact import contains_signature_like
from bot.knowledge.catalogue import default_catalogue, packaged_files

C = CauseId
L = Library


def find_error_texts(text: str, **options: Any) -> list[ErrorTextMatch]:
    """The matcher with the packaged catalogue (the catalogue's own checks: tests/knowledge/test_catalogue.py)."""
    return error_texts.find_error_texts(text, default_catalogue(), **options)


def one(text: str, now: float | None = None) -> ErrorTextMatch:
    matches = find_error_texts(text, now=now)
    assert len(matches) == 1, matches
    return matches[0]


def causes(match: ErrorTextMatch) -> list[CauseId]:
    return [finding.cause for finding in match.findings]


# ------------------------------------------------------------------------------ real library messages

SPRING = "An error occurred while attempting to decode the Jwt: "
REAL_MESSAGES = [
    # PyJWT 2.8 (and later additions)
    ("jwt.exceptions.ExpiredSignatureError: Signature has expired", L.PYJWT, [C.EXPIRED, C.CLOCK_SKEW]),
    ("ImmatureSignatureError: The token is not yet valid (nbf)", L.PYJWT, [C.CLOCK_SKEW, C.NOT_YET_VALID]),
    (
        "ImmatureSignatureError: The token is not yet valid (iat)",
        L.PYJWT,
        [C.CLOCK_SKEW, C.ISSUED_IN_FUTURE, C.MILLISECONDS_TIMESTAMP],
    ),
    ("jwt.exceptions.DecodeError: Expiration Time claim (exp) must be an integer.", L.PYJWT, [C.INVALID_CLAIM_TYPE]),
    ("jwt.exceptions.InvalidIssuedAtError: Issued At claim (iat) must be an integer.", L.PYJWT, [C.INVALID_CLAIM_TYPE]),
    ("jwt.exceptions.InvalidAudienceError: Invalid audience", L.PYJWT, [C.AUDIENCE_MISMATCH]),
    ("jwt.exceptions.InvalidAudienceError: Audience doesn't match", L.PYJWT, [C.AUDIENCE_MISMATCH]),
    ("jwt.exceptions.InvalidAudienceError: Invalid claim format in token", L.PYJWT, [C.INVALID_CLAIM_TYPE]),
    ('jwt.exceptions.MissingRequiredClaimError: Token is missing the "aud" claim', L.PYJWT, [C.MISSING_CLAIM]),
    ("jwt.exceptions.InvalidIssuerError: Invalid issuer", L.PYJWT, [C.ISSUER_MISMATCH]),
    ("InvalidAlgorithmError: The specified alg value is not allowed", L.PYJWT, [C.ALGORITHM_NOT_ALLOWED]),
    ("jwt.exceptions.InvalidSignatureError: Signature verification failed", L.PYJWT, [C.SIGNATURE_INVALID]),
    ("jwt.exceptions.DecodeError: Not enough segments", L.PYJWT, [C.MALFORMED]),
    ("jwt.exceptions.DecodeError: Invalid payload padding", L.PYJWT, [C.MALFORMED, C.ENCRYPTED_TOKEN]),
    ('jwt.exceptions.PyJWKClientError: Unable to find a signing key that matches: "k1"', L.PYJWT, [C.UNKNOWN_KID]),
    ("jwt.exceptions.InvalidSubjectError: Subject must be a string", L.PYJWT, [C.INVALID_CLAIM_TYPE]),
    ("jwt.exceptions.InvalidIssuerError: Payload Issuer (iss) must be a string", L.PYJWT, [C.INVALID_CLAIM_TYPE]),
    # jsonwebtoken 9
    ("TokenExpiredError: jwt expired", L.JSONWEBTOKEN, [C.EXPIRED, C.CLOCK_SKEW]),
    ("NotBeforeError: jwt not active", L.JSONWEBTOKEN, [C.CLOCK_SKEW, C.NOT_YET_VALID]),
    ("JsonWebTokenError: jwt audience invalid. expected: api1 or api2", L.JSONWEBTOKEN, [C.AUDIENCE_MISMATCH]),
    ("JsonWebTokenError: jwt issuer invalid. expected: https://a/,https://b/", L.JSONWEBTOKEN, [C.ISSUER_MISMATCH]),
    ("JsonWebTokenError: jwt malformed", L.JSONWEBTOKEN, [C.MALFORMED, C.ENCRYPTED_TOKEN]),
    ("JsonWebTokenError: invalid signature", L.JSONWEBTOKEN, [C.SIGNATURE_INVALID]),
    ("JsonWebTokenError: invalid algorithm", L.JSONWEBTOKEN, [C.ALGORITHM_NOT_ALLOWED]),
    ("JsonWebTokenError: invalid exp value", L.JSONWEBTOKEN, [C.INVALID_CLAIM_TYPE]),
    ('please specify "none" in "algorithms" to verify unsigned tokens', L.JSONWEBTOKEN, [C.ALG_NONE]),
    ("JsonWebTokenError: invalid token", L.JSONWEBTOKEN, [C.MALFORMED]),
    ("secretOrPublicKey must be an asymmetric key when using RS256", L.JSONWEBTOKEN, [C.ALGORITHM_NOT_ALLOWED]),
    # express-jwt 8.4 (its own message; jsonwebtoken pass-through is tested below)
    ("UnauthorizedError: Format is Authorization: Bearer [token]", L.EXPRESS_JWT, [C.MISSING_TOKEN, C.MALFORMED]),
    # Spring Security 6.2 / Nimbus
    (SPRING + "Jwt expired at 2023-11-20T10:00:00Z", L.SPRING_SECURITY, [C.EXPIRED, C.CLOCK_SKEW]),
    (SPRING + "Jwt used before 2023-11-20T10:00:00Z", L.SPRING_SECURITY, [C.CLOCK_SKEW, C.NOT_YET_VALID]),
    (SPRING + "The iss claim is not valid", L.SPRING_SECURITY, [C.ISSUER_MISMATCH]),
    (SPRING + "The aud claim is not valid", L.SPRING_SECURITY, [C.AUDIENCE_MISMATCH]),
    (SPRING + "Signed JWT rejected: Invalid signature", L.SPRING_SECURITY, [C.SIGNATURE_INVALID]),
    (
        SPRING + "Signed JWT rejected: Another algorithm expected, or no matching key(s) found",
        L.SPRING_SECURITY,
        [C.UNKNOWN_KID, C.ALGORITHM_NOT_ALLOWED],
    ),
    (SPRING + "Unsupported algorithm of none", L.SPRING_SECURITY, [C.ALG_NONE]),
    (SPRING + "Invalid JWT serialization: Missing dot delimiter(s)", L.SPRING_SECURITY, [C.MALFORMED]),
    # panva/jose
    ('JWTExpired: "exp" claim timestamp check failed', L.JOSE, [C.EXPIRED, C.CLOCK_SKEW]),
    ('JWTClaimValidationFailed: "nbf" claim timestamp check failed', L.JOSE, [C.CLOCK_SKEW, C.NOT_YET_VALID]),
    ('JWTClaimValidationFailed: unexpected "aud" claim value', L.JOSE, [C.AUDIENCE_MISMATCH]),
    ('JWTClaimValidationFailed: unexpected "iss" claim value', L.JOSE, [C.ISSUER_MISMATCH]),
    ('JWTClaimValidationFailed: missing required "sub" claim', L.JOSE, [C.MISSING_CLAIM]),
    ('JWTClaimValidationFailed: "iat" claim must be a number', L.JOSE, [C.INVALID_CLAIM_TYPE]),
    ("JWSSignatureVerificationFailed: signature verification failed", L.JOSE, [C.SIGNATURE_INVALID]),
    ('JOSEAlgNotAllowed: "alg" (Algorithm) Header Parameter value not allowed', L.JOSE, [C.ALGORITHM_NOT_ALLOWED]),
    ("JWKSNoMatchingKey: no applicable key found in the JSON Web Key Set", L.JOSE, [C.UNKNOWN_KID]),
    ("JWSInvalid: Invalid Compact JWS", L.JOSE, [C.MALFORMED, C.ENCRYPTED_TOKEN]),
    # golang-jwt v5 and v4
    ("token has invalid claims: token is expired", L.GOLANG_JWT, [C.EXPIRED, C.CLOCK_SKEW]),
    ("token has invalid claims: token is not valid yet", L.GOLANG_JWT, [C.CLOCK_SKEW, C.NOT_YET_VALID]),
    (
        "token has invalid claims: token used before issued",
        L.GOLANG_JWT,
        [C.CLOCK_SKEW, C.ISSUED_IN_FUTURE, C.MILLISECONDS_TIMESTAMP],
    ),
    ("token has invalid claims: token has invalid issuer", L.GOLANG_JWT, [C.ISSUER_MISMATCH]),
    (
        "token has invalid claims: token is missing required claim: aud claim is required",
        L.GOLANG_JWT,
        [C.MISSING_CLAIM],
    ),
    ("token signature is invalid: signing method HS256 is invalid", L.GOLANG_JWT, [C.ALGORITHM_NOT_ALLOWED]),
    ("token signature is invalid: crypto/rsa: verification error", L.GOLANG_JWT, [C.SIGNATURE_INVALID]),
    (
        "token is malformed: token contains an invalid number of segments",
        L.GOLANG_JWT,
        [C.MALFORMED, C.ENCRYPTED_TOKEN],
    ),
    ("token is expired by 1h2m3s", L.GOLANG_JWT, [C.EXPIRED]),  # an hour: beyond any clock skew
    ("token is expired by 42s", L.GOLANG_JWT, [C.EXPIRED, C.CLOCK_SKEW]),
    ("validation failed: Token is expired", L.GOLANG_JWT, [C.EXPIRED, C.CLOCK_SKEW]),
    # Microsoft.IdentityModel
    (
        "IDX10223: Lifetime validation failed. The token is expired. ValidTo (UTC): '[PII of type 'System.DateTime' "
        "is hidden. For more details, see https://aka.ms/IdentityModel/PII.]'",
        L.MICROSOFT_IDENTITYMODEL,
        [C.EXPIRED, C.CLOCK_SKEW],
    ),
    (
        "IDX10222: Lifetime validation failed. The token is not yet valid. ValidFrom (UTC): '11/20/2023 10:10:00', "
        "Current time (UTC): '11/20/2023 10:09:00'.",
        L.MICROSOFT_IDENTITYMODEL,
        [C.CLOCK_SKEW, C.NOT_YET_VALID],
    ),
    (
        "IDX10214: Audience validation failed. Audiences: 'api://a'. Did not match: "
        "validationParameters.ValidAudience: 'api://b' or validationParameters.ValidAudiences: 'null'.",
        L.MICROSOFT_IDENTITYMODEL,
        [C.AUDIENCE_MISMATCH],
    ),
    (
        "IDX10205: Issuer validation failed. Issuer: 'https://sts.windows.net/t/'. Did not match: "
        "validationParameters.ValidIssuer: 'https://login.microsoftonline.com/t/v2.0'",
        L.MICROSOFT_IDENTITYMODEL,
        [C.ISSUER_MISMATCH],
    ),
    (
        "IDX10206: Unable to validate audience. The 'audiences' parameter is empty.",
        L.MICROSOFT_IDENTITYMODEL,
        [C.MISSING_CLAIM],
    ),
    (
        "IDX10208: Unable to validate audience. validationParameters.ValidAudience is null or whitespace",
        L.MICROSOFT_IDENTITYMODEL,
        [C.AUDIENCE_MISMATCH],
    ),
    (
        "IDX10211: Unable to validate issuer. The 'issuer' parameter is null or whitespace",
        L.MICROSOFT_IDENTITYMODEL,
        [C.MISSING_CLAIM],
    ),
    (
        "IDX10501: Signature validation failed. Unable to match key: kid: 'k1'.",
        L.MICROSOFT_IDENTITYMODEL,
        [C.UNKNOWN_KID],
    ),
    (
        "IDX10503: Signature validation failed. Token does not have a kid. Keys tried: 'x'.",
        L.MICROSOFT_IDENTITYMODEL,
        [C.UNKNOWN_KID, C.SIGNATURE_INVALID],
    ),
    (
        "IDX10511: Signature validation failed. Keys tried: 'x'. kid: 'k1'.",
        L.MICROSOFT_IDENTITYMODEL,
        [C.SIGNATURE_INVALID],
    ),
    (
        "IDX10500: Signature validation failed. No security keys were provided to validate the signature.",
        L.MICROSOFT_IDENTITYMODEL,
        [C.UNKNOWN_KID],
    ),
    (
        "IDX10504: Unable to validate signature, token does not have a signature: 'x'.",
        L.MICROSOFT_IDENTITYMODEL,
        [C.ALG_NONE],
    ),
    ("IDX14100: JWT is not well formed, there are no dots (.).", L.MICROSOFT_IDENTITYMODEL, [C.MALFORMED]),
    ("IDX14120: JWT is not well formed, there is only one dot (.).", L.MICROSOFT_IDENTITYMODEL, [C.MALFORMED]),
    ("IDX12741: JWT must have three segments (JWS) or five segments (JWE).", L.MICROSOFT_IDENTITYMODEL, [C.MALFORMED]),
    ("IDX12709: CanReadToken() returned false. JWT is not well formed.", L.MICROSOFT_IDENTITYMODEL, [C.MALFORMED]),
    (
        "IDX10225: Lifetime validation failed. The token is missing an Expiration Time. Tokentype: 'x'.",
        L.MICROSOFT_IDENTITYMODEL,
        [C.MISSING_CLAIM],
    ),
    (
        "Bearer was not authenticated. Failure message: IDX10223: Lifetime validation failed. The token is expired.",
        L.MICROSOFT_IDENTITYMODEL,
        [C.EXPIRED, C.CLOCK_SKEW],
    ),
    # ASP.NET Core JwtBearer WWW-Authenticate
    (
        'WWW-Authenticate: Bearer error="invalid_token", error_description="The token is expired"',
        L.MICROSOFT_IDENTITYMODEL,
        [C.EXPIRED, C.CLOCK_SKEW],
    ),
    (
        'WWW-Authenticate: Bearer error="invalid_token", error_description="The audience \'api://x\' is invalid"',
        L.MICROSOFT_IDENTITYMODEL,
        [C.AUDIENCE_MISMATCH],
    ),
    (
        'WWW-Authenticate: Bearer error="invalid_token", error_description="The signature key was not found"',
        L.MICROSOFT_IDENTITYMODEL,
        [C.UNKNOWN_KID],
    ),
    # RFC 6750's own example: no library fingerprint
    (
        'WWW-Authenticate: Bearer realm="example", error="invalid_token", error_description="The access token expired"',
        None,
        [C.EXPIRED, C.CLOCK_SKEW],
    ),
]


@pytest.mark.parametrize(("text", "library", "expected"), REAL_MESSAGES, ids=[m[0][:60] for m in REAL_MESSAGES])
def test_real_library_messages_give_their_causes_and_library(
    text: str, library: Library | None, expected: list[CauseId]
) -> None:
    match = one(text)
    assert match.library is library
    assert causes(match) == expected
    assert all(0 < f.likelihood <= 1 and f.evidence.detail for f in match.findings)


PATTERNS = {pattern.id: pattern for pattern in default_catalogue().patterns}
EXAMPLES = [
    (entry["id"], example)
    for path in packaged_files()
    for entry in tomllib.loads(path.read_text(encoding="utf-8")).get("pattern", [])
    for example in entry["examples"]
]


@pytest.mark.parametrize(("pattern_id", "example"), EXAMPLES, ids=[f"{i}:{e[:40]}" for i, e in EXAMPLES])
def test_every_catalogue_example_is_recognised_as_its_entry(pattern_id: str, example: str) -> None:
    pattern = PATTERNS[pattern_id]
    match = one(example)
    assert {cause for cause, _ in pattern.causes} <= set(causes(match))
    assert match.library is pattern.library


def test_nbf_and_iat_errors_put_clock_skew_first() -> None:
    for text in ("NotBeforeError: jwt not active", "ImmatureSignatureError: The token is not yet valid (iat)"):
        first, second = one(text).findings[:2]
        assert first.cause is C.CLOCK_SKEW and first.likelihood > second.likelihood


def test_plain_expiry_keeps_clock_skew_as_a_minor_cause() -> None:
    expired, skew = one("TokenExpiredError: jwt expired").findings
    assert (expired.cause, skew.cause) == (C.EXPIRED, C.CLOCK_SKEW)
    assert expired.likelihood == pytest.approx(0.7) and skew.likelihood == pytest.approx(0.3)


# ------------------------------------------------------------------------------ evidence details


def test_pyjwt_bare_invalid_audience_explains_the_missing_audience_argument() -> None:
    finding = one("jwt.exceptions.InvalidAudienceError: Invalid audience").findings[0]
    assert finding.evidence.claim == "aud"
    assert "audience=" in finding.evidence.detail


def test_jsonwebtoken_expected_audience_is_in_the_evidence() -> None:
    finding = one("JsonWebTokenError: jwt audience invalid. expected: api://orders or api://billing").findings[0]
    assert finding.evidence.reason == "expected_value"
    assert "api://orders or api://billing" in finding.evidence.detail
    assert finding.summary == "expected api://orders or api://billing"


def test_missing_claim_names_the_claim() -> None:
    assert one('MissingRequiredClaimError: Token is missing the "iss" claim').findings[0].evidence.claim == "iss"
    assert one("token is missing required claim: exp claim is required").findings[0].evidence.claim == "exp"


def test_echoed_values_are_truncated() -> None:
    finding = one("JsonWebTokenError: jwt audience invalid. expected: " + "a" * 190 + " or " + "b" * 190).findings[0]
    assert "a" * 150 in finding.evidence.detail
    assert "b" * 10 not in finding.evidence.detail


def test_idx10223_with_both_times_computes_the_gap_and_mentions_dotnet_clock_skew() -> None:
    text = (
        "IDX10223: Lifetime validation failed. The token is expired. "
        "ValidTo (UTC): '11/20/2023 10:00:00', Current time (UTC): '11/20/2023 12:03:00'."
    )
    match = one(text)
    [expired] = match.findings  # two hours is far beyond any clock drift: expired only, no clock skew
    assert expired.cause is C.EXPIRED
    assert expired.evidence.reason == "times_in_message"
    assert expired.evidence.seconds_off == 7380
    # the message prints whole seconds, truncated: the gap was 7380 s or up to a second more
    assert expired.evidence.leeway_needed == 7381
    assert "the default ClockSkew of 300 s refuses a gap that large too" in expired.evidence.detail
    assert "already included" not in expired.evidence.detail
    assert "far beyond any clock skew" in expired.evidence.detail
    assert "2 h 3 min" in expired.evidence.detail


def test_idx10223_small_gap_keeps_clock_skew_plausible_and_reads_the_6x_wording() -> None:
    text = (
        "IDX10223: Lifetime validation failed. The token is expired. "
        "ValidTo: '11/20/2023 10:00:00', Current time: '11/20/2023 10:06:01'."
    )
    match = one(text)
    assert match.findings[0].evidence.seconds_off == 361
    assert next(f for f in match.findings if f.cause is C.CLOCK_SKEW).likelihood == pytest.approx(0.3)


def test_idx10222_reports_how_far_ahead_nbf_was() -> None:
    text = (
        "IDX10222: Lifetime validation failed. The token is not yet valid. "
        "ValidFrom (UTC): '11/20/2023 10:10:00', Current time (UTC): '11/20/2023 10:00:00'."
    )
    skew, not_yet = one(text).findings
    assert skew.cause is C.CLOCK_SKEW and not_yet.cause is C.NOT_YET_VALID
    assert skew.evidence.claim == "nbf"
    assert skew.evidence.seconds_off == 600 and skew.evidence.leeway_needed == 600


def test_idx_message_with_hidden_pii_gives_no_times() -> None:
    text = (
        "IDX10223: Lifetime validation failed. The token is expired. ValidTo (UTC): '[PII of type "
        "'System.DateTime' is hidden. For more details, see https://aka.ms/IdentityModel/PII.]', Current time (UTC): "
        "'[PII of type 'System.DateTime' is hidden. For more details, see https://aka.ms/IdentityModel/PII.]'."
    )
    evidence = one(text).findings[0].evidence
    assert evidence.seconds_off is None and evidence.reason == "error_text"


def test_spring_www_authenticate_header_with_now_says_how_long_ago_exp_was() -> None:
    header = (
        'WWW-Authenticate: Bearer error="invalid_token", error_description="An error occurred while attempting to '
        'decode the Jwt: Jwt expired at 2023-11-20T10:00:00Z", error_uri="https://tools.ietf.org/html/rfc6750#section-3.1"'
    )
    now = datetime(2023, 11, 20, 13, 0, tzinfo=UTC).timestamp()
    match = one(header, now=now)
    assert match.library is L.SPRING_SECURITY
    assert causes(match) == [C.EXPIRED]  # three hours before now: expired whatever the clocks say
    evidence = match.findings[0].evidence
    assert evidence.reason == "time_in_message"
    assert "2023-11-20T10:00:00Z" in evidence.detail and "3 h before now" in evidence.detail
    assert one(header).findings[0].evidence.reason == "error_text"  # without now: nothing relative


def test_unreadable_times_in_a_message_are_ignored() -> None:
    text = (
        "IDX10223: Lifetime validation failed. The token is expired. "
        "ValidTo (UTC): '0001-01-01T00:00:00+01:00', Current time (UTC): '13/45/2023 99:00:00'."
    )
    evidence = one(text).findings[0].evidence
    assert evidence.reason == "error_text" and evidence.seconds_off is None


def test_golang_v4_duration_becomes_seconds_off() -> None:
    evidence = one("token is expired by 1h2m3.5s").findings[0].evidence
    assert evidence.seconds_off == pytest.approx(3723.5)
    assert evidence.leeway_needed == 3724


# ------------------------------------------------------------------------------ lines, order, context


def test_golang_multi_cause_line_is_one_match_with_both_causes() -> None:
    match = one("token has invalid claims: token is expired, token has invalid audience")
    assert match.library is L.GOLANG_JWT
    assert {C.EXPIRED, C.AUDIENCE_MISMATCH, C.CLOCK_SKEW} == set(causes(match))
    assert len(causes(match)) == len(set(causes(match)))


def test_a_class_name_counts_only_when_no_message_text_is_on_its_line() -> None:
    alone = one("Microsoft.IdentityModel.Tokens.SecurityTokenExpiredException")
    assert causes(alone) == [C.EXPIRED, C.CLOCK_SKEW] and alone.findings[0].likelihood == pytest.approx(0.6)
    with_message = one("jwt.exceptions.InvalidAudienceError: Audience doesn't match")
    assert causes(with_message) == [C.AUDIENCE_MISMATCH]
    assert with_message.findings[0].likelihood == pytest.approx(0.9)
    assert "none of the expected audiences" in with_message.findings[0].evidence.detail


def test_several_messages_in_one_log_come_in_order_with_their_lines() -> None:
    log = (
        "2024-01-01T10:00:00Z INFO request started\n"
        "2024-01-01T10:00:01Z WARN JsonWebTokenError: invalid signature\n"
        "    at /app/node_modules/jsonwebtoken/verify.js:171:19\n"
        '2024-01-01T10:00:02Z WARN JWTExpired: "exp" claim timestamp check failed\n'
        "2024-01-01T10:00:03Z ERROR IDX10214: Audience validation failed. Audiences: 'a'."
    )
    matches = find_error_texts(log)
    assert [m.library for m in matches] == [L.JSONWEBTOKEN, L.JOSE, L.MICROSOFT_IDENTITYMODEL]
    assert [m.findings[0].cause for m in matches] == [C.SIGNATURE_INVALID, C.EXPIRED, C.AUDIENCE_MISMATCH]
    for match in matches:
        assert log[match.start : match.end] == match.excerpt
        assert match.start == 0 or log[match.start - 1] == "\n"
    assert matches[0].start < matches[1].start < matches[2].start


def test_crlf_line_ends_are_not_part_of_the_line() -> None:
    text = "ok\r\nJsonWebTokenError: invalid signature\r\nnext"
    match = one(text)
    assert text[match.start : match.end] == "JsonWebTokenError: invalid signature"


def test_jsonwebtoken_message_with_unauthorizederror_is_express_jwt() -> None:
    assert one("UnauthorizedError: jwt expired").library is L.EXPRESS_JWT
    # the hint may sit elsewhere in the text (express-jwt's error object printed over several lines)
    text = "jwt not active\n  name: 'UnauthorizedError', code: 'invalid_token', status: 401"
    match = one(text)
    assert match.library is L.EXPRESS_JWT and causes(match)[0] is C.CLOCK_SKEW
    assert one("TokenExpiredError: jwt expired").library is L.JSONWEBTOKEN


def test_escaped_text_is_recognised() -> None:
    json_dotnet = (
        '{"Message":"IDX10223: Lifetime validation failed. The token is expired. ValidTo (UTC): '
        '\\u002711/20/2023 10:00:00\\u0027, Current time (UTC): \\u002711/20/2023 10:10:00\\u0027."}'
    )
    assert one(json_dotnet).findings[0].evidence.seconds_off == 600
    json_jose = '{"err":"JWTClaimValidationFailed: \\"nbf\\" claim timestamp check failed"}'
    assert causes(one(json_jose))[0] is C.CLOCK_SKEW
    html_jose = "JWTClaimValidationFailed: unexpected &quot;aud&quot; claim value"
    assert causes(one(html_jose)) == [C.AUDIENCE_MISMATCH]
    slack = "jwt.exceptions.DecodeError: Invalid token type. Token must be a &lt;class 'bytes'&gt;"
    assert causes(one(slack)) == [C.MALFORMED]
    assert one("`jwt expired`").library is L.JSONWEBTOKEN  # Slack inline code


CHAT = [
    "my coffee expired",
    "signature pending from legal",
    "the audience loved it",
    "I think my jwt expired, can someone refresh it?",
    "is the token expired already?",
    "we saw an invalid signature on the contract",
    "the token is not valid yet according to Bob",
    "let's add padding to the header",
    "the claim value was wrong in the spreadsheet",
    "error_description is a nice field name",
    "IDX is the index ticker",
    "Token is expired, can you send a new one?",
]


@pytest.mark.parametrize("text", CHAT)
def test_ordinary_chat_does_not_match(text: str) -> None:
    assert find_error_texts(text) == []


# ------------------------------------------------------------------------------ safety: secrets, size


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_excerpts_and_evidence_never_contain_a_signature() -> None:
    token = jwt.encode({"sub": "alice", "aud": "api"}, "secret", algorithm="HS256")
    signature = token.rsplit(".", 1)[1]
    lines = [
        f"IDX10511: Signature validation failed. Keys tried: 'k'. kid: '{token}'. Exceptions caught: ''. "
        f"token: '{token}'. See https://aka.ms/IDX10511 for details.",
        f"IDX10503: Signature validation failed. The token's kid is: '{token}', but did not match any keys. "
        f"token: '{token}'.",
        f"JsonWebTokenError: jwt audience invalid. expected: {token}",
        "x" * 5000 + f" token: '{token}' " + "y" * 20 + " IDX10511: Signature validation failed.",
    ]
    for line in lines:
        match = one(line)
        fields = [match.excerpt] + [
            part for f in match.findings for part in (f.evidence.detail, f.evidence.claim or "", f.summary or "")
        ]
        for field in fields:
            assert signature not in field
            assert not contains_signature_like(field)
        assert signature not in repr(match)


def test_excerpt_is_a_short_window_around_the_message() -> None:
    line = "a" * 10_000 + " JsonWebTokenError: invalid signature " + "b" * 10_000
    short = "z" * 3000 + " JsonWebTokenError: invalid signature " + "b" * 10_000
    assert find_error_texts(line) == []  # beyond the first LINE_CAP characters of its line
    match = one(short)
    assert len(match.excerpt) <= EXCERPT_LIMIT
    assert "JsonWebTokenError: invalid signature" in match.excerpt
    assert (match.start, match.end) == (0, len(short))


def test_only_the_first_line_cap_characters_of_a_line_are_read() -> None:
    assert find_error_texts("x" * (LINE_CAP - 40) + " TokenExpiredError: jwt expired")
    assert not find_error_texts("x" * LINE_CAP + " TokenExpiredError: jwt expired")


def test_two_megabyte_line_finishes_quickly() -> None:
    text = ("IDX1 jwt expired token is expired Invalid audience error_description " * 30_000)[:2_000_000]
    started = time.perf_counter()
    find_error_texts(text)
    find_error_texts("e" * 2_000_000)
    assert time.perf_counter() - started < 2.0


def test_two_hundred_thousand_short_lines_finish_quickly() -> None:
    quiet = "\n".join(f"line {i}: all good, nothing to see" for i in range(200_000))
    noisy = "\n".join("TokenExpiredError: jwt expired" for _ in range(200_000))
    near_misses = "\n".join("we saw Invalid audience again" for _ in range(200_000))
    started = time.perf_counter()
    assert find_error_texts(quiet) == []
    assert len(find_error_texts(noisy)) == MAX_MATCHES
    assert find_error_texts(near_misses) == []
    assert time.perf_counter() - started < 3.0


def test_an_ordinary_chat_message_is_cheap() -> None:
    message = ("the deploy failed again, can someone check the gateway logs? " * 70)[:4096]
    started = time.perf_counter()
    for _ in range(200):
        find_error_texts(message)
    assert (time.perf_counter() - started) / 200 < 0.005


# pieces of real messages, escapes and hostile values, glued together at random
# fmt: off
FRAGMENTS = st.sampled_from([
    "jwt expired", "IDX10223: Lifetime validation failed. The token is expired.", " ValidTo (UTC): '",
    "', Current time (UTC): '", "11/20/2023 10:00:00", "9999-99-99T99:99:99Z", "0001-01-01T00:00:00+01:00",
    "Jwt expired at ", "Jwt used before ", "token is expired by ", "1h2m", "99999999999999999999h",
    'error_description="', "The token expired at '", "\\u0027", '\\"', "&quot;", "&lt;", "'", '"', "\n", "\r",
    "\x00", ": ", "UnauthorizedError", "expected: ", "token has invalid claims: ", "[PII of type 'x' is hidden]",
    "eyJhbGciOiJIUzI1NiJ9.e30.", "IDX10511: Signature validation failed.", " kid: '", 'Token is missing the "',
    '" claim',
])
# fmt: on


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=20)), max_size=40), st.none() | st.floats())
def test_random_text_never_raises(parts: list[str], now: float | None) -> None:
    for match in find_error_texts("".join(parts), now=now):
        assert match.findings and len(match.excerpt) <= EXCERPT_LIMIT


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_arbitrary_unicode_never_raises(text: str) -> None:
    find_error_texts(text)


def test_the_validators_own_clock_reading_is_kept_as_evidence() -> None:
    [match] = find_error_texts(
        "IDX10223: Lifetime validation failed. The token is expired. ValidTo (UTC): '11/28/2026 20:00:00', "
        "Current time (UTC): '11/28/2026 20:06:10'."
    )
    assert match.validator_time == 1795896370.0
    [other] = find_error_texts("jwt.exceptions.ExpiredSignatureError: Signature has expired")
    assert other.validator_time is None


# ------------------------------------------------------------------------------ an HTTP response pasted whole

RESPONSE = """HTTP/1.1 401 Unauthorized
www-authenticate: Bearer realm="https://api.acme.test/orders", error="invalid_token"
content-length: 14
date: Thu, 03 Dec 2026 10:00:45 GMT

Jwt is expired"""


def test_a_responses_challenge_and_body_are_one_refusal_in_the_bodys_words() -> None:
    match = one(RESPONSE)
    assert match.library is L.ENVOY and causes(match) == [C.EXPIRED, C.CLOCK_SKEW]
    assert match.excerpt == "Jwt is expired" and match.start == RESPONSE.index("www-authenticate")


def test_a_bare_rfc6750_challenge_above_a_gateways_body_takes_the_gateway() -> None:
    plain = RESPONSE.replace('realm="https://api.acme.test/orders", ', "")
    match = one(plain)
    assert match.library is L.ENVOY and causes(match)[0] is C.EXPIRED


def test_two_responses_are_two_refusals() -> None:
    assert len(find_error_texts(RESPONSE + "\n\n" + RESPONSE.replace("Jwt is expired", "Jwt is missing"))) == 2
    assert len(find_error_texts('www-authenticate: Bearer error="invalid_token"\n\nsome chat\n\nJwt is missing')) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("JWT::InvalidAudError: Invalid audience. Expected orders-api, received api://other", ("orders-api",)),
        (
            "io.jsonwebtoken.IncorrectClaimException: Expected iss claim to be: https://login.acme.test/, but was: "
            "https://login.acme-staging.test/.",
            ("https://login.acme.test/",),
        ),
    ],
)
def test_a_value_that_ends_at_a_comma_and_a_space_is_whole(text: str, expected: tuple[str, ...]) -> None:
    [(_, values)] = one(text).expected
    assert values == expected
    assert f"expected '{expected[0]}';" in one(text).findings[0].evidence.detail
