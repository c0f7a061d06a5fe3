"""Trusted key sources: the only part of the bot that fetches keys (adapters around the pure core).

- ``config``: :class:`KeyConfig`, what a service trusts (plain data, from the services TOML or flags);
- ``static`` and ``local``: PEM/JWK files and an HMAC secret from the environment (no network);
- ``fetch``, ``jwks``, ``discovery``, ``keyring``: JWKS and OIDC discovery over aiohttp, with the SSRF
  rules (config URLs only, https, timeouts, size cap, no cross-host redirects) and the caches.

Importing this package imports no aiohttp: only ``bot.keys.fetch`` does, and only the network sources
import it, so the command line loads it only when a key must be fetched.
"""

from bot.keys.config import NO_KEYS, KeyConfig
from bot.keys.local import resolve_local

__all__ = ["NO_KEYS", "KeyConfig", "resolve_local"]
