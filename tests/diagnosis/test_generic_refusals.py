"""A refusal that names no claim and no library (the source card's own headline, RFC 6750's bare
``invalid_token`` and their kin) is recognised, with the card's causes ranked by its rates, each with a
sentence of its own; a more precise message on the same line wins, and chat that mentions one is no error."""

from __future__ import annotations

import json
import tomllib

import pytest

from bot.diagnosis.error_texts import ErrorTextMatch, find_error_texts
from bot.diagnosis.ids import CauseId, Library, Reason
from bot.knowledge.catalogue import CATALOGUE_PATH, default_catalogue

C = CauseId
CATALOGUE = default_catalogue()
SEED_ORDER = [C.AUDIENCE_MISMATCH, C.ISSUER_MISMATCH, C.CLOCK_SKEW, C.EXPIRED]


def one(text: str) -> ErrorTextMatch:
    matches = find_error_texts(text, CATALOGUE)
    assert len(matches) == 1, matches
    return matches[0]


@pytest.mark.parametrize(
    "text",
    [
        "401 Unauthorized: JWT claims validation failed",
        "JWT claims validation failed",
        "HTTP/1.1 401 Unauthorized: JWT validation failed",
        '{"timestamp":"2026-11-28T21:00:00Z","status":401,"message":"JWT claims validation failed"}',
        "2026-11-28 21:00:00 WARN  c.a.o.JwtFilter - Token validation failed",
        "403 Forbidden: JWT verification failed",
        "Error: access token verification failed",
    ],
)
def test_the_seed_headline_and_its_kin_get_the_seed_causes_in_the_seed_order(text: str) -> None:
    match = one(text)
    assert match.library is None
    assert [f.cause for f in match.findings] == SEED_ORDER
    likelihoods = [f.likelihood for f in match.findings]
    assert likelihoods == sorted(likelihoods, reverse=True)
    assert likelihoods[:3] == [0.9, 0.9, 0.85]  # the card's rates: aud/iss 90%, leeway 85%


@pytest.mark.parametrize(
    "text",
    [
        "invalid_token",
        'WWW-Authenticate: Bearer error="invalid_token"',
        'WWW-Authenticate: Bearer realm="orders", error="invalid_token"',
        '{"error":"invalid_token","error_description":"Token is not active"}',
        "401 Unauthorized: invalid_token",
        "https://app.acme.test/callback#error=invalid_token&state=x",
    ],
)
def test_a_bare_invalid_token_gets_the_seed_causes_and_then_malformed(text: str) -> None:
    match = one(text)
    assert match.library is None
    assert [f.cause for f in match.findings] == [*SEED_ORDER, C.MALFORMED]


@pytest.mark.parametrize(
    "text",
    [
        "401 Unauthorized: JWT claims validation failed",
        'WWW-Authenticate: Bearer error="invalid_token"',
        "403 Forbidden: JWT verification failed",
    ],
)
def test_no_two_causes_share_an_evidence_sentence_and_each_says_the_message_names_no_claim(text: str) -> None:
    findings = one(text).findings
    details = [f.evidence.detail for f in findings]
    assert len(set(details)) == len(details)
    assert all(f.evidence.reason is Reason.ERROR_TEXT and f.evidence.claim is None for f in findings)
    assert "no claim" in details[0]
    assert all(("no claim" in d) or ("no times" in d) or ("malformed" in d) for d in details)


@pytest.mark.parametrize(
    ("text", "library", "first"),
    [
        (
            'WWW-Authenticate: Bearer error="invalid_token", error_description="The token is expired"',
            Library.MICROSOFT_IDENTITYMODEL,
            C.EXPIRED,
        ),
        (
            'WWW-Authenticate: Bearer error="invalid_token", error_description="An error occurred while attempting '
            'to decode the Jwt: Jwt expired at 2023-11-20T10:00:00Z"',
            Library.SPRING_SECURITY,
            C.EXPIRED,
        ),
        ("IDX10214: Audience validation failed. Audiences: 'a'.", Library.MICROSOFT_IDENTITYMODEL, C.AUDIENCE_MISMATCH),
        ("jwt.exceptions.InvalidSignatureError: Signature verification failed", Library.PYJWT, C.SIGNATURE_INVALID),
        (
            'WWW-Authenticate: Bearer realm="example", error="invalid_token", '
            'error_description="The access token expired"',
            None,
            C.EXPIRED,
        ),
    ],
)
def test_a_more_precise_message_on_the_line_wins(text: str, library: Library | None, first: CauseId) -> None:
    match = one(text)
    assert match.library is library and match.findings[0].cause is first
    assert C.AUDIENCE_MISMATCH not in [f.cause for f in match.findings] or first is C.AUDIENCE_MISMATCH


@pytest.mark.parametrize(
    "text",
    [
        "is anyone seeing invalid_token errors on orders?",
        "our JWT validation failed again after the deploy",
        "the token verification failed twice, rolling back",
        "jwt not active\n  name: 'UnauthorizedError', code: 'invalid_token', status: 401",
    ],
)
def test_chat_about_a_refusal_and_express_jwts_code_property_are_not_one(text: str) -> None:
    matches = find_error_texts(text, CATALOGUE)
    assert all(match.library is not None for match in matches)  # only the express-jwt line, where there is one


LIBRARY_EXAMPLES = [
    (entry["id"], example)
    for entry in tomllib.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))["pattern"]
    if entry["library"] != "generic"
    for example in entry["examples"]
]
WRAPS = [
    lambda text: json.dumps({"level": "error", "msg": "JWT verification failed", "err": text}, separators=(",", ":")),
    lambda text: f"401 Unauthorized: JWT claims validation failed: {text}",
    lambda text: f'WWW-Authenticate: Bearer error="invalid_token" {text}',
]


@pytest.mark.parametrize(
    ("pattern_id", "example"), LIBRARY_EXAMPLES, ids=[f"{i}:{e[:30]}" for i, e in LIBRARY_EXAMPLES]
)
def test_a_library_message_beside_a_generic_one_reads_as_it_does_alone(pattern_id: str, example: str) -> None:
    """A log line holding both (a JSON log whose msg is generic, a 401 body quoting the library) is the
    library's: even its class name or error code, a fallback, says more than a generic refusal."""

    def read(text: str) -> list[tuple[Library | None, list[CauseId]]]:
        return [(m.library, [f.cause for f in m.findings]) for m in find_error_texts(text, CATALOGUE)]

    alone = read(example)
    assert alone, pattern_id
    for wrap in WRAPS:
        assert read(wrap(example)) == alone
