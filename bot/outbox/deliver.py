"""Making a delivery's calls in order, resuming where an earlier attempt stopped.

The progress of a delivery (which plan runs, what each call returned) is kept in the store under its id,
written after every call: a delivery taken up again, by this replica after a retry or by another after a
crash, skips every call already made. The one window left is a call Slack performed whose answer never
arrived (a timeout); the outbox's client waits long enough that this is rare, and nothing else can close it:
Slack's chat.postMessage takes no idempotency key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.outbox.delivery import Call, Delivery
from bot.store import Store

log = logging.getLogger(__name__)
PROGRESS_TTL = 2 * 24 * 3600


class Retry(Exception):
    """The call may succeed later: a rate limit (``after`` from Retry-After), a 5xx, a timeout, a refused
    connection. ``reason`` is a short code for logs and metrics."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after


class Refused(Exception):
    """The platform refused the call for good (``code``: its error, e.g. ``not_in_channel``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Sender(Protocol):
    """One call to the platform: its result (``ts`` and ``channel`` for a message), or ``Retry``/``Refused``."""

    async def send(self, method: str, args: dict[str, Any]) -> dict[str, Any]: ...


Posted = Callable[[str, str, str], Awaitable[None]]
"""Told (card id, channel, ts) when a message carrying a card is posted."""


@dataclass(slots=True)
class Progress:
    plan: str  # "calls" or "instead"
    done: dict[int, dict[str, Any]]  # call index -> what it returned ({"ts", "channel"} or {"refused": code})

    def encode(self) -> str:
        return json.dumps({"plan": self.plan, "done": {str(i): r for i, r in self.done.items()}})

    @classmethod
    def decode(cls, text: str | None) -> Progress:
        if not text:
            return cls("calls", {})
        try:
            data = json.loads(text)
            done = {int(i): r for i, r in data["done"].items() if isinstance(r, dict)}
            return cls("instead" if data.get("plan") == "instead" else "calls", done)
        except (ValueError, KeyError, TypeError, AttributeError):
            return cls("calls", {})


def progress_key(delivery_id: str) -> str:
    return f"{{outbox}}:done:{delivery_id}"


async def deliver(
    delivery: Delivery,
    sender: Sender,
    store: Store,
    cannot_post: frozenset[str],
    on_posted: Posted | None = None,
) -> None:
    """Make every call of ``delivery`` not made yet. Raises ``Retry`` when one must wait; a call refused for
    good is recorded and skipped (with the calls that reply to it), except the first call of a delivery that
    has an ``instead`` plan and is refused with one of ``cannot_post``: then that plan runs."""
    key = progress_key(delivery.id)
    progress = Progress.decode(await store.get(key))
    while True:
        plan = delivery.instead if progress.plan == "instead" else delivery.calls
        for index, call in enumerate(plan):
            if index in progress.done:
                continue
            args = _threaded(call, progress)
            if args is None:  # it replies to a message that was refused
                progress.done[index] = {"refused": "no_parent"}
                continue
            if call.overwrites is not None and await _superseded(store, call.overwrites, delivery.created):
                progress.done[index] = {"superseded": True}
                continue
            try:
                result = await sender.send(call.method, args)
            except Refused as refusal:
                if index == 0 and progress.plan == "calls" and delivery.instead and refusal.code in cannot_post:
                    progress = Progress("instead", {})
                    await store.set(key, progress.encode(), PROGRESS_TTL)
                    break
                log.warning("outbox: %s refused for good (%s); going on without it", call.method, refusal.code)
                result = {"refused": refusal.code}
            progress.done[index] = result
            await store.set(key, progress.encode(), PROGRESS_TTL)
            if call.overwrites is not None:
                await store.set(_latest_key(call.overwrites), repr(delivery.created), PROGRESS_TTL)
            if call.card_id and on_posted is not None and "ts" in result:
                await on_posted(call.card_id, str(result.get("channel") or ""), str(result["ts"]))
        else:
            return


def _latest_key(thing: str) -> str:
    return f"{{outbox}}:latest:{thing}"


async def _superseded(store: Store, thing: str, created: float) -> bool:
    """Whether a call made after this one (``created`` later) already overwrote ``thing``."""
    latest = await store.get(_latest_key(thing))
    try:
        return latest is not None and float(latest) > created
    except ValueError:
        return False


def _threaded(call: Call, progress: Progress) -> dict[str, Any] | None:
    if call.thread_of is None:
        return call.args
    parent = progress.done.get(call.thread_of) or {}
    if "ts" not in parent:
        return None
    args = dict(call.args)
    args["thread_ts"] = parent["ts"]
    if parent.get("channel"):
        args["channel"] = parent["channel"]
    return args
