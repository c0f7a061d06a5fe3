"""The whole way from text to advice, for the front doors that need nothing in between:
``scan`` → ``learn`` (what an error text beside a token says was expected) → ``judge`` → ``advise``.

The Slack service (``bot/service.py``) runs the same steps with cached token facts fetched before
``judge``; the parallel JSON path (``bot/parallel_json.py``) judges slices of one scan.
"""

from __future__ import annotations

from datetime import datetime

from bot.diagnosis import Diagnosis, Expectations, KeyLookup, KeyResolution, Report, examine, judge_token, scan
from bot.diagnosis.error_texts import Catalogue
from bot.diagnosis.expectations import learn
from bot.knowledge import Knowledge, default_catalogue, default_knowledge
from bot.knowledge.advise import judge_advised, judge_token_advised


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
    return judge_advised(found, expectations, now, knowledge or default_knowledge(), keys=keys, learned=learned)


def diagnose_token(
    raw: str,
    expectations: Expectations,
    now: float,
    *,
    knowledge: Knowledge | None = None,
    keys: KeyResolution | None = None,
) -> Diagnosis:
    """One token, judged as of ``now`` (epoch seconds); advised when ``knowledge`` is given."""
    facts = examine(raw, expectations, keys)
    if knowledge is None:
        return judge_token(facts, expectations, now)
    return judge_token_advised(facts, expectations, now, knowledge)
