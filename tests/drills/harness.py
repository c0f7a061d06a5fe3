"""What the drills stand on: bot replicas as real processes, a private Redis, a mock Slack, a signed sender.

- :class:`PrivateRedis`: a ``redis-server`` of the drill's own on an ephemeral port in a temporary folder
  (no persistence, like ``deploy/k8s/redis.yaml``), which a drill may kill, restart, put to sleep and scan.
- :class:`Replica`: ``python -m bot serve`` with the settings of the environment (JSON logs at DEBUG, to a
  file), started and waited for on ``/healthz``.
- :class:`Drill`: the mock Slack (``tests/support/slack_api.py``, in the test process), the Redis, the
  replicas, and a sender that signs every request exactly as Slack does (v0 HMAC-SHA256 over the raw
  bytes) and times each ack. Every command is sent in a channel of its own and every message has its own
  channel and ``ts``, so what reached Slack is attributed to the request it answers (:meth:`Drill.tally`).

Only what Slack carried out counts (``Call.ok``): a call answered 429 or 5xx and retried is no duplicate;
two summaries posted for one command are.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from tests.support import slack_requests
from tests.support.redis_dump import as_text, value_of
from tests.support.slack_api import BOT_TOKEN, Call, MockSlack
from tests.support.tcp_proxy import unused_port
from tests.support.tokens import SECRET, claims, make_token

REPO = Path(__file__).resolve().parents[2]
# The checkout whose bot the replicas run (``python -m bot serve`` with this as working directory, so its
# ``bot`` package is the one imported): this one, unless DRILL_BOT_ROOT names another (a release to compare).
BOT_ROOT = Path(os.environ.get("DRILL_BOT_ROOT") or REPO)
ACK_LIMIT = 3.0  # Slack's hard limit for an ack: the one timing the drills assert
DELIVERY_DEADLINE = 60.0  # how long, once Slack (or Redis) has recovered, every answer may take to arrive
QUIET = 3.0  # once everything has arrived: how long no Web API call must come before duplicates are counted
START_DEADLINE = 60.0  # a replica's start on a busy machine
POSTED = "chat.postMessage"


def redis_server() -> str | None:
    return shutil.which("redis-server")


def expired_token(n: int, **changes: Any) -> str:
    """A real HS256 token (a real signature) that is expired whatever today's date: one card each."""
    now = int(time.time())
    return make_token(claims(sub=f"user-{n}", jti=f"drill-{n}", iat=now - 7200, exp=now - 3600, **changes), key=SECRET)


def signature(token: str) -> str:
    return token.rsplit(".", 1)[1]


class PrivateRedis:
    """A ``redis-server`` of the drill's own; ``kill`` is a SIGKILL (its data is gone, as in production)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = unused_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        server = redis_server()
        assert server is not None, "no redis-server on PATH"
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", str(self.directory), "--enable-debug-command", "yes", "--logfile", "redis.log"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not await self.answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"redis-server on port {self.port} did not start")
            await asyncio.sleep(0.05)

    async def answers(self) -> bool:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), 1)
        except (OSError, TimeoutError):
            return False
        try:
            writer.write(b"PING\r\n")
            return (await asyncio.wait_for(reader.read(16), 1)).startswith(b"+PONG")
        except (OSError, TimeoutError):
            return False
        finally:
            writer.close()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    async def restart(self) -> None:
        """Start again on the same port, empty."""
        self.kill()
        await self.start()

    def client(self, db: int = 0) -> aioredis.Redis:
        return aioredis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=30)

    async def debug_sleep(self, seconds: float) -> None:
        """Block the server for ``seconds`` (``DEBUG SLEEP``, on a connection of its own)."""
        client = self.client()
        try:
            await client.execute_command("DEBUG", "SLEEP", str(seconds))  # type: ignore[no-untyped-call,unused-ignore]
        finally:
            await client.aclose()

    async def everything(self) -> str:
        """Every key and every value of every database, as text (bytes read as Latin-1, so nothing is lost)."""
        client = self.client()
        try:
            keyspace: dict[str, Any] = await client.info("keyspace")
        finally:
            await client.aclose()
        out: list[str] = []
        for db_name in keyspace:
            db = int(str(db_name).removeprefix("db"))
            client = self.client(db)
            try:
                async for key in client.scan_iter(count=500):
                    out.append(f"{db} {as_text(key)} = {await value_of(client, key)}")
            finally:
                await client.aclose()
        return "\n".join(out)

    async def key_count(self) -> int:
        client = self.client()
        try:
            keyspace: dict[str, Any] = await client.info("keyspace")
        finally:
            await client.aclose()
        return sum(int(stats.get("keys", 0)) for stats in keyspace.values() if isinstance(stats, dict))


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    terminated_at: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        try:
            return self.log_path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def running(self) -> bool:
        return self.process.poll() is None

    def terminate(self) -> None:
        """SIGTERM to the replica's main process, as Kubernetes sends it to a container's PID 1 (after the
        preStop hook); once it exits, the container (and whatever else runs in it) is gone."""
        self.terminated_at = time.monotonic()
        self.process.send_signal(signal.SIGTERM)

    async def exit_within(self, seconds: float) -> float | None:
        """Seconds from SIGTERM to exit, or None if still running ``seconds`` after it."""
        assert self.terminated_at is not None
        deadline = self.terminated_at + seconds
        while self.running() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return None if self.running() else time.monotonic() - self.terminated_at

    def kill(self) -> None:
        """SIGKILL to the replica's process group (the replica and any process it started)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


