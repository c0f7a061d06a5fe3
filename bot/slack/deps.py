"""What every listener needs, built once per app: the chat services, tasks, metrics and the bot's identity."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.chat.answer import Chat
from bot.config import ServicesConfig
from bot.knowledge import Knowledge
from bot.render import blocks
from bot.slack.metrics import Metrics
from bot.slack.tasks import TaskTracker
from bot.store import Store


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
    identity: Identity = field(default_factory=Identity)
    chat: Chat = field(init=False)  # diagnosis service, claims, cards, clock book: the platform-neutral part

    def __post_init__(self) -> None:
        self.chat = Chat(
            self.store,
            self.knowledge,
            self.services,
            renderer=blocks,  # Block Kit
            on_cache=lambda result: self.metrics.cache.labels(result).inc(),
            on_diagnosis=lambda cause: self.metrics.diagnoses.labels(cause).inc(),
        )
