"""A fake Slack Web API: a real aiohttp server on an ephemeral port that records every call.

The bot reaches it through SLACK_API_URL (``…/api/``); ``response_url``s point at ``/response/<name>``.
Failures can be queued per method (``fail("chat.postMessage", status=429, retry_after=1)``).

Outages for the drills (``tests/drills``), all off by default: ``burst`` answers every call (or the
calls of some methods) with failure statuses for a while or for a number of calls, ``slow`` answers
late, ``refuse_for`` stops listening (and cuts open connections) and listens again on the same port.
Every call records how it was answered (``status``, ``ok``), so a duplicate can be told from a retry of a
failed call: ``answered_ok`` is what Slack really did.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_TOKEN = "xoxb-test-token"
BOT_USER = "UBOT00001"
BOT_ID = "BBOT00001"
TEAM = "T00000001"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    raw: str
    headers: dict[str, str]
    status: int | None = None  # the HTTP status the mock answered with; None until answered
    ok: bool | None = None  # the answer's "ok": True when Slack did what was asked
    client_gone: bool = False  # the caller had hung up when the (slow) answer was written; Slack did it anyway
    received_at: float = field(default_factory=time.monotonic)


@dataclass
class Outage:
    """Calls arriving while it is on (until ``until`` on the monotonic clock, or for ``remaining`` calls)
    are answered with ``statuses`` in turn (429 with ``Retry-After``), or after ``delay`` seconds."""

    statuses: tuple[int, ...] = ()
    retry_after: int | None = None
    delay: float = 0.0
    spread: float = 0.0  # a delay is drawn from [delay, delay + spread]
    until: float | None = None
    remaining: int | None = None
    methods: frozenset[str] | None = None  # None: every Web API method
    served: int = 0

    def takes(self, method: str, now: float) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        if self.until is not None and now >= self.until:
            return False
        return self.remaining is None or self.remaining > 0

    def take(self) -> None:
        self.served += 1
        if self.remaining is not None:
            self.remaining -= 1


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None


@dataclass
class MockSlack:
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    threads: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    not_in_channel: set[str] = field(default_factory=set)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    delays: dict[str, float] = field(default_factory=dict)  # seconds to wait before answering a method
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    port: int = 0
    outages: list[Outage] = field(default_factory=list)
    refusing: bool = False
    seed: int = 14
    _runner: web.AppRunner | None = None
    _site: web.TCPSite | None = None
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _random: random.Random | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    async def start(self) -> MockSlack:
        app = web.Application()
        app.add_routes(
            [
                web.post("/api/{method}", self._api),
                web.get("/api/{method}", self._api),
                web.post("/response/{name}", self._response),
                web.get("/link", self._socket),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._site = site
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        self.failures.setdefault(method, []).extend([Failure(status, error, retry_after)] * times)

    def burst(
        self,
        statuses: tuple[int, ...] = (429,),
        *,
        seconds: float | None = None,
        times: int | None = None,
        retry_after: int | None = None,
        methods: frozenset[str] | None = None,
    ) -> Outage:
        """From now, answer calls with ``statuses`` in turn, for ``seconds`` or ``times`` calls (or until
        ``end``); 429s carry ``Retry-After: retry_after``."""
        assert statuses and all(status >= 400 for status in statuses)
        return self._outage(Outage(statuses=statuses, retry_after=retry_after, methods=methods), seconds, times)

    def slow(
        self,
        delay: float,
        *,
        spread: float = 0.0,
        seconds: float | None = None,
        times: int | None = None,
        methods: frozenset[str] | None = None,
    ) -> Outage:
        """From now, answer calls only after ``delay`` (to ``delay + spread``) seconds, for ``seconds`` or
        ``times`` calls (or until ``end``). The call is done even if the caller has hung up meanwhile."""
        return self._outage(Outage(delay=delay, spread=spread, methods=methods), seconds, times)

    def end(self, outage: Outage) -> None:
        if outage in self.outages:
            self.outages.remove(outage)

    def _outage(self, outage: Outage, seconds: float | None, times: int | None) -> Outage:
        outage.until = None if seconds is None else time.monotonic() + seconds
        outage.remaining = times
        self.outages.append(outage)
        return outage

    async def refuse_connections(self) -> None:
        """Stop listening and close every open connection (one with a call under way once that call is
        answered): from now calls fail with "connection refused"."""
        if self.refusing:
            return
        self.refusing = True
        if self._site is not None:
            await self._site.stop()
            self._site = None
        server = self._runner.server if self._runner is not None else None
        for handler in list(server.connections if server is not None else []):
            if getattr(handler, "_request_in_progress", False):
                handler.close()  # closed once the call under way is answered
            else:
                handler.force_close()

    async def accept_connections(self) -> None:
        """Listen again, on the same port."""
        if not self.refusing:
            return
        assert self._runner is not None
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        for _ in range(100):  # the port may linger for a moment after the close
            try:
                await site.start()
                break
            except OSError:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"cannot listen again on port {self.port}")
        self._site = site
        self.refusing = False

    def refuse_for(self, seconds: float) -> asyncio.Task[None]:
        """Refuse connections now and for ``seconds``; the task ends once the mock listens again."""

        async def outage() -> None:
            await self.refuse_connections()
            try:
                await asyncio.sleep(seconds)
            finally:
                await self.accept_connections()

        return asyncio.get_running_loop().create_task(outage(), name="slack-refuses")

    def of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def answered_ok(self, method: str) -> list[Call]:
        """The calls of ``method`` that Slack carried out (answered ``ok``), whether or not the caller
        was still there to read the answer."""
        return [call for call in self.calls if call.method == method and call.ok]

    def everything_sent(self) -> str:
        """Every byte the bot sent to Slack, for leak checks."""
        return "\n".join(call.raw for call in self.calls)

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while len(self.of(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{method}: {len(self.of(method))} calls, expected {count}")
            await asyncio.sleep(0.02)
        return self.of(method)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        params = _parse(raw, request.content_type)
        params.update({k: v for k, v in request.query.items()})
        call = Call(method, params, raw, dict(request.headers))
        self.calls.append(call)
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        now = time.monotonic()
        for outage in list(self.outages):
            if not outage.takes(method, now):
                continue
            outage.take()
            if outage.statuses:
                status = outage.statuses[(outage.served - 1) % len(outage.statuses)]
                retry_after = outage.retry_after if status == 429 else None
                return _answered(call, {"ok": False, "error": f"http_{status}"}, status, retry_after)
            await asyncio.sleep(outage.delay + self._draw(outage.spread))
            transport = request.transport
            call.client_gone = transport is None or transport.is_closing()
            break
        queued = self.failures.get(method)
        if queued:
            failure = queued.pop(0)
            body = {"ok": False, "error": failure.error or f"http_{failure.status}"}
            return _answered(call, body, failure.status, failure.retry_after)
        if method == "apps.connections.open":
            if not request.headers.get("Authorization", "").startswith("Bearer xapp-"):
                return _answered(call, {"ok": False, "error": "invalid_auth"})
            return _answered(call, {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"})
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            return _answered(call, {"ok": False, "error": "invalid_auth"})
        return _answered(call, self._answer(method, params))

    def _draw(self, spread: float) -> float:
        if spread <= 0:
            return 0.0
        if self._random is None:
            self._random = random.Random(self.seed)
        return self._random.uniform(0, spread)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "team_id": TEAM,
                "user": "jwtcheck",
                "url": "https://acme.slack.test/",
            }
        if method == "chat.postMessage":
            channel = str(params.get("channel"))
            if channel in self.not_in_channel:
                return {"ok": False, "error": "not_in_channel"}
            ts = f"1795900000.{next(self._ts):06d}"
            return {"ok": True, "channel": channel, "ts": ts, "message": {"text": params.get("text"), "ts": ts}}
        if method == "chat.postEphemeral":
            channel = str(params.get("channel"))
            if channel in self.not_in_channel:
                return {"ok": False, "error": "not_in_channel"}
            return {"ok": True, "message_ts": f"1795900000.{next(self._ts):06d}"}
        if method == "conversations.open":
            users = str(params.get("users") or "")  # one direct-message channel per set of users
            return {"ok": True, "channel": {"id": f"D{zlib.crc32(users.encode()):08X}"}}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "conversations.replies":
            return {"ok": True, "messages": self.threads.get((str(params.get("channel")), str(params.get("ts"))), [])}
        if method in {"views.open", "views.push", "views.update", "views.publish"}:
            return {"ok": True, "view": self._view(method, params)}
        return {"ok": True}

    def _view(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The view Slack answers with: the one sent, with an id (kept across views.update) and a hash."""
        view = params.get("view")
        view = json.loads(view) if isinstance(view, str) else dict(view or {})
        view_id = str(params.get("view_id") or "") or f"V{next(self._ts):08d}"
        return {**view, "id": view_id, "hash": f"{view_id}.{len(self.calls)}", "team_id": TEAM}

    async def deliver(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope to the connected bot (Slack's side of the WebSocket)."""
        deadline = time.monotonic() + 10
        while not self.sockets:
            if time.monotonic() > deadline:
                raise AssertionError("no Socket Mode connection")
            await asyncio.sleep(0.02)
        await self.sockets[-1].send_str(json.dumps(envelope))

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(heartbeat=None)
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_str(
            json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0JWTCHECK"}})
        )
        async for frame in socket:
            if frame.type.name == "TEXT":
                self.socket_acks.append(json.loads(frame.data))
        self.sockets.remove(socket)
        return socket

    async def _response(self, request: web.Request) -> web.Response:
        raw = await request.text()
        self.calls.append(
            Call(
                f"response:{request.match_info['name']}",
                _parse(raw, request.content_type),
                raw,
                dict(request.headers),
                status=200,
                ok=True,
            )
        )
        return web.Response(text="ok")


def _answered(call: Call, body: dict[str, Any], status: int = 200, retry_after: int | None = None) -> web.Response:
    call.status, call.ok = status, status == 200 and bool(body.get("ok"))
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return web.json_response(body, status=status, headers=headers)


def _parse(raw: str, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if content_type == "application/json":
        data = json.loads(raw)
        return data if isinstance(data, dict) else {"_": data}
    params: dict[str, Any] = dict(parse_qsl(raw, keep_blank_values=True))
    for key in ("blocks", "attachments"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params
