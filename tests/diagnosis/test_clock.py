"""Clock offsets from evidence: the bounds always contain the true offset, and narrow with more evidence."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.diagnosis.clock import (
    OUTLIER,
    TOO_FAR,
    date_header,
    estimate,
    leeway_to_accept,
    token_in_log,
    token_seen,
    validator_time_seen,
)
from bot.render.clocks import describe_clock

T0 = 1_795_900_000.0
offsets = st.integers(-3_600_000, 3_600_000).map(lambda ms: ms / 1000)  # clocks off by whole milliseconds
delays = st.integers(0, 900_000).map(lambda ms: ms / 1000)


@settings(max_examples=500, deadline=None)
@given(offset=offsets, issued=st.floats(min_value=0, max_value=86400), delay=delays)
def test_a_seen_token_bounds_the_issuers_offset_from_below(offset: float, issued: float, delay: float) -> None:
    true_issue = T0 + issued
    iat = math.floor(true_issue + offset)  # the issuer's clock, truncated to whole seconds
    seen = true_issue + delay  # someone pastes it later, on Slack's clock
    [result] = estimate([token_seen("idp", iat, seen)])
    assert result.lower <= offset <= result.upper


@settings(max_examples=500, deadline=None)
@given(offset=offsets, sent=st.floats(min_value=0, max_value=86400), out=st.floats(0, 2), back=st.floats(0, 2))
def test_a_date_header_brackets_the_servers_offset(offset: float, sent: float, out: float, back: float) -> None:
    sent_at = T0 + sent
    stamped_at = sent_at + out
    date = math.floor(stamped_at + offset)
    [result] = estimate([date_header("api", date, sent_at, stamped_at + back)])
    assert result.lower <= offset <= result.upper
    assert result.upper - result.lower <= out + back + 1 + 1e-5


@settings(max_examples=300, deadline=None)
@given(offset=offsets, validator=offsets, issued=st.floats(0, 86400), delay=delays)
def test_a_token_on_a_log_line_bounds_the_issuer_against_the_validator(
    offset: float, validator: float, issued: float, delay: float
) -> None:
    true_issue = T0 + issued
    iat = math.floor(true_issue + offset)
    logged = math.floor(true_issue + delay + validator)
    [result] = estimate([token_in_log("idp", iat, logged, "orders-api")])
    assert result.lower <= offset - validator + 1e-6


@settings(max_examples=300, deadline=None)
@given(offset=offsets, events=st.lists(st.tuples(st.floats(0, 86400), delays), min_size=1, max_size=8))
def test_more_tokens_only_narrow_and_still_contain_the_truth(offset: float, events: list[tuple[float, float]]) -> None:
    observations = [token_seen("idp", math.floor(T0 + t + offset), T0 + t + d) for t, d in events]
    [combined] = estimate(observations)
    assert combined.lower <= offset
    counted = [o for o in observations if o not in [k._replace(kept_out="") for k in combined.kept_out]]
    assert combined.lower == max(o.lower for o in counted) and combined.observations == len(counted)
    assert combined.observations + len(combined.kept_out) == len(events)
    assert all(k.kept_out == OUTLIER for k in combined.kept_out)


def test_an_outlier_is_kept_out_and_readings_that_cannot_be_skew_never_count() -> None:
    agree = [token_seen("idp", T0 + 70 + n, T0 + n) for n in range(2)]
    far = token_seen("idp", T0 + 400, T0 + 5)
    [issuer] = estimate([*agree, far])
    assert issuer.observations == 2 and math.isclose(issuer.lower, 70, abs_tol=1e-3)
    assert [o.kept_out for o in issuer.kept_out] == [OUTLIER] and leeway_to_accept(issuer) == 70
    [two] = estimate([agree[0], far])  # one reading against another: nothing tells which is wrong
    assert two.observations == 2 and two.lower > 390 and not two.kept_out
    wrong = token_seen("idp", T0 + 3 * 3600, T0 + 6)._replace(kept_out=TOO_FAR)
    [issuer] = estimate([*agree, wrong])
    assert issuer.observations == 2 and issuer.kept_out == (wrong,) and leeway_to_accept(issuer) == 70
    [alone] = estimate([wrong])
    assert alone.observations == 0 and not alone.off and alone.kept_out == (wrong,)


def test_three_tokens_issued_ahead_say_at_least_how_far_and_the_leeway_that_accepts_them() -> None:
    observations = [token_seen("login.acme.test", T0 + 42 + n * 60, T0 + n * 60 + 0.4) for n in range(3)]
    [issuer] = estimate(observations)
    assert issuer.ahead and math.isclose(issuer.lower, 41.6, abs_tol=1e-3)
    assert describe_clock(issuer) == (
        "login.acme.test's clock is at least 41 s ahead of Slack's (3 tokens, seen 2026-11-28 21:06:40–21:08:40 UTC)"
    )
    assert leeway_to_accept(issuer) == 42  # a need: bot.diagnosis.leeway makes it the figure to set


def test_a_skewed_service_measured_by_its_date_header() -> None:
    [service] = estimate([date_header("orders-api", T0 - 38, T0 - 0.2, T0 + 0.1)])
    assert math.isclose(service.lower, -38.1, abs_tol=1e-3) and math.isclose(service.upper, -36.8, abs_tol=1e-3)
    assert service.behind and describe_clock(service).startswith("orders-api's clock is 37 s behind this host (±1 s)")


def test_an_error_message_with_the_validators_time_bounds_the_validator() -> None:
    [validator] = estimate([validator_time_seen("orders-api", T0 + 120, T0 + 5)])
    assert validator.ahead and math.isclose(validator.lower, 115, abs_tol=1e-3)


def test_a_clock_that_agrees_is_not_called_off() -> None:
    [service] = estimate([date_header("api", T0, T0 - 0.1, T0 + 0.1)])
    assert not service.off and "agrees with" in describe_clock(service)
    [issuer] = estimate([token_seen("idp", T0 - 300, T0)])
    assert not issuer.off and leeway_to_accept(issuer) is None


def test_contradictory_evidence_is_reported_not_hidden() -> None:
    [service] = estimate([date_header("api", T0 + 100, T0, T0 + 1), date_header("api", T0 - 100, T0 + 2, T0 + 3)])
    assert not service.consistent and "contradictory" in describe_clock(service)
