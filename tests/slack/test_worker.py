"""The work after the ack in a worker process (``JWTCHECK_WORK=process``, what ``serve`` runs): the serving
process acks and hands the payload over; the worker diagnoses, draws and delivers; its counters show on
the serving process's /metrics; it stops with the bot, and a worker that dies is replaced while the work
is done inline meanwhile."""

from __future__ import annotations

import asyncio
import json
import time

from tests.slack.conftest import Bot, BotFactory
from tests.support.slack_api import MockSlack
from tests.support.slack_requests import message
from tests.support.tokens import claims, make_token, signature_of


def expired_now() -> str:
    """Expired by the real clock: the worker judges at its own instant, which tests cannot set."""
    now = int(time.time())
    return make_token(claims(iat=now - 9000, exp=now - 7200))


async def summary_and_card(slack: MockSlack, channel: str) -> tuple[int, int]:
    posts = [call for call in slack.of("chat.postMessage") if call.ok and call.params.get("channel") == channel]
    return len([c for c in posts if "thread_ts" not in c.params]), len([c for c in posts if "thread_ts" in c.params])


async def wait_until(check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("not within the deadline")
        await asyncio.sleep(0.05)


async def test_a_worker_process_answers_and_reports_to_the_serving_process(
    make_bot: BotFactory, slack: MockSlack
) -> None:
    bot: Bot = await make_bot(work="process")
    worker = bot.runtime.worker
    assert worker is not None and worker.running
    token = expired_now()
    reply = await bot.command(f"Bearer {token}", channel="CWORKER1")
    assert reply.status == 200
    await wait_until(lambda: _equals(summary_and_card(slack, "CWORKER1"), (1, 1)))
    await bot.event(message(f"401 {token}", ts="1796000000.000100", channel="CWORKER2"), "EvW1")
    await wait_until(lambda: _equals(summary_and_card(slack, "CWORKER2"), (0, 1)))
    assert signature_of(token) not in slack.everything_sent()

    async def counted() -> bool:
        _, text = await bot.get("/metrics")
        return 'jwtcheck_diagnoses_total{cause="expired"} 2.0' in text

    await wait_until(counted)
    health = json.loads((await bot.get("/healthz"))[1])
    assert health["worker"] == "running" and health["status"] == "ok"
    await bot.runner.cleanup()  # the bot stops: the worker finishes and exits cleanly
    assert worker._process is not None and worker._process.returncode == 0


async def test_a_worker_that_dies_is_replaced_and_nothing_acked_meanwhile_is_lost(
    make_bot: BotFactory, slack: MockSlack
) -> None:
    bot: Bot = await make_bot(work="process")
    worker = bot.runtime.worker
    assert worker is not None and worker._process is not None
    worker._process.kill()
    await worker._process.wait()
    reply = await bot.command(f"Bearer {expired_now()}", channel="CWORKER3")  # no worker: done inline
    assert reply.status == 200
    await wait_until(lambda: _equals(summary_and_card(slack, "CWORKER3"), (1, 1)))
    await wait_until(_running(worker))
    reply = await bot.command(f"Bearer {expired_now()}", channel="CWORKER4")
    await wait_until(lambda: _equals(summary_and_card(slack, "CWORKER4"), (1, 1)))


async def _equals(value: object, expected: object) -> bool:
    return await value == expected  # type: ignore[misc]


def _running(worker: object) -> object:
    async def check() -> bool:
        return bool(worker.running)  # type: ignore[attr-defined]

    return check


async def test_a_payload_with_a_lone_surrogate_reaches_the_worker(make_bot: BotFactory, slack: MockSlack) -> None:
    bot: Bot = await make_bot(work="process")
    event = message(f"401 {expired_now()} \ud800", ts="1796000000.000500", channel="CWORKER5")
    reply = await bot.event(event, "EvSurrogate")  # JSON carries it as "\\ud800"; a form could not
    assert reply.status == 200
    await wait_until(lambda: _equals(summary_and_card(slack, "CWORKER5"), (0, 1)))
