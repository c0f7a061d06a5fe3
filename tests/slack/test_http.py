"""The HTTP face: signatures, health, metrics, logs without secrets, Redis outages, Slack's 429s."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

import aiohttp
import pytest

from bot.outbox import DEAD, STREAM
from tests.slack.conftest import Bot, BotFactory
from tests.support import slack_requests
from tests.support.slack_api import MockSlack
from tests.support.slack_requests import message
from tests.support.tcp_proxy import TcpProxy, unused_port, via
from tests.support.tokens import T, claims, make_token, signature_of

TS = "1795899990.000100"


async def test_a_request_with_a_bad_signature_is_refused_and_its_body_never_logged(
    bot: Bot, slack: MockSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = make_token(claims(exp=T - 7200))
    reply = await bot.event(message(token, ts=TS), "EvForged", secret="not-the-secret")
    await bot.settle()
    assert reply.status == 401 and slack.of("chat.postMessage") == []
    refusals = [record.getMessage() for record in caplog.records if record.name == "bot.slack.ingress"]
    assert len(refusals) == 1 and "401 signature mismatch" in refusals[0]  # one line, before Bolt saw the body
    assert "Invalid request signature" not in caplog.text and "eyJ" not in caplog.text


async def test_a_replayed_request_older_than_five_minutes_is_refused(bot: Bot, slack: MockSlack) -> None:
    reply = await bot.event(message(make_token(), ts=TS), "EvOld", timestamp=int(time.time()) - 600)
    assert reply.status == 401


async def test_no_log_line_of_a_whole_conversation_holds_a_signature(
    bot: Bot, slack: MockSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = make_token(claims(nbf=T + 70))
    await bot.event(message(token, ts=TS), "Ev1")
    await bot.command(f"{token} private")
    slack.fail("chat.postMessage", status=500, error="internal_error", times=5)
    await bot.event(message(f"again {token}", ts="1795899991.000100"), "Ev2")
    await bot.settle()
    logged = caplog.text + "".join(str(r.exc_info) for r in caplog.records)
    assert signature_of(token) not in logged
    assert signature_of(token) not in slack.everything_sent()


async def test_redis_holds_no_signature_and_every_key_has_a_prefix_and_a_ttl(bot: Bot, redis_raw: object) -> None:
    token = make_token(claims(nbf=T + 70))
    await bot.event(message(token, ts=TS), "Ev1")
    await bot.settle()
    keys = await redis_raw.keys("*")  # type: ignore[attr-defined]
    assert {key.split(":")[1] for key in keys} >= {"evt", "msg", "card", "diag"}
    for key in keys:
        assert key.startswith("jwtcheck:")
        if key in {STREAM, DEAD}:  # the outbox's streams: capped by length, entries deleted once delivered
            entries = await redis_raw.xrange(key)  # type: ignore[attr-defined]
            assert signature_of(token) not in json.dumps(entries)
            continue
        assert await redis_raw.ttl(key) > 0  # type: ignore[attr-defined]
        value = await redis_raw.get(key) if await redis_raw.type(key) == "string" else ""  # type: ignore[attr-defined]
        assert signature_of(token) not in (value or "") and signature_of(token) not in key


async def test_healthz_reports_slack_redis_and_socket_mode(bot: Bot) -> None:
    status, body = await bot.get("/healthz")
    assert status == 200
    assert json.loads(body) == {
        "status": "ok",
        "slack_auth": "ok",
        "redis": "up",
        "socket_mode": "off",
        "tasks_in_flight": 0,
        "answers_held": 0,
    }


async def test_metrics_count_diagnoses_cache_and_ack_latency(bot: Bot) -> None:
    token = make_token(claims(nbf=T + 70))
    await bot.event(message(token, ts=TS), "Ev1")
    await bot.event(message(token, ts="1795899991.000100"), "Ev2")
    await bot.settle()
    status, text = await bot.get("/metrics")
    assert status == 200
    assert 'jwtcheck_diagnoses_total{cause="clock_skew"} 2.0' in text
    assert 'jwtcheck_cache_requests_total{result="hit"} 1.0' in text
    assert 'jwtcheck_cache_requests_total{result="miss"} 1.0' in text
    assert "jwtcheck_ack_latency_seconds_count 2.0" in text and "jwtcheck_redis_up 1.0" in text


async def test_slack_429_is_retried_after_retry_after(bot: Bot, slack: MockSlack) -> None:
    slack.fail("chat.postMessage", status=429, error="ratelimited", retry_after=1)
    await bot.event(message(make_token(), ts=TS), "Ev1")
    await bot.settle()
    attempts = slack.of("chat.postMessage")
    assert len(attempts) == 2 and "blocks" in attempts[1].params


async def test_redis_down_at_start_the_bot_still_answers(make_bot: BotFactory, slack: MockSlack) -> None:
    bot = await make_bot(redis_url=f"redis://127.0.0.1:{unused_port()}/15")
    await bot.event(message(make_token(), ts=TS), "Ev1")
    await bot.settle()
    assert len(slack.of("chat.postMessage")) == 1
    status, body = await bot.get("/healthz")
    assert status == 200 and json.loads(body)["redis"] == "down"


async def test_redis_lost_mid_run_and_back_again(
    make_bot: BotFactory, slack: MockSlack, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    parts = urlsplit(redis_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    await proxy.start()
    bot = await make_bot(redis_url=via(redis_url, proxy.port))
    await bot.event(message(make_token(claims(n=1)), ts="1.000001"), "Ev1")
    await bot.settle()
    await proxy.stop()
    await bot.event(message(make_token(claims(n=2)), ts="1.000002"), "Ev2")
    await bot.settle()
    assert len(slack.of("chat.postMessage")) == 2
    assert caplog.text.count("Redis unavailable") == 1
    assert json.loads((await bot.get("/healthz"))[1])["redis"] == "down"
    await proxy.start()
    assert json.loads((await bot.get("/healthz"))[1])["redis"] == "up"  # the probe brings Redis back at once
    assert caplog.text.count("Redis is back") == 1
    accepted = proxy.accepted
    await bot.event(message(make_token(claims(n=3)), ts="1.000003"), "Ev3")
    await bot.settle()
    assert len(slack.of("chat.postMessage")) == 3 and proxy.accepted >= accepted
    await proxy.stop()


def test_serve_without_a_bot_token_exits_two_with_one_line() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SLACK_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    assert result.returncode == 2
    assert result.stderr.startswith("jwtcheck serve: SLACK_BOT_TOKEN is not set") and result.stderr.count("\n") == 1


async def test_serve_with_a_token_slack_rejects_exits_two(slack: MockSlack) -> None:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-revoked",
        "SLACK_SIGNING_SECRET": slack_requests.SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "PORT": str(unused_port()),
    }
    env.pop("REDIS_URL", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2 and b"auth.test failed" in stderr and b"xoxb-revoked" not in stderr


async def test_sigterm_drains_the_work_in_flight_so_a_deploy_loses_no_card(slack: MockSlack) -> None:
    slack.delays["chat.postMessage"] = 1.0  # the card is still being posted when the signal arrives
    port = unused_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": slack_requests.SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "PORT": str(port),
    }
    env.pop("REDIS_URL", None)
    env.pop("SLACK_APP_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        body = slack_requests.command(make_token(claims(exp=T - 7200)), slack.response_url())
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            headers = slack_requests.signed(body, "application/x-www-form-urlencoded")
            async with session.post(
                f"http://127.0.0.1:{port}/slack/events", data=body.encode(), headers=headers
            ) as response:
                assert response.status == 200
        await slack.wait_for("chat.postMessage", 1)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert len(slack.of("chat.postMessage")) == 2  # the summary and, after the signal, the card
