"""Figures 3, 4 and 6: ack latency under load against a bare Bolt app, cache round trips, memory.

Both apps run as their own processes on loopback, against the same fake Slack Web API (in a process of
its own, see ``bench/mock_slack.py``) and a real Redis (database 14, flushed). The load generator
sends signed slash commands at a fixed rate: three rounds of one pass each, in alternating order (bare
then ours, ours then bare, bare then ours), so that neither side always runs on a warmer machine. The
ack p50 and p99 of both apps are shown for every pass; the p99's verdict is that of its worst pass (every
pass within the target, issue 14), the p50 is reported as the median of the passes' ratios.
"""

from __future__ import annotations

import asyncio
import json
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
from bench.mock_slack import BOT_TOKEN
from bench.timing import Figure, process_env
from tests.support import slack_requests

RATE = 200  # commands per second
SECONDS = 10
PASSES = 3  # rounds of one pass each, alternating which app goes first; the p99 must hold in every one
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
HERE = Path(__file__).parent


def figures() -> list[Figure]:
    return asyncio.run(_figures())


async def _figures() -> list[Figure]:
    await _flush_redis()
    slack = _MockSlack()
    try:
        bare = await _start([sys.executable, str(HERE / "bare_bolt.py")], slack)
        ours = await _start([sys.executable, "-m", "bot", "serve"], slack)
        try:
            tokens = [token(n, kind) for n, kind in enumerate(["valid", "expired", "audience", "skewed"] * 5)]
            pairs: list[tuple[_Pass, _Pass]] = []  # (ours, bare) per round, in the order bare ours | ours bare | …
            delivered: list[tuple[float, float]] = []
            rss: list[float] = []
            for round_number in range(PASSES):
                first, second = (bare, ours) if round_number % 2 == 0 else (ours, bare)
                passes = {first: await _load(first.url, tokens), second: await _load(second.url, tokens)}
                pairs.append((passes[ours], passes[bare]))
                delivered.append(await _delivered(slack, expected=sum(len(o.latencies) for o, _ in pairs)))
                rss.append(_rss(ours.process.pid))
            hits, misses = await _cache_counts(ours.url)
        finally:
            for app in (bare, ours):
                app.process.terminate()
                app.process.wait(timeout=30)
        trips_repeat, trips_new = await _round_trips()
    finally:
        slack.stop()
    failed = sum(o.failed for o, _ in pairs)
    share, lag = min(d[0] for d in delivered), max(d[1] for d in delivered)
    return [
        *ack_figures([((o.p50, o.p99), (b.p50, b.p99)) for o, b in pairs]),
        Figure("3. failed requests", float(failed), 0, unit="requests"),
        Figure(
            "3. cards delivered to the Web API",
            share,
            1.0,
            lower_is_better=False,
            note=f"(share of commands whose summary and card reached chat.postMessage, every pass; "
            f"the last {lag:.1f} s after the load ended)",
        ),
        Figure("4. Redis round trips, repeated diagnosis", float(trips_repeat), 1, unit="trips"),
        Figure("4. Redis round trips, new diagnosis", float(trips_new), None, unit="trips"),
        Figure(
            "4. cache hit ratio during the load run",
            hits / max(1, hits + misses),
            0.9,
            unit="x",
            lower_is_better=False,
            note=f"({hits} hits, {misses} misses)",
        ),
        Figure("6. bot RSS after the load run", rss[0] / 2**20, 150, unit="MB"),
        Figure(
            "6. bot RSS growth over further runs",
            (max(rss) - rss[0]) / 2**20,
            10,
            unit="MB",
            note=f"({PASSES - 1} more)",
        ),
    ]


Quantiles = tuple[float, float]  # one app's ack p50 and p99 in one pass, in seconds
P99_TARGET = 1.2


def ack_figures(passes: list[tuple[Quantiles, Quantiles]]) -> list[Figure]:
    """The ack figures from each pass's (ours, bare) quantiles, in the order the passes ran. Pure.

    Every pass is shown, both apps' p50 and p99 in milliseconds with their ratio. The p99 figure is the
    worst pass's ratio, so that it is on target only when every pass is (issue 14: a median of three
    hid a pass at 2.74x); the p50, reported without a target, is the median of the passes' ratios.
    """
    p50s = [ours[0] / bare[0] for ours, bare in passes]
    p99s = [ours[1] / bare[1] for ours, bare in passes]
    return [
        Figure(
            "3. ack p50, ours vs bare Bolt (200/s for 10 s)",
            statistics.median(p50s),
            None,
            note=f"(median of the passes; {_per_pass(passes, 0)})",
        ),
        Figure(
            f"3. ack p99, ours vs bare Bolt, worst of {len(passes)} passes",
            max(p99s),
            P99_TARGET,
            note=f"(each pass <= {P99_TARGET:g}x; {_per_pass(passes, 1)})",
        ),
    ]


