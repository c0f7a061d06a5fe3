"""Claims the validator requires (PyJWT's ``options={"require": [...]}``): absent or null is missing.

aud and iss are left to their own checks when an expected value is configured, so that a missing aud
is reported once, with its Cognito or ID-token explanation.
"""

from __future__ import annotations

from bot.diagnosis.checks import NOTHING, CheckContext, CheckResult, result
from bot.diagnosis.ids import Reason
from bot.diagnosis.model import CauseId, Evidence, Finding


def check_required_claims(context: CheckContext) -> CheckResult:
    expectations = context.expectations
    if not expectations.required_claims:
        return NOTHING
    handled = {"aud"} if expectations.audiences else set()
    if expectations.issuers:
        handled.add("iss")
    findings = [
        Finding(
            CauseId.MISSING_CLAIM,
            Evidence(name, Reason.MISSING, f"the token has no {name} claim, which the validator requires"),
            0.75,
            f"no {name}",
        )
        for name in dict.fromkeys(expectations.required_claims)
        if name not in handled and context.claims.get(name) is None
    ]
    return result(findings)
