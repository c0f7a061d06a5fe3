"""exp, nbf and iat: skew vs expiry, milliseconds, strings and absurd values, never a crash."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis.checks import CheckContext
from bot.diagnosis.checks.time_claims import check_time_claims
from bot.diagnosis.model import CauseId, Expectations, Finding
from tests.support.tokens import T


def judge(leeway: float = 0, window: float = 300, now: float = T, **claims: Any) -> list[Finding]:
    context = CheckContext({"alg": "HS256"}, claims, Expectations(leeway=leeway, skew_window=window), float(now))
    return list(check_time_claims(context).findings)


def causes(findings: list[Finding]) -> list[CauseId]:
    return [f.cause for f in findings]


def test_a_current_token_has_no_time_problem() -> None:
    assert judge(iat=T - 60, nbf=T - 60, exp=T + 600) == []


def test_exp_long_past_is_plain_expiry() -> None:
    [finding] = judge(exp=T - 3 * 3600 - 720)
    assert finding.cause is CauseId.EXPIRED
    assert "3 h 12 min ago" in finding.evidence.detail
    assert finding.summary == "expired 3 h 12 min ago"


def test_exp_just_past_lists_skew_first_then_expiry() -> None:
    findings = judge(exp=T - 20)
    assert causes(findings) == [CauseId.CLOCK_SKEW, CauseId.EXPIRED]
    skew, expired = findings
    assert skew.likelihood > expired.likelihood
    assert skew.evidence.leeway_needed == 21


def test_exp_a_few_minutes_past_lists_expiry_as_the_likelier() -> None:
    findings = {f.cause: f for f in judge(exp=T - 200)}
    assert set(findings) == {CauseId.CLOCK_SKEW, CauseId.EXPIRED}
    assert findings[CauseId.EXPIRED].likelihood > findings[CauseId.CLOCK_SKEW].likelihood


def test_exactly_at_exp_is_expired_as_pyjwt_and_jsonwebtoken_judge() -> None:
    assert CauseId.EXPIRED in causes(judge(exp=T))
    assert judge(exp=T + 1) == []


def test_leeway_is_honoured_and_the_needed_leeway_is_stated() -> None:
    assert judge(leeway=30, exp=T - 20) == []
    findings = judge(leeway=30, exp=T - 45)
    assert all(f.evidence.leeway_needed == 46 for f in findings)


def test_nbf_and_iat_slightly_ahead_are_clock_skew() -> None:
    findings = judge(nbf=T + 70, iat=T + 70, exp=T + 3600)
    assert causes(findings) == [CauseId.CLOCK_SKEW, CauseId.CLOCK_SKEW]
    assert {f.evidence.claim for f in findings} == {"nbf", "iat"}
    assert findings[0].summary == "issuer about 1 min 10 s ahead"
    assert all(f.evidence.leeway_needed == 70 for f in findings)


def test_iat_evidence_states_the_tokens_own_need_and_no_library_behaviour() -> None:
    """What each library does is the knowledge base's table's to say (bot/knowledge/libraries.py), not the core's."""
    [finding] = judge(iat=T + 10, exp=T + 3600)
    assert "this token needs a leeway of at least 10 s" in finding.evidence.detail
    assert not any(name in finding.evidence.detail for name in ("PyJWT", "jsonwebtoken", "jose", "Spring", ".NET"))


def test_iat_is_truncated_to_whole_seconds_as_pyjwt_reads_it() -> None:
    assert judge(iat=T + 0.4, exp=T + 3600) == []
    assert causes(judge(iat=T + 1.4, exp=T + 3600)) == [CauseId.CLOCK_SKEW]


def test_the_clock_is_read_in_whole_seconds_as_every_library_reads_it() -> None:
    assert judge(exp=T + 1, now=T + 0.9) == []
    assert causes(judge(exp=T + 1, now=T + 1.2)) == [CauseId.CLOCK_SKEW, CauseId.EXPIRED]


def test_an_exp_in_milliseconds_is_a_warning_and_an_nbf_in_milliseconds_refuses() -> None:
    [exp] = judge(exp=(T + 600) * 1000)
    [nbf] = judge(nbf=(T - 600) * 1000, exp=T + 600)
    assert exp.cause is nbf.cause is CauseId.MILLISECONDS_TIMESTAMP
    assert exp.warning and not nbf.warning


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_an_nbf_or_iat_before_1970_refuses_nothing(claim: str) -> None:
    [finding] = judge(**{claim: -1, "exp": T + 600})
    assert finding.warning and finding.evidence.reason == "out_of_range"


def test_far_future_nbf_is_not_yet_valid_and_far_iat_is_issued_in_future() -> None:
    assert causes(judge(nbf=T + 2 * 86400)) == [CauseId.NOT_YET_VALID]
    assert causes(judge(iat=T + 3 * 3600)) == [CauseId.ISSUED_IN_FUTURE]


