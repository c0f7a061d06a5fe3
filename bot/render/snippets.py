"""Snippets filled in from the evidence: the leeway that accepts the tokens actually seen."""

from __future__ import annotations

from bot.diagnosis.clock import round_leeway
from bot.diagnosis.model import CauseId, Diagnosis
from bot.knowledge import Snippet


def suggested_leeway(diagnosis: Diagnosis, measured: int | None = None) -> int | None:
    """The larger of what the clock-skew evidence needs and what a clock estimate measured."""
    needs = [
        item.leeway_needed
        for cause in diagnosis.causes
        if cause.id is CauseId.CLOCK_SKEW
        for item in cause.evidence
        if item.leeway_needed is not None
    ]
    candidates = [round_leeway(max(needs))] if needs else []
    if measured is not None:
        candidates.append(measured)
    return max(candidates) if candidates else None


def snippet_code(snippet: Snippet, diagnosis: Diagnosis, measured_leeway: int | None = None) -> str:
    leeway = suggested_leeway(diagnosis, measured_leeway)
    return snippet.render({"leeway": str(leeway)} if leeway is not None else None)
