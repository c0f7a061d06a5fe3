"""The clock probe: a local server with a deliberately skewed Date header is measured within its resolution."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from email.utils import formatdate

import pytest
from aiohttp import web

from bot.diagnosis.clock import Observation, estimate
from bot.keys.probe import ProbeFailure, probe_clock


class Skewed:
    def __init__(self) -> None:
        self.offset = -38.0
        self.methods: list[str] = []
        self.refuse_head = False
        self.date: str | None = None
        self.delay = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        self.methods.append(request.method)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse_head and request.method == "HEAD":
            return web.Response(status=405)
        date = self.date if self.date is not None else formatdate(time.time() + self.offset, usegmt=True)
        return web.Response(status=401, headers={"Date": date, "Location": "https://elsewhere.example/"})


@pytest.fixture
async def server() -> AsyncIterator[tuple[Skewed, str]]:
    skewed = Skewed()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", skewed.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield skewed, f"http://127.0.0.1:{port}/health"
    await runner.cleanup()


async def test_a_skewed_date_header_gives_the_services_offset_within_its_resolution(
    server: tuple[Skewed, str],
) -> None:
    skewed, url = server
    observed = await probe_clock("orders-api", url, allow_http=True)
    assert isinstance(observed, Observation)
    assert observed.lower <= -38.0 <= observed.upper and observed.upper - observed.lower < 1.5
    [result] = estimate([observed])
    assert result.behind and "orders-api's clock is 3" in result.describe()
    assert skewed.methods == ["HEAD"]


async def test_head_refused_falls_back_to_get(server: tuple[Skewed, str]) -> None:
    skewed, url = server
    skewed.refuse_head = True
    assert isinstance(await probe_clock("orders-api", url, allow_http=True), Observation)
    assert skewed.methods == ["HEAD", "GET"]


async def test_http_is_refused_unless_allowed(server: tuple[Skewed, str]) -> None:
    skewed, url = server
    failure = await probe_clock("orders-api", url, allow_http=False)
    assert isinstance(failure, ProbeFailure) and failure.reason == "http_refused" and skewed.methods == []


async def test_a_missing_or_junk_date_is_a_clear_failure(server: tuple[Skewed, str]) -> None:
    skewed, url = server
    skewed.date = "yesterday-ish"
    failure = await probe_clock("orders-api", url, allow_http=True)
    assert isinstance(failure, ProbeFailure) and failure.reason == "no_date"


async def test_a_slow_service_times_out_in_bounded_time(server: tuple[Skewed, str]) -> None:
    from bot.keys.fetch import FetchLimits

    skewed, url = server
    skewed.delay = 2
    started = time.monotonic()
    failure = await probe_clock("orders-api", url, allow_http=True,
                                limits=FetchLimits(connect_timeout=0.3, read_timeout=0.3, total_timeout=0.5))
    assert isinstance(failure, ProbeFailure) and failure.reason == "timeout"
    assert time.monotonic() - started < 2  # bounded below the server's delay, not a speed assertion