@dataclass
class Ack:
    """One request sent to a replica: the HTTP status (None: no answer at all) and the time it took."""

    kind: str  # command | message | mention | click | raw
    channel: str
    ts: str | None  # a message's ts: its card goes in that thread
    replica: str
    status: int | None
    latency: float
    error: str | None = None
    sent_at: float = 0.0
    note: str = ""  # what was sent, for a failure's message

    @property
    def acked(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Figures:
    """Per acked request, what Slack shows: the issue-14 table's figures for one phase."""

    label: str
    sent: int = 0
    acked: int = 0
    slow_acks: list[float] = field(default_factory=list)
    commands: int = 0
    messages: int = 0
    without_summary: int = 0
    without_card: int = 0
    duplicate_summaries: int = 0
    duplicate_cards: int = 0
    messages_without_card: int = 0
    messages_duplicate_cards: int = 0
    max_ack: float = 0.0
    not_acked: list[str] = field(default_factory=list)
    done_after_hang_up: int = 0  # posts Slack made although the caller had given up waiting (slow answers)

    def delivered(self) -> bool:
        return not (self.without_summary or self.without_card or self.messages_without_card)

    def clean(self) -> bool:
        return (
            self.delivered()
            and not (self.duplicate_summaries or self.duplicate_cards or self.messages_duplicate_cards)
            and not self.slow_acks
        )

    def __str__(self) -> str:
        return (
            f"{self.label}: {self.acked} of {self.sent} acked (slowest {self.max_ack:.2f} s, "
            f"{len(self.slow_acks)} over {ACK_LIMIT:.0f} s); commands without a summary {self.without_summary} "
            f"of {self.commands}, without a card {self.without_card} of {self.commands}, duplicate summaries "
            f"{self.duplicate_summaries}, duplicate cards {self.duplicate_cards}; messages without a card "
            f"{self.messages_without_card} of {self.messages}, duplicate cards {self.messages_duplicate_cards}"
            + (f"; {self.done_after_hang_up} posts done after the bot hung up" if self.done_after_hang_up else "")
        )


class Drill:
    """The mock Slack, a private Redis, the replicas, and the signed sender; :meth:`close` ends them all."""

    def __init__(self, directory: Path, slack: MockSlack, redis: PrivateRedis, session: aiohttp.ClientSession) -> None:
        self.directory = directory
        self.slack = slack
        self.redis = redis
        self.session = session
        self.replicas: list[Replica] = []
        self.acks: list[Ack] = []
        self._numbers = itertools.count(1)

    # -- processes -------------------------------------------------------------------------------------

    async def start_replica(self, **env: str) -> Replica:
        name = f"replica-{len(self.replicas) + 1}"
        port = unused_port()
        log_path = self.directory / f"{name}.log"
        environment = {
            key: value
            for key, value in os.environ.items()
            if key not in {"SLACK_APP_TOKEN", "JWTCHECK_CONFIG", "PYTHONDONTWRITEBYTECODE"}
        }
        environment.update(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET,
            PORT=str(port),
            REDIS_URL=self.redis.url,
            SLACK_API_URL=self.slack.api_url,
            LOG_FORMAT="json",
            LOG_LEVEL="DEBUG",
            PYTHONUNBUFFERED="1",
        )
        environment.update(env)
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve"],
                cwd=BOT_ROOT,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: a worker process it starts is killed with it
            )
        replica = Replica(name, port, process, log_path)
        self.replicas.append(replica)
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if not replica.running():
                raise AssertionError(f"{name} exited {process.returncode} at start:\n{replica.log_tail()}")
            status, _ = await self.get(replica, "/healthz")
            if status == 200:
                return replica
            await asyncio.sleep(0.1)
        raise AssertionError(f"{name} not healthy after {START_DEADLINE:.0f} s:\n{replica.log_tail()}")

    async def get(self, replica: Replica, path: str) -> tuple[int | None, str]:
        try:
            async with self.session.get(replica.url + path, timeout=aiohttp.ClientTimeout(total=10)) as response:
                return response.status, await response.text(errors="replace")
        except (aiohttp.ClientError, TimeoutError):
            return None, ""

    async def close(self) -> None:
        for replica in self.replicas:
            replica.kill()
        self.redis.kill()

    # -- requests --------------------------------------------------------------------------------------

    def number(self) -> int:
        return next(self._numbers)

    async def post(
        self,
        replica: Replica,
        body: bytes,
        content_type: str,
        *,
        kind: str = "raw",
        channel: str = "",
        ts: str | None = None,
        timestamp: int | None = None,
        record: bool = True,
    ) -> Ack:
        headers = signed(body, content_type, timestamp=timestamp)
        sent_at = time.monotonic()
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            async with self.session.post(
                replica.url + "/slack/events", data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=20)
            ) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as failure:
            error = type(failure).__name__
        ack = Ack(kind, channel, ts, replica.name, status, time.perf_counter() - started, error, sent_at)
        if record:
            self.acks.append(ack)
        return ack

    async def command(self, replica: Replica, text: str, *, channel: str | None = None) -> Ack:
        channel = channel or f"CDRILL{self.number():05d}"
        body = slack_requests.command(text, self.slack.response_url(channel), channel=channel)
        return await self.post(
            replica, body.encode(), "application/x-www-form-urlencoded", kind="command", channel=channel
        )

    async def message(self, replica: Replica, text: str, *, mention: bool = False, channel: str | None = None) -> Ack:
        n = self.number()
        channel = channel or f"CMSG{n:07d}"
        ts = f"{int(time.time())}.{n:06d}"
        inner = slack_requests.message(text, ts=ts, channel=channel)
        if mention:
            inner["type"] = "app_mention"
        body = slack_requests.event(inner, f"Ev{n:010d}")
        return await self.post(
            replica, body.encode(), "application/json", kind="mention" if mention else "message", channel=channel, ts=ts
        )

    async def click(self, replica: Replica, action_id: str, value: str, *, message_ts: str | None = None) -> Ack:
        n = self.number()
        channel = f"CCLICK{n:05d}"
        body = slack_requests.block_action(
            action_id,
            value,
            response_url=self.slack.response_url(f"click{n}"),
            channel=channel,
            message_ts=message_ts or f"1795900000.{n:06d}",
        )
        return await self.post(
            replica, body.encode(), "application/x-www-form-urlencoded", kind="click", channel=channel
        )

    # -- what reached Slack ----------------------------------------------------------------------------

    def posted(self, channel: str) -> list[Call]:
        return [call for call in self.slack.answered_ok(POSTED) if str(call.params.get("channel")) == channel]

    def summaries(self, channel: str) -> list[Call]:
        return [call for call in self.posted(channel) if not call.params.get("thread_ts")]

    def cards(self, channel: str, thread_ts: str | None = None) -> list[Call]:
        return [
            call
            for call in self.posted(channel)
            if call.params.get("thread_ts") and (thread_ts is None or str(call.params["thread_ts"]) == thread_ts)
        ]

    def tally(self, label: str, acks: Iterable[Ack]) -> Figures:
        figures = Figures(label)
        for ack in acks:
            figures.sent += 1
            if not ack.acked:
                figures.not_acked.append(f"{ack.kind} {ack.channel}: {ack.status or ack.error} in {ack.latency:.2f} s")
                continue
            figures.acked += 1
            figures.max_ack = max(figures.max_ack, ack.latency)
            figures.done_after_hang_up += sum(call.client_gone for call in self.posted(ack.channel))
            if ack.latency >= ACK_LIMIT:
                figures.slow_acks.append(round(ack.latency, 2))
            if ack.kind == "command":
                figures.commands += 1
                summaries, cards = len(self.summaries(ack.channel)), len(self.cards(ack.channel))
                figures.without_summary += summaries == 0
                figures.without_card += cards == 0
                figures.duplicate_summaries += max(0, summaries - 1)
                figures.duplicate_cards += max(0, cards - 1)
            elif ack.kind in {"message", "mention"}:
                figures.messages += 1
                cards = len(self.cards(ack.channel, ack.ts))
                strays = len(self.posted(ack.channel)) - cards  # anything else posted for a message
                figures.messages_without_card += cards == 0
                figures.messages_duplicate_cards += max(0, cards - 1) + strays
        return figures

    async def settle(self, acks: list[Ack], *, deadline: float = DELIVERY_DEADLINE) -> None:
        """Wait (at most ``deadline`` seconds) until every acked request has its answers in Slack, then until
        the Web API has been quiet for :data:`QUIET` seconds, so that late duplicates are counted too."""
        ends = time.monotonic() + deadline
        while time.monotonic() < ends and not self.tally("", acks).delivered():
            await asyncio.sleep(0.2)
        while time.monotonic() < ends:
            last = max((call.received_at for call in self.slack.calls), default=0.0)
            if time.monotonic() - last >= QUIET:
                return
            await asyncio.sleep(0.2)

    def logs(self) -> str:
        return "\n".join(replica.log_text() for replica in self.replicas)


