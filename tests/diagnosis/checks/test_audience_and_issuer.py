"""aud and iss: exact comparison as validators do it, near misses explained in words."""

from __future__ import annotations

from typing import Any

import pytest

from bot.diagnosis.checks import CheckContext, CheckResult
from bot.diagnosis.checks.audience import check_audience
from bot.diagnosis.checks.issuer import check_issuer
from bot.diagnosis.model import CauseId, Expectations
from tests.support.tokens import T

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def audience(claims: dict[str, Any], *expected: str) -> CheckResult:
    return check_audience(CheckContext({}, claims, Expectations(audiences=expected), float(T)))


def issuer(claims: dict[str, Any], *expected: str) -> CheckResult:
    return check_issuer(CheckContext({}, claims, Expectations(issuers=expected), float(T)))


def only(result: CheckResult) -> tuple[CauseId, str]:
    [finding] = result.findings
    return finding.cause, finding.evidence.detail


def test_no_expected_audience_skips_the_check_and_says_so() -> None:
    result = audience({"aud": "x"})
    assert result.findings == () and result.skipped == ("audience (no expected audience given)",)


@pytest.mark.parametrize("aud", ["orders-api", ["other", "orders-api"]])
def test_one_matching_audience_is_enough(aud: Any) -> None:
    assert audience({"aud": aud}, "orders-api").findings == ()


def test_a_list_that_lacks_the_expected_value_is_named() -> None:
    cause, detail = only(audience({"aud": ["account", "realm-management"]}, "orders-api"))
    assert cause is CauseId.AUDIENCE_MISMATCH
    assert 'the list ["account", "realm-management"]' in detail and "Keycloak" in detail


@pytest.mark.parametrize(
    ("aud", "words"),
    [("Orders-API", "only in letter case"), ("api://orders-api", "api:// prefix"), ("orders-api/", "trailing slash")],
)
def test_audience_near_misses_are_explained(aud: str, words: str) -> None:
    cause, detail = only(audience({"aud": aud}, "orders-api"))
    assert cause is CauseId.AUDIENCE_MISMATCH and words in detail


def test_an_id_token_sent_to_an_api_is_recognised() -> None:
    _, detail = only(audience({"aud": "spa-client", "nonce": "abc", "at_hash": "x"}, "orders-api"))
    assert "looks like an ID token (it has nonce, at_hash)" in detail


def test_cognito_access_token_without_aud_points_to_client_id() -> None:
    cause, detail = only(audience({"client_id": "orders-api", "token_use": "access"}, "orders-api"))
    assert cause is CauseId.MISSING_CLAIM and "client_id" in detail and "matches the expected audience" in detail


@pytest.mark.parametrize("aud", [42, ["ok", 7], {"a": 1}, True])
def test_audience_of_the_wrong_type(aud: Any) -> None:
    assert only(audience({"aud": aud}, "orders-api"))[0] is CauseId.INVALID_CLAIM_TYPE


@pytest.mark.parametrize("aud", [None, "", []])
def test_missing_or_empty_audience(aud: Any) -> None:
    claims = {} if aud is None else {"aud": aud}
    assert only(audience(claims, "orders-api"))[0] is CauseId.MISSING_CLAIM


def test_matching_issuer_passes() -> None:
    assert issuer({"iss": "https://login.acme.test/"}, "https://login.acme.test/").findings == ()


@pytest.mark.parametrize(
    ("have", "want", "words"),
    [
        ("https://login.acme.test", "https://login.acme.test/", "trailing slash (the expected value has it)"),
        ("http://login.acme.test/", "https://login.acme.test/", "only in the scheme (http vs https)"),
        ("https://Login.Acme.test/", "https://login.acme.test/", "only in letter case"),
        ("https://login.acme.test:8443/", "https://login.acme.test/", "only in the port (8443 vs 443)"),
        ("https://login.acme.test:443/", "https://login.acme.test/", "how the port is written"),
        (
            f"https://sts.windows.net/{TENANT}/",
            f"https://login.microsoftonline.com/{TENANT}/v2.0",
            "token is a v1 token and the validator expects the v2 issuer",
        ),
        ("http://keycloak:8080/realms/acme", "http://localhost:8180/realms/acme", "same path, different host"),
    ],
)
def test_issuer_near_misses_are_explained(have: str, want: str, words: str) -> None:
    cause, detail = only(issuer({"iss": have}, want))
    assert cause is CauseId.ISSUER_MISMATCH and words in detail


def test_a_plainly_different_issuer_is_a_mismatch_without_excuses() -> None:
    [finding] = issuer({"iss": "https://evil.example/"}, "https://login.acme.test/").findings
    assert finding.cause is CauseId.ISSUER_MISMATCH and finding.evidence.reason == "mismatch"
    assert finding.evidence.detail == 'iss is "https://evil.example/"; the validator expects "https://login.acme.test/"'


def test_missing_and_mistyped_issuer() -> None:
    assert only(issuer({}, "https://login.acme.test/"))[0] is CauseId.MISSING_CLAIM
    assert only(issuer({"iss": ["a"]}, "https://login.acme.test/"))[0] is CauseId.INVALID_CLAIM_TYPE


def test_hostile_issuer_urls_do_not_crash() -> None:
    for iss in ["https://[::1", "https://a:99999999/", "http://", "\x00", "https://" + "a" * 100_000]:
        issuer({"iss": iss}, "https://login.acme.test/")
