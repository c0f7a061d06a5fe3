"""The whole way from text to advice, for the front doors that need nothing in between:
``scan`` → ``learn`` (what an error text beside a token says was expected) → ``judge`` → ``advise``.

The Slack service (``bot/service.py``) runs the same steps with cached token facts fetched before
``judge``; the parallel JSON path (``bot/parallel_json.py``) judges slices of one scan.
"""

from __future__ import annotations

from datetime import datetime

from bot.diagnosis import Diagnosis, Expectations, KeyLookup, KeyResolution, Report, examine, judge, judge_token, scan
from bot.diagnosis.error_texts import Catalogue
from bot.diagnosis.expectations import learn
from bot.knowledge import Knowledge, default_catalogue, default_knowledge
from bot.knowledge.advise import advise, advise_one


def diagnose_text(
    text: str,
    expectations: Expectations,
    now: datetime,
    *,
    knowledge: Knowledge | None = None,
    catalogue: Catalogue | None = None,
    limit: int | None = None,
    keys: KeyLookup | None = None,
) -> Report:
    """Every token and error text in ``text``, judged as of ``now`` and advised.

    ``limit`` caps the number of diagnoses (the rest are counted in ``Report.omitted``); ``keys`` gives
    the resolved keys for a raw token (see :data:`bot.diagnosis.KeyLookup`).
    """
    found = scan(text, catalogue or default_catalogue(), at=now.timestamp(), limit=limit)
    expectations, learned = learn(found, expectations)
    report = judge(found, expectations, now, keys=keys, learned=learned)
    return advise(report, knowledge or default_knowledge())


def diagnose_token(
    raw: str,
    expectations: Expectations,
    now: float,
    *,
    knowledge: Knowledge | None = None,
    keys: KeyResolution | None = None,
) -> Diagnosis:
    """One token, judged as of ``now`` (epoch seconds); advised when ``knowledge`` is given."""
    diagnosis = judge_token(examine(raw, expectations, keys), expectations, now)
    if knowledge is None:
        return diagnosis
    return advise_one(diagnosis, knowledge, expectations, now)
