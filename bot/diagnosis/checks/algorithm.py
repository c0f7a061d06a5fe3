"""alg: unsigned tokens, and algorithms the validator does not allow (RS/HS confusion included)."""

from __future__ import annotations

from bot.diagnosis.checks import NOTHING, CheckContext, CheckResult, result
from bot.diagnosis.checks.values import show
from bot.diagnosis.ids import Reason
from bot.diagnosis.model import CauseId, Evidence, Finding

_NOT_CHECKED = result(skipped=["algorithm (no allowed algorithms given)"])


def check_algorithm(context: CheckContext) -> CheckResult:
    alg = context.header.get("alg")
    if not isinstance(alg, str):
        return result()  # decode already reported a missing or non-string alg
    if alg.lower() == "none":
        detail = (
            f"alg is {show(alg)}: the token is unsigned, so anyone could have written it; validators reject it "
            "unless told to accept unsigned tokens, which they must never be"
        )
        return result([Finding(CauseId.ALG_NONE, Evidence("alg", Reason.UNSIGNED, detail), 0.95)])
    allowed = context.expectations.algorithms
    if not allowed:
        return _NOT_CHECKED
    if alg in allowed:
        return NOTHING
    detail = f"alg is {show(alg)}; the validator allows {', '.join(show(a) for a in allowed[:8])}"
    if alg.upper().startswith("HS") and any(a.upper()[:2] in {"RS", "PS", "ES", "ED"} for a in allowed):
        detail += (
            "; an HMAC-signed token sent to a service that uses public keys is either a misconfigured issuer "
            "or a key-confusion forgery attempt (signing with the public key as an HMAC secret)"
        )
        return result([Finding(CauseId.ALGORITHM_NOT_ALLOWED, Evidence("alg", Reason.HS_RS_CONFUSION, detail), 0.85)])
    return result([Finding(CauseId.ALGORITHM_NOT_ALLOWED, Evidence("alg", Reason.NOT_ALLOWED, detail), 0.7)])
