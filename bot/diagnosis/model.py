"""The one Diagnosis model that every front door renders (terminal text, JSON, Block Kit).

Everything here is immutable data. Nothing in this module knows about Slack, Redis or the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, NamedTuple, TypeAlias

if TYPE_CHECKING:
    from bot.knowledge.model import DeadEnd, Workaround

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"


class CauseId(StrEnum):
    """Fixed cause ids: the JSON contract and the Slack card use them."""

    MALFORMED = "malformed"
    ENCRYPTED_TOKEN = "encrypted_token"
    ALG_NONE = "alg_none"
    ALGORITHM_NOT_ALLOWED = "algorithm_not_allowed"
    EXPIRED = "expired"
    CLOCK_SKEW = "clock_skew"
    NOT_YET_VALID = "not_yet_valid"
    ISSUED_IN_FUTURE = "issued_in_future"
    MILLISECONDS_TIMESTAMP = "milliseconds_timestamp"
    INVALID_CLAIM_TYPE = "invalid_claim_type"
    MISSING_CLAIM = "missing_claim"
    AUDIENCE_MISMATCH = "audience_mismatch"
    ISSUER_MISMATCH = "issuer_mismatch"
    SIGNATURE_INVALID = "signature_invalid"
    UNKNOWN_KID = "unknown_kid"


class Library(StrEnum):
    """JWT libraries whose error texts are recognised, so that their fixes come first."""

    PYJWT = "pyjwt"
    JSONWEBTOKEN = "jsonwebtoken"
    EXPRESS_JWT = "express-jwt"
    SPRING_SECURITY = "spring-security"
    JOSE = "jose"
    GOLANG_JWT = "golang-jwt"
    MICROSOFT_IDENTITYMODEL = "microsoft-identitymodel"


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    MALFORMED = "malformed"
    UNVERIFIABLE = "unverifiable"


class Source(StrEnum):
    TOKEN = "token"
    ERROR_TEXT = "error_text"


class SignatureStatus(StrEnum):
    NOT_CHECKED = "not_checked"
    VERIFIED = "verified"
    INVALID = "invalid"
    KEY_SOURCE_FAILED = "key_source_failed"


@dataclass(frozen=True, slots=True)
class Expectations:
    """What the validating side expects. Empty tuples mean "not known": those checks are skipped."""

    audiences: tuple[str, ...] = ()
    issuers: tuple[str, ...] = ()
    algorithms: tuple[str, ...] = ()
    required_claims: tuple[str, ...] = ()
    leeway: float = 0.0
    skew_window: float = 300.0


class Evidence(NamedTuple):
    """One observation behind a cause. Like panva/jose's errors it names a claim and a reason code.

    (Evidence, Finding, Cause, TokenView and Diagnosis are named tuples: immutable, and built per token
    three times faster than frozen dataclasses.)

    ``seconds_off`` is how far a time claim lies beyond the leeway; ``leeway_needed`` is the smallest
    whole number of seconds of leeway that would have accepted the token for this claim.
    """

    claim: str | None
    reason: str
    detail: str
    seconds_off: float | None = None
    leeway_needed: int | None = None


class Finding(NamedTuple):
    """What one check concludes: a cause with one piece of evidence and how likely it is (0..1).

    The engine merges findings into one Cause per cause id; ``summary`` (a few words such as "issuer
    about 70 s ahead") follows the cause's title in headlines.
    """

    cause: CauseId
    evidence: Evidence
    likelihood: float
    summary: str | None = None


class Cause(NamedTuple):
    id: CauseId
    summary: str
    evidence: tuple[Evidence, ...]
    likelihood: float

    @property
    def claims(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for item in self.evidence:
            if item.claim:
                seen.setdefault(item.claim, None)
        return tuple(seen)


class TokenView(NamedTuple):
    """A token as it may be shown: never its signature.

    ``redacted`` is ``header.payload.`` plus a fixed marker (for a JWE: the protected header plus the
    marker). ``fingerprint`` is a truncated SHA-256 of the whole token, for caching and de-duplication.
    ``claims`` is None when the payload could not be read (a JWE, or a malformed payload).
    """

    kind: Literal["jws", "jwe"]
    redacted: str
    fingerprint: str
    header: Mapping[str, JSONValue] | None
    claims: Mapping[str, JSONValue] | None


class Diagnosis(NamedTuple):
    """What one token or one error text tells; ``diagnosis._replace(...)`` makes a changed copy."""

    source: Source
    position: int
    verdict: Verdict
    causes: tuple[Cause, ...]
    token: TokenView | None = None
    library: Library | None = None
    signature: SignatureStatus = SignatureStatus.NOT_CHECKED
    signature_detail: str = "no key configured"
    skipped_checks: tuple[str, ...] = ()
    error_text: str | None = None
    validator_time: float | None = None  # the validator's clock reading printed in an error text
    judged_at: float | None = None  # set when this diagnosis was judged at its own instant (a log line's time)
    workarounds: tuple[Workaround, ...] = ()
    dead_ends: tuple[DeadEnd, ...] = ()

    @property
    def cause_ids(self) -> tuple[CauseId, ...]:
        return tuple(cause.id for cause in self.causes)

    @property
    def top_cause(self) -> Cause | None:
        return self.causes[0] if self.causes else None


@dataclass(frozen=True, slots=True)
class Report:
    """Everything found in one piece of text, as of one instant."""

    evaluated_at: datetime
    expectations: Expectations
    diagnoses: tuple[Diagnosis, ...] = ()
    omitted: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def has_problems(self) -> bool:
        return any(d.verdict is not Verdict.VALID for d in self.diagnoses)
