"""Real error texts the catalogue missed, recognised as their own library; a printed error (a traceback, a
Node stack, a Java ``Caused by:`` chain) counts once; what the validator expected, as data.

Every library text below was captured from the library itself (PyJWT 2.8.0, python-jose 3.5.0, joserfc
1.8.0, Authlib 1.9.10, jose 6.2.19 on Node 20; paths shortened) or, where a version was not run (jose
5.10.0), composed from its source as the comment says.
"""

from __future__ import annotations

import pytest

from bot.diagnosis import error_texts
from bot.diagnosis.error_texts import MAX_EXPECTED_VALUES, VALUE_LIMIT, ErrorTextMatch
from bot.diagnosis.model import CauseId, Library
from bot.diagnosis.scan import scan
from bot.knowledge.catalogue import default_catalogue

C = CauseId
L = Library


def found(text: str) -> list[ErrorTextMatch]:
    return error_texts.find_error_texts(text, default_catalogue())


def one(text: str) -> ErrorTextMatch:
    matches = found(text)
    assert len(matches) == 1, matches
    return matches[0]


def causes(match: ErrorTextMatch) -> list[CauseId]:
    return [finding.cause for finding in match.findings]


# ------------------------------------------------------------------------------ the RS/HS confusion

PYJWT_HMAC = (
    "jwt.exceptions.InvalidKeyError: The specified key is an asymmetric key or x509 certificate and should "
    "not be used as an HMAC secret."
)
PYJWT_HMAC_TRACEBACK = f"""Traceback (most recent call last):
  File "/app/verify.py", line 47, in main
    jwt.decode(
  File "/venv/lib/python3.11/site-packages/jwt/api_jwt.py", line 210, in decode
    decoded = self.decode_complete(
              ^^^^^^^^^^^^^^^^^^^^^
  File "/venv/lib/python3.11/site-packages/jwt/api_jws.py", line 307, in _verify_signature
    prepared_key = alg_obj.prepare_key(key)
                   ^^^^^^^^^^^^^^^^^^^^^^^^
  File "/venv/lib/python3.11/site-packages/jwt/algorithms.py", line 268, in prepare_key
    raise InvalidKeyError(
{PYJWT_HMAC}
"""


def test_pyjwt_hmac_secret_that_is_a_public_key() -> None:
    for text in (PYJWT_HMAC, PYJWT_HMAC_TRACEBACK):
        match = one(text)
        assert match.library is L.PYJWT
        assert causes(match) == [C.ALGORITHM_NOT_ALLOWED]
        detail = match.findings[0].evidence.detail
        assert "HS256" in detail and "public key PEM" in detail and "RS/HS confusion" in detail


@pytest.mark.parametrize(
    "text",
    [
        # jose 6.2.19 (lib/key.js invalidKeyType: CryptoKey, KeyObject, JSON Web Key), captured
        "TypeError: Key for the RS256 algorithm must be one of type CryptoKey, KeyObject, or JSON Web Key. "
        "Received an instance of Uint8Array",
        # jose 5.10.0 on Node (lib/invalid_key_input.js withAlg + runtime/is_key_like.js types = ['KeyObject',
        # 'CryptoKey'] + check_key_type.js's 'JSON Web Key'): the same with KeyObject first
        "TypeError: Key for the RS256 algorithm must be one of type KeyObject, CryptoKey, or JSON Web Key. "
        "Received an instance of Uint8Array",
        # jose 6.2.19, an HS256 token verified with the RSA public key (captured)
        'TypeError: CryptoKey instances must be of type "secret" for the HS256 algorithm',
        # jose 5.10.0 lib/check_key_type.js symmetricTypeCheck / asymmetricTypeCheck
        'TypeError: KeyObject instances for symmetric algorithms must be of type "secret"',
        'TypeError: KeyObject instances for asymmetric algorithms must not be of type "secret"',
    ],
)
def test_jose_key_type_errors(text: str) -> None:
    match = one(text)
    assert match.library is L.JOSE
    assert causes(match) == [C.ALGORITHM_NOT_ALLOWED]


@pytest.mark.parametrize(
    ("text", "library"),
    [
        (
            "jose.exceptions.JWKError: The specified key is an asymmetric key or x509 certificate and should not be "
            "used as an HMAC secret.",
            L.PYTHON_JOSE,
        ),
        ("ValueError: Asymmetric public keys must not be used as oct keys", L.JOSERFC),
        ("ValueError: This key may not be safe to import", L.AUTHLIB),
        (
            "jose.exceptions.JWKError: Unable to load PEM file. See https://cryptography.io/en/latest/faq/"
            "#why-can-t-i-import-my-pem-file for more details. MalformedFraming",
            L.PYTHON_JOSE,
        ),
    ],
)
def test_the_python_libraries_hmac_key_refusals(text: str, library: Library) -> None:
    match = one(text)
    assert (match.library, causes(match)) == (library, [C.ALGORITHM_NOT_ALLOWED])


