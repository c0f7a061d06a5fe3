"""OIDC discovery from the configured URL only: the issuer must match, the jwks_uri must be https and
never internal (only a local issuer configured on a literal loopback host may name its own origin)."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from bot.keys.fetch import Fetched, FetchLimits, fetch_json
from bot.keys.keyring import Keyring
from tests.keys.server import Answers, KeyServer
from tests.keys.support import jwk_of, jwks, rsa_key

FAST = FetchLimits(connect_timeout=1.0, read_timeout=0.5, total_timeout=1.0)
ISSUER = "https://login.acme.test/"
WELL_KNOWN = "/.well-known/openid-configuration"


def publish(issuer: KeyServer, *, issuer_id: str = ISSUER) -> str:
    jwks_url = issuer.json("/keys", jwks(jwk_of(rsa_key(), "k-2026")))
    return issuer.json(WELL_KNOWN, {"issuer": issuer_id, "jwks_uri": jwks_url, "token_endpoint": "https://x/t"})


async def test_discovery_leads_to_the_jwks_and_is_cached(issuer: KeyServer) -> None:
    keyring = Keyring(limits=FAST)
    source = keyring.discovery(publish(issuer), (ISSUER,), allow_http=True)
    for _ in range(3):
        result = await source.lookup("k-2026")
        assert [k.kid for k in result.keys] == ["k-2026"] and result.failure is None
    assert issuer.count(WELL_KNOWN) == 1 and issuer.count("/keys") == 1


@pytest.mark.parametrize("named", ["https://login.acme.test", "https://other.acme.test/", "HTTPS://LOGIN.ACME.TEST/"])
async def test_a_document_for_another_issuer_is_refused(issuer: KeyServer, named: str) -> None:
    source = Keyring(limits=FAST).discovery(publish(issuer, issuer_id=named), (ISSUER,), allow_http=True)
    result = await source.lookup("k-2026")
    assert result.failure is not None and result.failure.reason == "issuer_mismatch"
    assert "not a configured issuer" in result.failure.detail
    assert issuer.count("/keys") == 0


def fake(document: Any) -> Any:
    """Stands in for the network where a real test server cannot be https."""

    async def fetcher(url: str, **_: Any) -> Fetched:
        return Fetched(document, None)

    return fetcher


@pytest.mark.parametrize(
    ("jwks_uri", "reason"),
    [
        ("http://login.acme.test/keys", "http_refused"),
        ("https://169.254.169.254/latest/meta-data", "internal_address"),
        ("https://10.1.2.3/keys", "internal_address"),
        ("https://localhost/keys", "internal_address"),
        ("file:///etc/passwd", "bad_discovery"),
        (None, "bad_discovery"),
    ],
)
async def test_a_jwks_uri_that_breaks_the_rules_is_refused(jwks_uri: Any, reason: str) -> None:
    document = {"issuer": ISSUER, "jwks_uri": jwks_uri}
    source = Keyring(fetcher=fake(document)).discovery("https://login.acme.test" + WELL_KNOWN, (ISSUER,))
    result = await source.lookup(None)
    assert result.failure is not None and result.failure.reason == reason


async def test_a_discovery_document_that_is_not_an_object_is_refused(issuer: KeyServer) -> None:
    url = issuer.json(WELL_KNOWN, ["issuer", ISSUER])
    result = await Keyring(limits=FAST).discovery(url, (ISSUER,), allow_http=True).lookup(None)
    assert result.failure is not None and result.failure.reason == "bad_discovery"


@pytest.mark.parametrize(
    "jwks_uri",
    [
        "http://127.0.0.1/keys",
        "https://127.0.0.1/keys",
        "http://0x7f000001/keys",
        "http://[::1]/keys",
        "http://100.100.100.200/keys",
        "http://metadata.google.internal/computeMetadata/v1/",
    ],
)
async def test_allow_http_does_not_let_a_jwks_uri_reach_an_internal_address(jwks_uri: str) -> None:
    document = {"issuer": ISSUER, "jwks_uri": jwks_uri}
    keyring = Keyring(fetcher=fake(document))
    result = await keyring.discovery("https://login.acme.test" + WELL_KNOWN, (ISSUER,), allow_http=True).lookup(None)
    assert result.failure is not None and result.failure.reason == "internal_address"
    assert "gives a jwks_uri that is refused" in result.failure.detail and "\n" not in result.failure.detail


@pytest.mark.parametrize(
    "spelling", ["0x7f000001", "2130706433", "0x7f.1", "localhost", "[::ffff:127.0.0.1]", "[::1]", "127.0.0.1:{other}"]
)
async def test_a_local_issuer_may_name_its_own_origin_only(
    issuer: KeyServer, attacker: KeyServer, spelling: str
) -> None:
    """The discovery URL names 127.0.0.1 with allow_http (a local issuer); its document's jwks_uri may
    name that same origin, spelled the same way, and no other loopback."""
    issuer.json("/keys", jwks(jwk_of(rsa_key(), "k-2026")))
    attacker.json("/keys", jwks(jwk_of(rsa_key(), "k-2026")))
    host = spelling.format(other=attacker.port) if "{other}" in spelling else f"{spelling}:{issuer.port}"
    url = issuer.json(WELL_KNOWN, {"issuer": ISSUER, "jwks_uri": f"http://{host}/keys"})
    result = await Keyring(limits=FAST).discovery(url, (ISSUER,), allow_http=True).lookup("k-2026")
    assert result.failure is not None and result.failure.reason == "internal_address", result
    assert result.keys == () and issuer.count("/keys") == 0 and attacker.requests == []


async def test_a_jwks_uri_whose_name_resolves_to_loopback_is_refused(issuer: KeyServer) -> None:
    """The document names a host that is no IP literal; the name resolves to loopback: refused when it is
    resolved, before any connection, though the issuer itself is a configured loopback."""
    lookup = Answers(["127.0.0.1"])
    issuer.json("/keys", jwks(jwk_of(rsa_key(), "k-2026")))
    url = issuer.json(WELL_KNOWN, {"issuer": ISSUER, "jwks_uri": f"http://keys.acme.test:{issuer.port}/keys"})
    keyring = Keyring(limits=FAST, fetcher=functools.partial(fetch_json, lookup=lookup))
    result = await keyring.discovery(url, (ISSUER,), allow_http=True).lookup("k-2026")
    assert result.failure is not None and result.failure.reason == "internal_address"
    assert "keys.acme.test resolves to 127.0.0.1, a loopback address" in result.failure.detail
    assert issuer.count("/keys") == 0 and lookup.calls == ["keys.acme.test"]
