"""The diagnosis service the bot calls: the pure engine plus a cache in the store.

What is cached is a token's *facts* (decode results and the checks that ignore the clock) under its
fingerprint plus a hash of the expectations: never the token, never a signature. The time checks
are re-run on every read, so a cached "valid" never outlives ``exp``. A repeated diagnosis costs
one store round trip.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

from bot.diagnosis.engine import Adviser, TokenFacts, diagnose_error_text, examine_token, judge_token, scan_text
from bot.diagnosis.model import (
    CauseId,
    Diagnosis,
    Evidence,
    Expectations,
    Finding,
    Report,
    TokenView,
)
from bot.diagnosis.redact import fingerprint
from bot.diagnosis.scan import TokenCandidate
from bot.knowledge import Knowledge
from bot.store import Store

log = logging.getLogger(__name__)
CACHE_TTL = 6 * 3600
CACHE_VERSION = "1"


class DiagnosisService:
    def __init__(self, store: Store, knowledge: Knowledge, *, on_cache: Any = None) -> None:
        self._store = store
        self._adviser = Adviser(knowledge)
        self._on_cache = on_cache  # called with "hit" or "miss" (metrics)

    @property
    def knowledge(self) -> Knowledge:
        return self._adviser.knowledge

    async def diagnose(
        self, text: str, expectations: Expectations, now: datetime, *, limit: int | None = None
    ) -> Report:
        instant = now.timestamp()
        found, library, omitted = scan_text(text, instant, limit)
        diagnoses: list[Diagnosis] = []
        for item in found:
            if isinstance(item, TokenCandidate):
                facts = await self._facts(item.token, expectations)
                diagnosis = judge_token(facts, expectations, instant, position=item.start, library=library,
                                        titles=self._adviser.titles)
            else:
                diagnosis = diagnose_error_text(item, self._adviser.titles)
            diagnoses.append(self._adviser.advise(diagnosis))
        return Report(now, expectations, tuple(diagnoses), omitted)

    async def _facts(self, raw: str, expectations: Expectations) -> TokenFacts:
        key = f"diag:{CACHE_VERSION}:{fingerprint(raw)}:{expectations_key(expectations)}"
        cached = await self._store.get(key)
        if cached is not None:
            try:
                facts = facts_from_json(cached)
            except (ValueError, KeyError, TypeError):
                log.warning("discarding an unreadable cache entry")
            else:
                self._count("hit")
                return facts
        self._count("miss")
        facts = examine_token(raw, expectations)
        await self._store.set(key, facts_to_json(facts), CACHE_TTL)
        return facts

    def _count(self, result: str) -> None:
        if self._on_cache is not None:
            self._on_cache(result)


def expectations_key(expectations: Expectations) -> str:
    canonical = json.dumps(asdict(expectations), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def facts_to_json(facts: TokenFacts) -> str:
    view = facts.view
    return json.dumps(
        {
            "view": [view.kind, view.redacted, view.fingerprint, view.header, view.claims],
            "findings": [[f.cause.value, _evidence(f.evidence), f.likelihood, f.summary] for f in facts.findings],
            "skipped": list(facts.skipped),
            "readable": facts.readable,
            "malformed": facts.malformed,
        },
        separators=(",", ":"),
        default=str,
    )


def facts_from_json(text: str) -> TokenFacts:
    data = json.loads(text)
    kind, redacted, fp, header, claims = data["view"]
    return TokenFacts(
        view=TokenView("jwe" if kind == "jwe" else "jws", redacted, fp, header, claims),
        findings=tuple(
            Finding(CauseId(cause), Evidence(*evidence), float(likelihood), summary)
            for cause, evidence, likelihood, summary in data["findings"]
        ),
        skipped=tuple(data["skipped"]),
        readable=bool(data["readable"]),
        malformed=bool(data["malformed"]),
    )


def _evidence(evidence: Evidence) -> list[Any]:
    return [evidence.claim, evidence.reason, evidence.detail, evidence.seconds_off, evidence.leeway_needed]
