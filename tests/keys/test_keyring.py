"""The keyring end to end with the pure check: no fetch from anything a token names, bounded failures."""

from __future__ import annotations

from typing import Any

import pytest

from bot.diagnosis import examine
from bot.diagnosis.model import CauseId, Expectations, SignatureStatus
from bot.diagnosis.signature import TrustedKey
from bot.keys.config import KeyConfig
from bot.keys.fetch import FetchLimits
from bot.keys.keyring import Keyring
from tests.keys.server import KeyServer
from tests.keys.support import ec_key, ed_key, jwk_of, jwks, rsa_key, sign
from tests.support.tokens import SECRET, claims, make_token

FAST = FetchLimits(connect_timeout=1.0, read_timeout=0.3, total_timeout=0.6)
ISSUER = "https://login.acme.test/"


async def test_a_hostile_token_makes_no_request_to_the_places_it_names(issuer: KeyServer, attacker: KeyServer) -> None:
    jwks_url = issuer.json("/keys", jwks(jwk_of(rsa_key(), "k-2026")))
    issuer.json("/.well-known/openid-configuration", {"issuer": ISSUER, "jwks_uri": jwks_url})
    attacker_key = rsa_key("attacker")
    attacker.json("/jwks", jwks(jwk_of(attacker_key, attacker.url("/k"))))
    attacker.json("/.well-known/openid-configuration", {"issuer": attacker.base, "jwks_uri": attacker.url("/jwks")})
    headers = {"jku": attacker.url("/jwks"), "x5u": attacker.url("/x5u"), "jwk": jwk_of(attacker_key), "x5c": ["MIIB"]}
    token = sign(attacker_key, "RS256", kid=attacker.url("/k"), payload=claims(iss=attacker.base), headers=headers)
    config = KeyConfig(discovery=issuer.url("/.well-known/openid-configuration"), allow_http=True, issuers=(ISSUER,))
    keyring = Keyring(limits=FAST)
    resolution = await keyring.resolve(config, attacker.url("/k"))
    facts = examine(token, Expectations(issuers=(ISSUER,)), resolution)
    assert facts.signature is SignatureStatus.INVALID
    assert {f.cause for f in facts.findings} >= {CauseId.UNKNOWN_KID, CauseId.ISSUER_MISMATCH}
    assert attacker.requests == []
    assert issuer.count("/keys") == 1  # the trusted JWKS, fetched once: the unknown kid counted it as fresh


async def test_every_source_is_asked_and_a_failing_one_does_not_hide_a_key_that_verifies(issuer: KeyServer) -> None:
    static = TrustedKey(jwk_of(rsa_key()), "keys/orders.pem")
    config = KeyConfig(jwks_uri=issuer.slow("/slow", 30), static_keys=(static,), allow_http=True)
    resolution = await Keyring(limits=FAST).resolve(config, "k-2026")
    assert [f.reason for f in resolution.failures] == ["timeout"]
    facts = examine(sign(rsa_key(), "RS256"), Expectations(), resolution)
    assert facts.signature is SignatureStatus.VERIFIED
    assert facts.signature_detail == "verified with the key in keys/orders.pem"


async def test_a_down_source_completes_with_the_failure_named(issuer: KeyServer) -> None:
    config = KeyConfig(jwks_uri=issuer.trickle("/keys", 30), allow_http=True)
    resolution = await Keyring(limits=FAST).resolve(config, "k-2026")
    facts = examine(
        sign(rsa_key(), "RS256", kid="k-2026", payload=claims(aud="x")),
        Expectations(audiences=("orders-api",)),
        resolution,
    )
    assert facts.signature is SignatureStatus.KEY_SOURCE_FAILED
    assert facts.signature_detail == f"the JWKS at 127.0.0.1:{issuer.port} did not answer within 0.6 s"
    assert {f.cause for f in facts.findings} == {CauseId.AUDIENCE_MISMATCH}


async def test_the_hmac_secret_is_read_by_name_at_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    config = KeyConfig(hmac_secret_env="ORDERS_JWT_SECRET")
    monkeypatch.delenv("ORDERS_JWT_SECRET", raising=False)
    missing = await Keyring().resolve(config, None)
    assert [f.reason for f in missing.failures] == ["not_set"] and missing.failures[0].secret
    monkeypatch.setenv("ORDERS_JWT_SECRET", "s3cret-value")
    found = await Keyring().resolve(config, None)
    assert [s.name for s in found.secrets] == ["ORDERS_JWT_SECRET"] and "s3cret-value" not in repr(found)


@pytest.mark.parametrize(
    ("alg", "private"), [("RS256", rsa_key), ("PS256", rsa_key), ("ES256", ec_key), ("EdDSA", ed_key)]
)
async def test_each_algorithm_verifies_against_a_served_jwks(issuer: KeyServer, alg: str, private: Any) -> None:
    served = jwks(jwk_of(rsa_key(), "k-rsa"), jwk_of(ec_key(), "k-ec"), jwk_of(ed_key(), "k-ed"))
    config = KeyConfig(jwks_uri=issuer.json("/jwks", served), allow_http=True)
    kid = {"RS256": "k-rsa", "PS256": "k-rsa", "ES256": "k-ec", "EdDSA": "k-ed"}[alg]
    resolution = await Keyring(limits=FAST).resolve(config, kid)
    facts = examine(sign(private(), alg, kid=kid), Expectations(), resolution)
    assert facts.signature is SignatureStatus.VERIFIED
    assert facts.signature_detail == f"verified with key {kid} from 127.0.0.1:{issuer.port}"


async def test_an_hs256_token_verifies_with_the_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERS_JWT_SECRET", SECRET)
    resolution = await Keyring().resolve(KeyConfig(hmac_secret_env="ORDERS_JWT_SECRET"), None)
    facts = examine(make_token(), Expectations(), resolution)
    assert facts.signature is SignatureStatus.VERIFIED


async def test_a_configured_url_that_hides_loopback_fails_as_a_source_with_one_line(issuer: KeyServer) -> None:
    issuer.json("/jwks", jwks(jwk_of(rsa_key(), "k-2026")))
    config = KeyConfig(jwks_uri=f"http://0x7f000001:{issuer.port}/jwks", allow_http=True)
    resolution = await Keyring(limits=FAST).resolve(config, "k-2026")
    [failure] = resolution.failures
    assert failure.reason == "internal_address" and resolution.keys == ()
    assert failure.detail == (
        "the JWKS URL host 0x7f000001 is 127.0.0.1, a loopback address: internal addresses are never fetched"
    )
    assert issuer.requests == []
