"""What every listener needs, built once per app: store, service, knowledge, tasks, metrics, identity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.config import ServicesConfig
from bot.knowledge import Knowledge
from bot.service import DiagnosisService
from bot.slack.clocks import ClockBook
from bot.slack.metrics import Metrics
from bot.slack.state import CardStore, Claims
from bot.slack.tasks import TaskTracker
from bot.store import Store


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Identity:
    """Who the bot is, from ``auth.test``: used to ignore its own messages and to report health."""

    user_id: str | None = None
    bot_id: str | None = None
    team_id: str | None = None
    auth: str = "unknown"  # "ok", "failed" or "unknown"


@dataclass(slots=True)
class Deps:
    store: Store
    knowledge: Knowledge
    services: ServicesConfig | None
    metrics: Metrics = field(default_factory=Metrics)
    tasks: TaskTracker = field(default_factory=TaskTracker)
    clock: Callable[[], datetime] = utc_now
    identity: Identity = field(default_factory=Identity)
    service: DiagnosisService = field(init=False)
    claims: Claims = field(init=False)
    cards: CardStore = field(init=False)
    clocks: ClockBook = field(init=False)

    def __post_init__(self) -> None:
        self.service = DiagnosisService(
            self.store, self.knowledge, on_cache=lambda result: self.metrics.cache.labels(result).inc()
        )
        self.claims = Claims(self.store)
        self.cards = CardStore(self.store)
        self.clocks = ClockBook(self.store)
