"""One bounded HTTP GET of a JSON document, with aiohttp: the only code in the bot that fetches keys.

Rules (after TruffleHog's SSRF-safe JWKS verification): https only unless the service allows http; a
connect timeout, a read timeout and a total deadline; a size cap counted while reading (and after
decompression, which is done here within the same cap); no redirect to another host (one to the same
host is followed by hand, at most ``max_redirects`` times, and never from https down to http); never an
internal address, whatever ``allow_http`` says, and the connection goes to the addresses that were checked
(:mod:`bot.keys.resolver`); no cookies, no proxy settings from the environment. Every failure is a
:class:`FetchError` with a reason code and one sentence that names the host, never the full URL.
"""

from __future__ import annotations

import asyncio
import json
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver

from bot import __version__
from bot.diagnosis.checks.values import printable
from bot.keys.resolver import CheckedResolver
from bot.keys.urls import UrlRefused, check_host, check_url, host_of, loopback_allowed, same_origin

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d{1,10})\"?\s*(?:,|$)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(no-store|no-cache)\s*(?:,|$)", re.IGNORECASE)
_CHUNK = 16 * 1024


@dataclass(frozen=True, slots=True)
class FetchLimits:
    connect_timeout: float = 3.0
    read_timeout: float = 3.0
    total_timeout: float = 5.0
    max_bytes: int = 256 * 1024
    max_redirects: int = 1


DEFAULT_LIMITS = FetchLimits()


