"""A workspace's diagnoses per cause, day by day, and the figures its App Home shows.

Every answer adds its diagnoses to the day's counters, one map per workspace per day,
``stats:{TEAM}:YYYYMMDD`` (cause id → diagnoses with that cause; ``none`` for a diagnosis without one; ``all``
for every diagnosis, since one may have several causes), kept 31 days: one
store round trip per answer (:meth:`Store.count`), and a failure never fails the answer. The days of a
workspace share its hash tag, so the 30 of them are read together in one round trip, on one cluster node.

:func:`figures` adds the workspace's votes on every workaround (``bot.chat.cards``) and keeps the result
60 s (``home:{TEAM}``), so a burst of Home opens costs one computation. While the store cannot reach
Redis the figures are :attr:`Figures.available` False rather than the partial ones of one replica's memory.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType

from bot.chat.cards import CardStore
from bot.config import TEAM_ID
from bot.diagnosis import Report
from bot.knowledge import Knowledge
from bot.store import Store

log = logging.getLogger(__name__)

WINDOW_DAYS = 30
STATS_TTL = 31 * 24 * 3600  # a day's counters outlive the window by a day
FIGURES_TTL = 60
NO_CAUSE = "none"
TOTAL = "all"
FIGURES_VERSION = 1
DEGRADED = "redis-degraded"
_COUNTED = re.compile(r"[a-z0-9_]{1,64}")  # a cause id as counted (CauseId values, "none")


def stats_key(team: str, day: date) -> str:
    return f"stats:{{{team}}}:{day:%Y%m%d}"


def figures_key(team: str) -> str:
    return f"home:{{{team}}}"


def causes_of(report: Report) -> dict[str, int]:
    """Each diagnosis counted once under each of its causes, or under ``none``, and once under ``all``."""
    counts: Counter[str] = Counter({TOTAL: len(report.diagnoses)})
    for diagnosis in report.diagnoses:
        if diagnosis.causes:
            counts.update({cause.id.value for cause in diagnosis.causes})
        else:
            counts[NO_CAUSE] += 1
    return dict(counts)


async def record(store: Store, team: str, report: Report, now: datetime) -> None:
    """Count the report's diagnoses for ``team`` on ``now``'s (UTC) day. Never raises: a figure lost is
    better than an answer lost."""
    if not report.diagnoses or not TEAM_ID.fullmatch(team):
        return
    try:
        await store.count(stats_key(team, now.date()), causes_of(report), STATS_TTL)
    except Exception as failure:  # the class name only: a message may name hosts or keys
        log.warning("diagnoses not counted for the Home's figures (%s)", type(failure).__name__)


@dataclass(frozen=True, slots=True)
class Figures:
    """A workspace's last :data:`WINDOW_DAYS` days: its diagnoses, how many had each cause id (most first;
    ``none``: no cause), and its votes on each workaround voted on (workaround id → choice → count)."""

    diagnoses: int = 0
    causes: tuple[tuple[str, int], ...] = ()
    votes: Mapping[str, Mapping[str, int]] = field(default_factory=lambda: MappingProxyType({}))
    available: bool = True

    @property
    def without_cause(self) -> int:
        return sum(count for cause, count in self.causes if cause == NO_CAUSE)


UNAVAILABLE = Figures(available=False)


async def figures(store: Store, knowledge: Knowledge, team: str, today: date) -> Figures:
    """The workspace's figures as of ``today`` (UTC), from the 60 s cache when a Home was opened lately."""
    if not TEAM_ID.fullmatch(team):
        return UNAVAILABLE
    try:
        cached = decode(await store.get(figures_key(team)))
        if cached is not None and store.state != DEGRADED:
            return cached
        days = await store.counters([stats_key(team, today - timedelta(days=n)) for n in range(WINDOW_DAYS)])
        polls = await CardStore(store, knowledge).votes(team, sorted(knowledge.workarounds))
    except Exception as failure:
        log.warning("the Home's figures are unavailable (%s)", type(failure).__name__)
        return UNAVAILABLE
    if store.state == DEGRADED:  # what memory holds is one replica's, since the outage: not the workspace's
        return UNAVAILABLE
    total: Counter[str] = Counter()
    for day in days:
        total.update(day)
    found = Figures(
        max(0, total.pop(TOTAL, 0)),
        tuple(sorted(((c, n) for c, n in total.items() if n > 0), key=lambda item: (-item[1], item[0]))),
        MappingProxyType({w: MappingProxyType(dict(c)) for w, c in polls.items() if any(c.values())}),
    )
    try:
        await store.set(figures_key(team), encode(found), FIGURES_TTL)
    except Exception as failure:
        log.warning("the Home's figures were not cached (%s)", type(failure).__name__)
    return found


def encode(found: Figures) -> str:
    return json.dumps(
        {
            "v": FIGURES_VERSION,
            "diagnoses": found.diagnoses,
            "causes": [list(item) for item in found.causes],
            "votes": found.votes,
        },
        default=dict,
        separators=(",", ":"),
    )


def decode(raw: str | None) -> Figures | None:
    """Cached figures, or None for none, another version's, or damaged ones (they are computed again)."""
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        if data["v"] != FIGURES_VERSION:
            return None
        diagnoses = int(data["diagnoses"])
        causes = tuple((str(cause), int(count)) for cause, count in data["causes"] if _COUNTED.fullmatch(str(cause)))
        votes = {
            str(workaround): MappingProxyType({str(choice): int(n) for choice, n in counts.items()})
            for workaround, counts in data["votes"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return Figures(diagnoses, causes, MappingProxyType(votes))
