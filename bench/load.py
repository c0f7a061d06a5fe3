"""Figures 3, 4 and 6: ack latency under load against a bare Bolt app, cache round trips, memory.

Both apps run as their own processes on loopback, against the same fake Slack Web API and a real
Redis (database 14, flushed). The load generator sends signed slash commands at a fixed rate.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.data import token
from bench.timing import Figure
from tests.support import slack_requests
from tests.support.slack_api import BOT_TOKEN, MockSlack

RATE = 200  # commands per second
SECONDS = 10
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
HERE = Path(__file__).parent


def figures() -> list[Figure]:
    return asyncio.run(_figures())


async def _figures() -> list[Figure]:
    await _flush_redis()
    slack = await MockSlack().start()
    try:
        bare = await _start([sys.executable, str(HERE / "bare_bolt.py")], slack)
        ours = await _start([sys.executable, "-m", "bot", "serve"], slack)
        try:
            tokens = [token(n, kind) for n, kind in enumerate(["valid", "expired", "audience", "skewed"] * 5)]
            bare_p = await _load(bare.url, tokens)
            ours_p = await _load(ours.url, tokens)
            delivered = await _delivered(slack, expected=2 * len(ours_p.latencies))
            rss_first = _rss(ours.process.pid)
            bare_p2 = await _load(bare.url, tokens)
            ours_p2 = await _load(ours.url, tokens)
            rss_second = _rss(ours.process.pid)
            hits, misses = await _cache_counts(ours.url)
        finally:
            for app in (bare, ours):
                app.process.terminate()
                app.process.wait(timeout=30)
        trips_repeat, trips_new = await _round_trips()
    finally:
        await slack.stop()
    p99_ratio = statistics.median([ours_p.p99 / bare_p.p99, ours_p2.p99 / bare_p2.p99])
    failed = ours_p.failed + ours_p2.failed
    return [
        Figure("3. ack p50, ours vs bare Bolt (200/s for 10 s)", ours_p.p50 / bare_p.p50, None,
               note=f"({ours_p.p50 * 1000:.1f} ms vs {bare_p.p50 * 1000:.1f} ms)"),
        Figure("3. ack p99, ours vs bare Bolt (200/s for 10 s)", p99_ratio, 1.2,
               note=f"({ours_p.p99 * 1000:.1f} ms vs {bare_p.p99 * 1000:.1f} ms; runs: "
                    f"{ours_p.p99 / bare_p.p99:.2f}, {ours_p2.p99 / bare_p2.p99:.2f})"),
        Figure("3. failed requests", float(failed), 0, unit="requests"),
        Figure("3. cards delivered to the Web API", delivered, 1.0, lower_is_better=False,
               note="(share of commands whose summary and card reached chat.postMessage)"),
        Figure("4. Redis round trips, repeated diagnosis", float(trips_repeat), 1, unit="trips"),
        Figure("4. Redis round trips, new diagnosis", float(trips_new), None, unit="trips"),
        Figure("4. cache hit ratio during the load run", hits / max(1, hits + misses), 0.9, unit="x",
               lower_is_better=False, note=f"({hits} hits, {misses} misses)"),
        Figure("6. bot RSS after the load run", rss_first / 2**20, 150, unit="MB"),
        Figure("6. bot RSS growth over a second run", (rss_second - rss_first) / 2**20, 10, unit="MB"),
    ]


class _App:
    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process, self.url = process, f"http://127.0.0.1:{port}"


class _Pass:
    def __init__(self, latencies: list[float], failed: int) -> None:
        self.latencies, self.failed = sorted(latencies), failed

    @property
    def p50(self) -> float:
        return self.latencies[len(self.latencies) // 2]

    @property
    def p99(self) -> float:
        return self.latencies[min(len(self.latencies) - 1, int(len(self.latencies) * 0.99))]


async def _start(args: list[str], slack: MockSlack) -> _App:
    port = _free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": slack_requests.SIGNING_SECRET,
           "SLACK_API_URL": slack.api_url, "PORT": str(port), "REDIS_URL": REDIS_URL, "LOG_LEVEL": "WARNING"}
    env.pop("SLACK_APP_TOKEN", None)
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.post(f"http://127.0.0.1:{port}/slack/events", data=b"{}") as response:
                    if response.status in (200, 401):
                        return _App(process, port)
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{args[-1]} did not start")


async def _load(url: str, tokens: list[str]) -> _Pass:
    total = RATE * SECONDS
    latencies: list[float] = []
    failed = 0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(index: int) -> None:
            nonlocal failed
            body = slack_requests.command(tokens[index % len(tokens)], f"{url}/unused", user="UBENCH001")
            headers = slack_requests.signed(body, "application/x-www-form-urlencoded")
            started = time.perf_counter()
            try:
                async with session.post(f"{url}/slack/events", data=body.encode(), headers=headers) as response:
                    await response.read()
                    ok = response.status == 200
            except aiohttp.ClientError:
                ok = False
            latencies.append(time.perf_counter() - started)
            failed += 0 if ok else 1

        started = time.perf_counter()
        tasks = []
        for index in range(total):
            delay = started + index / RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index)))
        await asyncio.gather(*tasks)
    return _Pass(latencies, failed)


async def _delivered(slack: MockSlack, expected: int) -> float:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(slack.of("chat.postMessage")) < expected:
        await asyncio.sleep(0.2)
    return min(1.0, len(slack.of("chat.postMessage")) / expected)


async def _cache_counts(url: str) -> tuple[int, int]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics") as response:
        text = await response.text()

    def count(result: str) -> int:
        found = re.search(rf'jwtcheck_cache_requests_total{{result="{result}"}} ([0-9.e+]+)', text)
        return int(float(found.group(1))) if found else 0

    return count("hit"), count("miss")


async def _round_trips() -> tuple[int, int]:
    from datetime import UTC, datetime

    from bot.diagnosis.model import Expectations
    from bot.knowledge import default_knowledge
    from bot.service import DiagnosisService
    from bot.store import RedisStore

    class Counting(RedisStore):
        calls = 0

        async def get(self, key: str) -> str | None:
            Counting.calls += 1
            return await super().get(key)

        async def set(self, key: str, value: str, ttl: int) -> None:
            Counting.calls += 1
            await super().set(key, value, ttl)

    store = Counting(REDIS_URL)
    service = DiagnosisService(store, default_knowledge())
    text = token(999_999, "skewed")
    now = datetime.now(UTC)
    await service.diagnose(text, Expectations(), now)
    new = Counting.calls
    Counting.calls = 0
    await service.diagnose(text, Expectations(), now)
    repeat = Counting.calls
    await store.close()
    return repeat, new


async def _flush_redis() -> None:
    import redis.asyncio as aioredis

    client: Any = aioredis.Redis.from_url(REDIS_URL)
    await client.flushdb()
    await client.aclose()


def _rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return float(line.split()[1]) * 1024
    return float("nan")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
