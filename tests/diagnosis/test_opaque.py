"""Opaque access tokens: found only after ``Bearer`` or ``access_token``, called what they are (not a JWT),
and never kept or shown beyond their first four characters and their length."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from bot.diagnosis import Expectations, judge
from bot.diagnosis.ids import CauseId, Checked, Reason, SignatureStatus, Source, Verdict
from bot.diagnosis.redact import OPAQUE_MAX, find_opaque_values, fingerprint, opaque_shown, redact_text
from bot.diagnosis.scan import MAX_OPAQUE, OpaqueCandidate, TokenCandidate, scan
from bot.knowledge.catalogue import default_catalogue
from tests.support.tokens import NOW, T, claims, make_token

OPAQUE = "2YotnFZFEjr1zCsicMWpAA"  # RFC 6749's example access token
SHOWN = "2Yot… (22 chars)"
CATALOGUE = default_catalogue()


def opaque_items(text: str) -> list[OpaqueCandidate]:
    return [item for item in scan(text, CATALOGUE).items if isinstance(item, OpaqueCandidate)]


PADDED = "Ab9-_+/" * 4 + "=="


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (f"Authorization: Bearer {OPAQUE}", OPAQUE),
        (f"curl -H 'Authorization: bearer {OPAQUE}' https://api.acme.test/orders", OPAQUE),
        (f"authorization: BEARER {OPAQUE}", OPAQUE),
        (f"GET /orders?access_token={OPAQUE}&page=2", OPAQUE),
        (f'{{"access_token": "{OPAQUE}", "token_type": "Bearer", "expires_in": 3600}}', OPAQUE),
        (f'{{\\"access_token\\":\\"{OPAQUE}\\"}}', OPAQUE),  # a JSON log line holding JSON
        (f"access_token: '{OPAQUE}'", OPAQUE),
        (f"Authorization: Bearer {PADDED}", PADDED),  # base64 with padding
    ],
)
def test_an_opaque_token_after_bearer_or_access_token_is_found(text: str, value: str) -> None:
    [item] = opaque_items(text)
    assert text[item.start :].startswith(value)
    assert item.shown == opaque_shown(value) and item.fingerprint == fingerprint(value)
    assert value not in repr(item)  # the value itself is not kept


@pytest.mark.parametrize(
    "text",
    [
        "we use bearer tokens for the orders API",
        "Bearer token is malformed",
        'WWW-Authenticate: Bearer error="invalid_token", error_description="The token is expired"',
        "Authorization: Bearer YOUR_ACCESS_TOKEN_HERE",  # a placeholder: no digit
        "Authorization: Bearer 1234567890123456789",  # digits only
        "Authorization: Bearer 2YotnFZFEjr1zCs",  # 15 characters
        f"Authorization: Bearer {'a1' * (OPAQUE_MAX // 2)}b",  # 513 characters
        "Authorization: Bearer abc.def2.ghi3jkl4mno5pqr",  # dots: not opaque
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9",  # the start of a JWT cut short
        f"xBearer {OPAQUE}",  # another word
        f"my_access_token={OPAQUE}",
        f"Authorization: Basic {OPAQUE}",
    ],
)
def test_words_placeholders_jwts_and_other_schemes_are_not_opaque_tokens(text: str) -> None:
    assert opaque_items(text) == []


def test_the_bounds_are_16_and_512_characters() -> None:
    assert len(opaque_items(f"Bearer {'a1' * 8}")) == 1
    assert len(opaque_items(f"Bearer {'a1' * 256}")) == 1


def test_a_jwt_after_bearer_is_a_jwt() -> None:
    token = make_token(claims(exp=T - 20))
    items = scan(f"Authorization: Bearer {token}", CATALOGUE).items
    assert [type(item) for item in items] == [TokenCandidate]


def test_the_same_opaque_token_twice_is_one_item_and_a_jwt_beside_it_is_another() -> None:
    token = make_token()
    text = f"Authorization: Bearer {OPAQUE}\nGET /x?access_token={OPAQUE}\nAuthorization: Bearer {token}"
    found = scan(text, CATALOGUE)
    assert [type(item) for item in found.items] == [OpaqueCandidate, TokenCandidate]
    assert found.tokens == (token,)  # only JWTs are tokens to examine (and to cache facts for)
    assert found.items[0].fingerprint == fingerprint(OPAQUE)


def test_many_opaque_tokens_are_capped() -> None:
    text = "\n".join(f"Authorization: Bearer tok{n:06d}abcdefghij" for n in range(MAX_OPAQUE + 50))
    assert len(opaque_items(text)) == MAX_OPAQUE


def test_chat_with_no_marker_costs_no_opaque_look(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    scan_module = importlib.import_module("bot.diagnosis.scan")

    def never(*_: object, **__: object) -> list[object]:
        raise AssertionError("looked for opaque tokens in a text with no Bearer or access_token")

    monkeypatch.setattr(scan_module, "find_opaque", never)
    assert scan("the deploy is rolling out, eyes on the dashboard " * 80, CATALOGUE).items == ()


def test_looking_is_linear_on_hostile_runs() -> None:
    started = time.process_time()
    for text in (
        "Bearer " * 200_000,
        "access_token=" * 100_000,
        ("Bearer " + "a1" * 10_000 + " ") * 50,
        "Bearer Bearer" + "/access_token=a" * 100_000,
        "access_token=" + "a/" * 500_000,
    ):
        find_opaque_values(text)
        redact_text(text)
        scan(text, CATALOGUE)
    assert time.process_time() - started < 10  # generous: only a quadratic blow-up would reach it


# --- redaction -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {OPAQUE}",
        f"401 invalid_token for Authorization: Bearer {OPAQUE}",
        f'{{"access_token":"{OPAQUE}","token_type":"bearer"}}',
        "Bearer " + "x9" * 1000,  # longer than an opaque token the scan reports: redacted all the same
    ],
)
def test_redaction_keeps_four_characters_and_the_length(text: str) -> None:
    redacted = redact_text(text)
    value = text.split("Bearer ")[-1] if "Bearer " in text else OPAQUE
    value = value.split('"')[0]
    assert value not in redacted and value[4:] not in redacted
    assert opaque_shown(value) in redacted
    assert redact_text(redacted) == redacted  # once is enough


def test_an_error_line_holding_an_opaque_token_is_echoed_without_it() -> None:
    found = scan(f"401 Unauthorized: invalid_token (Authorization: Bearer {OPAQUE})", CATALOGUE)
    excerpts = [item.excerpt for item in found.items if not isinstance(item, OpaqueCandidate | TokenCandidate)]
    assert excerpts and all(OPAQUE not in excerpt and SHOWN in excerpt for excerpt in excerpts)


# --- judgement -------------------------------------------------------------------------------------


def test_an_opaque_token_is_unverifiable_with_its_cause_and_the_usual_reasons() -> None:
    report = judge(scan(f"Authorization: Bearer {OPAQUE}", CATALOGUE), Expectations(), NOW)
    [diagnosis] = report.diagnoses
    assert diagnosis.source is Source.TOKEN and diagnosis.verdict is Verdict.UNVERIFIABLE
    assert diagnosis.cause_ids == (CauseId.OPAQUE_TOKEN,)
    assert diagnosis.token is not None and diagnosis.token.kind == "opaque"
    assert diagnosis.token.redacted == SHOWN and diagnosis.token.fingerprint == fingerprint(OPAQUE)
    assert diagnosis.token.header is None and diagnosis.token.claims is None
    assert diagnosis.signature is SignatureStatus.NOT_CHECKED and diagnosis.checked == (Checked.FORMAT,)
    [cause] = diagnosis.causes
    details = [evidence.detail for evidence in cause.evidence]
    assert all(evidence.reason is Reason.OPAQUE for evidence in cause.evidence)
    assert "not a JWT" in details[0] and SHOWN in details[0]
    assert "audience" in details[1] and "introspection" in details[1] and len(set(details)) == 2
    assert OPAQUE not in repr(report)


def test_an_opaque_token_keeps_its_own_diagnosis_beside_a_token_and_the_error_it_drew() -> None:
    token = make_token(claims(aud="billing-api"))
    text = f"{token}\nJsonWebTokenError: jwt audience invalid. expected: orders-api\nBearer {OPAQUE}"
    report = judge(scan(text, CATALOGUE, at=NOW.timestamp()), Expectations(audiences=("orders-api",)), NOW)
    kinds = [(d.source, d.token.kind if d.token else None) for d in report.diagnoses]
    assert kinds == [(Source.TOKEN, "jws"), (Source.TOKEN, "opaque")]  # the JWT and its error text: one
    assert report.diagnoses[0].error_text is not None


def test_a_generic_refusal_and_an_opaque_token_are_two_diagnoses() -> None:
    text = f"401 Unauthorized: JWT claims validation failed\nAuthorization: Bearer {OPAQUE}"
    report = judge(scan(text, CATALOGUE), Expectations(), datetime(2026, 11, 28, 21, tzinfo=UTC))
    assert [d.source for d in report.diagnoses] == [Source.ERROR_TEXT, Source.TOKEN]
    assert report.diagnoses[1].cause_ids == (CauseId.OPAQUE_TOKEN,)
