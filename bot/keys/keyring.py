"""The keyring: every configured key source of a process, and the one call the services make.

``Keyring.resolve(config, kid)`` asks each source of a service (JWKS, discovery, key files, HMAC secret)
for its keys, concurrently and within a deadline, and returns a :class:`KeyResolution` for the pure
signature check. Sources are created from the config only, one per URL, and shared by every
diagnosis, so their caches and in-flight fetches are shared too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.diagnosis.signature import KeyResolution, SourceFailure, TrustedKey
from bot.keys.base import KeySource, SourceKeys
from bot.keys.config import KeyConfig
from bot.keys.discovery import DiscoverySource
from bot.keys.fetch import DEFAULT_LIMITS, FetchLimits, fetch_json
from bot.keys.jwks import FAILURE_TTL, REFETCH_INTERVAL, Fetcher, FetchSettings, JwksSource
from bot.keys.local import resolve_local
from bot.keys.urls import loopback_allowed

if TYPE_CHECKING:
    from bot.store.base import Store


class Keyring:
    def __init__(
        self,
        store: Store | None = None,
        *,
        limits: FetchLimits = DEFAULT_LIMITS,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        refetch_interval: float = REFETCH_INTERVAL,
        failure_ttl: float = FAILURE_TTL,
        fetcher: Fetcher = fetch_json,
    ) -> None:
        self._settings = FetchSettings(
            store=store,
            limits=limits,
            clock=clock,
            wall=wall,
            refetch_interval=refetch_interval,
            failure_ttl=failure_ttl,
            fetcher=fetcher,
        )
        self._jwks: dict[tuple[str, bool, bool], JwksSource] = {}
        self._discovery: dict[tuple[str, tuple[str, ...], bool], DiscoverySource] = {}

    @property
    def deadline(self) -> float:
        """The longest one resolution may take: a discovery fetch, then a JWKS fetch and its refetch."""
        return 3 * self._settings.limits.total_timeout + 1.0

    def jwks(self, url: str, allow_http: bool = False, loopback: bool | None = None) -> JwksSource:
        """``loopback``: None for a URL from the config; a discovered ``jwks_uri`` says (see ``fetch_json``)."""
        if loopback is None:
            loopback = loopback_allowed(url, allow_http=allow_http)
        key = (url, allow_http, loopback)
        source = self._jwks.get(key)
        if source is None:
            source = self._jwks[key] = JwksSource(
                url, allow_http=allow_http, settings=self._settings, loopback=loopback
            )
        return source

    def discovery(self, url: str, issuers: tuple[str, ...], allow_http: bool = False) -> DiscoverySource:
        key = (url, issuers, allow_http)
        source = self._discovery.get(key)
        if source is None:
            source = self._discovery[key] = DiscoverySource(
                url,
                issuers,
                jwks_for=lambda uri, loopback: self.jwks(uri, allow_http, loopback),
                allow_http=allow_http,
                settings=self._settings,
            )
        return source

    def sources(self, config: KeyConfig) -> list[KeySource]:
        found: list[KeySource] = []
        if config.jwks_uri:
            found.append(self.jwks(config.jwks_uri, config.allow_http))
        if config.discovery:
            found.append(self.discovery(config.discovery, config.issuers, config.allow_http))
        return found

    async def resolve(self, config: KeyConfig, kid: str | None) -> KeyResolution:
        """Every key the service's sources give for a token with this ``kid`` (None: the token names none)."""
        local = resolve_local(config)
        remote = self.sources(config)
        results = await asyncio.gather(*(self._bounded(source, kid) for source in remote))
        keys = {_identity(key): key for key in local.keys}
        failures = list(local.failures)
        answered: list[str] = []
        for result in results:
            keys.update((_identity(key), key) for key in result.keys)  # jwks_uri and discovery may share a set
            if result.failure is not None:
                failures.append(result.failure)
            if result.answered and result.answered not in answered:
                answered.append(result.answered)
        return KeyResolution(
            keys=tuple(keys.values()),
            secrets=local.secrets,
            failures=tuple(failures),
            answered=tuple(answered),
            refetched=any(r.refetched for r in results),
            refetch_limited=any(r.refetch_limited for r in results),
        )

    async def _bounded(self, source: KeySource, kid: str | None) -> SourceKeys:
        try:
            async with asyncio.timeout(self.deadline):
                return await source.lookup(kid)
        except TimeoutError:
            origin = getattr(source, "origin", "?")
            return SourceKeys(
                failure=SourceFailure(
                    origin, "timeout", f"the key source at {origin} did not answer within {self.deadline:g} s"
                )
            )


def _identity(key: TrustedKey) -> tuple[str, bool, tuple[tuple[str, str], ...]]:
    return key.origin, key.indexed, tuple(sorted(key.jwk.items()))
