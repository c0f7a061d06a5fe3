"""At-most-once work per chat delivery, across replicas: platforms retry deliveries, and may deliver one
message twice (Slack's ``app_mention`` and ``message`` events of one mention).

The claims live in the store, never in process memory, so any replica can take a retry.
"""

from __future__ import annotations

from bot.store import Store

PENDING_TTL = 120  # a claim whose worker died expires in time for Slack's next retry (1 min, then 5 min)
DONE_TTL = 24 * 3600


class Claims:
    """``begin`` claims every key or none; ``finish`` keeps them for a day; ``abandon`` frees them so that
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
