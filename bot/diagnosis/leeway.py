"""The one leeway figure a card shows, computed here and nowhere else.

A card that says 67 s in its why, 80 s in its clock note, "30–90 s" in its fix and ``leeway=140`` in
its snippet tells the on-call engineer nothing. So there are two numbers, each labelled as what it is:

- ``needed``: the smallest whole number of seconds of leeway that accepts *this* token (or, from
  clock evidence, the tokens an issuer's clock sends): a fact;
- ``recommended``: the one value to set, ``needed`` rounded up to a step, and never less than the
  small range's low end; or None, when the evidence needs more than any safe leeway (above the small
  range, or above the skew window, whichever is lower). Then the card says "beyond any safe leeway:
  fix the clock" instead of a number.

``own`` is the token's own need when it has one (from its clock-skew evidence): the only need a card
shows as a number, labelled "this token needs a leeway of at least N s". What the clock evidence needs
only raises the recommended figure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

from bot.diagnosis.ids import CauseId
from bot.diagnosis.model import Diagnosis

STEP = 10  # a recommended leeway is a round number of seconds
SKEW_CAUSES = frozenset({CauseId.CLOCK_SKEW})
BEYOND_SAFE = "beyond any safe leeway: fix the clock"
"""What a card says instead of a number when the evidence needs more than any safe leeway."""


class SmallLeeway(NamedTuple):
    """The range of leeways that count as "small" (the knowledge base's, from the source card)."""

    low: int
    high: int


class LeewayFigure(NamedTuple):
    needed: int  # what the token and the clock evidence need, in whole seconds (the larger)
    recommended: int | None  # the one figure to set; None: beyond any safe leeway, fix the clock
    own: int | None = None  # this token's own need, when it has one

    @property
    def beyond_safe(self) -> bool:
        return self.recommended is None


def safe_limit(small: SmallLeeway, skew_window: float) -> int:
    """The largest leeway this project recommends: the small range's top, or the skew window if lower."""
    return max(0, min(small.high, math.floor(skew_window)))


def figure(needed: int, small: SmallLeeway, skew_window: float, own: int | None = None) -> LeewayFigure:
    """The recommended value for a need of ``needed`` seconds (``own`` of them this token's)."""
    limit = safe_limit(small, skew_window)
    if needed > limit:
        return LeewayFigure(needed, None, own)
    rounded = max(small.low, math.ceil(needed / STEP) * STEP)
    return LeewayFigure(needed, min(rounded, limit), own)


def token_need(diagnosis: Diagnosis) -> int | None:
    """The leeway that accepts this token, from the evidence of its clock-skew cause (None: no skew)."""
    needs = [
        item.leeway_needed
        for cause in diagnosis.causes
        if cause.id in SKEW_CAUSES
        for item in cause.evidence
        if item.leeway_needed is not None
    ]
    return max(needs) if needs else None


def card_figure(
    diagnosis: Diagnosis, small: SmallLeeway, skew_window: float, evidence_needs: Iterable[int | None] = ()
) -> LeewayFigure | None:
    """The one figure for a card: the largest of the token's own need and what the clock evidence
    (kept observations of skew only) needs; None when neither says anything about leeway."""
    own = token_need(diagnosis)
    needs = [need for need in (own, *evidence_needs) if need is not None and need >= 0]
    if not needs:
        return None
    return figure(max(needs), small, skew_window, own)
