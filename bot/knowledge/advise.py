"""The step after ``judge``: what to do about each diagnosis, what not to bother with, and where the
named libraries would judge the token differently.

The core judges without the knowledge base; this step adds each diagnosis's workarounds and dead ends
(chosen by :meth:`Knowledge.advise`, memoised there), titles its causes as the data files do, and,
where the libraries of the behaviour table part ways (``libraries.split``), says which accept the
token and which refuse it. An error text in which no library was recognised (a generic refusal such as
"JWT claims validation failed") also gets the next steps of ``data/error_texts/triage.toml``: how to get
the validator's own error line, how to share the token safely.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.diagnosis import (
    Cause,
    CauseId,
    Diagnosis,
    Found,
    KeyLookup,
    Library,
    Report,
    Source,
    TokenFacts,
    judge,
    judge_token,
)
from bot.diagnosis.judge import titled
from bot.diagnosis.model import Expectations
from bot.knowledge.libraries import AUDIENCE_NOT_CONFIGURED, audience_split, describe_split, may_differ, split
from bot.knowledge.model import Knowledge

TIME_CAUSES = frozenset({"clock_skew", "expired", "not_yet_valid", "issued_in_future"})
NAMED = ("pyjwt", "jsonwebtoken", "express-jwt", "jose")
"""The libraries a card speaks for: the three that tests/oracle runs for real (PyJWT 2.8.0, jsonwebtoken
9.0.0, jose 6) and express-jwt, which is jsonwebtoken behind an error handler. Each library added widens
the window around a time boundary in which they may part ways (Spring's 60 s default clock skew, .NET's
300 s) and so the tokens for which the model runs, at about a millisecond each."""


def advise(report: Report, knowledge: Knowledge) -> Report:
    """``report`` with every diagnosis advised."""
    now = report.evaluated_at.timestamp()
    return report.with_diagnoses(
        tuple(advise_one(diagnosis, knowledge, report.expectations, now) for diagnosis in report.diagnoses)
    )


def judge_advised(
    found: Found,
    expectations: Expectations,
    at: datetime,
    knowledge: Knowledge,
    *,
    facts: Mapping[str, TokenFacts] | None = None,
    keys: KeyLookup | None = None,
    learned: tuple[str, ...] = (),
) -> Report:
    """``advise(judge(found, …), knowledge)``, with each diagnosis built once: ``judge`` is handed the
    knowledge base's titles and advice (as data: the core imports no knowledge), and only what needs the
    knowledge base's code is added after (where libraries differ, the triage steps). Invariant, tested
    in tests/knowledge/test_advise.py: the very report ``advise(judge(…))`` makes."""
    report = judge(
        found,
        expectations,
        at,
        facts=facts,
        keys=keys,
        learned=learned,
        titles=knowledge.titles,
        advice=knowledge.advise,
    )
    now = at.timestamp()
    return report.with_diagnoses(
        tuple([_finish(diagnosis, expectations, now, knowledge) for diagnosis in report.diagnoses])
    )


def judge_token_advised(
    facts: TokenFacts,
    expectations: Expectations,
    now: float,
    knowledge: Knowledge,
    *,
    position: int = 0,
    library: Library | None = None,
) -> Diagnosis:
    """``advise_one(judge_token(facts, …), …)``, built once as :func:`judge_advised` builds it."""
    diagnosis = judge_token(
        facts,
        expectations,
        now,
        position=position,
        library=library,
        titles=knowledge.titles,
        advice=knowledge.advise,
    )
    return where_libraries_differ(diagnosis, expectations, now)


def _finish(diagnosis: Diagnosis, expectations: Expectations, now: float, knowledge: Knowledge) -> Diagnosis:
    """What :func:`advise_one` adds to a diagnosis judged with the knowledge base's titles and advice."""
    if diagnosis.source is Source.TOKEN:
        return where_libraries_differ(diagnosis, expectations, now)
    steps, front = next_steps(diagnosis), knowledge.in_front(diagnosis.library.value if diagnosis.library else None)
    return diagnosis._replace(next_steps=steps, in_front=front) if steps or front else diagnosis


