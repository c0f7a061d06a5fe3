"""The engine: text + expectations + an instant in, a Report out. Pure: no network, Slack or Redis.

Every token and every recognised error text becomes one Diagnosis, in order of appearance. Nothing
here raises on bad input; a token that cannot be read is a ``malformed`` diagnosis.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from bot.diagnosis.checks import NOTHING, Check, CheckContext
from bot.diagnosis.checks.algorithm import check_algorithm
from bot.diagnosis.checks.audience import check_audience
from bot.diagnosis.checks.issuer import check_issuer
from bot.diagnosis.checks.required import check_required_claims
from bot.diagnosis.checks.time_claims import check_time_claims
from bot.diagnosis.checks.values import show
from bot.diagnosis.decode import DecodedToken, decode_token
from bot.diagnosis.error_texts import ErrorTextMatch, default_catalogue, find_error_texts
from bot.diagnosis.model import (
    Cause,
    CauseId,
    Diagnosis,
    Evidence,
    Expectations,
    Finding,
    JSONValue,
    Library,
    Report,
    SignatureStatus,
    Source,
    TokenView,
    Verdict,
)
from bot.diagnosis.redact import REDACTION_MARKER, fingerprint, redact_text, redacted_form
from bot.diagnosis.scan import STARTS, TokenCandidate, find_tokens, unescape_slack
from bot.diagnosis.signature import NOT_CONFIGURED, KeyResolution, SignatureOutcome, check_signature
from bot.knowledge import DeadEnd, Knowledge, Workaround, default_knowledge

STATIC_CHECKS: tuple[Check, ...] = (check_algorithm, check_audience, check_issuer, check_required_claims)
SIGNATURE_NOT_CHECKED = "signature (no key configured)"
KeyLookup = Callable[[str], KeyResolution | None]


def diagnose_text(
    text: str,
    expectations: Expectations,
    now: datetime,
    *,
    knowledge: Knowledge | None = None,
    limit: int | None = None,
    keys: KeyLookup | None = None,
) -> Report:
    """Diagnose every token and error text in ``text`` as of ``now``.

    ``limit`` caps the number of diagnoses (the rest are counted in ``Report.omitted``). ``keys`` gives,
    for a raw token, what the configured key sources resolved for it (None: no key configured); the
    lookup runs in memory and must not fetch (``bot/keys`` resolves beforehand when a fetch is needed).
    """
    found, library, omitted = scan_text(text, now.timestamp(), limit)
    diagnoses = diagnose_found(found, library, expectations, now.timestamp(), knowledge=knowledge, keys=keys)
    return Report(now, expectations, tuple(diagnoses), omitted)


def diagnose_found(
    found: Iterable[TokenCandidate | ErrorTextMatch],
    library: Library | None,
    expectations: Expectations,
    now: float,
    *,
    knowledge: Knowledge | None = None,
    keys: KeyLookup | None = None,
) -> list[Diagnosis]:
    """One Diagnosis per item that :func:`scan_text` found (or per slice of them: items are judged alone)."""
    adviser = adviser_for(knowledge or default_knowledge())
    diagnoses = []
    for item in found:
        if isinstance(item, TokenCandidate):
            facts = examine_token(item.token, expectations, keys(item.token) if keys else None)
            diagnoses.append(
                judge_token(facts, expectations, now, position=item.start, library=library, adviser=adviser)
            )
        else:
            diagnoses.append(diagnose_error_text(item, adviser=adviser))
    return diagnoses


def scan_text(
    text: str, now: float, limit: int | None = None
) -> tuple[list[TokenCandidate | ErrorTextMatch], Library | None, int]:
    """Tokens and error texts in order of appearance, the one library the error texts name (if
    exactly one), and how many items ``limit`` left out."""
    text = unescape_slack(text)
    catalogue = default_catalogue()
    # One scan for both questions: the token starts, and the catalogue's needles (or their anchors, with the
    # pure-Python backend; see error_texts._prefilter).
    present = STARTS.union(catalogue.prefilter).present(text)
    if not present:
        return [], None, 0  # most messages: no token start, no error message
    hits = set(present)
    has_start = any(literal in STARTS for literal in present)
    # The anchors whose needles may be in the text; the other anchors' needles are not in it.
    anchors = [
        anchor for anchor, needles in catalogue.anchors.items() if anchor in hits or not hits.isdisjoint(needles)
    ]
    errors = find_error_texts(text, now=now, anchors=anchors) if anchors else []
    tokens = find_tokens(text, has_start=True) if has_start else []
    found: list[TokenCandidate | ErrorTextMatch] = sorted([*tokens, *errors], key=lambda i: i.start)
    omitted = 0
    if limit is not None and len(found) > limit:
        found, omitted = found[:limit], len(found) - limit
    libraries = {match.library for match in errors if match.library is not None}
    return found, (libraries.pop() if len(libraries) == 1 else None), omitted


class TokenFacts(NamedTuple):
    """Everything about a token that does not depend on the instant: safe to cache, no signature.

    (A named tuple, immutable like the rest of the model: one is built per token.)

    ``findings`` hold the decode problems, the checks that ignore the clock and the signature check's
    findings; the time checks are re-run by :func:`judge_token` at every read, so a cached "valid"
    never outlives ``exp``. ``signature`` is the outcome of verifying with the resolved keys
    (``not_checked`` when no key source is configured).
    """

    view: TokenView
    findings: tuple[Finding, ...]
    skipped: tuple[str, ...]
    readable: bool  # header and claims decoded: the time checks can run
    malformed: bool
    signature: SignatureStatus = SignatureStatus.NOT_CHECKED
    signature_detail: str = NOT_CONFIGURED.detail
    keys_configured: bool = False


def examine_token(raw: str, expectations: Expectations, keys: KeyResolution | None = None) -> TokenFacts:
    """Decode, verify the signature with ``keys`` (None: no key source configured) and run the static checks.

    The signature is verified here, from the raw token in memory, before anything is redacted; only
    the outcome (status, a sentence, findings) leaves this function.
    """
    decoded = decode_token(raw)
    findings: list[Finding] = list(decoded.problems)
    skipped: list[str] = [] if keys is not None else [SIGNATURE_NOT_CHECKED]
    readable = decoded.kind == "jws" and decoded.header is not None and decoded.claims is not None
    if decoded.kind == "jwe" and decoded.header is not None:
        findings.append(_encrypted(decoded))
    elif readable:
        assert decoded.header is not None and decoded.claims is not None
        context = CheckContext(decoded.header, decoded.claims, expectations, 0.0)
        for check in STATIC_CHECKS:
            outcome = check(context)
            if outcome is not NOTHING:  # most checks pass: nothing to add
                findings.extend(outcome.findings)
                skipped.extend(outcome.skipped)
    signature: SignatureOutcome = NOT_CONFIGURED
    if keys is not None:
        signature = check_signature(decoded, keys, expectations)
        findings.extend(signature.findings)
    malformed = (
        decoded.header is None
        or (decoded.kind == "jws" and decoded.claims is None)
        or (bool(findings) and any(finding.cause is CauseId.MALFORMED for finding in findings))
    )
    return TokenFacts(
        _view(decoded),
        tuple(findings),
        tuple(skipped),
        readable,
        malformed,
        signature.status,
        signature.detail,
        keys is not None,
    )


def judge_token(
    facts: TokenFacts,
    expectations: Expectations,
    now: float,
    *,
    position: int = 0,
    library: Library | None = None,
    titles: Mapping[CauseId, str] | None = None,
    adviser: Adviser | None = None,
) -> Diagnosis:
    """Add the time checks, as of ``now``, to what :func:`examine_token` found; with an ``adviser``,
    the workarounds and dead ends too."""
    findings = facts.findings
    view = facts.view
    if facts.readable and view.header is not None and view.claims is not None:
        timed = check_time_claims(CheckContext(view.header, view.claims, expectations, now)).findings
        if timed:
            findings = findings + timed
    if titles is None:
        titles = adviser.titles if adviser is not None else _titles(None)
    causes = merge_findings(findings, titles)
    workarounds, dead_ends = adviser.advice(causes, library) if adviser is not None else NO_ADVICE
    return Diagnosis(
        source=Source.TOKEN,
        position=position,
        verdict=_verdict(facts, causes),
        causes=causes,
        token=view,
        library=library,
        signature=facts.signature,
        signature_detail=facts.signature_detail,
        skipped_checks=facts.skipped,
        workarounds=workarounds,
        dead_ends=dead_ends,
    )


def diagnose_token(
    raw: str,
    expectations: Expectations,
    now: float,
    *,
    position: int = 0,
    library: Library | None = None,
    knowledge: Knowledge | None = None,
    keys: KeyResolution | None = None,
) -> Diagnosis:
    """Judge one token. Causes come without workarounds unless ``knowledge`` is given."""
    return judge_token(
        examine_token(raw, expectations, keys),
        expectations,
        now,
        position=position,
        library=library,
        adviser=adviser_for(knowledge) if knowledge else None,
    )


def diagnose_error_text(
    match: ErrorTextMatch, titles: Mapping[CauseId, str] | None = None, *, adviser: Adviser | None = None
) -> Diagnosis:
    if titles is None:
        titles = adviser.titles if adviser is not None else _titles(None)
    causes = merge_findings(match.findings, titles)
    workarounds, dead_ends = adviser.advice(causes, match.library) if adviser is not None else NO_ADVICE
    return Diagnosis(
        source=Source.ERROR_TEXT,
        position=match.start,
        verdict=Verdict.INVALID,
        causes=causes,
        library=match.library,
        error_text=match.excerpt,
        validator_time=match.validator_time,
        signature_detail="no token in this text: only the error message was read",
        workarounds=workarounds,
        dead_ends=dead_ends,
    )


def merge_findings(findings: Iterable[Finding], titles: Mapping[CauseId, str]) -> tuple[Cause, ...]:
    """One Cause per cause id, with the evidence of every claim behind it, most likely first."""
    if not findings:
        return ()
    if not isinstance(findings, tuple | list):
        findings = tuple(findings)
    if len(findings) == 1:
        [only] = findings
        return (_cause(only.cause, [only], titles),)
    grouped: dict[CauseId, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.cause, []).append(finding)
    causes = [_cause(cause_id, group, titles) for cause_id, group in grouped.items()]
    causes.sort(key=lambda cause: cause.likelihood, reverse=True)
    return tuple(causes)


def _cause(cause_id: CauseId, group: Sequence[Finding], titles: Mapping[CauseId, str]) -> Cause:
    best = group[0] if len(group) == 1 else max(group, key=lambda f: (f.likelihood, f.evidence.seconds_off or 0.0))
    evidence = (best.evidence,) if len(group) == 1 else tuple(dict.fromkeys(f.evidence for f in group))
    title = titles.get(cause_id) or cause_id.value.replace("_", " ").capitalize()
    summary = f"{title}: {best.summary}" if best.summary else title
    return Cause(cause_id, summary, evidence, max(f.likelihood for f in group))


def _encrypted(decoded: DecodedToken) -> Finding:
    header = decoded.header or {}
    detail = (
        f"the token is encrypted (JWE, alg {show(header.get('alg'))}, enc {show(header.get('enc'))}): its claims "
        "are readable only by the API that holds the decryption key. If the API expects a signed token, the "
        "client asked for the wrong token (an identity provider issues an encrypted or opaque token when no "
        "audience is requested)"
    )
    return Finding(CauseId.ENCRYPTED_TOKEN, Evidence(None, "jwe", detail), 1.0, "claims cannot be read")


def _verdict(facts: TokenFacts, causes: Sequence[Cause]) -> Verdict:
    """With a key source configured, ``valid`` needs a verified signature; a cause always makes ``invalid``."""
    if facts.malformed:
        return Verdict.MALFORMED
    if causes and any(cause.id is CauseId.ENCRYPTED_TOKEN for cause in causes):
        return Verdict.UNVERIFIABLE
    if causes or facts.signature is SignatureStatus.INVALID:
        return Verdict.INVALID
    if facts.keys_configured and facts.signature is not SignatureStatus.VERIFIED:
        return Verdict.UNVERIFIABLE  # the key source failed: the claims are fine, the signature is unknown
    return Verdict.VALID


def _view(decoded: DecodedToken) -> TokenView:
    segments = decoded.segments
    redacted = redacted_form(segments) if len(segments) in (3, 5) else f"{segments[0]}.{REDACTION_MARKER}"
    if not decoded.may_hold_tokens:  # the JSON texts hold no token start and no escape: nothing to redact
        return TokenView(decoded.kind, redacted, fingerprint(decoded.raw), decoded.header, decoded.claims)
    return TokenView(
        decoded.kind, redacted, fingerprint(decoded.raw), _redact_json(decoded.header), _redact_json(decoded.claims)
    )


def _redact_json(value: dict[str, JSONValue] | None) -> dict[str, JSONValue] | None:
    """Claims may carry other tokens (act, id_token_hint…): their signatures are hidden too."""
    if value is None:
        return value
    return _redact_value(value)  # type: ignore[return-value]


def _redact_value(value: JSONValue) -> JSONValue:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_value(item) for item in value]
    return value


def _titles(knowledge: Knowledge | None) -> dict[CauseId, str]:
    if knowledge is None:
        return adviser_for(default_knowledge()).titles
    return {cause_id: info.title for cause_id, info in knowledge.causes.items()}


Advice = tuple[tuple[Workaround, ...], tuple[DeadEnd, ...]]
NO_ADVICE: Advice = ((), ())
MAX_REMEMBERED_ADVICE = 4096  # distinct (causes, library) combinations; real logs have a few dozen


class Adviser:
    """Attaches workarounds and dead ends; memoised, since a log of thousands of tokens repeats itself."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        self.titles = _titles(knowledge)
        self._memo: dict[tuple[tuple[CauseId, ...], Library | None], Advice] = {}

    def advice(self, causes: Sequence[Cause], library: Library | None) -> Advice:
        """What to do, and what not to, for ``causes`` (most likely first) seen with ``library``."""
        if not causes:
            return NO_ADVICE
        key = (tuple(cause.id for cause in causes), library)
        advice = self._memo.get(key)
        if advice is None:
            advice = self.knowledge.advise(key[0], library.value if library else None)
            if len(self._memo) < MAX_REMEMBERED_ADVICE:
                self._memo[key] = advice
        return advice

    def advise(self, diagnosis: Diagnosis) -> Diagnosis:
        workarounds, dead_ends = self.advice(diagnosis.causes, diagnosis.library)
        if workarounds is diagnosis.workarounds and dead_ends is diagnosis.dead_ends:
            return diagnosis
        return diagnosis._replace(workarounds=workarounds, dead_ends=dead_ends)


_ADVISERS: dict[int, tuple[Knowledge, Adviser]] = {}


def adviser_for(knowledge: Knowledge) -> Adviser:
    """One Adviser per Knowledge, kept, so that its memo outlives one call of :func:`diagnose_text`."""
    kept = _ADVISERS.get(id(knowledge))
    if kept is not None and kept[0] is knowledge:
        return kept[1]
    if len(_ADVISERS) >= 8:  # tests build knowledge objects of their own: keep the last few only
        _ADVISERS.pop(next(iter(_ADVISERS)))
    adviser = Adviser(knowledge)
    _ADVISERS[id(knowledge)] = (knowledge, adviser)
    return adviser
