"""The pure diagnosis core: text, what the API expects and an instant in; a Report out.

No Slack, no Redis, no network, no files. Two steps, in order::

    found = scan(text, catalogue, at=now)              # tokens and known error texts
    report = judge(found, expectations, at, facts=...)  # every check, as of ``at``

then ``bot.knowledge.advise`` adds the workarounds and dead ends (``bot.pipeline`` does all three).
"""

from bot.diagnosis.advice import DeadEnd, Snippet, Workaround
from bot.diagnosis.error_texts import Catalogue, ErrorTextMatch
from bot.diagnosis.ids import CauseId, Library, Reason, SignatureStatus, Source, Verdict
from bot.diagnosis.judge import KeyLookup, TokenFacts, examine, judge, judge_token
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
from bot.diagnosis.scan import NOTHING_FOUND, Found, TokenCandidate, scan
from bot.diagnosis.signature import KeyResolution

__all__ = [
    "NOTHING_FOUND",
    "Catalogue",
    "Cause",
    "CauseId",
    "DeadEnd",
    "Diagnosis",
    "ErrorTextMatch",
    "Evidence",
    "Expectations",
    "Finding",
    "Found",
    "JSONValue",
    "KeyLookup",
    "KeyResolution",
    "Library",
    "Reason",
    "Report",
    "SignatureStatus",
    "Snippet",
    "Source",
    "TokenCandidate",
    "TokenFacts",
    "TokenView",
    "Verdict",
    "Workaround",
    "examine",
    "judge",
    "judge_token",
    "scan",
]
