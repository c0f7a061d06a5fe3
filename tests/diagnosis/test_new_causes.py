"""The causes for texts that no claim cause fits: a missing token, a revoked one, a key source that failed, a
scope the token lacks, a sub, jti or nonce other than the one expected. Each new or re-pointed entry of
``bot/knowledge/data/error_texts/catalogue.toml``: its library and its causes, with the texts it must leave
alone. Texts were captured from the libraries (express-jwt 8.4.0 and jsonwebtoken 9.0.x with jwks-rsa 4.1.0
on Node 20, jose 5.10.0, PyJWT 2.8.0 and 2.10.1) or, where the library was not run (Spring Security 6.2.0,
golang-jwt v5.2.1, Microsoft.IdentityModel 7.1.2), copied from its source as the entry's ``source`` says.
"""

from __future__ import annotations

import re
import tomllib

import pytest

from bot.diagnosis.ids import CauseId, Library
from bot.knowledge.catalogue import CATALOGUE_PATH
from tests.diagnosis.test_error_text_sources import C, L, causes, found, one

# (text, library, the causes in order)
NEW_ENTRIES = [
    # express-jwt 8.4.0 src/index.ts: credentials_required, the Authorization header's format, isRevoked
    ("UnauthorizedError: No authorization token was found", L.EXPRESS_JWT, [C.MISSING_TOKEN]),
    (
        '{"code":"credentials_required","status":401,"name":"UnauthorizedError",'
        '"inner":{"message":"No authorization token was found"}}',
        L.EXPRESS_JWT,
        [C.MISSING_TOKEN],
    ),
    ("UnauthorizedError: Format is Authorization: Bearer [token]", L.EXPRESS_JWT, [C.MISSING_TOKEN, C.MALFORMED]),
    ("code: 'credentials_bad_scheme'", L.EXPRESS_JWT, [C.MISSING_TOKEN]),
    ("UnauthorizedError: The token has been revoked.", L.EXPRESS_JWT, [C.REVOKED]),
    ("code: 'revoked_token'", L.EXPRESS_JWT, [C.REVOKED]),
    # jsonwebtoken 9.0.0 verify.js: sub, jti, nonce
    ("JsonWebTokenError: jwt subject invalid. expected: user-2", L.JSONWEBTOKEN, [C.SUBJECT_MISMATCH]),
    ("JsonWebTokenError: jwt jwtid invalid. expected: id-2", L.JSONWEBTOKEN, [C.JTI_MISMATCH]),
    ("JsonWebTokenError: jwt nonce invalid. expected: n-2", L.JSONWEBTOKEN, [C.NONCE_MISMATCH]),
    # jwks-rsa 4.1.0 beside jsonwebtoken
    (
        "JsonWebTokenError: error in secret or public key callback: Unable to find a signing key that matches 'k1'",
        L.JSONWEBTOKEN,
        [C.UNKNOWN_KID],
    ),
    (
        "JsonWebTokenError: error in secret or public key callback: The JWKS endpoint did not contain any keys",
        L.JSONWEBTOKEN,
        [C.KEY_SOURCE_FAILED],
    ),
    (
        "JwksError: The JWKS endpoint did not contain any signing keys",
        L.JSONWEBTOKEN,
        [C.KEY_SOURCE_FAILED, C.UNKNOWN_KID],
    ),
    (
        "JwksRateLimitError: Too many requests to the JWKS endpoint",
        L.JSONWEBTOKEN,
        [C.KEY_SOURCE_FAILED, C.UNKNOWN_KID],
    ),
    ("JwksError: Not Found", L.JSONWEBTOKEN, [C.KEY_SOURCE_FAILED]),
    # PyJWT 2.8.0 jwks_client.py, 2.10 api_jwt.py
    (
        'jwt.exceptions.PyJWKClientConnectionError: Fail to fetch data from the url, err: "<urlopen error '
        '[Errno 111] Connection refused>"',
        L.PYJWT,
        [C.KEY_SOURCE_FAILED],
    ),
    ("jwt.exceptions.PyJWKClientError: The JWKS endpoint did not return a JSON object", L.PYJWT, [C.KEY_SOURCE_FAILED]),
    ("raised PyJWKClientConnectionError while fetching keys", L.PYJWT, [C.KEY_SOURCE_FAILED]),
    ("jwt.exceptions.InvalidSubjectError: Invalid subject", L.PYJWT, [C.SUBJECT_MISMATCH]),
    # jose 5.10.0: the remote JWKS, and sub
    ("JWKSTimeout: request timed out", L.JOSE, [C.KEY_SOURCE_FAILED]),
    ("code: 'ERR_JWKS_TIMEOUT'", L.JOSE, [C.KEY_SOURCE_FAILED]),
    ("JOSEError: Expected 200 OK from the JSON Web Key Set HTTP response", L.JOSE, [C.KEY_SOURCE_FAILED]),
    ("JOSEError: Failed to parse the JSON Web Key Set HTTP response as JSON", L.JOSE, [C.KEY_SOURCE_FAILED]),
    ("JWKSInvalid: JSON Web Key Set malformed", L.JOSE, [C.KEY_SOURCE_FAILED]),
    ("code: 'ERR_JWKS_INVALID'", L.JOSE, [C.KEY_SOURCE_FAILED]),
    ('JWTClaimValidationFailed: unexpected "sub" claim value', L.JOSE, [C.SUBJECT_MISMATCH]),
    # Spring Security 6.2.0: BearerTokenAccessDeniedHandler, NimbusJwtDecoder
    (
        'WWW-Authenticate: Bearer error="insufficient_scope", error_description="The request requires higher '
        'privileges than provided by the access token.", error_uri="https://tools.ietf.org/html/rfc6750#section-3.1"',
        L.SPRING_SECURITY,
        [C.INSUFFICIENT_SCOPE],
    ),
    (
        "An error occurred while attempting to decode the Jwt: Malformed Jwk set",
        L.SPRING_SECURITY,
        [C.KEY_SOURCE_FAILED],
    ),
    # golang-jwt v5.2.1
    ("token has invalid claims: token has invalid subject", L.GOLANG_JWT, [C.SUBJECT_MISMATCH]),
    # Microsoft.IdentityModel 7.1.2: metadata, nonce
    (
        "System.InvalidOperationException: IDX20803: Unable to obtain configuration from: "
        "'https://login.example.com/t/v2.0/.well-known/openid-configuration'. Will retry at "
        "'12/03/2026 10:05:00 +00:00'. Exception: 'System.IO.IOException: IDX20804: Unable to retrieve document "
        "from: 'https://login.example.com/t/v2.0/.well-known/openid-configuration'.'.",
        L.MICROSOFT_IDENTITYMODEL,
        [C.KEY_SOURCE_FAILED],
    ),
    (
        "IDX20807: Unable to retrieve document from: 'https://login.example.com/keys'. HttpResponseMessage: "
        "'StatusCode: 404', HttpResponseMessage.Content: 'Not Found'.",
        L.MICROSOFT_IDENTITYMODEL,
        [C.KEY_SOURCE_FAILED],
    ),
    (
        "IDX21321: The 'nonce' found in the jwt token did not match the expected nonce.",
        L.MICROSOFT_IDENTITYMODEL,
        [C.NONCE_MISMATCH],
    ),
    (
        "IDX21323: RequireNonce is 'True'. OpenIdConnectProtocolValidationContext.Nonce was null, "
        "OpenIdConnectProtocol.ValidatedIdToken.Payload.Nonce was not null.",
        L.MICROSOFT_IDENTITYMODEL,
        [C.NONCE_MISMATCH],
    ),
    (
        "IDX21349: RequireNonce is 'True'. OpenIdConnectProtocolValidationContext.Nonce was not null, "
        "OpenIdConnectProtocol.ValidatedIdToken.Payload.Nonce was null or empty.",
        L.MICROSOFT_IDENTITYMODEL,
        [C.MISSING_CLAIM, C.NONCE_MISMATCH],
    ),
    (
        "IDX21320: RequireNonce is 'True'. OpenIdConnectProtocolValidationContext.Nonce and "
        "OpenIdConnectProtocol.ValidatedIdToken.Nonce are both null or empty.",
        L.MICROSOFT_IDENTITYMODEL,
        [C.NONCE_MISMATCH, C.MISSING_CLAIM],
    ),
    # RFC 6750 section 3.1, no library
    (
        'WWW-Authenticate: Bearer realm="example", error="insufficient_scope", scope="orders:write"',
        None,
        [C.INSUFFICIENT_SCOPE],
    ),
    ('{"error":"insufficient_scope"}', None, [C.INSUFFICIENT_SCOPE]),
]

