"""The second step: judge what :func:`bot.diagnosis.scan.scan` found, as of one instant. Pure.

Like PyJWT's ``_validate_claims``, every check runs in one fixed order, listed once:

1. decode the header and the payload without trusting them (a token that cannot be read is
   ``malformed``; an encrypted one stops here);
2. the algorithm, 3. the audience, 4. the issuer, 5. the required claims (the static checks);
6. the signature, with the keys the service's key sources resolved beforehand;
7. exp, nbf and iat, against the instant.

Steps 1-6 do not depend on the instant: :func:`examine` runs them and returns :class:`TokenFacts`,
which a caller may cache and hand back to :func:`judge` (``facts=``); step 7 runs at every judgement,
so a cached "valid" never outlives ``exp``. Every problem is reported, not only the first, merged
into one Cause per cause id and ranked. Nothing here raises on bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from bot.diagnosis.advice import DeadEnd, Workaround
from bot.diagnosis.checks import NOTHING, Check, CheckContext
from bot.diagnosis.checks.algorithm import check_algorithm
from bot.diagnosis.checks.audience import check_audience
from bot.diagnosis.checks.issuer import check_issuer
from bot.diagnosis.checks.required import check_required_claims
from bot.diagnosis.checks.time_claims import time_findings
from bot.diagnosis.checks.values import show
from bot.diagnosis.decode import DecodedToken, decode_token
from bot.diagnosis.error_texts import ErrorTextMatch
from bot.diagnosis.ids import CauseId, Checked, Library, Reason, SignatureStatus, Source, Verdict
from bot.diagnosis.model import (
    Cause,
    Diagnosis,
    Evidence,
    Expectations,
    Finding,
    JSONValue,
    Report,
    TokenView,
)
from bot.diagnosis.redact import REDACTION_MARKER, fingerprint, redact_text, redacted_form
from bot.diagnosis.scan import Found, OpaqueCandidate, TokenCandidate
from bot.diagnosis.signature import NOT_CONFIGURED, KeyResolution, SignatureOutcome, check_signature

STATIC_CHECKS: tuple[Check, ...] = (check_algorithm, check_audience, check_issuer, check_required_claims)
SIGNATURE_NOT_CHECKED = "signature (no key configured)"
NO_CAUSES: tuple[Cause, ...] = ()
ERROR_TEXT_SIGNATURE = "no token in this text: only the error message was read"
KeyLookup = Callable[[str], KeyResolution | None]
"""For a raw token, what the configured key sources resolved for it (None: no key configured). It runs
in memory and must not fetch: ``bot.keys`` resolves beforehand when a fetch is needed."""
Titles = Mapping[CauseId, str]
"""Each cause's title, as the knowledge base words it (a cause it does not title keeps its default)."""
AdviceFor = Callable[[tuple[CauseId, ...], str | None], tuple[tuple[Workaround, ...], tuple[DeadEnd, ...]]]
"""The workarounds and dead ends for the causes found (most likely first) and the library recognised
(its value, or None): ``bot.knowledge``'s ``Knowledge.advise``, handed to judge as data so that a token's
diagnosis is built once, advised (``bot.knowledge.advise.judge_advised``)."""


class TokenFacts(NamedTuple):
    """Everything about a token that does not depend on the instant: safe to cache, no signature.

    ``findings`` hold what steps 1-6 found; ``signature`` is the outcome of verifying with the resolved
    keys (``not_checked`` when no key source is configured).
    """

    view: TokenView
    findings: tuple[Finding, ...]
    skipped: tuple[str, ...]
    readable: bool  # header and claims decoded: the time checks can run
    malformed: bool
    signature: SignatureStatus = SignatureStatus.NOT_CHECKED
    signature_detail: str = NOT_CONFIGURED.detail
    keys_configured: bool = False


