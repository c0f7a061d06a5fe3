"""Read a configured service's clock from the ``Date`` header of one HTTP response.

The URL comes only from the services config (``probe_url``), under the same rules as key sources:
https unless ``allow_http``, timeouts, no redirect followed (a redirect's own ``Date`` is just as
good), no body read. The round trip and the header's 1 s resolution are accounted for by
:func:`bot.diagnosis.clock.date_header`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import aiohttp
from aiohttp.abc import AbstractResolver

from bot import __version__
from bot.diagnosis.clock import THIS_HOST, Observation, date_header
from bot.keys.fetch import DEFAULT_LIMITS, FetchLimits
from bot.keys.resolver import CheckedResolver
from bot.keys.urls import UrlRefused, check_host, check_url, host_of, loopback_allowed


@dataclass(frozen=True, slots=True)
class ProbeFailure:
    service: str
    reason: str  # bad_url, http_refused, internal_address, timeout, unreachable, no_date
    detail: str


async def probe_clock(
    service: str,
    url: str,
    *,
    allow_http: bool,
    limits: FetchLimits = DEFAULT_LIMITS,
    clock: Callable[[], float] = time.time,
    lookup: AbstractResolver | None = None,
) -> Observation | ProbeFailure:
    """One HEAD (GET if HEAD is refused) to ``url``; the service's clock offset from its ``Date``."""
    origin = host_of(url)
    loopback = loopback_allowed(url, allow_http=allow_http)
    try:
        check_url(url, allow_http=allow_http, what="probe_url")
        check_host(url, loopback=loopback, what="probe_url")
    except UrlRefused as refused:
        return ProbeFailure(service, refused.reason, str(refused))
    resolver = CheckedResolver(what="probe_url", loopback=loopback, lookup=lookup)
    timeout = aiohttp.ClientTimeout(
        total=limits.total_timeout,
        connect=limits.connect_timeout,
        sock_connect=limits.connect_timeout,
        sock_read=limits.read_timeout,
    )
    headers = {"User-Agent": f"jwtcheck/{__version__} (clock probe)"}
    try:
        async with (
            asyncio.timeout(limits.total_timeout + 0.5),
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False),
                timeout=timeout,
                headers=headers,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
            ) as session,
        ):
            for method in ("HEAD", "GET"):
                sent = clock()
                async with session.request(method, url, allow_redirects=False) as response:
                    received = clock()
                    stamp = response.headers.get("Date")
                    if response.status in (405, 501) and method == "HEAD":
                        continue
                break
    except TimeoutError:
        return ProbeFailure(service, "timeout", f"{origin} did not answer within {limits.total_timeout:g} s")
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        if resolver.refused is not None:
            return ProbeFailure(service, resolver.refused.reason, str(resolver.refused))
        return ProbeFailure(service, "unreachable", f"{origin} could not be reached ({type(exc).__name__})")
    date = _parse_date(stamp)
    if date is None:
        return ProbeFailure(service, "no_date", f"{origin} answered without a usable Date header")
    return date_header(service, date, sent, received, reference=THIS_HOST)


def _parse_date(value: str | None) -> float | None:
    if not value or len(value) > 64:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None
