"""The key source interface: given the token's kid (a lookup key, never a location), return keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.diagnosis.signature import SourceFailure, TrustedKey


@dataclass(frozen=True, slots=True)
class SourceKeys:
    """What one source gave: its keys, or why not (``failure``), and whether a refetch was made or refused."""

    keys: tuple[TrustedKey, ...] = ()
    failure: SourceFailure | None = None
    answered: str | None = None  # the JWKS origin that answered, if any
    refetched: bool = False
    refetch_limited: bool = False


class KeySource(Protocol):
    origin: str

    async def lookup(self, kid: str | None) -> SourceKeys:
        """The source's keys. ``kid`` only decides whether a cached set is stale; it never names a place."""
        ...