def test_the_skew_window_is_measured_beyond_the_leeway() -> None:
    assert causes(judge(leeway=60, window=300, nbf=T + 350)) == [CauseId.CLOCK_SKEW]
    assert causes(judge(leeway=60, window=300, nbf=T + 361)) == [CauseId.NOT_YET_VALID]


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_milliseconds_are_recognised_and_translated(claim: str) -> None:
    [finding] = judge(**{claim: (T + 3600) * 1000})
    assert finding.cause is CauseId.MILLISECONDS_TIMESTAMP
    assert "2026-11-28 22:00:00 UTC" in finding.evidence.detail
    assert "in 1 h" in finding.evidence.detail


def test_microseconds_are_recognised_too() -> None:
    [finding] = judge(iat=(T - 10) * 1_000_000)
    assert finding.cause is CauseId.MILLISECONDS_TIMESTAMP and "microseconds" in finding.evidence.detail


def test_numeric_strings_are_a_type_problem_and_still_judged() -> None:
    findings = judge(exp=str(T - 3 * 3600))
    assert causes(findings) == [CauseId.INVALID_CLAIM_TYPE, CauseId.EXPIRED]
    assert "not a number" in findings[0].evidence.detail


def test_date_strings_are_a_type_problem_with_the_number_they_meant() -> None:
    [finding] = judge(exp="2026-12-01T10:00:00Z")
    assert finding.cause is CauseId.INVALID_CLAIM_TYPE and "1796119200" in finding.evidence.detail


def test_a_lifetime_written_into_exp_is_called_out() -> None:
    [finding] = judge(exp=3600)
    assert finding.cause is CauseId.EXPIRED and "expiresIn" in finding.evidence.detail


@pytest.mark.parametrize("value", [10**300, 1e300, True, None, [T], {"at": T}, 10**5000 if False else 2**1100])
def test_absurd_values_are_diagnosed_not_crashed(value: Any) -> None:
    [finding] = judge(exp=value)
    assert finding.cause is CauseId.INVALID_CLAIM_TYPE


def test_an_exp_before_1970_is_long_expired_as_every_validator_finds() -> None:
    [finding] = judge(exp=-5)
    assert finding.cause is CauseId.EXPIRED and not finding.warning


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=30),
        st.none(),
        st.booleans(),
        st.lists(st.integers(), max_size=3),
    )
)
def test_no_value_crashes_the_time_checks(value: Any) -> None:
    for finding in judge(exp=value, nbf=value, iat=value):
        assert finding.evidence.detail


def _slow_path(claims: dict[str, Any], expectations: Expectations, now: float) -> list[Finding]:
    """time_findings without its fast path: every claim read and judged in full."""
    from bot.diagnosis.checks.time_claims import TIME_CLAIMS, _judge, _read_numeric_date

    context = CheckContext({}, claims, expectations, now)
    findings: list[Finding] = []
    for name in TIME_CLAIMS:
        if name in claims:
            seconds, problems = _read_numeric_date(name, claims[name])
            findings.extend(problems)
            if seconds is not None:
                findings.extend(_judge(name, seconds, context))
    return findings


@pytest.mark.parametrize("leeway", [0, 0.5, 1, 30, 299.5])
@pytest.mark.parametrize("now", [float(T), T + 0.4, T + 0.999])
def test_the_fast_path_for_whole_seconds_judges_as_the_full_path_around_every_boundary(
    leeway: float, now: float
) -> None:
    from bot.diagnosis.checks.time_claims import time_findings

    expectations = Expectations(leeway=leeway)
    for offset in range(-3, 4):
        for base in (0, int(leeway), int(leeway) + 1, 300, 301):
            for claim in ("exp", "nbf", "iat"):
                for value in (T + base + offset, T - base - offset):
                    claims = {claim: value}
                    assert time_findings(claims, expectations, now) == _slow_path(claims, expectations, now)


@given(
    st.dictionaries(
        st.sampled_from(["exp", "nbf", "iat"]),
        st.one_of(st.integers(-(10**12), 10**15), st.floats(allow_nan=True), st.none(), st.text(max_size=12)),
    ),
    st.floats(0, 400),
    st.integers(-1000, 1000),
)
@settings(max_examples=300)
def test_time_findings_are_those_of_the_full_path(claims: dict[str, Any], leeway: float, shift: int) -> None:
    from bot.diagnosis.checks.time_claims import time_findings

    expectations = Expectations(leeway=leeway)
    now = T + shift + 0.25
    assert time_findings(claims, expectations, now) == _slow_path(claims, expectations, now)
