"""Where a fetch may connect (issue 14): every spelling of an internal address is refused, every address
a name resolves to is checked, the connection goes to the addresses checked, and only a configured
literal loopback host with allow_http reaches loopback. Real servers on loopback addresses; name
resolution is a double where a test needs a name to answer something."""

from __future__ import annotations

import socket

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver

from bot.keys.fetch import FetchError, FetchLimits, fetch_json
from bot.keys.resolver import CheckedResolver
from tests.keys.server import Answers, KeyServer

FAST = FetchLimits(connect_timeout=1.0, read_timeout=0.5, total_timeout=1.0)
PUBLIC = "93.184.216.34"


async def refused(url: str, *, allow_http: bool = True, lookup: AbstractResolver | None = None) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetch_json(url, allow_http=allow_http, limits=FAST, lookup=lookup)
    assert "\n" not in caught.value.detail
    return caught.value


@pytest.mark.parametrize(
    "host",
    [
        "0x7f000001",
        "2130706433",
        "0x7f.1",
        "127.1",
        "0177.0.0.1",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::127.0.0.1]",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::]",
        "localhost.",
        "sub.localhost",
    ],
)
async def test_a_loopback_spelled_any_other_way_is_refused_though_http_is_allowed(issuer: KeyServer, host: str) -> None:
    issuer.json("/jwks", {"keys": []})
    lookup = Answers(["127.0.0.1"])
    failure = await refused(f"http://{host}:{issuer.port}/jwks", lookup=lookup)
    assert failure.reason == "internal_address"
    assert failure.detail.startswith(f"the JWKS URL host {host} is ")
    assert "loopback" in failure.detail or "internal name" in failure.detail
    assert failure.detail.endswith("internal addresses are never fetched")
    assert issuer.requests == [] and lookup.calls == []


@pytest.mark.parametrize(
    ("host", "words"),
    [
        ("169.254.169.254", "is a cloud metadata address"),
        ("0xa9fea9fe", "is 169.254.169.254, a cloud metadata address"),
        ("100.100.100.200", "is a cloud metadata address"),
        ("100.64.0.1", "shared address space"),
        ("metadata.google.internal", "is an internal name"),
        ("metadata", "is an internal name"),
        ("intranet", "single-label name"),
        ("[fd00:ec2::254]", "is a cloud metadata address"),
        ("[::ffff:169.254.169.254]", "cloud metadata address (169.254.169.254 inside IPv6)"),
        ("[64:ff9b::a9fe:a9fe]", "cloud metadata address (169.254.169.254 inside IPv6)"),
        ("10.0.0.1", "is a private address"),
        ("192.168.1.1", "is a private address"),
        ("[fe80::1]", "is a link-local address"),
        ("0.0.0.0", "is the unspecified address"),  # noqa: S104
        ("224.0.0.1", "is a multicast address"),
        ("240.0.0.1", "is a private address"),
    ],
)
async def test_metadata_private_and_shared_addresses_are_refused_though_http_is_allowed(host: str, words: str) -> None:
    lookup = Answers([PUBLIC])
    failure = await refused(f"http://{host}/latest/meta-data", lookup=lookup)
    assert failure.reason == "internal_address" and words in failure.detail
    assert lookup.calls == []  # refused before any name is even resolved


async def test_a_configured_loopback_needs_allow_http(issuer: KeyServer) -> None:
    failure = await refused(f"https://127.0.0.1:{issuer.port}/jwks", allow_http=False)
    assert failure.reason == "internal_address" and "127.0.0.1 is a loopback address" in failure.detail
    assert issuer.requests == []


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (["127.0.0.1"], "resolves to 127.0.0.1, a loopback address"),
        ([PUBLIC, "127.0.0.1"], "resolves to 127.0.0.1, a loopback address"),  # every address counts
        (["::ffff:169.254.169.254"], "cloud metadata address (169.254.169.254 inside IPv6)"),
        (["100.100.100.200"], "resolves to 100.100.100.200, a cloud metadata address"),
        (["10.1.2.3"], "resolves to 10.1.2.3, a private address"),
        (["::1"], "resolves to ::1, a loopback address"),
    ],
)
async def test_a_name_that_resolves_to_an_internal_address_is_refused(
    issuer: KeyServer, answer: list[str], words: str
) -> None:
    issuer.json("/jwks", {"keys": []})
    failure = await refused(f"http://keys.acme.test:{issuer.port}/jwks", lookup=Answers(answer))
    assert failure.reason == "internal_address"
    assert failure.detail.startswith("the JWKS URL host keys.acme.test ") and words in failure.detail
    assert issuer.requests == []


