"""A JWKS URL as a key source: cached in the store and in process, fetched once for everyone who waits.

- The cache honours the response's Cache-Control max-age, clamped to [60 s, 24 h] (5 min without one).
  The store (Redis) copy is shared by replicas under ``jwks:{sha256(url)[:16]}`` and holds the public
  members of the keys only.
- A kid that is not in the cached set makes one refetch, at most once a minute per source (and, with
  a shared store, once a minute across replicas); a replica first looks at the store, where another
  replica may already have put the new set.
- Concurrent lookups share one fetch in flight. A failed fetch is remembered for a few seconds, so a
  source that is down is not hammered by every diagnosis.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.diagnosis.signature import SourceFailure, TrustedKey
from bot.keys.base import SingleFlight, SourceKeys
from bot.keys.fetch import DEFAULT_LIMITS, Fetched, FetchError, FetchLimits, clamp_age, fetch_json
from bot.keys.jwk import MAX_JWKS_KEYS, public_jwk
from bot.keys.urls import host_of, loopback_allowed

if TYPE_CHECKING:
    from bot.store.base import Store

log = logging.getLogger(__name__)

MIN_AGE, MAX_AGE, DEFAULT_AGE = 60.0, 86400.0, 300.0
REFETCH_INTERVAL = 60.0
FAILURE_TTL = 10.0
Fetcher = Callable[..., Awaitable[Fetched]]


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How the key sources of one keyring fetch and remember: shared, so they are set in one place."""

    store: Store | None = None
    limits: FetchLimits = DEFAULT_LIMITS
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    refetch_interval: float = REFETCH_INTERVAL
    failure_ttl: float = FAILURE_TTL
    fetcher: Fetcher = fetch_json


DEFAULT_SETTINGS = FetchSettings()


@dataclass(frozen=True, slots=True)
class _Entry:
    keys: tuple[TrustedKey, ...]
    kids: frozenset[str]
    expires: float  # on the monotonic clock


def store_key(kind: str, url: str) -> str:
    return f"{kind}:{hashlib.sha256(url.encode()).hexdigest()[:16]}"


