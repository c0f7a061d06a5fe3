"""One small check per claim, after PyJWT's validators. Each returns findings; none raises.

A check that cannot judge without an expectation (no expected audience, say) says so through
``skipped``, so the output can tell the user which checks did not run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from bot.diagnosis.model import Expectations, Finding, JSONValue


class CheckContext(NamedTuple):  # a tuple: built twice per token, four times cheaper than a frozen dataclass
    header: Mapping[str, JSONValue]
    claims: Mapping[str, JSONValue]
    expectations: Expectations
    now: float


class CheckResult(NamedTuple):  # a tuple too: built whenever a check finds something, and at import
    findings: tuple[Finding, ...] = ()
    skipped: tuple[str, ...] = ()


Check = Callable[[CheckContext], CheckResult]


NOTHING = CheckResult()  # the check passed: the common outcome, shared


def result(findings: Iterable[Finding] = (), skipped: Iterable[str] = ()) -> CheckResult:
    if not findings and not skipped:
        return NOTHING
    return CheckResult(tuple(findings), tuple(skipped))
