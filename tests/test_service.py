"""The diagnosis service the bot uses: keys resolved over real HTTP, facts cached in a real Redis."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.diagnosis.model import CauseId, Expectations, Report, SignatureStatus, Verdict
from bot.keys.config import KeyConfig
from bot.keys.fetch import FetchLimits
from bot.keys.keyring import Keyring
from bot.knowledge import default_knowledge
from bot.render.blocks import CardOptions, render_card
from bot.service import DiagnosisService
from bot.store.base import Store
from bot.store.redis_store import RedisStore
from tests.keys.server import KeyServer
from tests.keys.support import forge_with_public_key, jwk_of, jwks, pem_of, rsa_key, sign
from tests.support.tokens import AUDIENCE, ISSUER, NOW, SECRET, claims, make_token, signature_of

pytestmark = pytest.mark.redis
FAST = FetchLimits(connect_timeout=1.0, read_timeout=0.3, total_timeout=0.6)
EXPECT = Expectations(audiences=(AUDIENCE,), issuers=(ISSUER,), algorithms=("RS256",))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Service:
    def __init__(self, store: Store, clock: Clock | None = None) -> None:
        self.cache: list[str] = []
        self.clock = clock or Clock()
        self.wall = Clock()
        self.wall.now = time.time()
        self.keyring = Keyring(store, limits=FAST, clock=self.clock, wall=self.wall, failure_ttl=0.0)
        self.service = DiagnosisService(store, default_knowledge(), on_cache=self.cache.append, keyring=self.keyring)

    async def diagnose(self, text: str, keys: KeyConfig | None, expectations: Expectations = EXPECT) -> Report:
        return await self.service.diagnose(text, expectations, NOW, keys=keys)


def local_jwks(server: KeyServer, *keys: dict[str, str], path: str = "/jwks") -> KeyConfig:
    return KeyConfig(jwks_uri=server.json(path, jwks(*keys)), allow_http=True)


async def test_a_verified_token_is_cached_with_its_signature_outcome(
    issuer: KeyServer, redis_store: RedisStore
) -> None:
    bot = Service(redis_store)
    keys = local_jwks(issuer, jwk_of(rsa_key(), "k-2026"))
    token = sign(rsa_key(), "RS256", kid="k-2026")
    for _ in range(3):
        [diagnosis] = (await bot.diagnose(token, keys)).diagnoses
        assert diagnosis.signature is SignatureStatus.VERIFIED and diagnosis.verdict is Verdict.VALID
        assert diagnosis.signature_detail == f"verified with key k-2026 from 127.0.0.1:{issuer.port}"
    assert bot.cache == ["miss", "hit", "hit"] and issuer.count("/jwks") == 1


async def test_the_cache_key_covers_the_key_sources(issuer: KeyServer, redis_store: RedisStore) -> None:
    bot = Service(redis_store)
    token = sign(rsa_key(), "RS256", kid="k-2026")
    right = local_jwks(issuer, jwk_of(rsa_key(), "k-2026"))
    wrong = local_jwks(issuer, jwk_of(rsa_key("other"), "k-2026"), path="/other")
    statuses = [(await bot.diagnose(token, keys)).diagnoses[0].signature for keys in (None, right, wrong)]
    assert statuses == [SignatureStatus.NOT_CHECKED, SignatureStatus.VERIFIED, SignatureStatus.INVALID]
    assert bot.cache == ["miss", "miss", "miss"]


async def test_a_rotation_never_serves_an_old_outcome(issuer: KeyServer, redis_store: RedisStore) -> None:
    clock = Clock()
    bot = Service(redis_store, clock)
    keys = local_jwks(issuer, jwk_of(rsa_key(), "k-2026"))
    token = sign(rsa_key(), "RS256", kid="k-2026")
    assert (await bot.diagnose(token, keys)).diagnoses[0].signature is SignatureStatus.VERIFIED
    issuer.update("/jwks", jwks(jwk_of(rsa_key("new"), "k-2027")))  # k-2026 retired
    clock.now += 301  # the JWKS copies expire (no Cache-Control: 5 min), in process and in Redis
    bot.wall.now += 301
    [diagnosis] = (await bot.diagnose(token, keys)).diagnoses
    assert diagnosis.signature is SignatureStatus.INVALID and diagnosis.cause_ids == (CauseId.UNKNOWN_KID,)


async def test_a_failed_key_source_is_not_cached_and_the_claims_are_still_reported(
    issuer: KeyServer, redis_store: RedisStore
) -> None:
    bot = Service(redis_store)
    keys = KeyConfig(jwks_uri=issuer.slow("/jwks", 30), allow_http=True)
    token = sign(rsa_key(), "RS256", kid="k-2026", payload=claims(aud="billing-api"))
    clean = sign(rsa_key(), "RS256", kid="k-2026")
    [refused] = (await bot.diagnose(token, keys)).diagnoses
    assert refused.signature is SignatureStatus.KEY_SOURCE_FAILED and refused.verdict is Verdict.INVALID
    assert refused.cause_ids == (CauseId.AUDIENCE_MISMATCH,)
    [unknown] = (await bot.diagnose(clean, keys)).diagnoses
    assert unknown.verdict is Verdict.UNVERIFIABLE and "did not answer within 0.6 s" in unknown.signature_detail
    issuer.json("/jwks", jwks(jwk_of(rsa_key(), "k-2026")))  # the source comes back
    [verified] = (await bot.diagnose(clean, keys)).diagnoses
    assert verified.signature is SignatureStatus.VERIFIED and verified.verdict is Verdict.VALID
    assert bot.cache == ["miss", "miss", "miss"]


async def test_a_hostile_token_reaches_no_url_it_names(
    issuer: KeyServer, attacker: KeyServer, redis_store: RedisStore
) -> None:
    bot = Service(redis_store)
    jwks_url = issuer.json("/keys", jwks(jwk_of(rsa_key(), "k-2026")))
    issuer.json("/.well-known/openid-configuration", {"issuer": ISSUER, "jwks_uri": jwks_url})
    keys = KeyConfig(discovery=issuer.url("/.well-known/openid-configuration"), allow_http=True, issuers=(ISSUER,))
    evil = rsa_key("attacker")
    headers = {"jku": attacker.url("/jwks"), "x5u": attacker.url("/cert.pem"), "jwk": jwk_of(evil)}
    tokens = [
        sign(evil, "RS256", kid=attacker.url("/kid"), payload=claims(iss=attacker.base + "/"), headers=headers),
        forge_with_public_key(pem_of(rsa_key()), claims(iss=attacker.url("/")), headers={"jku": attacker.url("/j")}),
    ]
    report = await bot.diagnose("\n".join(tokens), keys)
    assert [d.signature for d in report.diagnoses] == [SignatureStatus.INVALID] * 2
    assert CauseId.UNKNOWN_KID in report.diagnoses[0].cause_ids
    assert report.diagnoses[1].top_cause is not None
    assert report.diagnoses[1].top_cause.id is CauseId.ALGORITHM_NOT_ALLOWED
    assert attacker.requests == []


async def test_redis_holds_no_signature_no_secret_and_no_private_key(
    issuer: KeyServer, redis_store: RedisStore, redis_raw: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERS_JWT_SECRET", SECRET)
    bot = Service(redis_store)
    private = dict(jwk_of(rsa_key(), "k-2026"), d="UFJJVkFURQ", p="UFJJVkFURQ")
    keys = KeyConfig(jwks_uri=issuer.json("/jwks", jwks(private)), allow_http=True, hmac_secret_env="ORDERS_JWT_SECRET")
    tokens = [sign(rsa_key(), "RS256", kid="k-2026"), sign(rsa_key("x"), "RS256", kid="k-9"), make_token()]
    await bot.diagnose(" ".join(tokens), keys, Expectations())
    stored: list[str] = []
    async for key in redis_raw.scan_iter("*"):
        assert key.startswith("jwtcheck:") and await redis_raw.ttl(key) > 0
        stored += [key, await redis_raw.get(key) or ""]
    text = "\n".join(stored)
    assert any(key.startswith("jwtcheck:jwks:") for key in stored) and any("jwtcheck:diag:" in k for k in stored)
    for token in tokens:
        assert signature_of(token) not in text and token not in text
    assert SECRET not in text and "UFJJVkFURQ" not in text


async def test_the_card_shows_the_verification_line_and_the_fixes_that_apply(
    issuer: KeyServer, redis_store: RedisStore
) -> None:
    bot = Service(redis_store)
    keys = local_jwks(issuer, jwk_of(rsa_key(), "k-2026"))
    text = " ".join(
        [
            sign(rsa_key(), "RS256", kid="k-2026"),
            sign(rsa_key("new"), "RS256", kid="k-2027"),
            sign(rsa_key("other"), "RS256", kid="k-2026"),
        ]
    )
    report = await bot.diagnose(text, keys)
    cards = [
        _text(render_card(d, NOW.timestamp(), default_knowledge(), CardOptions(f"c{n}")).blocks)
        for n, d in enumerate(report.diagnoses)
    ]
    assert f"Signature verified (with key k-2026 from 127.0.0.1:{issuer.port})" in cards[0]
    assert "Signature invalid (kid" in cards[1] and "Use the issuer’s current JWKS" in _plain(cards[1])
    assert "Verify with the issuer" in cards[2] and "check the secret" in cards[2]


def _text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def _plain(text: str) -> str:
    return text.replace("'", "’")
