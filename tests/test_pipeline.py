"""The engine end to end: every cause id from real PyJWT tokens, ranked, merged, never leaking."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.diagnosis.model import CauseId, Expectations, Library, Report, Source, Verdict
from bot.knowledge import default_knowledge
from bot.pipeline import diagnose_text
from bot.render.json import report_to_dict
from bot.render.text import render_report
from tests.support.tokens import AUDIENCE, ISSUER, NOW, T, claims, make_token, raw_token, signature_of

EXPECT = Expectations(audiences=(AUDIENCE,), issuers=(ISSUER,), algorithms=("HS256",), required_claims=("exp", "sub"))


def diagnose(text: str, expectations: Expectations = EXPECT) -> Report:
    return diagnose_text(text, expectations, NOW)


def only_causes(text: str, expectations: Expectations = EXPECT) -> list[CauseId]:
    [diagnosis] = diagnose(text, expectations).diagnoses
    return list(diagnosis.cause_ids)


CASES: list[tuple[CauseId, str]] = [
    (CauseId.EXPIRED, make_token(claims(exp=T - 7200))),
    (CauseId.CLOCK_SKEW, make_token(claims(nbf=T + 70, iat=T + 70))),
    (CauseId.NOT_YET_VALID, make_token(claims(nbf=T + 86400, exp=T + 90000))),
    (CauseId.ISSUED_IN_FUTURE, make_token(claims(iat=T + 7200, exp=T + 9000))),
    (CauseId.MILLISECONDS_TIMESTAMP, make_token(claims(nbf=(T - 600) * 1000))),
    (CauseId.INVALID_CLAIM_TYPE, make_token(claims(aud=42))),
    (CauseId.MISSING_CLAIM, make_token(claims(sub=None))),
    (CauseId.AUDIENCE_MISMATCH, make_token(claims(aud="billing-api"))),
    (CauseId.ISSUER_MISMATCH, make_token(claims(iss="https://evil.example/"))),
    (CauseId.ALGORITHM_NOT_ALLOWED, make_token(alg="HS384")),
    (CauseId.ALG_NONE, raw_token({"alg": "none"}, claims(), signature="")),
    (CauseId.ENCRYPTED_TOKEN, raw_token({"alg": "RSA-OAEP", "enc": "A256GCM"}, "key") + ".aXY.Y2lwaGVy"),
    (CauseId.MALFORMED, make_token()[:60]),
    (CauseId.SIGNATURE_INVALID, "jwt.exceptions.InvalidSignatureError: Signature verification failed"),
    (CauseId.UNKNOWN_KID, 'PyJWKClientError: Unable to find a signing key that matches: "k-2026"'),
]


@pytest.mark.parametrize(("cause", "text"), CASES, ids=[cause.value for cause, _ in CASES])
def test_every_cause_id_is_diagnosed(cause: CauseId, text: str) -> None:
    [diagnosis] = diagnose(text).diagnoses
    assert diagnosis.cause_ids[0] is cause
    assert diagnosis.workarounds, "every cause comes with something to do"


def test_a_valid_token_is_valid_and_says_what_was_skipped() -> None:
    [diagnosis] = diagnose(make_token(), Expectations()).diagnoses
    assert diagnosis.verdict is Verdict.VALID and diagnosis.causes == ()
    assert "audience (no expected audience given)" in diagnosis.skipped_checks
    assert "signature (no key configured)" in diagnosis.skipped_checks


def test_all_problems_are_reported_at_once_most_likely_first() -> None:
    token = make_token(claims(aud="billing-api", iss="https://evil.example/", exp=T - 7200, sub=None))
    causes = only_causes(token)
    assert set(causes) == {CauseId.EXPIRED, CauseId.AUDIENCE_MISMATCH, CauseId.ISSUER_MISMATCH, CauseId.MISSING_CLAIM}
    assert causes[0] is CauseId.EXPIRED


def test_one_cause_per_id_with_the_evidence_of_every_claim() -> None:
    [diagnosis] = diagnose(make_token(claims(nbf=T + 70, iat=T + 70))).diagnoses
    [skew] = diagnosis.causes
    assert skew.claims == ("nbf", "iat")
    assert skew.summary == "Clock skew between issuer and API: issuer about 1 min 10 s ahead"


def test_a_token_just_past_exp_lists_both_skew_and_expiry_and_the_workarounds_do_not_contradict() -> None:
    [diagnosis] = diagnose(make_token(claims(exp=T - 20))).diagnoses
    assert diagnosis.cause_ids == (CauseId.CLOCK_SKEW, CauseId.EXPIRED)
    fixes = {w.id for w in diagnosis.workarounds}
    assert fixes.isdisjoint(d.same_as for d in diagnosis.dead_ends)


def test_regenerating_is_the_fix_for_plain_expiry_and_a_dead_end_for_skew() -> None:
    [expired] = diagnose(make_token(claims(exp=T - 7200))).diagnoses
    [skewed] = diagnose(make_token(claims(nbf=T + 70))).diagnoses
    assert "request_fresh_token" in {w.id for w in expired.workarounds}
    assert "request_fresh_token" in {d.same_as for d in skewed.dead_ends}


def test_tokens_and_error_texts_come_in_order_of_appearance() -> None:
    text = f"first {make_token()} then\nUnauthorizedError: jwt expired\nand {make_token(claims(sub='u2'))}"
    sources = [(d.source, d.library) for d in diagnose(text).diagnoses]
    assert sources == [
        (Source.TOKEN, Library.EXPRESS_JWT),
        (Source.ERROR_TEXT, Library.EXPRESS_JWT),
        (Source.TOKEN, Library.EXPRESS_JWT),
    ]


def test_slack_escaped_text_is_understood_once_the_slack_edge_unescapes_it() -> None:
    from bot.slack.text import unescape_slack

    text = f"&lt;{make_token(claims(exp=T - 7200))}&gt; and\nIDX10214: Audience validation failed. Audiences: 'x'"
    report = diagnose(unescape_slack(text))
    assert [d.cause_ids[0] for d in report.diagnoses] == [CauseId.EXPIRED, CauseId.AUDIENCE_MISMATCH]


def test_the_signature_never_appears_in_any_output() -> None:
    tokens = [make_token(claims(exp=T - 7200, note="sig")), make_token(alg="HS384"), make_token(claims(aud=[1]))]
    text = "\n".join(f"Authorization: Bearer {token}" for token in tokens) + f"\nIDX10511: token: '{tokens[0]}'"
    report = diagnose(text)
    outputs = [
        json.dumps(report_to_dict(report, default_knowledge()), default=str),
        render_report(report, default_knowledge()),
        repr(report),
    ]
    for token in tokens:
        for output in outputs:
            assert signature_of(token) not in output
    assert all(d.token is None or d.token.redacted.endswith(".[redacted]") for d in report.diagnoses)


def test_a_token_inside_a_claim_is_redacted_too() -> None:
    inner = make_token(claims(sub="inner"))
    [diagnosis] = diagnose(make_token(claims(act=inner))).diagnoses
    assert diagnosis.token is not None and diagnosis.token.claims is not None
    assert signature_of(inner) not in json.dumps(diagnosis.token.claims)


def test_the_fingerprint_identifies_the_whole_token() -> None:
    token = make_token()
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    [a, b] = diagnose(f"{token} {forged}").diagnoses
    assert a.token is not None and b.token is not None and a.token.fingerprint != b.token.fingerprint
    assert len(a.token.fingerprint) == 16


def test_limit_counts_what_was_left_out() -> None:
    text = " ".join(make_token(claims(n=n)) for n in range(7))
    report = diagnose_text(text, EXPECT, NOW, limit=3)
    assert len(report.diagnoses) == 3 and report.omitted == 4


def test_a_diagnosis_survives_a_round_trip_through_the_storage_codec() -> None:
    from bot.render.blocks import CardOptions
    from bot.store.codec import CardFields, decode_card, encode_card

    [diagnosis] = diagnose(make_token(claims(exp=T - 20))).diagnoses
    card = CardFields("T1", "C1", float(T), None, None, CardOptions(card_id="0123456789abcdef"), diagnosis)
    again = decode_card(encode_card(card), default_knowledge())
    assert again is not None and again.diagnosis == diagnosis


def test_nothing_to_diagnose_gives_no_diagnoses() -> None:
    assert diagnose("the build is green, thanks all").diagnoses == ()


@pytest.mark.parametrize(
    "payload",
    [
        '{"exp": 1e400}',
        '{"exp": ' + "1" * 300 + "}",
        '{"aud": {"deep": [[[[]]]]}}',
        '{"iss": null}',
        '{"exp": -1}',
        '{"nbf": "soon"}',
        '{"exp": []}',
    ],
)
def test_hostile_claims_get_a_diagnosis_not_a_crash(payload: str) -> None:
    [diagnosis] = diagnose(raw_token({"alg": "HS256"}, payload)).diagnoses
    assert diagnosis.verdict is Verdict.INVALID


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def test_the_json_document_follows_the_contract() -> None:
    report = diagnose(f"{make_token(claims(exp=T - 20))}\nSignature has expired\n{make_token(claims(sub='u2'))}")
    document = json.loads(json.dumps(report_to_dict(report, default_knowledge())))
    assert document["schema"] == "jwtcheck/diagnosis@1"
    assert document["evaluated_at"] == "2026-11-28T21:00:00Z"
    token, error, _ = document["diagnoses"]
    assert set(token) >= {"source", "token", "library", "verdict", "causes", "workarounds", "dead_ends", "signature"}
    assert token["source"] == "token" and token["signature"] == "not_checked" and token["verdict"] == "invalid"
    assert set(token["token"]) >= {"redacted", "fingerprint", "header", "claims"}
    assert [c["id"] for c in token["causes"]] == ["clock_skew", "expired"]
    assert all(set(c) >= {"id", "summary", "evidence"} for c in token["causes"])
    assert all(w["success_rate"] is None or 0 <= w["success_rate"] <= 1 for w in token["workarounds"])
    assert {"id", "title", "success_rate"} <= set(token["workarounds"][0])
    assert {"id", "title", "fail_rate"} <= set(token["dead_ends"][0])
    assert error["source"] == "error_text" and error["token"] is None and error["library"] == "pyjwt"
    assert error["verdict"] == "invalid"
    assert token["checked"] == ["format", "algorithm", "audience", "issuer", "required_claims", "times"]
    assert token["warnings"] == []
    assert all(leaf is None or isinstance(leaf, str | int | float | bool) for leaf in _leaves(document))


def test_a_token_and_the_error_it_drew_pasted_together_are_one_card() -> None:
    report = diagnose(f"{make_token(claims(exp=T - 20))}\nSignature has expired")
    [diagnosis] = report.diagnoses
    assert diagnosis.source is Source.TOKEN and diagnosis.library is Library.PYJWT
    assert diagnosis.error_text is not None and "Signature has expired" in diagnosis.error_text
    assert diagnosis.cause_ids == (CauseId.CLOCK_SKEW, CauseId.EXPIRED)


def test_an_error_text_that_says_more_than_the_token_keeps_its_own_card() -> None:
    report = diagnose(f"{make_token()}\nSignature has expired")
    assert [d.source for d in report.diagnoses] == [Source.TOKEN, Source.ERROR_TEXT]


def test_what_the_error_text_says_was_expected_judges_the_token_beside_it() -> None:
    text = (
        f"{make_token(claims(aud='api://orders-api'))}\nUnauthorizedError: jwt audience invalid. expected: orders-api"
    )
    [diagnosis] = diagnose(text, Expectations()).diagnoses
    assert diagnosis.cause_ids == (CauseId.AUDIENCE_MISMATCH,)
    assert diagnosis.expected_from == ("audience 'orders-api' from the express-jwt error text beside the token",)
    assert diagnosis.error_text is not None


def test_an_audience_given_by_the_user_wins_over_the_error_text() -> None:
    text = f"{make_token(claims(aud='orders-api'))}\nUnauthorizedError: jwt audience invalid. expected: billing-api"
    report = diagnose(text, Expectations(audiences=("orders-api",)))
    assert report.diagnoses[0].expected_from == () and not report.diagnoses[0].causes


def test_expectations_are_learned_only_beside_a_single_token() -> None:
    text = f"{make_token()} {make_token(claims(sub='u2'))}\njwt audience invalid. expected: billing-api"
    assert all(d.expected_from == () for d in diagnose(text, Expectations()).diagnoses)


def test_judging_a_log_makes_no_reference_cycle_so_the_collector_may_rest() -> None:
    """bot.parallel_json pauses the cycle collector while a part is judged and encoded: that relies on
    judging leaving nothing but what reference counting frees."""
    import gc

    from bot.demo import sample_texts
    from bot.diagnosis import scan
    from bot.knowledge import default_catalogue
    from bot.parallel_json import json_document

    samples = "\n".join(piece for _, piece in sample_texts(T))
    broken = (
        "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOiJ4In0.!!! eyJ.eyJ.x eyJhbGciOiJub25lIn0.eyJ9. Bearer 2YotnFZFEjr1zCsicMWpAA"
    )
    text = "\n".join([samples, broken, *(make_token(claims(sub=f"u{n}", exp=T - n)) for n in range(50))])
    found = scan(text, default_catalogue(), at=NOW.timestamp())
    for expectations in (EXPECT, Expectations()):
        json_document(found, expectations, NOW, knowledge=default_knowledge(), cores=1)  # warm every memo
    gc.collect()
    gc.disable()
    try:
        for expectations in (EXPECT, Expectations()):
            json_document(found, expectations, NOW, knowledge=default_knowledge(), cores=1)
        assert gc.collect() == 0
    finally:
        gc.enable()
