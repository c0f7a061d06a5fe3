"""What the outbox carries: an answer's calls, in order, already rendered and redacted.

An entry holds no token and no signature, only what is posted (cards are drawn from redacted diagnoses),
so it may rest in Redis. It is one answer: a summary and the cards in its thread, say, whose ``ts`` the
cards need. Each call has its idempotency key, the pair (delivery id, call index): what was delivered is
recorded under it, so a delivery taken up again (a retry, another replica) resumes at the first call not
yet made and never posts a message twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

FORMAT = "delivery/1"


@dataclass(frozen=True, slots=True)
class Call:
    """One call: a Web API ``method`` (or ``response_url``) with its JSON arguments.

    ``thread_of``: the index of an earlier call of the same plan whose message this one replies to (its
    ``ts`` becomes this call's ``thread_ts`` and its channel this call's channel). ``card_id``: the card this
    message carries, whose stored state learns where it was posted. ``overwrites``: what this call replaces
    as a whole (a card's message, for ``chat.update``): deliveries are not ordered, so a call older than the
    last one delivered for the same thing is skipped rather than put a stale card back.
    """

    method: str
    args: dict[str, Any]
    thread_of: int | None = None
    card_id: str | None = None
    overwrites: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """An answer to deliver. ``instead`` runs when the first call is refused for a reason the platform names
    as "cannot post here" (the bot is not in the channel): the same answer, privately. ``last_word`` is sent
    once if the answer cannot be delivered at all before the outbox gives up on it."""

    id: str
    calls: tuple[Call, ...]
    created: float
    instead: tuple[Call, ...] = ()
    last_word: Call | None = None
    kind: str = field(default="answer")


def delivery_id(*parts: str) -> str:
    """A short id from what names the request (a trigger id, an event id…): printable, fixed length, and
    unreadable, so that nothing a user sent reaches a store key."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def encode(delivery: Delivery) -> str:
    return json.dumps(
        {
            "v": FORMAT,
            "id": delivery.id,
            "kind": delivery.kind,
            "created": delivery.created,
            "calls": [_call(call) for call in delivery.calls],
            "instead": [_call(call) for call in delivery.instead],
            "last_word": _call(delivery.last_word) if delivery.last_word is not None else None,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


class UnreadableDelivery(ValueError):
    """An entry this version cannot read (another version wrote it, or it is damaged)."""


def decode(text: str) -> Delivery:
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("v") != FORMAT:
            raise UnreadableDelivery(f"not a {FORMAT} entry")
        last_word = data.get("last_word")
        return Delivery(
            id=str(data["id"]),
            kind=str(data.get("kind") or "answer"),
            created=float(data["created"]),
            calls=tuple(_read_call(item) for item in data["calls"]),
            instead=tuple(_read_call(item) for item in data.get("instead") or ()),
            last_word=_read_call(last_word) if last_word is not None else None,
        )
    except UnreadableDelivery:
        raise
    except (ValueError, KeyError, TypeError, RecursionError) as problem:
        raise UnreadableDelivery(type(problem).__name__) from None


def _call(call: Call) -> dict[str, Any]:
    return {"m": call.method, "a": call.args, "t": call.thread_of, "c": call.card_id, "o": call.overwrites}


def _read_call(item: Any) -> Call:
    if not isinstance(item, dict) or not isinstance(item.get("m"), str) or not isinstance(item.get("a"), dict):
        raise UnreadableDelivery("a call without a method or arguments")
    thread_of, card_id, overwrites = item.get("t"), item.get("c"), item.get("o")
    return Call(
        item["m"],
        item["a"],
        thread_of if isinstance(thread_of, int) and not isinstance(thread_of, bool) else None,
        card_id if isinstance(card_id, str) else None,
        overwrites if isinstance(overwrites, str) else None,
    )
