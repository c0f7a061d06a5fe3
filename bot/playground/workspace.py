"""The emulated workspace: one team, two channels with the bot in them, one person, their messages, and
the views Slack holds for that person (the open modal's stack, the app's Home tab).

Messages keep Slack's shapes (``ts`` strings, ``thread_ts``, escaped mrkdwn ``text``, ``blocks``) so that
what the Web API returns and what the page draws are what Slack would hold. Everything is in memory and
bounded; watchers (the page's WebSockets) get every change as a small JSON-ready event.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

MAX_MESSAGES = 2000
WATCHER_BACKLOG = 500


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    name: str
    bot_id: str | None = None


@dataclass(slots=True)
class Message:
    channel: str
    ts: str
    author: Member
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    ephemeral: bool = False  # visible only to the person (Slack's "Only visible to you")

    def slack(self) -> dict[str, Any]:
        """As ``conversations.replies`` and a ``block_actions`` payload show it."""
        data: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        if self.author.bot_id:
            data.update(bot_id=self.author.bot_id, user=self.author.id, app_id="A0PLAYGROUND")
        else:
            data["user"] = self.author.id
        if self.blocks is not None:
            data["blocks"] = self.blocks
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        return data


@dataclass(slots=True)
class Workspace:
    team_id: str = "T0PLAYGRND"
    team_domain: str = "playground"
    channel_id: str = "C0INCIDENT"
    channel_name: str = "incident"
    bot: Member = field(default_factory=lambda: Member("U0JWTCHECK", "jwtcheck", bot_id="B0JWTCHECK"))
    person: Member = field(default_factory=lambda: Member("U0YOU00001", "you"))
    slackbot: Member = field(default_factory=lambda: Member("USLACKBOT", "Slackbot"))
    _messages: OrderedDict[tuple[str, str], Message] = field(default_factory=OrderedDict)
    _replies: dict[tuple[str, str], int] = field(default_factory=dict)
    _last_us: int = 0
    _watchers: set[asyncio.Queue[dict[str, Any]]] = field(default_factory=set)
    # Views, as Slack holds them for the person: the open modal's stack (bottom first) and the Home tab.
    modals: list[dict[str, Any]] = field(default_factory=list)
    home: dict[str, Any] | None = None
    errors: dict[str, dict[str, str]] = field(default_factory=dict)  # view id -> block id -> inline error
    extra_channels: dict[str, str] = field(default_factory=lambda: {"C0PAYMENTS": "payments"})

    # --- reading ----------------------------------------------------------------------------------

    def members(self) -> list[Member]:
        return [self.person, self.bot, self.slackbot]

    def channels(self) -> dict[str, str]:
        """Every channel the bot is in, by id: the first is where the page opens."""
        return {self.channel_id: self.channel_name, **self.extra_channels}

    def channel_named(self, channel: str) -> str | None:
        """A channel's id from its id or ``#name``; None when there is no such channel."""
        for key, name in self.channels().items():
            if channel in (key, f"#{name}"):
                return key
        return None

    def get(self, channel: str, ts: str) -> Message | None:
        return self._messages.get((channel, ts))

    def messages(self) -> list[Message]:
        return list(self._messages.values())

    def thread(self, channel: str, ts: str) -> list[Message]:
        """The parent and its public replies, oldest first (``conversations.replies``)."""
        parent = self.get(channel, ts)
        if parent is None or parent.ephemeral:
            return []
        root = parent.thread_ts or parent.ts
        return [
            m
            for m in self._messages.values()
            if m.channel == channel and not m.ephemeral and (m.ts == root or m.thread_ts == root)
        ]

    def view(self, message: Message) -> dict[str, Any]:
        """What the page needs to draw a message."""
        return {
            "channel": message.channel,
            "ts": message.ts,
            "thread_ts": message.thread_ts,
            "author": {"id": message.author.id, "name": message.author.name, "bot": message.author.bot_id is not None},
            "text": message.text,
            "blocks": message.blocks,
            "ephemeral": message.ephemeral,
            "reply_count": self._replies.get((message.channel, message.ts), 0),
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "type": "snapshot",
            "workspace": {
                "team": self.team_domain,
                "channel": {"id": self.channel_id, "name": self.channel_name},
                "channels": [{"id": key, "name": name} for key, name in self.channels().items()],
                "me": self.person.id,
                "members": {m.id: {"name": m.name, "bot": m.bot_id is not None} for m in self.members()},
            },
            "messages": [self.view(m) for m in self._messages.values()],
            **self.views(),
        }

    def views(self) -> dict[str, Any]:
        """The open modals (top last) and the Home view, with the inline errors Slack shows under inputs."""
        return {
            "modals": [{**view, "errors": self.errors.get(view["id"], {})} for view in self.modals],
            "home": self.home,
        }

    def find_view(self, view_id: str) -> dict[str, Any] | None:
        for view in [*self.modals, *([self.home] if self.home else [])]:
            if view.get("id") == view_id:
                return view
        return None

    def views_changed(self) -> None:
        live = {view["id"] for view in self.modals}
        for key in [k for k in self.errors if k not in live]:
            del self.errors[key]
        self._publish({"type": "views", **self.views()})

    # --- writing ----------------------------------------------------------------------------------

    def next_ts(self) -> str:
        """Slack's ``seconds.micros`` timestamps, strictly increasing (they are message ids)."""
        self._last_us = max(time.time_ns() // 1000, self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def add(
        self,
        author: Member,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        *,
        thread_ts: str | None = None,
        ephemeral: bool = False,
        channel: str | None = None,
    ) -> Message:
        message = Message(channel or self.channel_id, self.next_ts(), author, text, blocks, thread_ts, ephemeral)
        self._messages[(message.channel, message.ts)] = message
        if thread_ts and not ephemeral:
            key = (message.channel, thread_ts)
            self._replies[key] = self._replies.get(key, 0) + 1
        while len(self._messages) > MAX_MESSAGES:
            self.delete(next(iter(self._messages.values())))
        self._changed(message)
        return message

    def replace(self, message: Message, text: str, blocks: list[dict[str, Any]] | None) -> None:
        message.text, message.blocks = text, blocks
        self._changed(message)

    def delete(self, message: Message) -> None:
        if self._messages.pop((message.channel, message.ts), None) is None:
            return
        self._replies.pop((message.channel, message.ts), None)
        if message.thread_ts and not message.ephemeral:
            key = (message.channel, message.thread_ts)
            self._replies[key] = max(0, self._replies.get(key, 0) - 1)
        self._publish({"type": "delete", "channel": message.channel, "ts": message.ts})
        if message.thread_ts and (parent := self.get(message.channel, message.thread_ts)) is not None:
            self._publish({"type": "upsert", "message": self.view(parent)})

    # --- watching ---------------------------------------------------------------------------------

    def watch(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(WATCHER_BACKLOG)
        self._watchers.add(queue)
        return queue

    def unwatch(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._watchers.discard(queue)

    def _changed(self, message: Message) -> None:
        self._publish({"type": "upsert", "message": self.view(message)})
        if message.thread_ts and message.thread_ts != message.ts:
            parent = self.get(message.channel, message.thread_ts)
            if parent is not None:
                self._publish({"type": "upsert", "message": self.view(parent)})

    def _publish(self, event: dict[str, Any]) -> None:
        for queue in list(self._watchers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:  # a page that fell behind: drop its backlog, it asks for a snapshot
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait({"type": "resync"})