# ------------------------------------------------------------------------------ python-jose, joserfc, Authlib

THEIR_TEXTS = [
    # python-jose 3.5.0 (module-qualified, as a traceback's last line prints them)
    ("jose.exceptions.ExpiredSignatureError: Signature has expired.", L.PYTHON_JOSE, C.EXPIRED),
    ("jose.exceptions.JWTClaimsError: The token is not yet valid (nbf)", L.PYTHON_JOSE, C.CLOCK_SKEW),
    ("jose.exceptions.JWTClaimsError: Invalid audience", L.PYTHON_JOSE, C.AUDIENCE_MISMATCH),
    ("jose.exceptions.JWTClaimsError: Invalid issuer", L.PYTHON_JOSE, C.ISSUER_MISMATCH),
    ("jose.exceptions.JWTError: Signature verification failed.", L.PYTHON_JOSE, C.SIGNATURE_INVALID),
    ("jose.exceptions.JWTError: The specified alg value is not allowed", L.PYTHON_JOSE, C.ALGORITHM_NOT_ALLOWED),
    ("jose.exceptions.JWTError: Not enough segments", L.PYTHON_JOSE, C.MALFORMED),
    ('jose.exceptions.JWTError: missing required key "jti" among claims', L.PYTHON_JOSE, C.MISSING_CLAIM),
    # the bare class-and-message form of its own wordings (they end with a period, PyJWT's do not)
    ("ExpiredSignatureError: Signature has expired.", L.PYTHON_JOSE, C.EXPIRED),
    ("JWTClaimsError: Invalid audience", L.PYTHON_JOSE, C.AUDIENCE_MISMATCH),
    # joserfc 1.8.0
    ("joserfc.errors.ExpiredTokenError: expired_token: The token is expired", L.JOSERFC, C.EXPIRED),
    ("joserfc.errors.InvalidClaimError: invalid_claim: The token is not yet valid", L.JOSERFC, C.CLOCK_SKEW),
    ("joserfc.errors.InvalidClaimError: invalid_claim: The token was issued in the future", L.JOSERFC, C.CLOCK_SKEW),
    ("joserfc.errors.InvalidClaimError: invalid_claim: Invalid claim: 'aud'", L.JOSERFC, C.AUDIENCE_MISMATCH),
    ("joserfc.errors.InvalidClaimError: invalid_claim: Invalid claim: 'iss'", L.JOSERFC, C.ISSUER_MISMATCH),
    ("joserfc.errors.MissingClaimError: missing_claim: Missing claim: 'aud'", L.JOSERFC, C.MISSING_CLAIM),
    ("joserfc.errors.BadSignatureError: bad_signature: ", L.JOSERFC, C.SIGNATURE_INVALID),
    (
        "joserfc.errors.UnsupportedAlgorithmError: unsupported_algorithm: Algorithm of 'HS256' is not allowed",
        L.JOSERFC,
        C.ALGORITHM_NOT_ALLOWED,
    ),
    ("joserfc.errors.DecodeError: decode_error: Invalid JSON Web Signature", L.JOSERFC, C.MALFORMED),
    # Authlib 1.9.10 authlib.jose
    ("authlib.jose.errors.ExpiredTokenError: expired_token: The token is expired", L.AUTHLIB, C.EXPIRED),
    ("authlib.jose.errors.InvalidTokenError: invalid_token: The token is not valid yet", L.AUTHLIB, C.CLOCK_SKEW),
    (
        "authlib.jose.errors.InvalidTokenError: invalid_token: The token is not valid as it was issued in the future",
        L.AUTHLIB,
        C.CLOCK_SKEW,
    ),
    ("authlib.jose.errors.InvalidClaimError: invalid_claim: Invalid claim 'aud'", L.AUTHLIB, C.AUDIENCE_MISMATCH),
    ("authlib.jose.errors.InvalidClaimError: invalid_claim: Invalid claim 'iss'", L.AUTHLIB, C.ISSUER_MISMATCH),
    ("authlib.jose.errors.MissingClaimError: missing_claim: Missing 'aud' claim", L.AUTHLIB, C.MISSING_CLAIM),
    ("authlib.jose.errors.BadSignatureError: bad_signature: ", L.AUTHLIB, C.SIGNATURE_INVALID),
    ("authlib.jose.errors.UnsupportedAlgorithmError: unsupported_algorithm: ", L.AUTHLIB, C.ALGORITHM_NOT_ALLOWED),
    ("authlib.jose.errors.DecodeError: Invalid input segments length: ", L.AUTHLIB, C.MALFORMED),
    ("authlib.jose.errors.DecodeError: decode_error: Not enough segments", L.AUTHLIB, C.MALFORMED),
]


