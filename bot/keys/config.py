"""A service's trusted key sources, as configured. Plain, frozen data: what to trust, not how to fetch."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from bot.diagnosis.signature import TrustedKey

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


@dataclass(frozen=True, slots=True)
class KeyConfig:
    """Where a service's verification keys come from.

    - ``jwks_uri``: a JWKS URL; ``discovery``: an issuer's ``/.well-known/openid-configuration`` whose
      ``issuer`` must be one of ``issuers`` and whose ``jwks_uri`` must be https;
    - ``static_keys``: public keys loaded from PEM or JWK files when the config was read;
    - ``hmac_secret_env``: the name of the environment variable holding an HMAC secret (never the secret);
    - ``allow_http``: http URLs are fetched too (a local issuer in development and tests only).
    """

    jwks_uri: str | None = None
    discovery: str | None = None
    static_keys: tuple[TrustedKey, ...] = ()
    key_files: tuple[str, ...] = ()
    hmac_secret_env: str | None = None
    allow_http: bool = False
    issuers: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        return bool(self.jwks_uri or self.discovery or self.static_keys or self.hmac_secret_env)

    @property
    def fetches(self) -> bool:
        """Whether resolving keys needs the network (and so aiohttp and an event loop)."""
        return bool(self.jwks_uri or self.discovery)

    def cache_key(self) -> str:
        """A short hash of the configuration (never of a secret): part of the diagnosis cache key."""
        document = {
            "jwks_uri": self.jwks_uri,
            "discovery": self.discovery,
            "static": [[key.origin, sorted(key.jwk.items())] for key in self.static_keys],
            "hmac_secret_env": self.hmac_secret_env,
            "allow_http": self.allow_http,
            "issuers": list(self.issuers) if self.discovery else [],
        }
        return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:12]

    def describe(self) -> str:
        """The sources in a few words, for logs and errors (URLs as hosts only)."""
        from bot.keys.urls import host_of

        parts = []
        if self.jwks_uri:
            parts.append(f"JWKS at {host_of(self.jwks_uri)}")
        if self.discovery:
            parts.append(f"discovery at {host_of(self.discovery)}")
        if self.key_files:
            parts.append(f"{len(self.key_files)} key file(s)")
        if self.hmac_secret_env:
            parts.append(f"HMAC secret in ${self.hmac_secret_env}")
        return ", ".join(parts) or "no key source"


NO_KEYS = KeyConfig()
