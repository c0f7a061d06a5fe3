"""The engine: text + expectations + an instant in, a Report out. Pure: no network, Slack or Redis.

Every token and every recognised error text becomes one Diagnosis, in order of appearance. Nothing
here raises on bad input; a token that cannot be read is a ``malformed`` diagnosis.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.diagnosis.checks import Check, CheckContext
from bot.diagnosis.checks.algorithm import check_algorithm
from bot.diagnosis.checks.audience import check_audience
from bot.diagnosis.checks.issuer import check_issuer
from bot.diagnosis.checks.required import check_required_claims
from bot.diagnosis.checks.time_claims import check_time_claims
from bot.diagnosis.checks.values import show
from bot.diagnosis.decode import DecodedToken, decode_token
from bot.diagnosis.error_texts import ErrorTextMatch, find_error_texts
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
from bot.diagnosis.scan import TokenCandidate, find_tokens, unescape_slack
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
    adviser = Adviser(knowledge or default_knowledge())
    instant = now.timestamp()
    found, library, omitted = scan_text(text, instant, limit)
    diagnoses = []
    for item in found:
        if isinstance(item, TokenCandidate):
            facts = examine_token(item.token, expectations, keys(item.token) if keys else None)
            diagnosis = judge_token(facts, expectations, instant, position=item.start, library=library,
                                    titles=adviser.titles)
        else:
            diagnosis = diagnose_error_text(item, adviser.titles)
        diagnoses.append(adviser.advise(diagnosis))
    return Report(now, expectations, tuple(diagnoses), omitted)


def scan_text(
    text: str, now: float, limit: int | None = None
) -> tuple[list[TokenCandidate | ErrorTextMatch], Library | None, int]:
    """Tokens and error texts in order of appearance, the one library the error texts name (if
    exactly one), and how many items ``limit`` left out."""
    text = unescape_slack(text)
    errors = find_error_texts(text, now=now)
    found: list[TokenCandidate | ErrorTextMatch] = sorted([*find_tokens(text), *errors], key=lambda i: i.start)
    omitted = 0
    if limit is not None and len(found) > limit:
        found, omitted = found[:limit], len(found) - limit
    libraries = {match.library for match in errors if match.library is not None}
    return found, (libraries.pop() if len(libraries) == 1 else None), omitted


@dataclass(frozen=True, slots=True)
class TokenFacts:
    """Everything about a token that does not depend on the instant: safe to cache, no signature.

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
            findings.extend(outcome.findings)
            skipped.extend(outcome.skipped)
    signature: SignatureOutcome = NOT_CONFIGURED
    if keys is not None:
        signature = check_signature(decoded, keys, expectations)
        findings.extend(signature.findings)
    malformed = decoded.header is None or (decoded.kind == "jws" and decoded.claims is None) or any(
        finding.cause is CauseId.MALFORMED for finding in findings
    )
    return TokenFacts(_view(decoded), tuple(findings), tuple(skipped), readable, malformed, signature.status,
                      signature.detail, keys is not None)


def judge_token(
    facts: TokenFacts,
    expectations: Expectations,
    now: float,
    *,
    position: int = 0,
    library: Library | None = None,
    titles: Mapping[CauseId, str] | None = None,
) -> Diagnosis:
    """Add the time checks, as of ``now``, to what :func:`examine_token` found."""
    findings = list(facts.findings)
    view = facts.view
    if facts.readable and view.header is not None and view.claims is not None:
        findings.extend(check_time_claims(CheckContext(view.header, view.claims, expectations, now)).findings)
    causes = merge_findings(findings, titles if titles is not None else _titles(None))
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
    diagnosis = judge_token(examine_token(raw, expectations, keys), expectations, now, position=position,
                            library=library, titles=_titles(knowledge))
    return Adviser(knowledge).advise(diagnosis) if knowledge else diagnosis


def diagnose_error_text(match: ErrorTextMatch, titles: Mapping[CauseId, str] | None = None) -> Diagnosis:
    return Diagnosis(
        source=Source.ERROR_TEXT,
        position=match.start,
        verdict=Verdict.INVALID,
        causes=merge_findings(match.findings, titles if titles is not None else _titles(None)),
        library=match.library,
        error_text=match.excerpt,
        validator_time=match.validator_time,
        signature_detail="no token in this text: only the error message was read",
    )


def merge_findings(findings: Iterable[Finding], titles: Mapping[CauseId, str]) -> tuple[Cause, ...]:
    """One Cause per cause id, with the evidence of every claim behind it, most likely first."""
    grouped: dict[CauseId, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.cause, []).append(finding)
    causes = []
    for cause_id, group in grouped.items():
        best = max(group, key=lambda f: (f.likelihood, f.evidence.seconds_off or 0.0))
        evidence = tuple(dict.fromkeys(f.evidence for f in group))
        title = titles.get(cause_id, cause_id.value.replace("_", " ").capitalize())
        summary = f"{title}: {best.summary}" if best.summary else title
        causes.append(Cause(cause_id, summary, evidence, max(f.likelihood for f in group)))
    causes.sort(key=lambda cause: cause.likelihood, reverse=True)
    return tuple(causes)


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
    if any(cause.id is CauseId.ENCRYPTED_TOKEN for cause in causes):
        return Verdict.UNVERIFIABLE
    if causes or facts.signature is SignatureStatus.INVALID:
        return Verdict.INVALID
    if facts.keys_configured and facts.signature is not SignatureStatus.VERIFIED:
        return Verdict.UNVERIFIABLE  # the key source failed: the claims are fine, the signature is unknown
    return Verdict.VALID


def _view(decoded: DecodedToken) -> TokenView:
    segments = decoded.segments
    redacted = redacted_form(segments) if len(segments) in (3, 5) else f"{segments[0]}.{REDACTION_MARKER}"
    return TokenView(decoded.kind, redacted, fingerprint(decoded.raw), _redact_json(decoded.header),
                     _redact_json(decoded.claims))


def _redact_json(value: dict[str, JSONValue] | None) -> dict[str, JSONValue] | None:
    """Claims may carry other tokens (act, id_token_hint…): their signatures are hidden too."""
    if value is None or "." not in repr(value):
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
    return {cause_id: info.title for cause_id, info in (knowledge or default_knowledge()).causes.items()}


Advice = tuple[tuple[Workaround, ...], tuple[DeadEnd, ...]]


class Adviser:
    """Attaches workarounds and dead ends; memoised, since a log of thousands of tokens repeats itself."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        self.titles = _titles(knowledge)
        self._memo: dict[tuple[tuple[CauseId, ...], Library | None], Advice] = {}

    def advise(self, diagnosis: Diagnosis) -> Diagnosis:
        key = (diagnosis.cause_ids, diagnosis.library)
        advice = self._memo.get(key)
        if advice is None:
            library = diagnosis.library.value if diagnosis.library else None
            advice = self._memo[key] = self.knowledge.advise(diagnosis.cause_ids, library)
        return replace(diagnosis, workarounds=advice[0], dead_ends=advice[1])
