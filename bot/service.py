"""The diagnosis service the bot calls: key resolution, the pure engine, and a cache in the store.

For each token, the service's key sources are asked for keys first (``bot.keys``: JWKS and discovery
over aiohttp, cached), then the pure engine verifies the signature and runs the checks, in memory.

What is cached is a token's *facts* (decode results, the signature outcome and the checks that ignore
the clock) under its fingerprint plus hashes of the expectations, the key-source config and the keys
the sources gave: never the token, never a signature, never a secret. A key rotation therefore never
serves an old outcome; an outcome that depended on a failed key source is not cached at all, and one
that found the kid unknown only for a minute. The time checks are re-run on every read, so a cached
"valid" never outlives ``exp``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

from bot.diagnosis import (
    CauseId,
    Expectations,
    KeyResolution,
    Report,
    SignatureStatus,
    TokenFacts,
    examine,
    scan,
)
from bot.diagnosis.decode import decode_header
from bot.diagnosis.expectations import learn
from bot.diagnosis.redact import fingerprint
from bot.keys.config import KeyConfig
from bot.keys.keyring import Keyring
from bot.knowledge import Knowledge, default_catalogue
from bot.knowledge.advise import judge_advised
from bot.store import Store
from bot.store.codec import decode_facts, encode_facts

log = logging.getLogger(__name__)
CACHE_TTL = 6 * 3600
UNKNOWN_KID_TTL = 60  # a kid may appear at the next refetch: such an outcome is kept a minute only
CACHE_VERSION = "2"


class DiagnosisService:
    def __init__(
        self, store: Store, knowledge: Knowledge, *, on_cache: Any = None, keyring: Keyring | None = None
    ) -> None:
        self._store = store
        self._knowledge = knowledge
        self._catalogue = default_catalogue()
        self._on_cache = on_cache  # called with "hit" or "miss" (metrics)
        self._keyring = keyring if keyring is not None else Keyring(store)

    @property
    def knowledge(self) -> Knowledge:
        return self._knowledge

    @property
    def keyring(self) -> Keyring:
        return self._keyring

    async def diagnose(
        self,
        text: str,
        expectations: Expectations,
        now: datetime,
        *,
        limit: int | None = None,
        keys: KeyConfig | None = None,
    ) -> Report:
        """Scan, learn, fetch each token's facts (cache, or keys and :func:`examine`), judge, advise.

        With ``keys`` (a service's key sources) signatures are verified too."""
        found = scan(text, self._catalogue, at=now.timestamp(), limit=limit)
        expectations, learned = learn(found, expectations)
        facts = {raw: await self._facts(raw, expectations, keys) for raw in found.tokens}
        return judge_advised(found, expectations, now, self._knowledge, facts=facts, learned=learned)

    async def _facts(self, raw: str, expectations: Expectations, keys: KeyConfig | None) -> TokenFacts:
        resolution = await self._resolve(raw, keys)
        key = f"diag:{CACHE_VERSION}:{fingerprint(raw)}:{expectations_key(expectations)}:{keys_key(keys, resolution)}"
        cached = await self._store.get(key)
        if cached is not None:
            known = decode_facts(cached)
            if known is None:
                log.warning("discarding an unreadable cache entry")
            else:
                self._count("hit")
                return known
        self._count("miss")
        facts = examine(raw, expectations, resolution)
        ttl = facts_ttl(facts)
        if ttl:
            await self._store.set(key, encode_facts(facts), ttl)
        return facts

    async def _resolve(self, raw: str, keys: KeyConfig | None) -> KeyResolution | None:
        """The keys for this token; the header's kid only picks among trusted keys, never where to look."""
        if keys is None or not keys.configured:
            return None
        header = decode_header(raw)
        alg = header.get("alg") if header else None
        if header is None or raw.count(".") != 2 or not isinstance(alg, str) or alg.lower() == "none":
            return KeyResolution()  # nothing to verify: no fetch for a malformed, encrypted or unsigned token
        kid = header.get("kid")
        return await self._keyring.resolve(keys, kid if isinstance(kid, str) else None)

    def _count(self, result: str) -> None:
        if self._on_cache is not None:
            self._on_cache(result)


def expectations_key(expectations: Expectations) -> str:
    canonical = json.dumps(asdict(expectations), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def keys_key(keys: KeyConfig | None, resolution: KeyResolution | None) -> str:
    """The key-source config and what it resolved to (keys, failures, refetch), hashed: ``-`` without keys."""
    if keys is None or not keys.configured:
        return "-"
    digest = resolution.digest() if resolution is not None else "-"
    return hashlib.sha256(f"{keys.cache_key()}:{digest}".encode()).hexdigest()[:12]


def facts_ttl(facts: TokenFacts) -> int:
    """How long facts may be cached: not at all when a key source failed (it may answer next time)."""
    if facts.signature is SignatureStatus.KEY_SOURCE_FAILED:
        return 0
    if any(finding.cause is CauseId.UNKNOWN_KID for finding in facts.findings):
        return UNKNOWN_KID_TTL
    return CACHE_TTL
