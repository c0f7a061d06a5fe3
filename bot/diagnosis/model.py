"""The one Diagnosis model that every front door renders (terminal text, JSON, Block Kit).

Everything here is immutable data. Nothing in this module knows about Slack, Redis or the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple, TypeAlias

from bot.diagnosis.advice import DeadEnd, Workaround
from bot.diagnosis.ids import FULLY_CHECKED, CauseId, Checked, Library, Reason, SignatureStatus, Source, Verdict

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"


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
    reason: Reason
    detail: str
    seconds_off: float | None = None
    leeway_needed: int | None = None


class Finding(NamedTuple):
    """What one check concludes: a cause with one piece of evidence and how likely it is (0..1).

    The engine merges findings into one Cause per cause id; ``summary`` (a few words such as "issuer
    about 70 s ahead") follows the cause's title in headlines. A ``warning`` is worth saying but refuses
    nothing: the validators accept the token (an exp in milliseconds, an nbf before 1970).
    """

    cause: CauseId
    evidence: Evidence
    likelihood: float
    summary: str | None = None
    warning: bool = False


class Cause(NamedTuple):
    """One cause id with the evidence of every claim behind it.

    ``summary`` is the cause's title followed by ``detail`` (the strongest finding's few words): the
    core titles a cause by its id, and the advice step (``bot.knowledge.advise``) puts the knowledge
    base's title in its place.
    """

    id: CauseId
    summary: str
    evidence: tuple[Evidence, ...]
    likelihood: float
    detail: str | None = None

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

    An ``opaque`` access token (not a JWT: no dots) is itself a credential: ``redacted`` shows at most its
    first four characters and its length (``2Yot… (22 chars)``), and it has no header and no claims.
    """

    kind: Literal["jws", "jwe", "opaque"]
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
    warnings: tuple[Cause, ...] = ()  # worth saying, refusing nothing (see Finding.warning)
    checked: tuple[Checked, ...] = ()  # what a token's diagnosis checked (empty for an error text)
    expected_from: tuple[str, ...] = ()  # expectations learned from an error text beside the token, and where
    libraries: tuple[tuple[str, str], ...] = ()  # where named libraries differ: (library id, accepts|refuses)
    libraries_differ: str | None = None  # the same, said in a sentence with each library's own error
    # What to do next where the evidence is thin (a generic refusal naming no claim and no library): how to
    # get the validator's own error line, how to share the token safely. Added by the advise step.
    next_steps: tuple[str, ...] = ()
    # The error text came from a gateway or a mesh's proxy ("gateway", "mesh"), which refused the request
    # before the service saw it: its configuration fix comes first. Added by the advise step.
    in_front: str | None = None

    @property
    def cause_ids(self) -> tuple[CauseId, ...]:
        return tuple(cause.id for cause in self.causes)

    @property
    def fully_checked(self) -> bool:
        """Audience, issuer and signature were checked: only then is a token without causes *valid*."""
        return FULLY_CHECKED.issubset(self.checked)

    @property
    def unchecked(self) -> tuple[Checked, ...]:
        """What a token's diagnosis could not check, for lack of expectations or keys (no required claims
        given is nothing left unchecked)."""
        if self.source is not Source.TOKEN:
            return ()
        return tuple(c for c in Checked if c not in self.checked and c is not Checked.REQUIRED_CLAIMS)

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

    def with_diagnoses(self, diagnoses: tuple[Diagnosis, ...]) -> Report:
        return Report(self.evaluated_at, self.expectations, diagnoses, self.omitted, self.notes)


__all__ = [  # the ids are defined in bot.diagnosis.ids and re-exported here, beside the model that uses them
    "Cause",
    "CauseId",
    "Checked",
    "DeadEnd",
    "Diagnosis",
    "Evidence",
    "Expectations",
    "Finding",
    "JSONValue",
    "Library",
    "Reason",
    "Report",
    "SignatureStatus",
    "Source",
    "TokenView",
    "Verdict",
    "Workaround",
]