# Entries that existed and now name a new cause (first, or beside the old one).
REPOINTED = [
    # was [malformed]: no token reached the verifier
    ("UnauthorizedError: Format is Authorization: Bearer [token]", L.EXPRESS_JWT, [C.MISSING_TOKEN, C.MALFORMED]),
    # was [unknown_kid]
    (
        "jwt.exceptions.PyJWKClientError: The JWKS endpoint did not contain any signing keys",
        L.PYJWT,
        [C.UNKNOWN_KID, C.KEY_SOURCE_FAILED],
    ),
    (
        "JsonWebTokenError: error in secret or public key callback: connect ECONNREFUSED 127.0.0.1:443",
        L.JSONWEBTOKEN,
        [C.UNKNOWN_KID, C.KEY_SOURCE_FAILED],
    ),
    (
        "token is unverifiable: error while executing keyfunc: key not found",
        L.GOLANG_JWT,
        [C.UNKNOWN_KID, C.KEY_SOURCE_FAILED],
    ),
    (
        "token is unverifiable: keyfunc returned empty verification key set",
        L.GOLANG_JWT,
        [C.KEY_SOURCE_FAILED, C.UNKNOWN_KID],
    ),
]


@pytest.mark.parametrize(("text", "library", "expected"), NEW_ENTRIES, ids=[t[0][:60] for t in NEW_ENTRIES])
def test_a_new_entry_gives_its_library_and_cause(text: str, library: Library | None, expected: list[CauseId]) -> None:
    match = one(text)
    assert match.library is library
    assert causes(match) == expected
    assert all(f.evidence.detail for f in match.findings)


