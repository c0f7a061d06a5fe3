"""The compact JSON document of a command-line run, its tokens judged on every usable core.

The text is scanned once, by the caller; the items found are judged in contiguous parts, one per core once
there are enough of them (:data:`MIN_ITEMS_PER_PART`), each part encoded to JSON where it was judged
(:mod:`bot.fanout`); the parts are joined in order into the very text one process would print
(``dumps(report_to_dict(…))``, which the tests compare byte for byte).

Only the plain document is built this way: ``--summary``, ``--at-log`` and ``--probe`` need every
diagnosis in one place (counts, clock estimates), and an indented document is for a person.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple

from bot.diagnosis import Expectations, Found, KeyLookup, Verdict
from bot.fanout import fork_map, usable_cores
from bot.knowledge import Knowledge
from bot.knowledge.advise import judge_advised
from bot.render.json import assemble_report, diagnoses_json, encode_compact, knowledge_to_dict, merge_knowledge

MIN_ITEMS_PER_PART = 500  # about 30 ms of work: well above the 3-8 ms a fork and its pipe cost
MAX_PARTS = 8
BATCH = 250  # diagnoses judged and encoded at a time: their objects are freed and their memory reused


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cycle collector off while a part is judged and encoded, back as it was after.

    Judging makes tuples, dicts and strings that hold one another without a cycle, so that reference
    counting frees each batch; the collector would only walk the process's heap (the log, what the scan
    found, every module) again and again, a few percent of a big log's work. Whatever cycle a rare path
    might make (an exception kept with its frame) waits for the collector's next run, after the part.
    tests/test_pipeline.py checks that judging a log leaves nothing for it to collect.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


class JsonDocument(NamedTuple):  # not a dataclass: one costs more to define at start-up than to judge 20 tokens
    pieces: list[bytes | memoryview]  # the document's UTF-8 bytes, to be written in this order
    diagnoses: int
    has_problems: bool

    @property
    def text(self) -> str:
        return b"".join(self.pieces).decode()


def json_document(
    found: Found,
    expectations: Expectations,
    now: datetime,
    *,
    knowledge: Knowledge,
    keys: KeyLookup | None = None,
    cores: int | None = None,
    learned: tuple[str, ...] = (),
) -> JsonDocument:
    """Judge what one scan found as of ``now`` and encode the report, in up to ``cores`` processes
    (default: all usable)."""
    items = found.items
    # One token among error texts is one incident (judge.one_incident): judged whole, in one part and batch.
    incident = len(found.tokens) == 1
    batch = len(items) or 1 if incident else BATCH
    parts = 1 if incident else max(1, min(cores or usable_cores(), MAX_PARTS, len(items) // MIN_ITEMS_PER_PART))
    bounds = [len(items) * part // parts for part in range(parts + 1)]

    def judge_part(part: int) -> bytes:
        with _collector_paused():
            return _judge_part(part)

    def _judge_part(part: int) -> bytes:
        """The part's summary line, then its diagnoses as JSON arrays of up to BATCH items, back to back."""
        arrays: list[bytes] = []
        sections: list[dict[str, Any]] = []
        has_problems = False
        for start in range(bounds[part], bounds[part + 1], batch):
            some = found._replace(items=items[start : min(start + batch, bounds[part + 1])])
            diagnoses = judge_advised(some, expectations, now, knowledge, keys=keys, learned=learned).diagnoses
            has_problems = has_problems or any(d.verdict is not Verdict.VALID for d in diagnoses)
            sections.append(knowledge_to_dict(diagnoses))
            arrays.append(diagnoses_json(diagnoses, (expectations, knowledge)))
        summary = {
            "count": bounds[part + 1] - bounds[part],
            "has_problems": has_problems,
            "knowledge": merge_knowledge(sections),
            "arrays": [len(array) for array in arrays],
        }
        return b"\n".join([encode_compact(summary), *arrays])

    summaries: list[dict[str, Any]] = []
    arrays: list[bytes | memoryview] = []
    for result in fork_map(judge_part, parts):
        line_end = result.find(b"\n")  # compact JSON holds no raw line break: the summary ends here
        if line_end < 0:
            line_end = len(result)  # nothing was found: a summary and no array
        summary = json.loads(result[:line_end])
        summaries.append(summary)
        view, at = memoryview(result), line_end + 1
        for size in summary["arrays"]:
            arrays.append(view[at : at + size])
            at += size + 1
    pieces = assemble_report(now, knowledge, arrays, found.omitted, [summary["knowledge"] for summary in summaries])
    return JsonDocument(
        pieces, sum(summary["count"] for summary in summaries), any(summary["has_problems"] for summary in summaries)
    )
