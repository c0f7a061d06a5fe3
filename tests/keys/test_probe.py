"""The clock probe: a local server with a deliberately skewed Date header is measured within its resolution."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from bot.diagnosis.clock import Observation, estimate
from bot.keys.probe import ProbeFailure, probe_clock
from bot.render.clocks import describe_clock
from tests.keys.server import Answers
from tests.support.date_server import DateServer


@pytest.fixture
async def server() -> AsyncIterator[tuple[DateServer, str]]:
    async with DateServer.running() as skewed:
        yield skewed, skewed.url


async def test_a_skewed_date_header_gives_the_services_offset_within_its_resolution(
    server: tuple[DateServer, str],
) -> None:
    skewed, url = server
    observed = await probe_clock("orders-api", url, allow_http=True)
    assert isinstance(observed, Observation)
    assert observed.lower <= -38.0 <= observed.upper and observed.upper - observed.lower < 1.5
    [result] = estimate([observed])
    assert result.behind and "orders-api's clock is 3" in describe_clock(result)
    assert skewed.methods == ["HEAD"]


async def test_head_refused_falls_back_to_get(server: tuple[DateServer, str]) -> None:
    skewed, url = server
    skewed.refuse_head = True
    assert isinstance(await probe_clock("orders-api", url, allow_http=True), Observation)
    assert skewed.methods == ["HEAD", "GET"]


async def test_http_is_refused_unless_allowed(server: tuple[DateServer, str]) -> None:
    skewed, url = server
    failure = await probe_clock("orders-api", url, allow_http=False)
    assert isinstance(failure, ProbeFailure) and failure.reason == "http_refused" and skewed.methods == []


async def test_a_missing_or_junk_date_is_a_clear_failure(server: tuple[DateServer, str]) -> None:
    skewed, url = server
    skewed.date = "yesterday-ish"
    failure = await probe_clock("orders-api", url, allow_http=True)
    assert isinstance(failure, ProbeFailure) and failure.reason == "no_date"


async def test_a_slow_service_times_out_in_bounded_time(server: tuple[DateServer, str]) -> None:
    from bot.keys.fetch import FetchLimits

    skewed, url = server
    skewed.delay = 2
    started = time.monotonic()
    failure = await probe_clock(
        "orders-api", url, allow_http=True, limits=FetchLimits(connect_timeout=0.3, read_timeout=0.3, total_timeout=0.5)
    )
    assert isinstance(failure, ProbeFailure) and failure.reason == "timeout"
    assert time.monotonic() - started < 2  # bounded below the server's delay, not a speed assertion


async def test_a_probe_url_at_an_internal_address_is_refused_though_http_is_allowed(
    server: tuple[DateServer, str],
) -> None:
    skewed, url = server
    for spelling in ("0x7f000001", "[::ffff:127.0.0.1]", "localhost."):
        hidden = url.replace("127.0.0.1", spelling)
        failure = await probe_clock("orders-api", hidden, allow_http=True)
        assert isinstance(failure, ProbeFailure) and failure.reason == "internal_address", failure
        assert f"probe_url host {spelling} is" in failure.detail
    failure = await probe_clock("orders-api", "http://status.acme.test/", allow_http=True, lookup=Answers(["10.0.0.9"]))
    assert isinstance(failure, ProbeFailure) and failure.reason == "internal_address"
    assert "status.acme.test resolves to 10.0.0.9, a private address" in failure.detail
    assert skewed.methods == []