@pytest.mark.parametrize(("text", "library", "first"), THEIR_TEXTS, ids=[t[0][:60] for t in THEIR_TEXTS])
def test_python_jose_joserfc_and_authlib_are_recognised_as_themselves(
    text: str, library: Library, first: CauseId
) -> None:
    match = one(text)
    assert match.library is library
    assert causes(match)[0] is first


def test_pyjwt_texts_stay_pyjwt() -> None:
    for text in (
        "jwt.exceptions.ExpiredSignatureError: Signature has expired",
        "jwt.exceptions.InvalidSignatureError: Signature verification failed",
        "jwt.exceptions.InvalidAudienceError: Invalid audience",
        "jwt.exceptions.DecodeError: Not enough segments",
    ):
        assert one(text).library is L.PYJWT


def test_the_new_libraries_have_their_default_leeway() -> None:
    leeway = default_catalogue().default_leeway
    assert {L.PYTHON_JOSE, L.JOSERFC, L.AUTHLIB} <= set(leeway)
    assert all(leeway[library].seconds == 0 for library in (L.PYTHON_JOSE, L.JOSERFC, L.AUTHLIB))


# ------------------------------------------------------------------------------ one printed error, one match

PYJWT_TRACEBACK = """Traceback (most recent call last):
  File "/app/verify.py", line 47, in main
    jwt.decode(
  File "/venv/lib/python3.11/site-packages/jwt/api_jwt.py", line 210, in decode
    decoded = self.decode_complete(
              ^^^^^^^^^^^^^^^^^^^^^
  File "/venv/lib/python3.11/site-packages/jwt/api_jwt.py", line 248, in _validate_claims
    self._validate_exp(payload, now, leeway)
  File "/venv/lib/python3.11/site-packages/jwt/api_jwt.py", line 306, in _validate_exp
    raise ExpiredSignatureError("Signature has expired")
jwt.exceptions.ExpiredSignatureError: Signature has expired
"""

PYTHON_JOSE_CHAINED = """Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/jose/jws.py", line 264, in _verify_signature
    raise JWSSignatureError()
jose.exceptions.JWSSignatureError

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/jose/jws.py", line 77, in verify
    _verify_signature(signing_input, header, signature, key, algorithms)
  File "/venv/lib/python3.11/site-packages/jose/jws.py", line 266, in _verify_signature
    raise JWSError("Signature verification failed.")
jose.exceptions.JWSError: Signature verification failed.

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/verify.py", line 33, in <lambda>
    pjwt.decode(tok, SECRET, algorithms=["HS256"])
  File "/venv/lib/python3.11/site-packages/jose/jwt.py", line 161, in decode
    raise JWTError(e)
jose.exceptions.JWTError: Signature verification failed.
"""

NODE_STACK = """JsonWebTokenError: invalid signature
    at /app/node_modules/jsonwebtoken/verify.js:171:19
    at getSecret (/app/node_modules/jsonwebtoken/verify.js:97:14)
    at new TokenExpiredError (/app/node_modules/jsonwebtoken/lib/TokenExpiredError.js:3:20)
    at module.exports [as verify] (/app/node_modules/jsonwebtoken/verify.js:101:10)
    at async Promise.all (index 0)
"""

SPRING_PREFIX = "An error occurred while attempting to decode the Jwt: "
SPRING_AUTH = "org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationProvider"
JAVA_CAUSED_BY = "\n".join(
    [
        "org.springframework.security.oauth2.server.resource.InvalidBearerTokenException: "
        + SPRING_PREFIX
        + "Jwt expired at 2026-12-03T08:00:30Z",
        f"\tat {SPRING_AUTH}.getJwt(JwtAuthenticationProvider.java:103)",
        f"\tat {SPRING_AUTH}.authenticate(JwtAuthenticationProvider.java:88)",
        "Caused by: org.springframework.security.oauth2.jwt.JwtValidationException: "
        + SPRING_PREFIX
        + "Jwt expired at 2026-12-03T08:00:30Z",
        "\tat org.springframework.security.oauth2.jwt.NimbusJwtDecoder.validateJwt(NimbusJwtDecoder.java:189)",
        "\t... 42 more",
        "",
    ]
)