def signed(body: bytes, content_type: str, *, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 signature over the raw bytes (so bodies that are no UTF-8 are signed as Slack would)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + stamp.encode() + b":" + body
    digest = hmac.new(slack_requests.SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def leaks(signatures: dict[str, str], haystacks: dict[str, str], width: int = 12) -> list[str]:
    """Where any ``width``-character piece of any signature (named by its label) appears: one line per
    signature and place, with how many times and the first occurrence in context."""
    pieces = {sig[i : i + width]: label for label, sig in signatures.items() for i in range(len(sig) - width + 1)}
    if not pieces:
        return []
    pattern = re.compile("|".join(re.escape(piece) for piece in sorted(pieces)))
    found: dict[tuple[str, str], tuple[int, str]] = {}
    for where, text in haystacks.items():
        for match in pattern.finditer(text):
            key = (where, pieces[match.group(0)])
            line = text.rfind("\n", 0, match.start()) + 1
            head = text[line : min(line + 60, max(0, match.start() - 80))]  # a Redis key, a log line's start
            context = (head + " … " if head else "") + text[max(line, match.start() - 80) : match.end() + 30]
            count, context = found.get(key, (0, context))
            found[key] = (count + 1, context)
    return [f"{where}: {label} ×{count}: …{context!r}" for (where, label), (count, context) in found.items()]


async def metrics_text(drill: Drill) -> str:
    texts = []
    for replica in drill.replicas:
        if replica.running():
            _, text = await drill.get(replica, "/metrics")
            texts.append(text)
    return "\n".join(texts)


async def haystacks(drill: Drill) -> dict[str, str]:
    """Everything a signature could leak into: every Web API payload, Redis, every log line, /metrics."""
    return {
        "Web API payloads": drill.slack.everything_sent(),
        "Redis": await drill.redis.everything(),
        "logs": drill.logs(),
        "/metrics": await metrics_text(drill),
    }


@contextlib.asynccontextmanager
async def drill_in(directory: Path) -> AsyncIterator[Drill]:
    slack = await MockSlack().start()
    redis = PrivateRedis(directory / "redis")
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=False))
    drill = Drill(directory, slack, redis, session)
    try:
        await redis.start()
        yield drill
    finally:
        await drill.close()
        await session.close()
        await slack.stop()


__all__ = ["ACK_LIMIT", "Ack", "Drill", "Figures", "PrivateRedis", "Replica", "drill_in"]
