"""The page's "Samples" menu: ``bot.demo``'s samples, one per cause, minted for now.

A sample whose cause shows only when the API's expectations are known (an audience near miss, a
missing claim, a refused algorithm…) comes with the options that say them, as a user would type them:
``<token> aud=orders-api iss=https://login.acme.test/ …``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.demo import DEMO_EXPECTATIONS, sample_texts
from bot.diagnosis import Expectations, Report
from bot.knowledge import Knowledge
from bot.pipeline import diagnose_text


def samples(knowledge: Knowledge, now: datetime | None = None) -> list[dict[str, str]]:
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    out = []
    for sample, text in sample_texts(now.timestamp()):
        bare = diagnose_text(text, Expectations(), now, knowledge=knowledge)
        judged = diagnose_text(text, DEMO_EXPECTATIONS, now, knowledge=knowledge)
        if _causes(bare) != _causes(judged):
            text = f"{text} {options_text(DEMO_EXPECTATIONS)}"
        out.append({"title": sample.title, "text": text})
    return out


def options_text(expectations: Expectations) -> str:
    """The options a user would type for these expectations (``bot.slack.options`` reads them)."""
    parts = []
    for name, values in (
        ("aud", expectations.audiences),
        ("iss", expectations.issuers),
        ("alg", expectations.algorithms),
        ("require", expectations.required_claims),
    ):
        if values:
            parts.append(f"{name}={','.join(values)}")
    if expectations.leeway:
        parts.append(f"leeway={expectations.leeway:g}")
    return " ".join(parts)


def _causes(report: Report) -> list[list[str]]:
    return [[cause.id.value for cause in diagnosis.causes] for diagnosis in report.diagnoses]
