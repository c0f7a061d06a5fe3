"""An issuer's OpenID Connect discovery document as a key source.

The document is fetched from the configured URL only (never from a token's ``iss``). Its ``issuer`` must
equal one of the service's configured issuers, and its ``jwks_uri`` must be https (http only with
``allow_http``) and must not point at an internal address, whatever ``allow_http`` says (the one exception:
a discovery URL configured on a literal loopback host with ``allow_http``, a local issuer in development,
may name its own origin); then a :class:`JwksSource` for that
``jwks_uri`` gives the keys. The ``jwks_uri`` is cached like a JWKS (store + process, max-age clamped).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.diagnosis.checks.values import show
from bot.diagnosis.signature import SourceFailure
from bot.keys.base import SingleFlight, SourceKeys
from bot.keys.fetch import FetchError, clamp_age
from bot.keys.jwks import DEFAULT_SETTINGS, MAX_AGE, MIN_AGE, FetchSettings, JwksSource, store_key
from bot.keys.urls import UrlRefused, check_host, check_url, explicit_loopback, host_of, loopback_allowed, same_origin

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)
DEFAULT_AGE = 3600.0


class DiscoverySource:
    def __init__(
        self,
        url: str,
        issuers: tuple[str, ...],
        *,
        jwks_for: Callable[[str, bool], JwksSource],
        allow_http: bool = False,
        settings: FetchSettings = DEFAULT_SETTINGS,
    ) -> None:
        """``jwks_for(uri, loopback)``: the JWKS source of a validated ``jwks_uri``."""
        self.url = url
        self.origin = host_of(url)
        self._issuers = issuers
        self._jwks_for = jwks_for
        self._allow_http = allow_http
        self._loopback = loopback_allowed(url, allow_http=allow_http)
        self._settings = settings
        self._key = store_key("oidc", url)
        self._jwks_uri: tuple[str, float] | None = None
        self._failure: tuple[SourceFailure, float] | None = None
        self._inflight: SingleFlight[str | SourceFailure] = SingleFlight()
        self.fetches = 0

    async def lookup(self, kid: str | None) -> SourceKeys:
        target = await self._target()
        if isinstance(target, SourceFailure):
            return SourceKeys(failure=target)
        return await self._jwks_for(target, self._own_origin(target)).lookup(kid)

    async def _target(self) -> str | SourceFailure:
        if self._jwks_uri is not None and self._jwks_uri[1] > self._settings.clock():
            return self._jwks_uri[0]
        stored = await self._load()
        if stored is not None:
            return stored
        if self._failure is not None and self._failure[1] > self._settings.clock():
            return self._failure[0]
        return await self._inflight.run(self._fetch)

    async def _load(self) -> str | None:
        if self._settings.store is None:
            return None
        try:
            text = await self._settings.store.get(self._key)
            if text is None:
                return None
            data = json.loads(text)
            uri, remaining = self._check(data["jwks_uri"]), float(data["expires_at"]) - self._settings.wall()
        except (ValueError, KeyError, TypeError, FetchError):
            return None
        except Exception:  # a store outage costs a fetch, never a diagnosis
            log.warning("key cache: the store could not be read for %s", self.origin)
            return None
        if remaining <= 0:
            return None
        self._jwks_uri = (uri, self._settings.clock() + min(remaining, MAX_AGE))
        return uri

    async def _fetch(self) -> str | SourceFailure:
        self.fetches += 1
        try:
            fetched = await self._settings.fetcher(
                self.url,
                allow_http=self._allow_http,
                limits=self._settings.limits,
                what="discovery document",
                loopback=self._loopback,
            )
            uri = self._validate(fetched.document)
        except FetchError as failed:
            log.warning("key source failed: %s (%s)", failed.detail, failed.reason)
            failure = SourceFailure(self.origin, failed.reason, failed.detail)
            self._failure = (failure, self._settings.clock() + self._settings.failure_ttl)
            return failure
        except Exception as exc:
            log.exception("discovery %s: unexpected %s", self.origin, type(exc).__name__)
            return SourceFailure(self.origin, "error", f"the discovery document at {self.origin} could not be read")
        age = clamp_age(fetched.max_age, default=DEFAULT_AGE, low=MIN_AGE, high=MAX_AGE)
        self._jwks_uri, self._failure = (uri, self._settings.clock() + age), None
        if self._settings.store is not None:
            document = {"jwks_uri": uri, "expires_at": round(self._settings.wall() + age)}
            with contextlib.suppress(Exception):
                await self._settings.store.set(self._key, json.dumps(document), max(1, int(age)))
        return uri

    def _validate(self, document: object) -> str:
        if not isinstance(document, dict):
            raise FetchError("bad_discovery", f"the discovery document at {self.origin} is not a JSON object")
        issuer = document.get("issuer")
        if not isinstance(issuer, str) or issuer not in self._issuers:
            configured = ", ".join(show(item, 60) for item in self._issuers[:3])
            raise FetchError(
                "issuer_mismatch",
                f"the discovery document at {self.origin} names issuer "
                f"{show(issuer, 80)}, not a configured issuer ({configured}): it belongs to another "
                "issuer, tenant or environment",
            )
        return self._check(document.get("jwks_uri"))

    def _check(self, uri: object) -> str:
        if not isinstance(uri, str):
            raise FetchError("bad_discovery", f"the discovery document at {self.origin} has no jwks_uri")
        try:
            check_url(uri, allow_http=self._allow_http, what="jwks_uri")
        except UrlRefused as refused:
            reason = "http_refused" if refused.reason == "http_refused" else "bad_discovery"
            raise FetchError(
                reason, f"the discovery document at {self.origin} gives a jwks_uri that is refused: {refused}"
            ) from None
        if not self._own_origin(uri):
            try:
                check_host(uri, what="jwks_uri")
            except UrlRefused as refused:
                raise FetchError(
                    "internal_address" if refused.reason == "internal_address" else "bad_discovery",
                    f"the discovery document at {self.origin} gives a jwks_uri that is refused: {refused}",
                ) from None
        return uri

    def _own_origin(self, uri: str) -> bool:
        """A local issuer configured on a literal loopback host (with ``allow_http``) may name its own
        origin, spelled the same way; nothing else from the document may reach loopback."""
        return self._loopback and explicit_loopback(uri) and same_origin(self.url, uri) and host_of(uri) == self.origin