class FetchError(Exception):
    """Why a key source gave nothing. ``reason``: http_refused, bad_url, internal_address, timeout, unreachable,
    tls, redirect_refused, http_status, too_large, bad_response, bad_json."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Fetched:
    document: Any
    max_age: float | None  # seconds from Cache-Control, None when the response says nothing


async def fetch_json(
    url: str,
    *,
    allow_http: bool,
    limits: FetchLimits,
    what: str = "JWKS",
    loopback: bool | None = None,
    lookup: AbstractResolver | None = None,
) -> Fetched:
    """GET ``url`` and parse it as JSON, within ``limits``.

    The host must not be internal, whether by itself or by any address it resolves to, and the connection
    goes to the addresses checked (:class:`CheckedResolver`), redirects included. ``loopback`` says whether
    a literal loopback host may be fetched: None (a URL from the config) allows it only with ``allow_http``
    (:func:`loopback_allowed`); a URL from a response passes False. ``lookup`` replaces the system's name
    resolution (tests)."""
    origin = host_of(url)
    if loopback is None:
        loopback = loopback_allowed(url, allow_http=allow_http)
    try:
        check_url(url, allow_http=allow_http, what=f"{what} URL")
        check_host(url, loopback=loopback, what=f"{what} URL")
    except UrlRefused as refused:
        raise FetchError(refused.reason, str(refused)) from None
    resolver = CheckedResolver(what=f"{what} URL", loopback=loopback, lookup=lookup)
    timeout = aiohttp.ClientTimeout(
        total=limits.total_timeout,
        connect=limits.connect_timeout,
        sock_connect=limits.connect_timeout,
        sock_read=limits.read_timeout,
    )
    headers = {
        "Accept": "application/json",
        "Accept-Encoding": "gzip, deflate",
        "User-Agent": f"jwtcheck/{__version__} (key fetch)",
    }
    try:
        async with asyncio.timeout(limits.total_timeout + 0.5):
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False),
                timeout=timeout,
                headers=headers,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                trust_env=False,
            ) as session:
                return await _get(session, url, origin, allow_http, loopback, limits, what)
    except FetchError:
        raise
    except TimeoutError:
        raise FetchError(
            "timeout", f"the {what} at {origin} did not answer within {limits.total_timeout:g} s"
        ) from None
    except (aiohttp.ClientSSLError, aiohttp.ServerFingerprintMismatch):
        raise FetchError(
            "tls", f"the {what} at {origin} failed the TLS handshake (certificate not trusted or wrong host)"
        ) from None
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        if resolver.refused is not None:  # raised in the connector, which wraps it as a DNS error
            raise FetchError(resolver.refused.reason, str(resolver.refused)) from None
        raise FetchError("unreachable", f"the {what} at {origin} could not be reached ({type(exc).__name__})") from None


async def _get(
    session: aiohttp.ClientSession,
    url: str,
    origin: str,
    allow_http: bool,
    loopback: bool,
    limits: FetchLimits,
    what: str,
) -> Fetched:
    current = url
    for _ in range(limits.max_redirects + 1):
        async with session.get(current, allow_redirects=False) as response:
            if response.status in _REDIRECTS:
                current = _redirect_target(
                    current, response.headers.get("Location"), origin, allow_http, loopback, what
                )
                continue
            if response.status != 200:
                raise FetchError("http_status", f"the {what} at {origin} answered HTTP {response.status}")
            body = await _read_capped(response, limits.max_bytes, origin, what)
            max_age = parse_max_age(response.headers.getall("Cache-Control", []))
        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise FetchError("bad_json", f"the {what} at {origin} is not JSON") from None
        return Fetched(document, max_age)
    raise FetchError("redirect_refused", f"the {what} at {origin} redirected more than {limits.max_redirects} time(s)")


def _redirect_target(
    current: str, location: str | None, origin: str, allow_http: bool, loopback: bool, what: str
) -> str:
    """The redirect's URL if it passes the rules of the first one; its name is resolved and checked by the
    same :class:`CheckedResolver` when it is fetched."""
    if not location:
        raise FetchError("redirect_refused", f"the {what} at {origin} redirected without a Location")
    target = urljoin(current, location.strip())
    shown = printable(host_of(target))[:80]
    if not same_origin(current, target):
        raise FetchError(
            "redirect_refused",
            f"the {what} at {origin} redirected to {shown}: a redirect to another host is never followed",
        )
    try:
        check_url(target, allow_http=allow_http, what=f"{what} redirect")
        check_host(target, loopback=loopback, what=f"{what} redirect")
        return target
    except UrlRefused as refused:
        raise FetchError(
            "redirect_refused", f"the {what} at {origin} redirected to a URL that is refused: {refused}"
        ) from None


async def _read_capped(response: aiohttp.ClientResponse, cap: int, origin: str, what: str) -> bytes:
    too_large = FetchError(
        "too_large", f"the {what} at {origin} is over {cap // 1024} KiB: no real key set is that large"
    )
    length = response.content_length
    if length is not None and length > cap:
        raise too_large
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        decompressor: Any = zlib.decompressobj(wbits=47 if encoding != "deflate" else 15)
    elif encoding in ("", "identity"):
        decompressor = None
    else:
        raise FetchError(
            "bad_response", f"the {what} at {origin} came in an encoding that is not read ({printable(encoding)[:20]})"
        )
    body = bytearray()
    compressed = 0
    try:
        async for chunk in response.content.iter_chunked(_CHUNK):
            compressed += len(chunk)
            if compressed > cap:
                raise too_large
            if decompressor is None:
                body += chunk
            else:
                body += decompressor.decompress(chunk, cap + 1 - len(body))
                if decompressor.unconsumed_tail:
                    raise too_large
            if len(body) > cap:
                raise too_large
        if decompressor is not None:
            body += decompressor.flush(cap + 1 - len(body))
    except zlib.error:
        raise FetchError("bad_response", f"the {what} at {origin} is not valid {encoding} data") from None
    if len(body) > cap:
        raise too_large
    return bytes(body)


def parse_max_age(values: Iterable[str]) -> float | None:
    """``max-age`` from Cache-Control headers; 0 for no-store/no-cache; None when absent."""
    text = ",".join(values)
    if _NO_CACHE.search(text):
        return 0.0
    match = _MAX_AGE.search(text)
    return float(match.group(1)) if match else None


def clamp_age(max_age: float | None, *, default: float, low: float, high: float) -> float:
    return min(max(default if max_age is None else max_age, low), high)
