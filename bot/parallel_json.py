"""The compact JSON document of a command-line run, its tokens judged on every usable core.

The text is scanned once, here; the items found are judged in contiguous parts, one per core once
there are enough of them (:data:`MIN_ITEMS_PER_PART`), each part encoded to JSON where it was judged
(:mod:`bot.fanout`); the parts are joined in order into the very text one process would print
(``dumps(report_to_dict(…))``, which the tests compare byte for byte).

Only the plain document is built this way: ``--summary``, ``--at-log`` and ``--probe`` need every
diagnosis in one place (counts, clock estimates), and an indented document is for a person.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.diagnosis.engine import KeyLookup, diagnose_found, scan_text
from bot.diagnosis.error_texts import ErrorTextMatch
from bot.diagnosis.model import Expectations, Report
from bot.diagnosis.scan import TokenCandidate
from bot.fanout import fork_map, usable_cores
from bot.knowledge import Knowledge
from bot.render.json import assemble_report, diagnoses_json, dumps, knowledge_to_dict

MIN_ITEMS_PER_PART = 500  # about 30 ms of work: well above the 3-8 ms a fork and its pipe cost
MAX_PARTS = 8


@dataclass(frozen=True, slots=True)
class JsonDocument:
    text: str
    diagnoses: int
    has_problems: bool


def json_document(text: str, expectations: Expectations, now: datetime, *, knowledge: Knowledge,
                  keys: KeyLookup | None = None, cores: int | None = None) -> JsonDocument:
    """Diagnose ``text`` as of ``now`` and encode the report, in up to ``cores`` processes (default: all usable)."""
    found, library, omitted = scan_text(text, now.timestamp())
    parts = max(1, min(cores or usable_cores(), MAX_PARTS, len(found) // MIN_ITEMS_PER_PART))
    bounds = [len(found) * part // parts for part in range(parts + 1)]

    def judge(part: int) -> bytes:
        items: Sequence[TokenCandidate | ErrorTextMatch] = found[bounds[part] : bounds[part + 1]]
        diagnoses = diagnose_found(items, library, expectations, now.timestamp(), knowledge=knowledge, keys=keys)
        summary = {"count": len(diagnoses), "has_problems": Report(now, expectations, tuple(diagnoses)).has_problems,
                   "knowledge": knowledge_to_dict(diagnoses)}
        return f"{dumps(summary)}\n{diagnoses_json(diagnoses)}".encode()

    summaries: list[dict[str, Any]] = []
    texts: list[str] = []
    for result in fork_map(judge, parts):
        summary, _, part_text = result.decode().partition("\n")  # compact JSON holds no raw line break
        summaries.append(json.loads(summary))
        texts.append(part_text)
    document = assemble_report(now, knowledge, texts, omitted, [summary["knowledge"] for summary in summaries])
    return JsonDocument(document, sum(summary["count"] for summary in summaries),
                        any(summary["has_problems"] for summary in summaries))
