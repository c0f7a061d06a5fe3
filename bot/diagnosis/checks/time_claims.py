"""exp, nbf and iat: expiry, clock skew, milliseconds, strings and absurd values.

Boundaries follow the libraries (checked against PyJWT, jsonwebtoken and jose in tests/oracle): each
reads its clock in whole seconds, so ``now`` here is too. A token is expired when ``now >= exp +
leeway``, not yet valid when ``nbf > now + leeway``, issued in the future when ``int(iat) > now +
leeway`` (only PyJWT checks iat, and it truncates the claim). What a particular library does beyond
that (its default leeway, whether it reads iat, numeric strings…) is not said here: the knowledge base's
table of library behaviour says it (``bot/knowledge/libraries.py``).

An exp in milliseconds, or an nbf or iat before 1970, refuses nothing (every validator accepts the
token): they are warnings.

Skew versus plain expiry: an exp that passed by no more than the skew window beyond the leeway fits
both. Within the first minute a drifting clock is the likelier story (tokens are rarely used in the
very second they expire); past that, plain expiry is. Both are listed either way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime

from bot.diagnosis.checks import CheckContext, CheckResult, result
from bot.diagnosis.checks.values import kind_of, show
from bot.diagnosis.decode import UnrepresentableNumber
from bot.diagnosis.ids import Reason
from bot.diagnosis.model import CauseId, Evidence, Expectations, Finding, JSONValue
from bot.diagnosis.timefmt import MAX_TIMESTAMP, format_duration, format_relative, format_utc

TIME_CLAIMS = ("exp", "nbf", "iat")
MILLISECONDS_FROM = 1e11  # as seconds this is the year 5138; as milliseconds, 1973
MICROSECONDS_FROM = 1e14  # as milliseconds, the year 5138 again
SKEW_IS_LIKELIER_WITHIN = 60.0
DURATION_BELOW = 1e8  # 1973-03-03: an exp this small is a lifetime ("expiresIn"), not an instant
_NUMERIC_STRING = re.compile(r"\s*-?\d{1,20}(\.\d{1,9})?\s*")


def check_time_claims(context: CheckContext) -> CheckResult:
    return result(time_findings(context.claims, context.expectations, context.now))


def time_findings(claims: Mapping[str, JSONValue], expectations: Expectations, now: float) -> list[Finding]:
    """What :func:`check_time_claims` finds, as a list: ``judge`` runs this once per token and judgement.

    The common claim, whole seconds that pass (``0 <= value < MILLISECONDS_FROM``), is settled here
    with the very comparisons of :func:`_judge_exp` and :func:`_judge_not_before` (in integers, which
    the floats they compute hold exactly below 2**53), so that only a claim with something to say
    goes through :func:`_read_numeric_date` and :func:`_judge`. tests/diagnosis/checks/test_time_claims.py
    compares the two ways around every boundary.
    """
    findings: list[Finding] = []
    second = math.floor(now)
    leeway = expectations.leeway
    context: CheckContext | None = None
    for name in TIME_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        if type(value) is int and 0 <= value < MILLISECONDS_FROM:
            if name == "exp":
                if second - value - leeway < 0:  # _judge_exp: overshoot < 0
                    continue
            elif value - second - leeway <= 0:  # _judge_not_before: overshoot <= 0 (iat truncated: an int)
                continue
        seconds, problems = _read_numeric_date(name, value)
        findings.extend(problems)
        if seconds is None:
            continue
        if context is None:
            context = CheckContext({}, claims, expectations, now)
        findings.extend(_judge(name, seconds, context))
    return findings


def _read_numeric_date(name: str, value: JSONValue) -> tuple[float | None, list[Finding]]:
    """The claim as seconds since the epoch, if it can be judged, plus any type findings."""
    if type(value) is int and 0 <= value < MILLISECONDS_FROM:  # the common case: whole seconds, judged as is
        return float(value), []
    if isinstance(value, UnrepresentableNumber):
        return None, [_out_of_range(name, value)]
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        detail = f"{name} is {kind_of(value)} ({show(value)}); it must be a NumericDate, a number of seconds"
        return None, [Finding(CauseId.INVALID_CLAIM_TYPE, Evidence(name, Reason.WRONG_TYPE, detail), 0.85)]
    if isinstance(value, str):
        if _NUMERIC_STRING.fullmatch(value):
            number = float(value)
            detail = f"{name} is the string {show(value)}, not a number (a NumericDate is a JSON number); emit a number"
            return number, [Finding(CauseId.INVALID_CLAIM_TYPE, Evidence(name, Reason.NUMERIC_STRING, detail), 0.8)]
        return None, [_date_string(name, value)]
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float, e.g. 10**400
        return None, [_out_of_range(name, value)]
    if not math.isfinite(number) or number > MAX_TIMESTAMP * 1_000_000:
        return None, [_out_of_range(name, value)]
    return number, []


def _judge(name: str, seconds: float, context: CheckContext) -> list[Finding]:
    if seconds >= MILLISECONDS_FROM:
        return [_milliseconds(name, seconds, context.now)]
    if seconds < 0 and name != "exp":
        return [_before_1970(name, seconds)]
    if name == "exp":
        return _judge_exp(seconds, context)
    return _judge_not_before(name, math.trunc(seconds) if name == "iat" else seconds, context)


def _judge_exp(exp: float, context: CheckContext) -> list[Finding]:
    now, leeway, window = math.floor(context.now), context.expectations.leeway, context.expectations.skew_window
    past = now - exp
    overshoot = past - leeway
    if overshoot < 0:
        return []
    needed = math.floor(past) + 1
    gap = format_duration(past)
    when = f"exp {format_utc(exp)} passed {gap} ago"
    if 0 <= exp < DURATION_BELOW:
        detail = (
            f"exp is {exp:g}, which is {format_utc(exp)}: it looks like a lifetime in seconds "
            "(expiresIn) written where an absolute timestamp belongs"
        )
        evidence = Evidence("exp", Reason.DURATION_NOT_TIMESTAMP, detail, overshoot, None)
        return [Finding(CauseId.EXPIRED, evidence, 0.9, "exp holds a lifetime, not a timestamp")]
    if overshoot > window:
        detail = f"{when}; that is far beyond any clock skew"
        evidence = Evidence("exp", Reason.PASSED, detail, overshoot, needed)
        return [Finding(CauseId.EXPIRED, evidence, 0.9, f"expired {gap} ago")]
    skew_first = overshoot <= SKEW_IS_LIKELIER_WITHIN
    expired = Evidence(
        "exp", Reason.PASSED, f"{when}; only a leeway of at least {needed} s would accept it", overshoot, needed
    )
    skew = Evidence(
        "exp",
        Reason.PASSED_WITHIN_SKEW_WINDOW,
        f"exp passed only {gap} ago: a validator clock running {gap} fast "
        f"would reject a token that is still valid; this token needs a leeway of at least {needed} s",
        overshoot,
        needed,
    )
    just = f"exp passed only {gap} ago"
    return [
        Finding(CauseId.CLOCK_SKEW, skew, 0.6 if skew_first else 0.4, just),
        Finding(CauseId.EXPIRED, expired, 0.5 if skew_first else 0.65, f"expired {gap} ago"),
    ]


def _judge_not_before(name: str, instant: float, context: CheckContext) -> list[Finding]:
    now, leeway, window = math.floor(context.now), context.expectations.leeway, context.expectations.skew_window
    ahead = instant - now
    overshoot = ahead - leeway
    if overshoot <= 0:
        return []
    needed = math.ceil(ahead)
    if overshoot <= window:
        gap = format_duration(ahead)
        detail = (
            f"{name} is {gap} in the future ({format_utc(instant)}) by this clock: the issuer's "
            f"clock is about {gap} ahead of the validator's; this token needs a leeway of at least {needed} s"
        )
        evidence = Evidence(name, Reason.IN_FUTURE_WITHIN_SKEW_WINDOW, detail, overshoot, needed)
        return [Finding(CauseId.CLOCK_SKEW, evidence, 0.8, f"issuer about {gap} ahead")]
    cause = CauseId.NOT_YET_VALID if name == "nbf" else CauseId.ISSUED_IN_FUTURE
    detail = (
        f"{name} is {format_relative(instant, now)} ({format_utc(instant)}): too far ahead for clock skew; "
        "the issuer set it wrong"
    )
    summary = f"{name} {format_relative(instant, now)}"
    return [Finding(cause, Evidence(name, Reason.IN_FUTURE, detail, overshoot, needed), 0.75, summary)]


def _milliseconds(name: str, value: float, now: float) -> Finding:
    divisor, unit = (1000.0, Reason.MILLISECONDS) if value < MICROSECONDS_FROM else (1_000_000.0, Reason.MICROSECONDS)
    as_seconds = value / divisor
    consequence = {
        "exp": "read as seconds it never expires in practice: validators accept it, and the real lifetime is lost",
        "nbf": "read as seconds it lies thousands of years ahead, so a validator refuses the token as not yet valid",
        "iat": "read as seconds it lies thousands of years ahead, so a validator that checks iat refuses the token",
    }[name]
    meant = f"as {unit} it is {format_utc(as_seconds)} ({format_relative(as_seconds, now)})"
    detail = f"{name} is {value:.0f}, which looks like {unit} since the epoch: {meant}; {consequence}"
    evidence = Evidence(name, unit, detail)
    return Finding(CauseId.MILLISECONDS_TIMESTAMP, evidence, 0.9, f"{name} is in {unit}", warning=name == "exp")


def _before_1970(name: str, seconds: float) -> Finding:
    detail = (
        f"{name} is {seconds:g}, before 1970: an instant long past, so it refuses nothing, but the issuer "
        "that wrote it is worth a look"
    )
    return Finding(CauseId.INVALID_CLAIM_TYPE, Evidence(name, Reason.OUT_OF_RANGE, detail), 0.3, warning=True)


def _out_of_range(name: str, value: JSONValue | float) -> Finding:
    detail = f"{name} is {show(value)}, which is no instant at all (NumericDate must be seconds between 1970 and 9999)"
    return Finding(CauseId.INVALID_CLAIM_TYPE, Evidence(name, Reason.OUT_OF_RANGE, detail), 0.85)


def _date_string(name: str, value: str) -> Finding:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    hint = f" (as a NumericDate that would be {int(parsed.timestamp())})" if parsed and parsed.tzinfo else ""
    detail = f"{name} is the string {show(value)}; it must be a NumericDate, a number of seconds since the epoch{hint}"
    return Finding(CauseId.INVALID_CLAIM_TYPE, Evidence(name, Reason.DATE_STRING, detail), 0.85)