TOKENS = "Microsoft.IdentityModel.Tokens"
DOTNET_INNER = "\n".join(
    [
        f"{TOKENS}.SecurityTokenSignatureKeyNotFoundException: IDX10503: Signature validation failed. "
        "Token does not have a kid. Keys tried: 'x'.",
        f" ---> {TOKENS}.SecurityTokenInvalidSignatureException: IDX10511: Signature validation failed. "
        "Keys tried: 'x'. kid: 'k1'.",
        "   at Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler.ValidateSignature(JsonWebToken jwtToken, "
        "TokenValidationParameters validationParameters, BaseConfiguration configuration)",
        "   --- End of inner exception stack trace ---",
        "   at Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerHandler.HandleAuthenticateAsync()",
        "",
    ]
)


def test_a_python_traceback_counts_once() -> None:
    match = one(PYJWT_TRACEBACK)
    assert match.excerpt == "jwt.exceptions.ExpiredSignatureError: Signature has expired"
    assert match.library is L.PYJWT


def test_a_traceback_without_source_lines_still_gives_its_error() -> None:
    text = 'Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n'
    text += "jwt.exceptions.ExpiredSignatureError: Signature has expired\n"
    assert one(text).excerpt == "jwt.exceptions.ExpiredSignatureError: Signature has expired"


def test_a_chained_python_traceback_counts_once() -> None:
    match = one(PYTHON_JOSE_CHAINED)
    assert match.library is L.PYTHON_JOSE
    assert causes(match) == [C.SIGNATURE_INVALID]


def test_node_stack_frames_are_not_errors() -> None:
    match = one(NODE_STACK)
    assert causes(match) == [C.SIGNATURE_INVALID]


def test_java_caused_by_and_dotnet_inner_exceptions_join_their_error() -> None:
    match = one(JAVA_CAUSED_BY)
    assert match.library is L.SPRING_SECURITY and match.excerpt.startswith("org.springframework")
    inner = one(DOTNET_INNER)  # the inner exception's causes join the outer one's
    assert inner.excerpt.startswith("Microsoft.IdentityModel.Tokens.SecurityTokenSignatureKeyNotFoundException")
    assert set(causes(inner)) == {C.UNKNOWN_KID, C.SIGNATURE_INVALID}


def test_separate_errors_stay_separate() -> None:
    assert len(found(PYJWT_TRACEBACK + "\n" + PYJWT_TRACEBACK)) == 2
    assert len(found("TokenExpiredError: jwt expired\n    at x (/a.js:1:1)\nTokenExpiredError: jwt expired")) == 2
    assert len(found("    TokenExpiredError: jwt expired\n    TokenExpiredError: jwt expired")) == 2


def test_chat_that_starts_with_at_is_not_a_stack_frame() -> None:
    assert len(found("  at 10:02 we saw TokenExpiredError: jwt expired (in the gateway)")) == 1


def test_the_scan_counts_a_traceback_once() -> None:
    """``--summary`` counts the diagnoses of a scan: one traceback, one."""
    items = scan(PYJWT_TRACEBACK + PYTHON_JOSE_CHAINED, default_catalogue()).items
    assert [item.library for item in items if isinstance(item, ErrorTextMatch)] == [L.PYJWT, L.PYTHON_JOSE]


# ------------------------------------------------------------------------------ what the validator expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("JsonWebTokenError: jwt audience invalid. expected: orders-api", (("aud", ("orders-api",)),)),
        (
            "JsonWebTokenError: jwt audience invalid. expected: api://orders or api://billing",
            (("aud", ("api://orders", "api://billing")),),
        ),
        (
            "JsonWebTokenError: jwt issuer invalid. expected: https://a.example/,https://b.example/",
            (("iss", ("https://a.example/", "https://b.example/")),),
        ),
        (
            '{"err":"UnauthorizedError: jwt audience invalid. expected: orders-api","status":401}',
            (("aud", ("orders-api",)),),
        ),
        ("the gateway said `jwt audience invalid. expected: orders-api` again", (("aud", ("orders-api",)),)),
        (
            "IDX10214: Audience validation failed. Audiences: 'api://orders'. Did not match: "
            "validationParameters.ValidAudience: 'api://billing' or validationParameters.ValidAudiences: 'null'.",
            (("aud", ("api://billing",)),),
        ),
        (
            "IDX10214: Audience validation failed. Audiences: 'api://orders'. Did not match: "
            "validationParameters.ValidAudience: 'null' or validationParameters.ValidAudiences: 'api://b, b-api'.",
            (("aud", ("api://b", "b-api")),),
        ),
        (
            "IDX10205: Issuer validation failed. Issuer: 'https://sts.windows.net/t/'. Did not match: "
            "validationParameters.ValidIssuer: 'https://login.microsoftonline.com/t/v2.0' or "
            "validationParameters.ValidIssuers: 'null' or "
            "validationParameters.ConfigurationManager.CurrentConfiguration.Issuer: 'https://t.example/'. ",
            (("iss", ("https://login.microsoftonline.com/t/v2.0", "https://t.example/")),),
        ),
    ],
)
def test_texts_that_state_what_the_validator_expected(
    text: str, expected: tuple[tuple[str, tuple[str, ...]], ...]
) -> None:
    assert one(text).expected == expected


