"""What every listener needs, built once per app: the chat services, tasks, metrics and the bot's identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.chat.answer import Chat
from bot.config import ServicesConfig
from bot.knowledge import Knowledge
from bot.outbox import Outbox, Sender
from bot.render import blocks
from bot.slack.metrics import Metrics
from bot.slack.tasks import TaskTracker
from bot.slack.work import Work
from bot.store import Store

# Slack's errors for "the bot may not post there": the answer then goes privately to whoever asked.
CANNOT_POST = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "restricted_action",
        "cannot_reply_to_message",
        "ekm_access_denied",
        "team_access_not_granted",
    }
)


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
    sender: Sender  # how the outbox reaches Slack (bot.slack.sender)
    redis: Any = None  # the outbox's stream client (bot.store.connect), None without Redis
    slack_api_url: str | None = None  # a configured Web API origin besides Slack's: response_urls on it are trusted
    metrics: Metrics = field(default_factory=Metrics)
    tasks: TaskTracker = field(default_factory=TaskTracker)
    identity: Identity = field(default_factory=Identity)
    chat: Chat = field(init=False)  # diagnosis service, claims, cards, clock book: the platform-neutral part
    outbox: Outbox = field(init=False)  # every answer goes through it
    work: Work = field(init=False)  # where listeners hand their work after the ack (bot.slack.work)

    def __post_init__(self) -> None:
        self.chat = Chat(
            self.store,
            self.knowledge,
            self.services,
            renderer=blocks,  # Block Kit
            on_cache=lambda result: self.metrics.cache.labels(result).inc(),
            on_diagnosis=lambda cause: self.metrics.diagnoses.labels(cause).inc(),
        )
        self.outbox = Outbox(
            self.sender,
            self.store,
            self.redis,
            cannot_post=CANNOT_POST,
            on_posted=self.chat.cards.placed,
            observe=lambda event, detail: self.metrics.outbox.labels(event, detail).inc(),
        )
