"""iss: exact string comparison, as every validator does, with the near misses explained.

A trailing slash (Auth0's issuer ends in one), http vs https, letter case, an explicit or different
port, Entra's v1 (``sts.windows.net/{tenant}/``) vs v2 (``login.microsoftonline.com/{tenant}/v2.0``)
forms, and the same issuer reached through another host name (an internal service name vs the public
URL) are all reported in words.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

from bot.diagnosis.checks import NOTHING, CheckContext, CheckResult, result
from bot.diagnosis.checks.values import kind_of, one_of, show
from bot.diagnosis.ids import Reason
from bot.diagnosis.model import CauseId, Evidence, Finding

_ENTRA_V1 = re.compile(r"https://sts\.windows\.net/([0-9a-fA-F-]{36})/?$")
_ENTRA_V2 = re.compile(r"https://login\.microsoftonline\.com/([0-9a-fA-F-]{36})/v2\.0/?$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


_NOT_CHECKED = result(skipped=["issuer (no expected issuer given)"])


def check_issuer(context: CheckContext) -> CheckResult:
    expected = context.expectations.issuers
    if not expected:
        return _NOT_CHECKED
    iss = context.claims.get("iss")
    if iss is None:
        detail = f"the token has no iss claim; the validator expects {one_of(expected)}"
        return result([Finding(CauseId.MISSING_CLAIM, Evidence("iss", Reason.MISSING, detail), 0.8)])
    if not isinstance(iss, str):
        detail = f"iss is {kind_of(iss)} ({show(iss)}); it must be a string"
        return result([Finding(CauseId.INVALID_CLAIM_TYPE, Evidence("iss", Reason.WRONG_TYPE, detail), 0.85)])
    if iss in expected:
        return NOTHING
    notes = [note for want in expected if (note := explain_issuer_difference(iss, want))]
    detail = f"iss is {show(iss)}; the validator expects {one_of(expected)}"
    if notes:
        detail += "; " + "; ".join(notes[:2])
    reason = Reason.NEAR_MISS if notes else Reason.MISMATCH
    return result([Finding(CauseId.ISSUER_MISMATCH, Evidence("iss", reason, detail), 0.8)])


def explain_issuer_difference(have: str, want: str) -> str | None:
    """One sentence on how two issuer strings nearly match, or None when they are simply different."""
    if have.rstrip("/") == want.rstrip("/"):
        with_slash = "the token's" if have.endswith("/") else "the expected"
        return f"they differ only by a trailing slash ({with_slash} value has it); issuers compare exactly"
    if have.lower() == want.lower():
        return "they differ only in letter case; issuers compare exactly"
    entra = _entra_versions(have, want)
    if entra:
        return entra
    a, b = _split(have), _split(want)
    if a is None or b is None:
        return None
    same_path = a.path.rstrip("/") == b.path.rstrip("/")
    if a.scheme != b.scheme and (a.hostname, a.port, a.path) == (b.hostname, b.port, b.path):
        return f"they differ only in the scheme ({a.scheme} vs {b.scheme})"
    if a.scheme != b.scheme and (a.hostname, a.path) == (b.hostname, b.path):
        return f"they differ in the scheme ({a.scheme} vs {b.scheme}) and the port"
    if a.hostname == b.hostname and same_path and _port(a) != _port(b):
        return f"they differ only in the port ({_port(a)} vs {_port(b)})"
    if a.hostname == b.hostname and same_path:
        return "they differ only in how the port is written; issuers compare as exact strings"
    if same_path and a.path.strip("/") and a.hostname != b.hostname:
        return (
            f"same path, different host ({a.hostname} vs {b.hostname}): the token was issued through another "
            "URL of the identity provider (an internal service name vs the public one); configure the "
            "provider's public hostname or accept both"
        )
    return None


def _entra_versions(have: str, want: str) -> str | None:
    for first, second, label in ((_ENTRA_V1, _ENTRA_V2, "v1"), (_ENTRA_V2, _ENTRA_V1, "v2")):
        mine, theirs = first.match(have), second.match(want)
        if mine and theirs and mine.group(1).lower() == theirs.group(1).lower():
            other = "v2" if label == "v1" else "v1"
            return (
                f"same Entra tenant, but the token is a {label} token and the validator expects the {other} "
                "issuer: set accessTokenAcceptedVersion in the app manifest, or accept both issuer forms"
            )
    return None


def _split(value: str) -> SplitResult | None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    return parts if parts.scheme in _DEFAULT_PORTS and parts.hostname else None


def _port(parts: SplitResult) -> int | None:
    return parts.port or _DEFAULT_PORTS.get(parts.scheme)