def parse_jwks(document: Any, origin: str) -> tuple[TrustedKey, ...]:
    """The usable public signing keys of a JWK Set; :class:`FetchError` ``bad_jwks`` when there are none."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise FetchError("bad_jwks", f'the JWKS at {origin} is JSON but not a JWK Set (no "keys" array)')
    items = document["keys"]
    if len(items) > MAX_JWKS_KEYS:
        raise FetchError("bad_jwks", f"the JWKS at {origin} lists {len(items)} keys, over the {MAX_JWKS_KEYS} read")
    keys = tuple(TrustedKey(jwk, origin, indexed=True) for jwk in map(public_jwk, items) if jwk is not None)
    if not keys:
        raise FetchError("bad_jwks", f"the JWKS at {origin} holds no usable public signing key")
    return keys


class JwksSource:
    """The keys at one configured JWKS URL."""

    def __init__(
        self,
        url: str,
        *,
        allow_http: bool = False,
        settings: FetchSettings = DEFAULT_SETTINGS,
        loopback: bool | None = None,
    ) -> None:
        """``loopback``: see :func:`bot.keys.fetch.fetch_json` (None: ``url`` is from the config)."""
        self.url = url
        self.origin = host_of(url)
        self._allow_http = allow_http
        self._loopback = loopback_allowed(url, allow_http=allow_http) if loopback is None else loopback
        self._settings = settings
        self._key = store_key("jwks", url)
        self._entry: _Entry | None = None
        self._failure: tuple[SourceFailure, float] | None = None
        self._inflight: SingleFlight[_Entry | SourceFailure] = SingleFlight()
        self._last_fetch: float | None = None
        self.fetches = 0  # fetches started by this process (metrics, tests)

    async def lookup(self, kid: str | None) -> SourceKeys:
        entry = self._fresh()
        fetched_now = False
        if entry is None:
            entry = await self._load()
        if entry is None:
            result = await self._fetch_shared()
            if isinstance(result, SourceFailure):
                return SourceKeys(failure=result)
            entry, fetched_now = result, True
        if kid is None or kid in entry.kids:
            return SourceKeys(entry.keys, answered=self.origin)
        if fetched_now:
            return SourceKeys(entry.keys, answered=self.origin, refetched=True)
        stored = await self._load()  # another replica may have fetched the new set already
        if stored is not None and kid in stored.kids:
            return SourceKeys(stored.keys, answered=self.origin)
        if not self._inflight.busy and not await self._may_refetch():
            return SourceKeys(entry.keys, answered=self.origin, refetch_limited=True)
        result = await self._fetch_shared(force=True)
        if isinstance(result, SourceFailure):
            return SourceKeys(entry.keys, failure=result, answered=self.origin)
        return SourceKeys(result.keys, answered=self.origin, refetched=True)

    # --- caches ----------------------------------------------------------------------------------

    def _fresh(self) -> _Entry | None:
        entry = self._entry
        return entry if entry is not None and entry.expires > self._settings.clock() else None

    async def _load(self) -> _Entry | None:
        """The store's copy, if it is still fresh: it becomes this process's copy too."""
        if self._settings.store is None:
            return None
        try:
            text = await self._settings.store.get(self._key)
        except Exception:  # a store outage costs a fetch, never a diagnosis
            log.warning("key cache: the store could not be read for %s", self.origin)
            return None
        if text is None:
            return None
        try:
            data = json.loads(text)
            keys = parse_jwks({"keys": data["keys"]}, self.origin)
            remaining = float(data["expires_at"]) - self._settings.wall()
        except (ValueError, KeyError, TypeError, FetchError):
            return None
        if remaining <= 0:
            return None
        entry = self._entry = _Entry(
            keys, frozenset(k.kid for k in keys if k.kid), self._settings.clock() + min(remaining, MAX_AGE)
        )
        return entry

    async def _save(self, keys: tuple[TrustedKey, ...], age: float) -> None:
        if self._settings.store is None:
            return
        document = {
            "keys": [dict(key.jwk) for key in keys],
            "fetched_at": round(self._settings.wall()),
            "expires_at": round(self._settings.wall() + age),
        }
        try:
            await self._settings.store.set(self._key, json.dumps(document, separators=(",", ":")), max(1, int(age)))
        except Exception:
            log.warning("key cache: the store could not be written for %s", self.origin)

    async def _may_refetch(self) -> bool:
        """At most one refetch a minute for an unknown kid: per process, and across replicas via the store."""
        now = self._settings.clock()
        if self._last_fetch is not None and now - self._last_fetch < self._settings.refetch_interval:
            return False
        if self._settings.store is not None:
            with contextlib.suppress(Exception):
                interval = max(1, int(self._settings.refetch_interval))
                return await self._settings.store.claim(store_key("jwks-refetch", self.url), interval)
        return True

    # --- fetching --------------------------------------------------------------------------------

    async def _fetch_shared(self, *, force: bool = False) -> _Entry | SourceFailure:
        if self._failure is not None and not force:
            failure, until = self._failure
            if until > self._settings.clock():
                return failure
        return await self._inflight.run(self._fetch)

    async def _fetch(self) -> _Entry | SourceFailure:
        self.fetches += 1
        self._last_fetch = self._settings.clock()
        try:
            fetched = await self._settings.fetcher(
                self.url,
                allow_http=self._allow_http,
                limits=self._settings.limits,
                what="JWKS",
                loopback=self._loopback,
            )
            keys = parse_jwks(fetched.document, self.origin)
        except FetchError as failed:
            log.warning("key source failed: %s (%s)", failed.detail, failed.reason)
            failure = SourceFailure(self.origin, failed.reason, failed.detail)
            self._failure = (failure, self._settings.clock() + self._settings.failure_ttl)
            return failure
        except Exception as exc:  # a bug here must not take a diagnosis down
            log.exception("key source %s: unexpected %s", self.origin, type(exc).__name__)
            return SourceFailure(self.origin, "error", f"the JWKS at {self.origin} could not be read")
        age = clamp_age(fetched.max_age, default=DEFAULT_AGE, low=MIN_AGE, high=MAX_AGE)
        entry = _Entry(keys, frozenset(k.kid for k in keys if k.kid), self._settings.clock() + age)
        self._entry, self._failure = entry, None
        await self._save(keys, age)
        return entry