async def test_a_configured_localhost_may_resolve_to_loopback_and_nothing_else() -> None:
    failure = await refused("http://localhost:8080/jwks", lookup=Answers(["10.0.0.5"]))
    assert failure.reason == "internal_address" and "localhost resolves to 10.0.0.5, a private" in failure.detail


async def test_the_connection_goes_to_the_address_that_was_checked() -> None:
    """The double answers 127.0.0.2 (where the server is), then a metadata address: one lookup is made
    and the connection goes to its answer, not to a second lookup's nor to the system's localhost."""
    async with KeyServer.running("127.0.0.2") as server:
        server.json("/jwks", {"keys": [1]})
        lookup = Answers(["127.0.0.2"], ["169.254.169.254"])
        fetched = await fetch_json(f"http://localhost:{server.port}/jwks", allow_http=True, limits=FAST, lookup=lookup)
        assert fetched.document == {"keys": [1]}
        assert lookup.calls == ["localhost"] and server.requests == ["/jwks"]


async def test_a_redirect_goes_through_the_same_check() -> None:
    """The redirect closes its connection, so the next request resolves the name again: that answer is
    checked too, and refused."""

    async def moved(_: web.Request) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": "/jwks", "Connection": "close"})

    async with KeyServer.running("127.0.0.2") as server:
        server.serve("/old", moved)
        server.json("/jwks", {"keys": []})
        url = f"http://localhost:{server.port}/old"
        lookup = Answers(["127.0.0.2"], ["169.254.169.254"])
        failure = await refused(url, lookup=lookup)
        assert failure.reason == "internal_address" and "169.254.169.254, a cloud metadata" in failure.detail
        assert server.requests == ["/old"] and lookup.calls == ["localhost", "localhost"]
        again = Answers(["127.0.0.2"])
        assert (await fetch_json(url, allow_http=True, limits=FAST, lookup=again)).document == {"keys": []}
        assert again.calls == ["localhost", "localhost"]


async def test_a_configured_literal_loopback_with_allow_http_is_fetched(issuer: KeyServer) -> None:
    for host in ("127.0.0.1", "localhost"):
        url = f"http://{host}:{issuer.port}/jwks"
        issuer.json("/jwks", {"keys": []})
        assert (await fetch_json(url, allow_http=True, limits=FAST)).document == {"keys": []}
    async with KeyServer.running("::1") as server:
        assert (await fetch_json(server.json("/jwks", {"keys": [2]}), allow_http=True, limits=FAST)).document == {
            "keys": [2]
        }


async def test_a_url_from_a_response_never_reaches_loopback(issuer: KeyServer) -> None:
    failure = await refused_with(issuer.json("/jwks", {"keys": []}), loopback=False)
    assert failure.reason == "internal_address" and issuer.requests == []


async def refused_with(url: str, *, loopback: bool) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetch_json(url, allow_http=True, limits=FAST, loopback=loopback)
    return caught.value


async def test_the_resolver_hands_back_only_the_numeric_addresses_it_checked() -> None:
    resolver = CheckedResolver(what="JWKS URL", lookup=Answers([PUBLIC, "2606:4700::1111"]))
    results = await resolver.resolve("keys.acme.test", 443)
    assert [(r["host"], r["port"], r["family"]) for r in results] == [
        (PUBLIC, 443, socket.AF_INET),
        ("2606:4700::1111", 443, socket.AF_INET6),
    ]
    assert all(r["flags"] == socket.AI_NUMERICHOST | socket.AI_NUMERICSERV for r in results)
    for answer in (["fe80::1%eth0"], ["not-an-address"]):
        with pytest.raises(OSError):
            await CheckedResolver(what="JWKS URL", lookup=Answers(answer)).resolve("keys.acme.test", 443)