def judge(
    found: Found,
    expectations: Expectations,
    at: datetime,
    *,
    facts: Mapping[str, TokenFacts] | None = None,
    keys: KeyLookup | None = None,
    learned: tuple[str, ...] = (),
    titles: Titles | None = None,
    advice: AdviceFor | None = None,
) -> Report:
    """One Diagnosis per item found, in order, as of ``at``.

    ``facts`` are token facts the caller already has (a cache), by raw token; the other tokens are
    examined here, with ``keys``. ``learned`` says which expectations came from an error text beside the
    token (:func:`bot.diagnosis.expectations.learn`, run before the facts were fetched). The diagnoses
    carry causes, not advice: ``bot.knowledge.advise`` adds the workarounds and dead ends, or hands its
    ``titles`` and ``advice`` in here (see :func:`judge_token`).
    """
    now = at.timestamp()
    diagnoses: list[Diagnosis] = []
    for item in found.items:
        if isinstance(item, TokenCandidate):
            known = facts.get(item.token) if facts else None
            if known is None:
                known = examine(item.token, expectations, keys(item.token) if keys else None)
            diagnosis = judge_token(
                known, expectations, now, position=item.start, library=found.library, titles=titles, advice=advice
            )
            diagnoses.append(diagnosis._replace(expected_from=learned) if learned else diagnosis)
        elif isinstance(item, OpaqueCandidate):
            diagnoses.append(judge_opaque(item, library=found.library, titles=titles, advice=advice))
        else:
            diagnoses.append(judge_error_text(item, titles=titles, advice=advice))
    return Report(at, expectations, one_incident(diagnoses), found.omitted)


def one_incident(diagnoses: list[Diagnosis]) -> tuple[Diagnosis, ...]:
    """A token and the error texts it drew, pasted together, are one incident: one diagnosis, with the
    library and the message from the text and the times from the token. Only with one token, and only
    when the token's own causes cover what the texts say (else the texts tell something the token does
    not, and each keeps its own diagnosis); a text's time causes (a message without times offers both
    skew and expiry) are covered by any time cause of the token, whose times decide. An opaque token is
    not a JWT: it keeps its own diagnosis and is not counted among the tokens."""
    tokens = [d for d in diagnoses if d.source is Source.TOKEN and not is_opaque(d)]
    texts = [d for d in diagnoses if d.source is Source.ERROR_TEXT]
    if len(tokens) != 1 or not texts:
        return tuple(diagnoses)
    [token] = tokens
    if not token.causes or not all(_covers(token, text) for text in texts):
        return tuple(diagnoses)
    first = texts[0]
    merged = token._replace(error_text=first.error_text, validator_time=first.validator_time)
    opaque = [d for d in diagnoses if is_opaque(d)]
    return tuple(sorted([merged, *opaque], key=lambda d: d.position)) if opaque else (merged,)


TIME_CAUSES = frozenset({CauseId.EXPIRED, CauseId.CLOCK_SKEW, CauseId.NOT_YET_VALID, CauseId.ISSUED_IN_FUTURE})


def _covers(token: Diagnosis, text: Diagnosis) -> bool:
    said = set(text.cause_ids)
    if said & TIME_CAUSES and not TIME_CAUSES.intersection(token.cause_ids):
        return False
    return (said - TIME_CAUSES).issubset(token.cause_ids)


def examine(raw: str, expectations: Expectations, keys: KeyResolution | None = None) -> TokenFacts:
    """Steps 1-6. The signature is verified here, from the raw token in memory, before anything is
    redacted; only its outcome (a status, a sentence, findings) leaves this function."""
    decoded = decode_token(raw)  # 1
    findings: list[Finding] = list(decoded.problems)
    skipped: list[str] = [] if keys is not None else [SIGNATURE_NOT_CHECKED]
    readable = decoded.kind == "jws" and decoded.header is not None and decoded.claims is not None
    if decoded.kind == "jwe" and decoded.header is not None:
        findings.append(_encrypted(decoded))
    elif readable:
        assert decoded.header is not None and decoded.claims is not None
        context = CheckContext(decoded.header, decoded.claims, expectations, 0.0)
        for check in STATIC_CHECKS:  # 2-5
            outcome = check(context)
            if outcome is not NOTHING:  # most checks pass: nothing to add
                findings.extend(outcome.findings)
                skipped.extend(outcome.skipped)
    signature: SignatureOutcome = NOT_CONFIGURED
    if keys is not None:  # 6
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
    titles: Titles | None = None,
    advice: AdviceFor | None = None,
) -> Diagnosis:
    """Step 7 as of ``now`` (epoch seconds), on top of what :func:`examine` found.

    With ``titles``, the causes and warnings are titled as the knowledge base words them; with
    ``advice``, the causes' workarounds and dead ends are chosen here too. Invariant (tested in
    tests/knowledge/test_advise.py): the diagnosis is then the very one the advice step would make of
    the diagnosis judged without them, its libraries aside (``bot.knowledge.advise`` adds those).
    """
    findings = facts.findings
    view = facts.view
    warned = False
    if facts.readable and view.header is not None and view.claims is not None:
        timed = time_findings(view.claims, expectations, now)  # 7
        if timed:
            findings = findings + tuple(timed)
            warned = any(finding.warning for finding in timed)  # only the time checks warn
    if warned:
        causes, warnings = _split_warnings(findings, titles)
    else:
        causes, warnings = merge_findings(findings, titles), NO_CAUSES
    workarounds, dead_ends = _advised(causes, library, advice) if advice is not None else NO_ADVICE
    # Positional, in the model's field order: built once per token, and keywords cost a third more.
    return Diagnosis(
        Source.TOKEN,
        position,
        _verdict(facts, causes),
        causes,
        view,
        library,
        facts.signature,
        facts.signature_detail,
        facts.skipped,
        None,  # error_text
        None,  # validator_time
        None,  # judged_at
        workarounds,
        dead_ends,
        warnings,
        _checked(facts, expectations),
    )


