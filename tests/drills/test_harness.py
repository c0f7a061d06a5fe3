"""The drills' own tools, checked quickly: the signer signs as Slack does, the mock Slack's outages do
what they say, and a retried call is told from a duplicate."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.drills.harness import leaks, signed
from tests.support import slack_requests
from tests.support.slack_api import BOT_TOKEN, MockSlack

pytestmark = pytest.mark.drills

AUTH = {"Authorization": f"Bearer {BOT_TOKEN}"}


def test_the_signer_signs_the_raw_bytes_exactly_as_slack_does() -> None:
    body = "text=%2Fjwtcheck+eyJ&channel_id=C1"
    assert signed(body.encode(), "application/x-www-form-urlencoded", timestamp=1795900000) == slack_requests.signed(
        body, "application/x-www-form-urlencoded", timestamp=1795900000
    )


def test_leaks_finds_any_12_character_piece_and_names_it() -> None:
    signature = "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE"
    found = leaks({"the token": signature}, {"logs": f"x {signature[20:33]} y", "Redis": signature[:11]})
    assert len(found) == 1 and found[0].startswith("logs: the token ×1")


async def _post(session: aiohttp.ClientSession, slack: MockSlack, timeout: float = 5) -> tuple[int, str | None]:
    async with session.post(
        f"{slack.api_url}chat.postMessage",
        data={"channel": "C1", "text": "hi"},
        headers=AUTH,
        timeout=aiohttp.ClientTimeout(total=timeout),
    ) as response:
        await response.read()
        return response.status, response.headers.get("Retry-After")


async def test_a_burst_answers_its_statuses_in_turn_then_slack_is_well_again() -> None:
    slack = await MockSlack().start()
    try:
        async with aiohttp.ClientSession() as session:
            burst = slack.burst((429, 500, 502, 503, 504), times=5, retry_after=1)
            answers = [await _post(session, slack) for _ in range(6)]
            assert answers == [(429, "1"), (500, None), (502, None), (503, None), (504, None), (200, None)]
            assert burst.served == 5
            assert [call.ok for call in slack.of("chat.postMessage")] == [False] * 5 + [True]
            assert len(slack.answered_ok("chat.postMessage")) == 1
            slack.burst((503,), seconds=0.3)
            assert (await _post(session, slack))[0] == 503
            await asyncio.sleep(0.35)
            assert (await _post(session, slack))[0] == 200
    finally:
        await slack.stop()


async def test_refusing_connections_then_listening_again_on_the_same_port() -> None:
    slack = await MockSlack().start()
    port = slack.port
    try:
        async with aiohttp.ClientSession() as session:
            assert (await _post(session, slack))[0] == 200  # a kept-alive connection now exists
            outage = slack.refuse_for(0.5)
            await asyncio.sleep(0.1)
            with pytest.raises(aiohttp.ClientConnectionError):
                await _post(session, slack)
            await outage
            assert slack.port == port
            assert (await _post(session, slack))[0] == 200
    finally:
        await slack.stop()


async def test_a_slow_answer_is_carried_out_even_when_the_caller_hung_up() -> None:
    slack = await MockSlack().start()
    try:
        async with aiohttp.ClientSession() as session:
            slack.slow(0.6, times=1)
            with pytest.raises(TimeoutError):
                await _post(session, slack, timeout=0.2)
            await asyncio.sleep(0.7)
            (call,) = slack.of("chat.postMessage")
            assert call.ok and call.client_gone  # Slack posted it: a retry now would be a duplicate
    finally:
        await slack.stop()
