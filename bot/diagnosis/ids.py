"""The project's shared vocabulary: every id that crosses a module boundary or reaches the JSON contract.

A leaf module: it imports nothing of the project, so the core, the knowledge base, the renderers and the
edges can all name causes, libraries and reasons without importing one another. Like panva/jose's
``errors.ts``, a failure is a closed, typed set of codes, not free strings: adding one means adding it
here, where it is documented once.
"""

from __future__ import annotations

from enum import StrEnum


class CauseId(StrEnum):
    """Why a token was refused: the ``causes[].id`` of the JSON contract and the Slack card."""

    MALFORMED = "malformed"
    ENCRYPTED_TOKEN = "encrypted_token"
    ALG_NONE = "alg_none"
    ALGORITHM_NOT_ALLOWED = "algorithm_not_allowed"
    EXPIRED = "expired"
    CLOCK_SKEW = "clock_skew"
    NOT_YET_VALID = "not_yet_valid"
    ISSUED_IN_FUTURE = "issued_in_future"
    MILLISECONDS_TIMESTAMP = "milliseconds_timestamp"
    INVALID_CLAIM_TYPE = "invalid_claim_type"
    MISSING_CLAIM = "missing_claim"
    AUDIENCE_MISMATCH = "audience_mismatch"
    ISSUER_MISMATCH = "issuer_mismatch"
    SIGNATURE_INVALID = "signature_invalid"
    UNKNOWN_KID = "unknown_kid"
    OPAQUE_TOKEN = "opaque_token"  # an opaque (reference) access token where a JWT is expected
    MISSING_TOKEN = "missing_token"  # no token reached the validator: no Authorization header, wrong scheme
    REVOKED = (
        "revoked"  # the token is valid but on a deny list (express-jwt isRevoked, an introspection "active": false)
    )
    KEY_SOURCE_FAILED = "key_source_failed"  # the validator could not fetch its keys (JWKS unreachable, bad JSON)
    INSUFFICIENT_SCOPE = "insufficient_scope"  # authenticated, but the token lacks a scope or role (403)
    SUBJECT_MISMATCH = "subject_mismatch"
    JTI_MISMATCH = "jti_mismatch"  # the jti is not the one expected (or was seen before: a replay check)
    NONCE_MISMATCH = "nonce_mismatch"  # an ID token's nonce is not the one the client sent


class Library(StrEnum):
    """JWT libraries whose error texts are recognised, so that their fixes come first (``library``)."""

    PYJWT = "pyjwt"
    JSONWEBTOKEN = "jsonwebtoken"
    EXPRESS_JWT = "express-jwt"
    SPRING_SECURITY = "spring-security"
    JOSE = "jose"
    GOLANG_JWT = "golang-jwt"
    MICROSOFT_IDENTITYMODEL = "microsoft-identitymodel"
    PYTHON_JOSE = "python-jose"
    JOSERFC = "joserfc"
    AUTHLIB = "authlib"
    FASTIFY_JWT = "fastify-jwt"
    # JVM
    JJWT = "jjwt"
    NIMBUS_JOSE_JWT = "nimbus-jose-jwt"
    AUTH0_JAVA_JWT = "auth0-java-jwt"
    KEYCLOAK = "keycloak"
    # Ruby, PHP, Rust, Go
    RUBY_JWT = "ruby-jwt"
    PHP_JWT = "php-jwt"
    LCOBUCCI_JWT = "lcobucci-jwt"
    RUST_JSONWEBTOKEN = "rust-jsonwebtoken"
    JWX = "jwx"
    # Gateways and meshes: they refuse the request before the service sees it
    ENVOY = "envoy"
    KONG = "kong"
    NGINX = "nginx"
    AWS_APIGATEWAY = "aws-apigateway"
    AZURE_APIM = "azure-apim"
    APIGEE = "apigee"


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    MALFORMED = "malformed"
    UNVERIFIABLE = "unverifiable"


class Source(StrEnum):
    TOKEN = "token"
    ERROR_TEXT = "error_text"


class SignatureStatus(StrEnum):
    NOT_CHECKED = "not_checked"
    VERIFIED = "verified"
    INVALID = "invalid"
    KEY_SOURCE_FAILED = "key_source_failed"


class Checked(StrEnum):
    """The checks a diagnosis ran (``checked`` in the JSON contract). Audience, issuer and algorithm run
    only when the API's expectations name them, the signature only with a key source."""

    FORMAT = "format"  # the token decodes: header, payload, segments
    ALGORITHM = "algorithm"
    AUDIENCE = "audience"
    ISSUER = "issuer"
    REQUIRED_CLAIMS = "required_claims"
    TIMES = "times"  # exp, nbf, iat
    SIGNATURE = "signature"