def judge_error_text(
    match: ErrorTextMatch, *, titles: Titles | None = None, advice: AdviceFor | None = None
) -> Diagnosis:
    """An error message is a refusal already made: its causes are what the message says."""
    causes = merge_findings(match.findings, titles)
    workarounds, dead_ends = _advised(causes, match.library, advice)
    return Diagnosis(
        source=Source.ERROR_TEXT,
        position=match.start,
        verdict=Verdict.INVALID,
        causes=causes,
        library=match.library,
        error_text=match.excerpt,
        validator_time=match.validator_time,
        signature_detail=ERROR_TEXT_SIGNATURE,
        workarounds=workarounds,
        dead_ends=dead_ends,
    )


NO_ADVICE: tuple[tuple[Workaround, ...], tuple[DeadEnd, ...]] = ((), ())


def _advised(
    causes: tuple[Cause, ...], library: Library | None, advice: AdviceFor | None
) -> tuple[tuple[Workaround, ...], tuple[DeadEnd, ...]]:
    """The advice for ``causes`` (none without causes, as the advice step gives none)."""
    if not causes or advice is None:
        return NO_ADVICE
    ids = (causes[0].id,) if len(causes) == 1 else tuple([cause.id for cause in causes])
    return advice(ids, library.value if library else None)


OPAQUE_SIGNATURE = "an opaque token has no signature to check: only its issuer can say whether it is valid"


def judge_opaque(
    item: OpaqueCandidate,
    *,
    library: Library | None = None,
    titles: Titles | None = None,
    advice: AdviceFor | None = None,
) -> Diagnosis:
    """An opaque access token where a JWT was expected: not a JWT, so no claim of it can be read or checked.

    The diagnosis carries what may be shown of it (``item.shown``), never its value.
    """
    where = "after Bearer" if item.marker == "Bearer" else "in access_token"
    what = (
        f"{item.shown} {where} has no dots: it is an opaque access token, not a JWT, most often because the "
        "token request named no audience (or resource) for this API"
    )
    why = (
        "the usual reasons: Auth0 returns an opaque token, good only for its /userinfo, when the request has no "
        "audience; RFC 8707 issuers take resource; Okta's org authorization server and Entra ID without the API's "
        "scope issue tokens for their own APIs, to be treated as opaque; or the authorization server issues "
        "reference tokens by design, to be checked by introspection (RFC 7662). No claim of it can be read here, "
        "and a JWT validator refuses it before checking any (PyJWT: Not enough segments; jsonwebtoken: jwt "
        "malformed; Microsoft.IdentityModel: IDX14100, there are no dots)"
    )
    findings = (
        Finding(CauseId.OPAQUE_TOKEN, Evidence(None, Reason.OPAQUE, what), 1.0, "no claims to read"),
        Finding(CauseId.OPAQUE_TOKEN, Evidence(None, Reason.OPAQUE, why), 1.0),
    )
    causes = merge_findings(findings, titles)
    workarounds, dead_ends = _advised(causes, library, advice)
    return Diagnosis(
        source=Source.TOKEN,
        position=item.start,
        verdict=Verdict.UNVERIFIABLE,
        causes=causes,
        token=TokenView("opaque", item.shown, item.fingerprint, None, None),
        library=library,
        signature_detail=OPAQUE_SIGNATURE,
        workarounds=workarounds,
        dead_ends=dead_ends,
        checked=(Checked.FORMAT,),
    )


