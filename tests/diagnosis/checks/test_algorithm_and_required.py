"""alg and required claims."""

from __future__ import annotations

from typing import Any

from bot.diagnosis.checks import CheckContext, CheckResult
from bot.diagnosis.checks.algorithm import check_algorithm
from bot.diagnosis.checks.required import check_required_claims
from bot.diagnosis.model import CauseId, Expectations
from tests.support.tokens import T


def algorithm(alg: Any, *allowed: str) -> CheckResult:
    return check_algorithm(CheckContext({"alg": alg}, {}, Expectations(algorithms=allowed), float(T)))


def test_alg_none_is_always_flagged_even_without_expectations() -> None:
    for alg in ("none", "None", "NONE"):
        [finding] = algorithm(alg).findings
        assert finding.cause is CauseId.ALG_NONE


def test_an_allowed_algorithm_passes_and_no_expectation_skips() -> None:
    assert algorithm("RS256", "RS256").findings == ()
    assert algorithm("RS256").skipped == ("algorithm (no allowed algorithms given)",)


def test_hs_token_at_an_rs_service_is_flagged_as_possible_key_confusion() -> None:
    [finding] = algorithm("HS256", "RS256").findings
    assert finding.cause is CauseId.ALGORITHM_NOT_ALLOWED and "key-confusion" in finding.evidence.detail


def test_other_disallowed_algorithms() -> None:
    [finding] = algorithm("ES256", "RS256").findings
    assert finding.cause is CauseId.ALGORITHM_NOT_ALLOWED and finding.evidence.reason == "not_allowed"


def test_required_claims_absent_or_null_are_missing() -> None:
    context = CheckContext({}, {"sub": None, "exp": T}, Expectations(required_claims=("exp", "sub", "jti")), float(T))
    assert [(f.cause, f.evidence.claim) for f in check_required_claims(context).findings] == [
        (CauseId.MISSING_CLAIM, "sub"),
        (CauseId.MISSING_CLAIM, "jti"),
    ]


def test_required_aud_is_left_to_the_audience_check_when_one_is_expected() -> None:
    context = CheckContext({}, {}, Expectations(audiences=("a",), required_claims=("aud",)), float(T))
    assert check_required_claims(context).findings == ()