FULLY_CHECKED = frozenset({Checked.AUDIENCE, Checked.ISSUER, Checked.SIGNATURE})
"""A token is called valid only when these were checked; otherwise the output says what was not."""


class Reason(StrEnum):
    """What exactly one piece of evidence observed: ``causes[].evidence[].reason`` in the JSON contract.

    Grouped by the step that finds it; each value is documented in README's JSON contract section.
    """

    # The token's shape (cause ``malformed``; ``encrypted_token`` for ``jwe``, ``opaque_token`` for ``opaque``)
    TOO_LARGE = "too_large"  # over the size the decoder reads
    SEGMENT_COUNT = "segment_count"  # neither 3 (JWS) nor 5 (JWE) dot-separated segments
    BAD_SEGMENT = "bad_segment"  # a segment is not base64url
    BAD_HEADER = "bad_header"  # the header is not a JSON object
    MISSING_ALG = "missing_alg"
    BAD_ALG = "bad_alg"  # "alg" is not a string
    BAD_PAYLOAD = "bad_payload"  # the payload is not a JSON object
    MISSING_SIGNATURE = "missing_signature"  # a signed alg with an empty signature segment
    BAD_SIGNATURE_ENCODING = "bad_signature_encoding"
    JWE = "jwe"  # an encrypted token: its claims cannot be read
    OPAQUE = "opaque"  # not a JWT at all: an opaque access token (no dots), cause ``opaque_token``

    # A claim's presence and type
    MISSING = "missing"  # a required claim is absent
    WRONG_TYPE = "wrong_type"  # e.g. iss is a number, exp an object
    NUMERIC_STRING = "numeric_string"  # a time claim written as a string of digits
    DATE_STRING = "date_string"  # a time claim written as a date
    OUT_OF_RANGE = "out_of_range"  # a time claim beyond any real date
    MILLISECONDS = "milliseconds"  # a time claim in milliseconds since the epoch
    MICROSECONDS = "microseconds"
    DURATION_NOT_TIMESTAMP = "duration_not_timestamp"  # exp holds a lifetime (3600), not an instant

    # Time claims against the validator's clock
    PASSED = "passed"  # exp is past, beyond the leeway
    PASSED_WITHIN_SKEW_WINDOW = "passed_within_skew_window"  # ...by less than the skew window
    IN_FUTURE = "in_future"  # nbf or iat ahead, beyond the skew window
    IN_FUTURE_WITHIN_SKEW_WINDOW = "in_future_within_skew_window"

    # Audience and issuer
    MISMATCH = "mismatch"
    NEAR_MISS = "near_miss"  # differs by a slash, a scheme, case, a prefix...: said in the detail
    CLIENT_ID_INSTEAD_OF_AUD = "client_id_instead_of_aud"  # Cognito access tokens

    # The algorithm
    UNSIGNED = "unsigned"  # alg none
    NOT_ALLOWED = "not_allowed"
    HS_RS_CONFUSION = "hs_rs_confusion"  # HS* where RS*/ES* is expected

    # The signature, with trusted keys
    HEADER_REFUSED = "header_refused"  # jku, x5u, a jwk or crit the validator refuses
    UNSUPPORTED_ALG = "unsupported_alg"
    KEY_CONFUSION_FORGERY = "key_confusion_forgery"  # HS* signed with the public key as a secret
    HS_WITH_PUBLIC_KEYS = "hs_with_public_keys"  # HS* but only public keys are configured
    PUBLIC_KEY_ALG_FOR_HMAC_SERVICE = "public_key_alg_for_hmac_service"
    SECRET_ENCODING = "secret_encoding"  # the secret verifies once base64- or hex-decoded
    WRONG_SECRET = "wrong_secret"
    ALG_KEY_MISMATCH = "alg_key_mismatch"  # the kid's key is of another type than alg
    KEY_ALG_MISMATCH = "key_alg_mismatch"  # the key's own "alg" differs from the token's
    NO_KEY_FOR_ALG = "no_key_for_alg"
    WRONG_KID = "wrong_kid"  # verifies with another kid's key
    UNKNOWN_KID = "unknown_kid"
    WRONG_KEY = "wrong_key"  # the signature's length says another key
    ECDSA_DER = "ecdsa_der"  # a DER-encoded ECDSA signature instead of raw r||s
    WRONG_LENGTH = "wrong_length"
    WRONG_KEY_OR_ALTERED = "wrong_key_or_altered"

    # An error text
    ERROR_TEXT = "error_text"  # the message names the cause, nothing more
    EXPECTED_VALUE = "expected_value"  # the message says what the validator expected
    TIMES_IN_MESSAGE = "times_in_message"  # the message prints the token's time and the validator's
    TIME_IN_MESSAGE = "time_in_message"  # the message prints one instant


__all__ = ["FULLY_CHECKED", "CauseId", "Checked", "Library", "Reason", "SignatureStatus", "Source", "Verdict"]
