"""The one fetch: real HTTP against a local server, every misbehaviour bounded and named."""

from __future__ import annotations

import pytest

from bot.keys.fetch import FetchError, FetchLimits, clamp_age, fetch_json, parse_max_age
from bot.keys.urls import UrlRefused, check_url, is_internal_address, same_origin
from tests.keys.server import KeyServer

FAST = FetchLimits(connect_timeout=1.0, read_timeout=0.5, total_timeout=1.0)


async def fails(url: str, *, allow_http: bool = True, limits: FetchLimits = FAST) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetch_json(url, allow_http=allow_http, limits=limits)
    return caught.value


async def test_a_document_is_fetched_with_its_max_age(issuer: KeyServer) -> None:
    url = issuer.json("/jwks", {"keys": []}, cache_control="public, max-age=600")
    fetched = await fetch_json(url, allow_http=True, limits=FAST)
    assert fetched.document == {"keys": []} and fetched.max_age == 600


async def test_http_is_refused_without_allow_http_and_nothing_is_sent(issuer: KeyServer) -> None:
    failure = await fails(issuer.json("/jwks", {"keys": []}), allow_http=False)
    assert failure.reason == "http_refused" and "only https is fetched" in failure.detail
    assert issuer.requests == []


async def test_a_slow_server_is_a_timeout(issuer: KeyServer) -> None:
    failure = await fails(issuer.slow("/slow", 30))
    assert failure.reason == "timeout"
    assert failure.detail == f"the JWKS at 127.0.0.1:{issuer.port} did not answer within 1 s"


async def test_a_body_that_trickles_forever_is_a_timeout(issuer: KeyServer) -> None:
    assert (await fails(issuer.trickle("/trickle", 30))).reason == "timeout"


@pytest.mark.parametrize("declare_length", [True, False])
async def test_an_oversized_response_is_refused_while_reading(issuer: KeyServer, declare_length: bool) -> None:
    url = issuer.oversized("/big", 300 * 1024, declare_length=declare_length)
    failure = await fails(url)
    assert failure.reason == "too_large" and "over 256 KiB" in failure.detail


async def test_a_decompression_bomb_is_capped_after_decompression(issuer: KeyServer) -> None:
    failure = await fails(issuer.gzip_bomb("/bomb", 20 * 1024 * 1024))
    assert failure.reason == "too_large"


async def test_a_gzipped_document_within_the_cap_is_read(issuer: KeyServer) -> None:
    fetched = await fetch_json(issuer.gzipped("/gz", {"keys": [1]}), allow_http=True, limits=FAST)
    assert fetched.document == {"keys": [1]}


async def test_a_redirect_to_another_host_is_never_followed(issuer: KeyServer, attacker: KeyServer) -> None:
    url = issuer.redirect("/moved", attacker.json("/jwks", {"keys": []}))
    failure = await fails(url)
    assert failure.reason == "redirect_refused"
    assert f"redirected to 127.0.0.1:{attacker.port}: a redirect to another host is never followed" in failure.detail
    assert attacker.requests == []


async def test_a_redirect_on_the_same_host_is_followed_once(issuer: KeyServer) -> None:
    issuer.json("/jwks", {"keys": []})
    assert (await fetch_json(issuer.redirect("/old", "/jwks"), allow_http=True, limits=FAST)).document == {"keys": []}
    issuer.redirect("/a", "/b")
    issuer.redirect("/b", "/jwks")
    assert (await fails(issuer.url("/a"))).reason == "redirect_refused"


async def test_a_redirect_down_from_https_to_http_is_refused() -> None:
    with pytest.raises(UrlRefused):
        check_url("http://login.acme.test/jwks", allow_http=False)
    assert not same_origin("https://login.acme.test/a", "http://login.acme.test/b")
    assert same_origin("http://login.acme.test/a", "https://login.acme.test/b")


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ("<html>not json</html>", 200, "bad_json"),
        ('{"keys": [', 200, "bad_json"),
        ("[" * 100_000, 200, "bad_json"),
        ("{}", 500, "http_status"),
        ("{}", 404, "http_status"),
    ],
)
async def test_junk_and_errors_are_named(issuer: KeyServer, body: str, status: int, reason: str) -> None:
    assert (await fails(issuer.text("/junk", body, status))).reason == reason


async def test_a_closed_port_is_unreachable() -> None:
    server = await KeyServer().start()
    url = server.url("/jwks")
    await server.close()
    assert (await fails(url)).reason == "unreachable"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://login.acme.test/jwks",
        "https://user:pw@login.acme.test/jwks",
        "https:///jwks",
        "https://login.acme.test/jwks#x",
        "https://login.acme.test/ jwks",
        "https://login.acme.test:99999/",
        "",
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(UrlRefused):
        check_url(url, allow_http=True)


def test_internal_addresses_are_recognised() -> None:
    for url in (
        "https://169.254.169.254/",
        "https://10.0.0.1/",
        "https://127.0.0.1:8443/",
        "https://[::1]/",
        "https://localhost/",
        "https://0.0.0.0/",
    ):
        assert is_internal_address(url), url
    assert not is_internal_address("https://login.acme.test/")
    assert not is_internal_address("https://93.184.216.34/")


def test_cache_control_is_read_and_clamped() -> None:
    assert parse_max_age(["public, max-age=3600"]) == 3600
    assert parse_max_age(["no-store"]) == 0
    assert parse_max_age([]) is None
    assert clamp_age(0, default=300, low=60, high=86400) == 60
    assert clamp_age(10**9, default=300, low=60, high=86400) == 86400
    assert clamp_age(None, default=300, low=60, high=86400) == 300