def _per_pass(passes: list[tuple[Quantiles, Quantiles]], which: int) -> str:
    """``pass 1: 3.0 ms vs 13.1 ms (0.23x); pass 2: …``: one quantile of both apps in every pass."""
    return "; ".join(
        f"pass {number}: {ours[which] * 1000:.1f} ms vs {bare[which] * 1000:.1f} ms ({ours[which] / bare[which]:.2f}x)"
        for number, (ours, bare) in enumerate(passes, start=1)
    )


class _MockSlack:
    """``bench/mock_slack.py`` as a child process: the Web API the bots call, and its call counts."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "mock_slack.py")], stdout=subprocess.PIPE, env=process_env()
        )
        assert self.process.stdout is not None
        api_port, control_port = self.process.stdout.readline().split()
        self.api_url = f"http://127.0.0.1:{int(api_port)}/api/"
        self.counts_url = f"http://127.0.0.1:{int(control_port)}/counts"

    async def counts(self) -> dict[str, int]:
        async with aiohttp.ClientSession() as session, session.get(self.counts_url) as response:
            data: dict[str, int] = json.loads(await response.text())
            return data

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


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


async def _start(
    args: list[str],
    slack: _MockSlack,
    *,
    stderr: int = subprocess.DEVNULL,
    seconds: float = 30,
    extra_env: dict[str, str] | None = None,
) -> _App:
    """Start an app (``args``) in HTTP mode against the mock Web API and wait until it answers."""
    port = _free_port()
    env = process_env(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        PORT=str(port),
        REDIS_URL=REDIS_URL,
        LOG_LEVEL="WARNING",
        **(extra_env or {}),
    )
    env.pop("SLACK_APP_TOKEN", None)
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + seconds
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


async def _delivered(slack: _MockSlack, expected: int) -> tuple[float, float]:
    """The share of ``expected`` commands whose summary and card both reached chat.postMessage, and how
    long after the load ended the last of them arrived (background work still running)."""
    started = time.monotonic()
    deadline = started + 120
    counts = await slack.counts()
    while time.monotonic() < deadline and min(counts["summaries"], counts["cards"]) < expected:
        await asyncio.sleep(0.1)
        counts = await slack.counts()
    return min(1.0, min(counts["summaries"], counts["cards"]) / expected), time.monotonic() - started


async def _cache_counts(url: str) -> tuple[int, int]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics") as response:
        text = await response.text()

    def count(result: str) -> int:
        found = re.search(rf'jwtcheck_cache_requests_total{{result="{result}"}} ([0-9.e+]+)', text)
        return int(float(found.group(1))) if found else 0

    return count("hit"), count("miss")


async def _round_trips() -> tuple[int, int]:
    """Redis round trips of one diagnosis, counted where redis-py writes to the socket (a pipeline or a
    transaction is one round trip), so that every command the service sends is counted."""
    from datetime import UTC, datetime

    from redis.asyncio.connection import AbstractConnection

    from bot.diagnosis.model import Expectations
    from bot.knowledge import default_knowledge
    from bot.service import DiagnosisService
    from bot.store import RedisStore

    trips = 0
    send = AbstractConnection.send_packed_command

    async def counted(self: Any, command: Any, check_health: bool = True) -> None:
        nonlocal trips
        trips += 1
        await send(self, command, check_health)

    store = RedisStore(REDIS_URL)
    await store.ping()  # connect before counting
    service = DiagnosisService(store, default_knowledge())
    text = token(999_999, "skewed")
    now = datetime.now(UTC)
    AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]
    try:
        await service.diagnose(text, Expectations(), now)
        new, trips = trips, 0
        await service.diagnose(text, Expectations(), now)
        repeat = trips
    finally:
        AbstractConnection.send_packed_command = send  # type: ignore[method-assign]
        await store.close()
    return repeat, new


async def _flush_redis() -> None:
    import redis.asyncio as aioredis

    client: Any = aioredis.Redis.from_url(REDIS_URL)
    await client.flushdb()
    await client.aclose()


def _rss(pid: int) -> float:
    """The resident memory of the bot: its serving process and its children (the worker process)."""
    total = 0.0
    for process in (pid, *_children(pid)):
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += float(line.split()[1]) * 1024
    return total or float("nan")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for tasks in Path(f"/proc/{pid}/task").iterdir():
        children = (tasks / "children").read_text().split()
        for child in children:
            found += [int(child), *_children(int(child))]
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