@pytest.mark.parametrize(
    "text",
    [
        # panva/jose never prints what it expected (lib/jwt_claims_set.ts: `unexpected "aud" claim value`)
        'JWTClaimValidationFailed: unexpected "aud" claim value',
        'JWTClaimValidationFailed: unexpected "iss" claim value',
        # nor Spring (JwtClaimValidator: "The " + claim + " claim is not valid"), PyJWT, golang-jwt, Authlib
        "An error occurred while attempting to decode the Jwt: The aud claim is not valid",
        "An error occurred while attempting to decode the Jwt: The iss claim is not valid",
        "jwt.exceptions.InvalidAudienceError: Audience doesn't match",
        "token has invalid claims: token has invalid audience",
        "authlib.jose.errors.InvalidClaimError: invalid_claim: Invalid claim 'aud'",
        # ASP.NET Core prints the token's audience, not the expected one
        'WWW-Authenticate: Bearer error="invalid_token", error_description="The audience \'api://x\' is invalid"',
        # IdentityModel with PII hidden
        "IDX10214: Audience validation failed. Audiences: '[PII of type 'System.String' is hidden. For more "
        "details, see https://aka.ms/IdentityModel/PII.]'. Did not match: validationParameters.ValidAudience: "
        "'[PII of type 'System.String' is hidden. For more details, see https://aka.ms/IdentityModel/PII.]'",
    ],
)
def test_texts_that_do_not_say_what_was_expected(text: str) -> None:
    assert one(text).expected == ()


def test_expected_values_are_bounded_whole_and_clean() -> None:
    many = " or ".join(f"api-{i}" for i in range(12))
    [(claim, values)] = one(f"JsonWebTokenError: jwt audience invalid. expected: {many}").expected
    assert claim == "aud" and values == tuple(f"api-{i}" for i in range(MAX_EXPECTED_VALUES))
    # the regex's bound cut the second value short: only the whole first one is kept
    cut = one("JsonWebTokenError: jwt audience invalid. expected: " + "a" * 190 + " or " + "b" * 190)
    assert cut.expected == (("aud", ("a" * 190,)),)
    # a RegExp audience is not a value to compare with
    regexp = one("JsonWebTokenError: jwt audience invalid. expected: /^api:.*$/ or orders-api")
    assert regexp.expected == (("aud", ("orders-api",)),)
    # a token in the value is redacted, and a redacted value is not kept
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl"
    redacted = one(f"JsonWebTokenError: jwt audience invalid. expected: {token}")
    assert redacted.expected == () and "c2lnbmF0dXJl" not in repr(redacted)
    assert "[redacted][redacted]" not in redacted.findings[0].evidence.detail
    for match in (cut, regexp):
        assert all(len(value) <= VALUE_LIMIT for _, values in match.expected for value in values)


LOGGED = """2026-12-03 10:00:45,123 ERROR app: JWT rejected: Invalid audience
Traceback (most recent call last):
  File "/app/auth.py", line 12, in check
    claims = jwt.decode(token, key, audience="orders-api")
  File "/usr/lib/python3/site-packages/jose/jwt.py", line 155, in decode
    raise JWTClaimsError(str(e))
jose.exceptions.JWTClaimsError: Invalid audience
2026-12-03 10:00:46,000 INFO app: next request"""


def test_a_logged_message_and_its_traceback_are_one_error_named_by_the_traceback() -> None:
    """``logger.exception("JWT rejected: %s", e)``: the message line, then the traceback that ends in the
    exception's own line, whose module names the library (python-jose, not PyJWT, whose words it shares)."""
    match = one(LOGGED)
    assert match.library is L.PYTHON_JOSE and causes(match) == [C.AUDIENCE_MISMATCH]
    assert match.excerpt.startswith("2026-12-03 10:00:45,123 ERROR app: JWT rejected")


def test_a_traceback_after_another_traceback_is_another_error() -> None:
    second = LOGGED.split("\n", 1)[1]  # a traceback with no logged message above it
    assert len(found(second + "\n" + second)) == 2