def is_opaque(diagnosis: Diagnosis) -> bool:
    """Whether the diagnosis is of an opaque token (not a JWT)."""
    return diagnosis.token is not None and diagnosis.token.kind == "opaque"


def merge_findings(findings: Iterable[Finding], titles: Titles | None = None) -> tuple[Cause, ...]:
    """One Cause per cause id, with the evidence of every claim behind it, most likely first; titled by
    ``titles`` where they title the cause, else by :func:`default_title`."""
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


def _split_warnings(findings: Sequence[Finding], titles: Titles | None) -> tuple[tuple[Cause, ...], tuple[Cause, ...]]:
    """Causes (what refuses the token) and warnings (what refuses nothing). A warning whose cause id
    also refuses the token through another claim is evidence of that cause, not a warning."""
    refusing = {finding.cause for finding in findings if not finding.warning}
    causes = merge_findings([finding for finding in findings if finding.cause in refusing], titles)
    warnings = merge_findings([finding for finding in findings if finding.cause not in refusing], titles)
    return causes, warnings


_CHECKED: dict[tuple[bool, ...], tuple[Checked, ...]] = {}


def _checked(facts: TokenFacts, expectations: Expectations) -> tuple[Checked, ...]:
    """What this judgement checked. Memoised by what decides it: a handful of combinations in any run."""
    signed = facts.signature is SignatureStatus.VERIFIED or facts.signature is SignatureStatus.INVALID
    key = (
        facts.readable,
        bool(expectations.algorithms),
        bool(expectations.audiences),
        bool(expectations.issuers),
        bool(expectations.required_claims),
        signed,
    )
    checked = _CHECKED.get(key)
    if checked is None:
        ran = [Checked.FORMAT]
        if facts.readable:
            static = (Checked.ALGORITHM, Checked.AUDIENCE, Checked.ISSUER, Checked.REQUIRED_CLAIMS)
            ran += [check for check, given in zip(static, key[1:5], strict=True) if given]
            ran.append(Checked.TIMES)
        if signed:
            ran.append(Checked.SIGNATURE)
        checked = _CHECKED[key] = tuple(ran)
    return checked


def default_title(cause_id: CauseId) -> str:
    """A cause's title until the knowledge base gives its own (``bot.knowledge.advise``)."""
    return _DEFAULT_TITLES[cause_id]


_DEFAULT_TITLES = {cause_id: cause_id.value.replace("_", " ").capitalize() for cause_id in CauseId}


def titled(title: str, detail: str | None) -> str:
    """A cause's summary: its title, then the strongest finding's few words."""
    return f"{title}: {detail}" if detail else title


def _cause(cause_id: CauseId, group: Sequence[Finding], titles: Titles | None) -> Cause:
    title = titles.get(cause_id) if titles is not None else None
    if title is None:
        title = _DEFAULT_TITLES[cause_id]
    if len(group) == 1:
        [best] = group
        summary = f"{title}: {best.summary}" if best.summary else title  # titled(), inline: once per cause
        return Cause(cause_id, summary, (best.evidence,), best.likelihood, best.summary)
    best = max(group, key=lambda f: (f.likelihood, f.evidence.seconds_off or 0.0))
    evidence = tuple(dict.fromkeys(f.evidence for f in group))
    return Cause(cause_id, titled(title, best.summary), evidence, max(f.likelihood for f in group), best.summary)


def _encrypted(decoded: DecodedToken) -> Finding:
    header = decoded.header or {}
    detail = (
        f"the token is encrypted (JWE, alg {show(header.get('alg'))}, enc {show(header.get('enc'))}): its claims "
        "are readable only by the API that holds the decryption key. If the API expects a signed token, the "
        "client asked for the wrong token (an identity provider issues an encrypted or opaque token when no "
        "audience is requested)"
    )
    return Finding(CauseId.ENCRYPTED_TOKEN, Evidence(None, Reason.JWE, detail), 1.0, "claims cannot be read")


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