def advise_one(diagnosis: Diagnosis, knowledge: Knowledge, expectations: Expectations, now: float) -> Diagnosis:
    if diagnosis.source is Source.TOKEN:
        diagnosis = where_libraries_differ(diagnosis, expectations, now)
    if not diagnosis.causes and not diagnosis.warnings:
        return diagnosis  # nothing wrong: no advice
    titles = knowledge.titles
    library = diagnosis.library
    causes = diagnosis.causes
    values = list(diagnosis)  # Diagnosis._replace, at a fraction of its cost: once per token of a big log
    if causes:
        workarounds, dead_ends = knowledge.advise(tuple(c.id for c in causes), library.value if library else None)
        values[_CAUSES] = _titled(causes, titles)
        values[_WORKAROUNDS], values[_DEAD_ENDS] = workarounds, dead_ends
    if diagnosis.warnings:
        values[_WARNINGS] = _titled(diagnosis.warnings, titles)
    values[_NEXT_STEPS] = next_steps(diagnosis)
    if diagnosis.source is Source.ERROR_TEXT:
        values[_IN_FRONT] = knowledge.in_front(library.value if library else None)
    return Diagnosis._make(values)


_CAUSES, _WARNINGS, _WORKAROUNDS, _DEAD_ENDS, _NEXT_STEPS, _IN_FRONT = (
    Diagnosis._fields.index(name)
    for name in ("causes", "warnings", "workarounds", "dead_ends", "next_steps", "in_front")
)


def next_steps(diagnosis: Diagnosis) -> tuple[str, ...]:
    """The triage steps for an error text that names no library (its causes are only ranked), else none."""
    if diagnosis.source is Source.ERROR_TEXT and diagnosis.library is None and diagnosis.causes:
        # Imported here: only a generic refusal needs it, and its data classes cost a start-up that the
        # command line on a log of tokens never uses.
        from bot.knowledge.triage import default_triage

        return default_triage().lines
    return ()


def where_libraries_differ(diagnosis: Diagnosis, expectations: Expectations, now: float) -> Diagnosis:
    """Which named libraries accept the token and which refuse it, when they do not agree."""
    token = diagnosis.token
    if token is None or token.claims is None or token.header is None:
        return diagnosis
    at = diagnosis.judged_at if diagnosis.judged_at is not None else now
    differ = may_differ(token.header, token.claims, expectations, at, libraries=NAMED)
    if not differ:
        return diagnosis  # the common case: every library judges it alike (the invariant is tested)
    if differ == AUDIENCE_NOT_CONFIGURED and not expectations.required_claims:
        if diagnosis.causes:
            return diagnosis  # they all refuse it, some for more reasons than others
        aud, iss = token.claims["aud"], token.claims.get("iss")
        outcomes = audience_split(
            str(token.header["alg"]),
            tuple(str(item) for item in aud) if isinstance(aud, list) else str(aud),
            iss if isinstance(iss, str) else None,
            expectations,
            libraries=NAMED,
        )
    else:
        # A card about time only speaks of the time checks: then libraries whose other checks are not
        # recorded (.NET, say) still say whether their clock skew accepts the token.
        timely = bool(diagnosis.causes) and all(cause.id.value in TIME_CAUSES for cause in diagnosis.causes)
        outcomes = split(
            token.header, token.claims, expectations, at, libraries=NAMED, checks={"time"} if timely else None
        )
    known = {name: outcome for name, outcome in outcomes.items() if outcome.status != "unknown"}
    statuses = {outcome.status for outcome in known.values()}
    if statuses != {"accepted", "refused"}:
        return diagnosis
    return diagnosis._replace(
        libraries=tuple((name, "accepts" if o.status == "accepted" else "refuses") for name, o in known.items()),
        libraries_differ=describe_split(known),
    )


def _titled(causes: tuple[Cause, ...], titles: Mapping[CauseId, str]) -> tuple[Cause, ...]:
    return tuple(
        Cause(cause.id, titled(titles[cause.id], cause.detail), cause.evidence, cause.likelihood, cause.detail)
        if cause.id in titles
        else cause
        for cause in causes
    )