@pytest.mark.parametrize(("text", "library", "expected"), REPOINTED, ids=[t[0][:60] for t in REPOINTED])
def test_a_repointed_entry_names_its_new_cause(text: str, library: Library, expected: list[CauseId]) -> None:
    match = one(text)
    assert (match.library, causes(match)) == (library, expected)


def test_what_the_validator_expected_is_read_for_sub_jti_and_nonce() -> None:
    assert one("JsonWebTokenError: jwt subject invalid. expected: user-2").expected == (("sub", ("user-2",)),)
    assert one("JsonWebTokenError: jwt jwtid invalid. expected: id-2").expected == (("jti", ("id-2",)),)
    assert one("JsonWebTokenError: jwt nonce invalid. expected: n-2").expected == (("nonce", ("n-2",)),)


def test_express_jwt_wrapping_jsonwebtoken_is_express_jwt() -> None:
    match = one("UnauthorizedError: jwt subject invalid. expected: user-2")
    assert (match.library, causes(match)) == (L.EXPRESS_JWT, [C.SUBJECT_MISMATCH])


def test_node_prints_express_jwt_errors_once() -> None:
    """util.inspect prints the message again in ``inner: { message: '…' }``: one printed error, one match."""
    text = "\n".join(
        [
            "UnauthorizedError: No authorization token was found",
            "    at new UnauthorizedError (/app/node_modules/express-jwt/dist/errors/UnauthorizedError.js:22:28)",
            "    at middleware (/app/node_modules/express-jwt/dist/index.js:67:16) {",
            "  code: 'credentials_required',",
            "  status: 401,",
            "  inner: { message: 'No authorization token was found' }",
            "}",
        ]
    )
    match = one(text)
    assert (match.library, causes(match)) == (L.EXPRESS_JWT, [C.MISSING_TOKEN])


def test_a_jwks_rsa_text_is_not_pyjwt_and_pyjwt_keeps_its_own() -> None:
    assert one("JwksError: The JWKS endpoint did not contain any signing keys").library is L.JSONWEBTOKEN
    assert one("jwt.exceptions.PyJWKClientError: The JWKS endpoint did not contain any signing keys").library is L.PYJWT


def test_ruby_jwt_s_longer_subject_text_is_not_pyjwt_s() -> None:
    match = one("JWT::InvalidSubError (Invalid subject. Expected user-42, received user-7):")
    assert match.library is L.RUBY_JWT
    assert "user-7" in match.findings[0].evidence.detail


@pytest.mark.parametrize(
    "text",
    [
        "no token was found in my notes",
        "we keep seeing No authorization token was found in prod since the deploy",
        "the API said insufficient_scope again",
        "the request timed out twice this morning",
        "is the token revoked? the user says it has been revoked",
        "code: 'insufficient_scope'",
        "we added a revoked_token table last week",
        "set credentials_required to false?",
    ],
)
def test_chat_that_mentions_the_new_texts_is_not_an_error(text: str) -> None:
    assert found(text) == []


def test_every_entry_of_catalogue_toml_cites_its_source() -> None:
    """``source = "<owner/repo> <file> [function] @<tag>"`` (an RFC or the source card for generic texts)."""
    entries = tomllib.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))["pattern"]
    shape = re.compile(r"\S+ \S+( [^@]+)? @\S+")
    bad = [entry["id"] for entry in entries if not shape.fullmatch(entry.get("source", ""))]
    assert bad == []
