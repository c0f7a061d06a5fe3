"""A card's state, kept in the store for clicks, and the workspace's votes on its fixes.

Everything lives in the store, never in process memory, so any replica can take a click. A state holds
the redacted diagnosis and chat ids only; ``bot.store.codec`` writes and reads it (versioned).
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from enum import Enum
from typing import Any

from bot.diagnosis import Diagnosis
from bot.knowledge import Knowledge
from bot.render.blocks import CardOptions
from bot.store import Store
from bot.store.codec import CardFields, decode_card, encode_card

CARD_TTL = 14 * 24 * 3600
VOTE_TTL = 180 * 24 * 3600


class CardState(CardFields):
    """One posted card: where it is (team, channel, thread), what it says (the diagnosis, as of
    ``evaluated_at``) and how it is drawn (its :class:`CardOptions`, whose ``card_id`` its buttons carry).

    Immutable: a click makes a changed copy (:meth:`with_options`) and saves it.
    """

    __slots__ = ()

    @classmethod
    def new(
        cls,
        team: str,
        channel: str,
        diagnosis: Diagnosis,
        evaluated_at: float,
        *,
        ts: str | None = None,
        thread_ts: str | None = None,
        **options: Any,
    ) -> CardState:
        """A state under a fresh card id; ``options`` are :class:`CardOptions` fields."""
        return cls(
            team, channel, evaluated_at, ts, thread_ts, CardOptions(card_id=secrets.token_hex(8), **options), diagnosis
        )

    @property
    def card_id(self) -> str:
        return self.options.card_id

    @property
    def workaround_ids(self) -> list[str]:
        """The fixes the card shows, which its vote buttons name."""
        return [workaround.id for workaround in self.diagnosis.workarounds]

    def with_options(self, **changes: Any) -> CardState:
        return self._replace(options=replace(self.options, **changes))


class CardGone(Enum):
    """Why a click finds no card state to change."""

    EXPIRED = "expired"  # no state under that id (it outlived CARD_TTL, or never was)
    UNREADABLE = "unreadable"  # a state this version cannot read: written by another version (or damaged)


class CardStore:
    def __init__(self, store: Store, knowledge: Knowledge) -> None:
        self._store = store
        self._knowledge = knowledge

    async def save(self, state: CardState) -> None:
        await self._store.set(card_key(state.card_id), encode_card(state), CARD_TTL)

    async def load(self, card_id: str) -> CardState | CardGone:
        """The state of the card a click names, its advice looked up again in the knowledge."""
        if not (card_id.isascii() and card_id.isalnum()) or len(card_id) > 64:
            return CardGone.EXPIRED
        raw = await self._store.get(card_key(card_id))
        if raw is None:
            return CardGone.EXPIRED
        fields = decode_card(raw, self._knowledge)
        if fields is None or fields.options.card_id != card_id:
            return CardGone.UNREADABLE
        return CardState._make(fields)

    async def placed(self, card_id: str, channel: str, ts: str) -> None:
        """Where the card's message was posted: a click updates that message, whatever its payload names."""
        state = await self.load(card_id)
        if not isinstance(state, CardGone):
            await self.save(state._replace(channel=channel or state.channel, ts=ts))

    async def votes(self, team: str, workaround_ids: list[str]) -> dict[str, dict[str, int]]:
        """This workspace's votes on each workaround, in one store round trip."""
        counts = await self._store.tallies([vote_key(team, w) for w in workaround_ids])
        return dict(zip(workaround_ids, counts, strict=True))

    async def vote(self, team: str, workaround_id: str, user: str, choice: str) -> dict[str, int]:
        return await self._store.vote(vote_key(team, workaround_id), user, choice, VOTE_TTL)


def card_key(card_id: str) -> str:
    return f"card:{card_id}"


def vote_key(team: str, workaround_id: str) -> str:
    """A workspace's polls share the hash tag ``{team}``: ``votes()`` reads them together (one pipeline, one
    cluster node)."""
    return f"votes:{{{team}}}:{workaround_id}"
