"""Signature verification in the pure core: every algorithm, every way it fails, and the verdict rules."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from bot.diagnosis import examine
from bot.diagnosis.model import CauseId, Diagnosis, Expectations, SignatureStatus, Verdict
from bot.diagnosis.signature import KeyResolution, TrustedKey, describe_key
from bot.knowledge import default_knowledge
from bot.pipeline import diagnose_text, diagnose_token
from bot.render.json import diagnosis_to_dict, report_to_dict
from bot.render.text import render_report
from tests.keys.support import (
    ORIGIN,
    ec_key,
    ed_key,
    failed,
    forge_with_public_key,
    from_jwks,
    jwk_of,
    pem_of,
    rsa_key,
    secret,
    sign,
    trusted,
)
from tests.support.tokens import AUDIENCE, ISSUER, NOW, SECRET, T, claims, make_token, raw_token, signature_of

EXPECT = Expectations(audiences=(AUDIENCE,), issuers=(ISSUER,), required_claims=("exp", "sub"))


def judge(token: str, keys: KeyResolution | None, expectations: Expectations = EXPECT) -> Diagnosis:
    return diagnose_token(token, expectations, T, keys=keys, knowledge=default_knowledge())


def evidence(diagnosis: Diagnosis, cause: CauseId) -> list[str]:
    return [item.reason for c in diagnosis.causes if c.id is cause for item in c.evidence]


@pytest.mark.parametrize(
    ("alg", "private"),
    [
        ("RS256", rsa_key),
        ("PS256", rsa_key),
        ("ES256", ec_key),
        ("EdDSA", ed_key),
    ],
)
def test_each_public_key_algorithm_verifies_with_the_jwks_key_its_kid_names(alg: str, private: Any) -> None:
    key = private()
    keys = from_jwks(trusted(key, "k-2026"), trusted(rsa_key("other"), "k-old"))
    diagnosis = judge(sign(key, alg, kid="k-2026"), keys)
    assert diagnosis.signature is SignatureStatus.VERIFIED
    assert diagnosis.signature_detail == "verified with key k-2026 from login.acme.test"
    assert diagnosis.verdict is Verdict.VALID and diagnosis.causes == ()
    assert not any(item.startswith("signature") for item in diagnosis.skipped_checks)


def test_an_hs256_token_verifies_with_the_secret_named_by_its_variable() -> None:
    diagnosis = judge(make_token(), secret(SECRET))
    assert diagnosis.signature is SignatureStatus.VERIFIED and diagnosis.verdict is Verdict.VALID
    assert diagnosis.signature_detail == "verified with the HMAC secret in $ORDERS_JWT_SECRET"


def test_a_token_without_kid_is_tried_against_every_fitting_key() -> None:
    key = rsa_key()
    diagnosis = judge(sign(key, "RS256"), from_jwks(trusted(ec_key(), "k-ec"), trusted(key, None)))
    assert diagnosis.signature is SignatureStatus.VERIFIED
    assert diagnosis.signature_detail.startswith("verified with the RSA key ")  # named by its RFC 7638 thumbprint


def test_a_static_pem_key_is_named_by_its_file() -> None:
    key = TrustedKey(jwk_of(ec_key()), "keys/orders.pem", indexed=False)
    diagnosis = judge(sign(ec_key(), "ES256", kid="anything"), KeyResolution(keys=(key,)))
    assert diagnosis.signature_detail == "verified with the key in keys/orders.pem"


def test_a_token_signed_with_another_key_is_signature_invalid_and_says_why() -> None:
    other = rsa_key("other", 3072)
    diagnosis = judge(sign(other, "RS256", kid="k-2026"), from_jwks(trusted(rsa_key(), "k-2026")))
    assert diagnosis.signature is SignatureStatus.INVALID and diagnosis.verdict is Verdict.INVALID
    assert diagnosis.cause_ids == (CauseId.SIGNATURE_INVALID,)
    [item] = diagnosis.causes[0].evidence
    assert "3072 bits long, and this key is a 2048-bit RSA key" in item.detail
    assert diagnosis.signature_detail == "does not verify with key k-2026 from login.acme.test"
    assert "check_key_and_secret" in {w.id for w in diagnosis.workarounds}


def test_an_altered_token_does_not_verify() -> None:
    token = sign(rsa_key(), "RS256", kid="k-2026")
    header, _, signature = token.split(".")
    altered = f"{header}.{raw_token({}, claims(aud='admin-api')).split('.')[1]}.{signature}"
    diagnosis = judge(altered, from_jwks(trusted(rsa_key(), "k-2026")))
    assert diagnosis.signature is SignatureStatus.INVALID
    assert set(diagnosis.cause_ids) == {CauseId.SIGNATURE_INVALID, CauseId.AUDIENCE_MISMATCH}  # claims still judged
    assert evidence(diagnosis, CauseId.SIGNATURE_INVALID) == ["wrong_key_or_altered"]


def test_an_unknown_kid_says_which_kids_the_jwks_has_and_whether_it_was_refetched() -> None:
    token = sign(rsa_key("new"), "RS256", kid="k-2027")
    keys = (trusted(rsa_key(), "k-2026"), trusted(rsa_key("old"), "k-2025"))
    diagnosis = judge(token, from_jwks(*keys, refetched=True))
    assert diagnosis.signature is SignatureStatus.INVALID and diagnosis.cause_ids == (CauseId.UNKNOWN_KID,)
    detail = diagnosis.causes[0].evidence[0].detail
    assert 'kid "k-2027" is not in the JWKS of login.acme.test (it has "k-2026", "k-2025")' in detail
    assert "even in a copy fetched just now" in detail
    assert "refresh_jwks" in {w.id for w in diagnosis.workarounds}
    limited = judge(token, from_jwks(*keys, refetch_limited=True)).causes[0].evidence[0].detail
    assert "fetched again less than a minute ago" in limited


def test_a_kid_that_names_the_wrong_key_of_the_set_is_said_so() -> None:
    token = sign(rsa_key("b"), "RS256", kid="k-a")
    diagnosis = judge(token, from_jwks(trusted(rsa_key("a"), "k-a"), trusted(rsa_key("b"), "k-b")))
    assert evidence(diagnosis, CauseId.SIGNATURE_INVALID) == ["wrong_kid"]
    assert "it does with key k-b from login.acme.test" in diagnosis.causes[0].evidence[0].detail


def test_header_key_hints_are_never_trusted() -> None:
    attacker = rsa_key("attacker")
    hints = {"jwk": jwk_of(attacker), "jku": "http://127.0.0.1:9/jwks", "x5u": "http://127.0.0.1:9/x5u"}
    token = sign(attacker, "RS256", kid="k-2026", headers=hints)
    diagnosis = judge(token, from_jwks(trusted(rsa_key(), "k-2026")))
    assert diagnosis.signature is SignatureStatus.INVALID and CauseId.SIGNATURE_INVALID in diagnosis.cause_ids


def test_an_hs256_token_at_a_public_key_service_is_algorithm_not_allowed() -> None:
    diagnosis = judge(make_token(), from_jwks(trusted(rsa_key(), "k-2026")))
    assert diagnosis.signature is SignatureStatus.INVALID
    assert evidence(diagnosis, CauseId.ALGORITHM_NOT_ALLOWED) == ["hs_with_public_keys"]
    assert "key-confusion forgery attempt" in diagnosis.causes[0].evidence[0].detail


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_an_hmac_made_with_the_public_key_pem_is_flagged_as_a_forgery(alg: str) -> None:
    key = rsa_key()
    forged = forge_with_public_key(pem_of(key), alg=alg, headers={"kid": "k-2026"})
    for expectations in (EXPECT, replace(EXPECT, algorithms=("RS256",))):
        diagnosis = judge(forged, from_jwks(trusted(key, "k-2026")), expectations)
        assert diagnosis.signature is SignatureStatus.INVALID and diagnosis.verdict is Verdict.INVALID
        assert diagnosis.top_cause is not None and diagnosis.top_cause.id is CauseId.ALGORITHM_NOT_ALLOWED
        assert "key_confusion_forgery" in evidence(diagnosis, CauseId.ALGORITHM_NOT_ALLOWED)
        assert diagnosis.signature_detail == "forged: HMAC keyed with key k-2026 from login.acme.test"
        assert "hs256_with_public_key" in {d.id for d in diagnosis.dead_ends}


def test_the_forgery_check_also_tries_a_key_files_own_pem_bytes() -> None:
    pem = b"\n" + pem_of(ec_key()) + b"\n\n"  # odd whitespace, as a file may have it
    key = TrustedKey(jwk_of(ec_key()), "keys/orders.pem", pem=pem)
    diagnosis = judge(forge_with_public_key(pem), KeyResolution(keys=(key,)))
    assert "key_confusion_forgery" in evidence(diagnosis, CauseId.ALGORITHM_NOT_ALLOWED)


def test_a_secret_the_issuer_base64_decodes_is_diagnosed_as_an_encoding_mismatch() -> None:
    raw = bytes(range(48))
    text = base64.b64encode(raw).decode()
    diagnosis = judge(jwt.encode(claims(), raw, algorithm="HS256"), secret(text))
    assert diagnosis.signature is SignatureStatus.INVALID
    [item] = diagnosis.causes[0].evidence
    assert item.reason == "secret_encoding"
    assert "the base64-decoded bytes of the secret in $ORDERS_JWT_SECRET, not with its text" in item.detail
    assert text not in repr(diagnosis) and text not in json.dumps(diagnosis_to_dict(diagnosis))


def test_the_same_secret_used_as_text_verifies() -> None:
    text = base64.b64encode(bytes(range(48))).decode()
    assert judge(jwt.encode(claims(), text, algorithm="HS256"), secret(text)).signature is SignatureStatus.VERIFIED


def test_a_wrong_secret_is_signature_invalid() -> None:
    diagnosis = judge(make_token(), secret("another-secret-" + "x" * 32))
    assert evidence(diagnosis, CauseId.SIGNATURE_INVALID) == ["wrong_secret"]


def test_a_public_key_token_at_an_hmac_only_service_is_algorithm_not_allowed() -> None:
    diagnosis = judge(sign(rsa_key(), "RS256"), secret(SECRET))
    assert evidence(diagnosis, CauseId.ALGORITHM_NOT_ALLOWED) == ["public_key_alg_for_hmac_service"]


def test_a_kid_that_names_a_key_of_another_type_is_algorithm_not_allowed() -> None:
    diagnosis = judge(sign(rsa_key(), "RS256", kid="k-ec"), from_jwks(trusted(ec_key(), "k-ec")))
    assert evidence(diagnosis, CauseId.ALGORITHM_NOT_ALLOWED) == ["alg_key_mismatch"]


def test_a_key_published_for_another_alg_is_refused_like_strict_validators_do() -> None:
    diagnosis = judge(sign(rsa_key(), "PS256", kid="k-2026"), from_jwks(trusted(rsa_key(), "k-2026", alg="RS256")))
    assert diagnosis.signature is SignatureStatus.INVALID
    assert evidence(diagnosis, CauseId.ALGORITHM_NOT_ALLOWED) == ["key_alg_mismatch"]


def test_a_der_encoded_ecdsa_signature_is_recognised() -> None:
    key = ec_key()
    header = {"alg": "ES256", "kid": "k-2026"}
    unsigned = raw_token(header, claims()).rsplit(".", 1)[0]
    der = key.sign(unsigned.encode(), ec.ECDSA(hashes.SHA256()))
    assert decode_dss_signature(der)  # a DER SEQUENCE, as Java's SHA256withECDSA makes it
    token = f"{unsigned}.{base64.urlsafe_b64encode(der).rstrip(b'=').decode()}"
    diagnosis = judge(token, from_jwks(trusted(key, "k-2026")))
    assert evidence(diagnosis, CauseId.SIGNATURE_INVALID) == ["ecdsa_der"]


def test_a_critical_header_extension_is_refused_before_the_signature() -> None:
    token = sign(rsa_key(), "RS256", kid="k-2026", headers={"crit": ["exp"], "exp": 1})
    diagnosis = judge(token, from_jwks(trusted(rsa_key(), "k-2026")))
    assert evidence(diagnosis, CauseId.SIGNATURE_INVALID) == ["header_refused"]


# --- the verdict rules -----------------------------------------------------------------------------


def test_without_a_key_source_the_signature_is_not_checked_and_the_claims_decide() -> None:
    diagnosis = judge(make_token(), None)
    assert diagnosis.signature is SignatureStatus.NOT_CHECKED and diagnosis.verdict is Verdict.VALID
    assert diagnosis.signature_detail == "no key configured"
    assert "signature (no key configured)" in diagnosis.skipped_checks


def test_a_failed_key_source_makes_a_clean_token_unverifiable() -> None:
    diagnosis = judge(sign(rsa_key(), "RS256", kid="k-2026"), failed())
    assert diagnosis.signature is SignatureStatus.KEY_SOURCE_FAILED and diagnosis.verdict is Verdict.UNVERIFIABLE
    assert diagnosis.signature_detail == "the JWKS at login.acme.test did not answer within 5 s"
    assert diagnosis.causes == ()
    assert "signature (no key configured)" not in diagnosis.skipped_checks


def test_a_failed_key_source_still_reports_the_claim_causes_and_they_make_it_invalid() -> None:
    token = sign(rsa_key(), "RS256", kid="k-2026", payload=claims(exp=T - 7200, aud="billing-api"))
    diagnosis = judge(token, failed())
    assert diagnosis.signature is SignatureStatus.KEY_SOURCE_FAILED and diagnosis.verdict is Verdict.INVALID
    assert set(diagnosis.cause_ids) == {CauseId.EXPIRED, CauseId.AUDIENCE_MISMATCH}


def test_a_verified_signature_with_a_wrong_audience_says_only_the_audience_is_wrong() -> None:
    token = sign(rsa_key(), "RS256", kid="k-2026", payload=claims(aud="billing-api"))
    diagnosis = judge(token, from_jwks(trusted(rsa_key(), "k-2026")))
    assert diagnosis.signature is SignatureStatus.VERIFIED and diagnosis.cause_ids == (CauseId.AUDIENCE_MISMATCH,)
    assert "signature    verified with key k-2026 from login.acme.test" in render_report(
        diagnose_text(token, EXPECT, NOW, keys=lambda _: from_jwks(trusted(rsa_key(), "k-2026"))), default_knowledge()
    )


def test_a_key_source_that_failed_does_not_hide_a_key_that_verifies() -> None:
    resolution = replace(from_jwks(trusted(rsa_key(), "k-2026")), failures=failed("other.acme.test").failures)
    assert judge(sign(rsa_key(), "RS256", kid="k-2026"), resolution).signature is SignatureStatus.VERIFIED


def test_an_unknown_kid_with_a_failed_refetch_is_a_failed_source_not_a_verdict() -> None:
    resolution = replace(from_jwks(trusted(rsa_key(), "k-2026")), failures=failed().failures)
    diagnosis = judge(sign(rsa_key("new"), "RS256", kid="k-2027"), resolution)
    assert diagnosis.signature is SignatureStatus.KEY_SOURCE_FAILED and diagnosis.verdict is Verdict.UNVERIFIABLE


def test_unsigned_malformed_and_encrypted_tokens_with_keys_configured() -> None:
    keys = from_jwks(trusted(rsa_key(), "k-2026"))
    unsigned = judge(raw_token({"alg": "none"}, claims(), signature=""), keys)
    assert unsigned.signature is SignatureStatus.INVALID and unsigned.verdict is Verdict.INVALID
    cut = judge(make_token()[:60], keys)
    assert cut.signature is SignatureStatus.NOT_CHECKED and cut.verdict is Verdict.MALFORMED
    jwe = judge(raw_token({"alg": "RSA-OAEP", "enc": "A256GCM"}, "key") + ".aXY.Y2lwaGVy", keys)
    assert jwe.signature is SignatureStatus.NOT_CHECKED and jwe.verdict is Verdict.UNVERIFIABLE


def test_json_signature_values_are_exactly_the_contract() -> None:
    cases = {
        "verified": from_jwks(trusted(rsa_key(), "k-2026")),
        "invalid": from_jwks(trusted(rsa_key("x"), "k-2026")),
        "key_source_failed": failed(),
        "not_checked": None,
    }
    token = sign(rsa_key(), "RS256", kid="k-2026")
    for expected, keys in cases.items():
        document = report_to_dict(diagnose_text(token, EXPECT, NOW, keys=lambda _, k=keys: k), default_knowledge())
        [entry] = document["diagnoses"]
        assert entry["signature"] == expected
        assert ("signature (no key configured)" in entry["skipped_checks"]) is (keys is None)


def test_no_signature_or_secret_leaves_the_engine() -> None:
    key = rsa_key()
    tokens = [
        sign(key, "RS256", kid="k-2026"),
        sign(rsa_key("x"), "RS256", kid="k-2026"),
        sign(key, "RS256", kid="k-9"),
        forge_with_public_key(pem_of(key)),
        make_token(),
    ]
    for token in tokens:
        for keys in (from_jwks(trusted(key, "k-2026")), secret(SECRET), failed()):
            facts = examine(token, EXPECT, keys)
            report = diagnose_text(token, EXPECT, NOW, keys=lambda _, k=keys: k)
            outputs = [
                repr(facts),
                repr(report),
                json.dumps(report_to_dict(report, default_knowledge())),
                render_report(report, default_knowledge()),
            ]
            for output in outputs:
                assert signature_of(token) not in output and SECRET not in output


def test_describe_key_escapes_a_hostile_kid() -> None:
    key = TrustedKey({"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "\x1b[31m<!channel>"}, ORIGIN, indexed=True)
    assert "\x1b" not in describe_key(key)
