"""A fake Slack Web API: a real aiohttp server on an ephemeral port that records every call.

The bot reaches it through SLACK_API_URL (``…/api/``); ``response_url``s point at ``/response/<name>``.
Failures can be queued per method (``fail("chat.postMessage", status=429, retry_after=1)``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
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
    _runner: web.AppRunner | None = None
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

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
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
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

    def of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

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
        self.calls.append(Call(method, params, raw, dict(request.headers)))
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        queued = self.failures.get(method)
        if queued:
            failure = queued.pop(0)
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return web.json_response(
                {"ok": False, "error": failure.error or f"http_{failure.status}"},
                status=failure.status,
                headers=headers,
            )
        if method == "apps.connections.open":
            if not request.headers.get("Authorization", "").startswith("Bearer xapp-"):
                return web.json_response({"ok": False, "error": "invalid_auth"})
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"})
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response(self._answer(method, params))

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
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "conversations.replies":
            return {"ok": True, "messages": self.threads.get((str(params.get("channel")), str(params.get("ts"))), [])}
        return {"ok": True}

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
                f"response:{request.match_info['name']}", _parse(raw, request.content_type), raw, dict(request.headers)
            )
        )
        return web.Response(text="ok")


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
