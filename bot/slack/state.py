"""Slack-side state in the store: event and message claims (idempotency) and card state (for clicks).

Everything lives in the store, never in process memory, so any replica can handle a retry or a click.
Values hold redacted diagnoses and Slack ids only.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, fields
from typing import Any

from bot.diagnosis.model import Diagnosis
from bot.knowledge import Knowledge
from bot.render.json import diagnosis_from_dict, diagnosis_to_dict
from bot.store import Store

PENDING_TTL = 120  # a claim whose worker died expires in time for Slack's next retry (1 min, then 5 min)
DONE_TTL = 24 * 3600
CARD_TTL = 14 * 24 * 3600
VOTE_TTL = 180 * 24 * 3600


class Claims:
    """At-most-once work per Slack delivery, across replicas.

    ``begin`` claims every key or none; ``finish`` keeps them for a day; ``abandon`` frees them so that
    a retry of a delivery whose first attempt failed still produces its card.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    async def begin(self, *keys: str) -> bool:
        taken: list[str] = []
        for key in keys:
            if not await self._store.claim(key, PENDING_TTL):
                for done in taken:
                    await self._store.release(done)
                return False
            taken.append(key)
        return True

    async def finish(self, *keys: str) -> None:
        for key in keys:
            await self._store.set(key, "done", DONE_TTL)

    async def abandon(self, *keys: str) -> None:
        for key in keys:
            await self._store.release(key)


def event_key(event_id: str) -> str:
    return f"evt:{event_id}"


def message_key(channel: str, ts: str) -> str:
    return f"msg:{channel}:{ts}"


@dataclass(slots=True)
class CardState:
    card_id: str
    team: str
    channel: str
    diagnosis: dict[str, Any]
    evaluated_at: float
    ts: str | None = None  # the card message, once posted (None for an ephemeral card)
    thread_ts: str | None = None
    ephemeral: bool = False
    live_token_warning: bool = False
    expanded_library: str | None = None
    revision: int = 0
    workaround_ids: list[str] = field(default_factory=list)
    clock_note: str | None = None
    measured_leeway: int | None = None

    @classmethod
    def new(cls, team: str, channel: str, diagnosis: Diagnosis, evaluated_at: float, **extra: Any) -> CardState:
        return cls(
            card_id=secrets.token_hex(8),
            team=team,
            channel=channel,
            diagnosis=diagnosis_to_dict(diagnosis),
            evaluated_at=evaluated_at,
            workaround_ids=[w.id for w in diagnosis.workarounds],
            **extra,
        )

    def restore(self, knowledge: Knowledge) -> Diagnosis:
        return diagnosis_from_dict(self.diagnosis, knowledge)


class CardStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def save(self, state: CardState) -> None:
        # the fields as they are (asdict would deep-copy the diagnosis first, only to serialise the copy)
        document = {item.name: getattr(state, item.name) for item in fields(state)}
        await self._store.set(f"card:{state.card_id}", json.dumps(document, separators=(",", ":")), CARD_TTL)

    async def load(self, card_id: str) -> CardState | None:
        if not card_id.isalnum() or len(card_id) > 64:
            return None
        raw = await self._store.get(f"card:{card_id}")
        if raw is None:
            return None
        try:
            return CardState(**json.loads(raw))
        except (TypeError, ValueError):
            return None

    async def votes(self, team: str, workaround_ids: list[str]) -> dict[str, dict[str, int]]:
        """This workspace's votes on each workaround, in one store round trip."""
        counts = await self._store.tallies([vote_key(team, w) for w in workaround_ids])
        return dict(zip(workaround_ids, counts, strict=True))

    async def vote(self, team: str, workaround_id: str, user: str, choice: str) -> dict[str, int]:
        return await self._store.vote(vote_key(team, workaround_id), user, choice, VOTE_TTL)


def vote_key(team: str, workaround_id: str) -> str:
    return f"votes:{team}:{workaround_id}"
