"""aud: PyJWT's rules (a string or a list of strings; one match is enough), plus near misses.

Near misses are the real-world reasons an audience "does not match": case, the ``api://`` prefix of an
Entra application ID URI, a trailing slash, an ID token sent where an access token belongs, Keycloak's
default ``account`` audience, and Cognito access tokens that carry ``client_id`` instead of ``aud``.
"""

from __future__ import annotations

from bot.diagnosis.checks import NOTHING, CheckContext, CheckResult, result
from bot.diagnosis.checks.values import kind_of, one_of, show
from bot.diagnosis.ids import Reason
from bot.diagnosis.model import CauseId, Evidence, Finding, JSONValue

KEYCLOAK_DEFAULT_AUDIENCES = frozenset({"account", "realm-management", "broker"})


_NOT_CHECKED = result(skipped=["audience (no expected audience given)"])


def check_audience(context: CheckContext) -> CheckResult:
    expected = context.expectations.audiences
    if not expected:
        return _NOT_CHECKED
    claims = context.claims
    aud = claims.get("aud")
    if type(aud) is str and aud in expected:
        return NOTHING  # the common case, first
    if aud is None or aud == "" or aud == []:
        return result([_missing(claims, expected)])
    if not _is_audience_shape(aud):
        detail = f"aud is {kind_of(aud)} ({show(aud)}); it must be a string or an array of strings"
        return result([Finding(CauseId.INVALID_CLAIM_TYPE, Evidence("aud", Reason.WRONG_TYPE, detail), 0.85)])
    actual = [aud] if isinstance(aud, str) else [item for item in aud if isinstance(item, str)]  # type: ignore[union-attr]
    if any(item in expected for item in actual):
        return result()
    return result([_mismatch(claims, actual, expected)])


def _is_audience_shape(aud: JSONValue) -> bool:
    if isinstance(aud, str):
        return True
    return isinstance(aud, list) and all(isinstance(item, str) for item in aud)


def _missing(claims: dict[str, JSONValue] | object, expected: tuple[str, ...]) -> Finding:
    client_id = claims.get("client_id") if isinstance(claims, dict) else None
    if isinstance(client_id, str):
        matches = " and it matches the expected audience" if client_id in expected else ""
        detail = (
            f"the token has no aud but a client_id ({show(client_id)}){matches}: Cognito access tokens name the "
            "app in client_id, not aud; validate client_id for these tokens"
        )
        return Finding(CauseId.MISSING_CLAIM, Evidence("aud", Reason.CLIENT_ID_INSTEAD_OF_AUD, detail), 0.8)
    detail = f"the token has no aud claim; the validator expects {one_of(expected)}"
    return Finding(CauseId.MISSING_CLAIM, Evidence("aud", Reason.MISSING, detail), 0.8)


def _mismatch(claims: object, actual: list[str], expected: tuple[str, ...]) -> Finding:
    shown = show(actual[0]) if len(actual) == 1 else f"the list {show(list[JSONValue](actual))}"
    reasons = [f"aud is {shown}; the validator expects {one_of(expected)}"]
    reasons.extend(_near_misses(actual, expected))
    id_token = _id_token_hint(claims)
    if id_token:
        reasons.append(id_token)
    if any(item in KEYCLOAK_DEFAULT_AUDIENCES for item in actual):
        reasons.append(
            "'account' and 'realm-management' are Keycloak's default audiences: add an audience mapper for "
            "this API to the client scope"
        )
    reason = Reason.NEAR_MISS if len(reasons) > 1 else Reason.MISMATCH
    return Finding(CauseId.AUDIENCE_MISMATCH, Evidence("aud", reason, "; ".join(reasons)), 0.8)


def _near_misses(actual: list[str], expected: tuple[str, ...]) -> list[str]:
    notes: list[str] = []
    for want in expected:
        for have in actual:
            note = _compare(have, want)
            if note:
                notes.append(note)
    return notes[:3]


def _compare(have: str, want: str) -> str | None:
    if have.lower() == want.lower():
        return f"{show(have)} differs from {show(want)} only in letter case, and audiences compare exactly"
    if have.rstrip("/") == want.rstrip("/"):
        return f"{show(have)} and {show(want)} differ only by a trailing slash"
    if have.startswith("api://") != want.startswith("api://") and _strip_app_uri(have) == _strip_app_uri(want):
        return (
            f"{show(have)} and {show(want)} differ only by the api:// prefix: Entra puts the application ID URI "
            "in v1 tokens and the bare client id in v2 tokens; accept the form your tokens carry"
        )
    return None


def _strip_app_uri(value: str) -> str:
    return value.removeprefix("api://").rstrip("/").lower()


def _id_token_hint(claims: object) -> str | None:
    if not isinstance(claims, dict):
        return None
    signs = [name for name in ("nonce", "at_hash", "c_hash") if name in claims]
    if claims.get("token_use") == "id":
        signs.append("token_use=id")
    if not signs:
        return None
    return (
        f"this looks like an ID token (it has {', '.join(signs)}): its aud is the client app, not your API; "
        "send the access token instead"
    )
