"""The Slack-like page: ``/`` and ``/static/*`` (shipped in the package, no build step), and its API:

- ``GET /playground/ws``: a WebSocket that sends a snapshot of the channel, then every change;
- ``POST /playground/send`` ``{"text", "thread_ts", "channel"}``: what the person typed (a message or
  ``/jwtcheck …``), in a channel (the first one when not said);
- ``POST /playground/click`` ``{"channel", "ts", "block_id", "action_id"[, "selected"]}``: a button, or an
  option picked in a select (``selected``: its value);
- ``POST /playground/shortcut`` ``{"callback_id", "channel"?, "ts"?}``: a shortcut, on a message (its ⋯
  menu) or global (the ⚡ menu);
- ``POST /playground/view/click`` ``{"view_id", "block_id", "action_id", "values"?}``: a button in a modal
  (with what its inputs hold) or on the Home tab;
- ``POST /playground/view/submit`` ``{"view_id", "values": {block_id: text or option value}}``;
- ``POST /playground/view/close`` ``{"view_id"}``: Cancel;
- ``POST /playground/home``: the Home tab opened;
- ``GET /playground/samples``: one sample per cause, minted now;
- ``GET /playground/state``: the same snapshot the WebSocket starts with (for scripts and debugging).

The server listens on loopback only, and every request must name it as its host (no DNS rebinding),
come from its own origin if it says one, and post JSON (no cross-site forms). Every response carries a
Content-Security-Policy that allows this server's own scripts only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any, TypeGuard

from aiohttp import WSMsgType, web

from bot.knowledge import Knowledge
from bot.playground.delivery import Delivery, Refused
from bot.playground.samples import samples
from bot.playground.workspace import Workspace

log = logging.getLogger(__name__)
CSP = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'; img-src 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
MAX_FIELD = 400
MAX_VALUE = 40_000
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def load_static() -> dict[str, tuple[bytes, str]]:
    """The shipped assets by file name, with their content types."""
    folder = resources.files("bot.playground") / "static"
    assets: dict[str, tuple[bytes, str]] = {}
    for item in folder.iterdir():
        suffix = "." + item.name.rsplit(".", 1)[-1] if "." in item.name else ""
        if item.is_file() and suffix in CONTENT_TYPES:
            assets[item.name] = (item.read_bytes(), CONTENT_TYPES[suffix])
    return assets


class Page:
    def __init__(self, workspace: Workspace, delivery: Delivery, knowledge: Knowledge, port: int) -> None:
        self.workspace = workspace
        self.delivery = delivery
        self.knowledge = knowledge
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
        self.origins = {f"http://{host}" for host in self.hosts}
        self.assets = load_static()
        self._sockets: set[web.WebSocketResponse] = set()

    def install(self, app: web.Application) -> None:
        app.middlewares.append(self._guard)
        app.on_response_prepare.append(self._headers)
        app.on_shutdown.append(self._close_sockets)
        app.add_routes(
            [
                web.get("/", self._index),
                web.get("/static/{name}", self._static),
                web.get("/playground/ws", self._socket),
                web.get("/playground/state", self._state),
                web.get("/playground/samples", self._samples),
                web.post("/playground/send", self._send),
                web.post("/playground/click", self._click),
                web.post("/playground/shortcut", self._shortcut),
                web.post("/playground/view/click", self._view_click),
                web.post("/playground/view/submit", self._view_submit),
                web.post("/playground/view/close", self._view_close),
                web.post("/playground/home", self._home),
            ]
        )

    # --- safety -----------------------------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.host not in self.hosts:
            raise web.HTTPForbidden(text="this playground answers only on 127.0.0.1")
        origin = request.headers.get("Origin")
        if origin is not None and origin not in self.origins:
            raise web.HTTPForbidden(text="cross-origin requests are refused")
        if (
            request.path.startswith("/playground/")
            and request.method == "POST"
            and request.content_type != "application/json"
        ):
            raise web.HTTPUnsupportedMediaType(text="send JSON")
        return await handler(request)

    async def _headers(self, request: web.Request, response: web.StreamResponse) -> None:
        if not request.path.startswith(("/api/", "/hooks/", "/slack/")):
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)

    # --- the page ---------------------------------------------------------------------------------

    async def _index(self, _: web.Request) -> web.Response:
        return self._asset("index.html")

    async def _static(self, request: web.Request) -> web.Response:
        return self._asset(request.match_info["name"])

    def _asset(self, name: str) -> web.Response:
        asset = self.assets.get(name)
        if asset is None:
            raise web.HTTPNotFound()
        body, content_type = asset
        return web.Response(body=body, content_type=content_type, charset="utf-8")

    # --- the API ----------------------------------------------------------------------------------

    async def _state(self, _: web.Request) -> web.Response:
        return web.json_response(self.workspace.snapshot())

    async def _samples(self, _: web.Request) -> web.Response:
        return web.json_response({"samples": samples(self.knowledge)})

    async def _send(self, request: web.Request) -> web.Response:
        body = await _json(request)
        text, thread_ts, channel = body.get("text"), body.get("thread_ts"), body.get("channel")
        if not isinstance(text, str) or not all(v is None or isinstance(v, str) for v in (thread_ts, channel)):
            return _refused("text must be a string, thread_ts and channel strings or null")
        try:
            message = self.delivery.send(text, thread_ts, channel)
        except Refused as why:
            return _refused(str(why))
        return web.json_response({"ok": True, "ts": message.ts if message else None})

    async def _click(self, request: web.Request) -> web.Response:
        body = await _json(request)
        fields = [body.get(name) for name in ("channel", "ts", "block_id", "action_id")]
        if not all(isinstance(value, str) and 0 < len(value) <= MAX_FIELD for value in fields):
            return _refused("channel, ts, block_id and action_id are strings")
        channel, ts, block_id, action_id = (str(value) for value in fields)
        selected = body.get("selected")
        if selected is not None and not (isinstance(selected, str) and 0 < len(selected) <= MAX_FIELD):
            return _refused("selected is the picked option's value")
        try:
            self.delivery.click(channel, ts, block_id, action_id, selected)
        except Refused as why:
            return _refused(str(why))
        return web.json_response({"ok": True})

    async def _shortcut(self, request: web.Request) -> web.Response:
        body = await _json(request)
        callback_id, channel, ts = body.get("callback_id"), body.get("channel"), body.get("ts")
        if not _field(callback_id) or not all(v is None or _field(v) for v in (channel, ts)):
            return _refused("callback_id is a string; channel and ts strings or absent")
        try:
            if channel is not None or ts is not None:
                if not (_field(channel) and _field(ts)):
                    return _refused("a message shortcut names the channel and the ts")
                self.delivery.message_shortcut(str(channel), str(ts), str(callback_id))
            else:
                self.delivery.global_shortcut(str(callback_id))
        except Refused as why:
            return _refused(str(why))
        return web.json_response({"ok": True})

    async def _view_click(self, request: web.Request) -> web.Response:
        body = await _json(request)
        fields = [body.get(name) for name in ("view_id", "block_id", "action_id")]
        values = body.get("values") or {}
        if not all(_field(value) for value in fields):
            return _refused("view_id, block_id and action_id are strings")
        if not _values(values):
            return _refused(f"values is an object of strings of at most {MAX_VALUE} characters")
        view_id, block_id, action_id = (str(value) for value in fields)
        try:
            self.delivery.view_click(view_id, block_id, action_id, values)
        except Refused as why:
            return _refused(str(why))
        return web.json_response({"ok": True})

    async def _view_submit(self, request: web.Request) -> web.Response:
        body = await _json(request)
        view_id, values = body.get("view_id"), body.get("values")
        if not _field(view_id) or not _values(values):
            return _refused(f"view_id is a string, values an object of strings of at most {MAX_VALUE} characters")
        try:
            self.delivery.submit(str(view_id), values)
        except Refused as why:
            return _refused(str(why))
        return web.json_response({"ok": True})

    async def _view_close(self, request: web.Request) -> web.Response:
        body = await _json(request)
        if not _field(body.get("view_id")):
            return _refused("view_id is a string")
        try:
            self.delivery.close_view(str(body["view_id"]))
        except Refused as why:
            return _refused(str(why))
        return web.json_response({"ok": True})

    async def _home(self, request: web.Request) -> web.Response:
        await _json(request)
        self.delivery.open_home()
        return web.json_response({"ok": True})

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(heartbeat=30, max_msg_size=4096)
        await socket.prepare(request)
        self._sockets.add(socket)
        queue = self.workspace.watch()
        writer = asyncio.get_running_loop().create_task(self._forward(socket, queue))
        try:
            await socket.send_json(self.workspace.snapshot())
            async for message in socket:  # the page says nothing; reading notices when it goes
                if message.type is WSMsgType.ERROR:
                    break
        finally:
            writer.cancel()
            self.workspace.unwatch(queue)
            self._sockets.discard(socket)
        return socket

    async def _forward(self, socket: web.WebSocketResponse, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while not socket.closed:
            event = await queue.get()
            try:
                await socket.send_json(self.workspace.snapshot() if event["type"] == "resync" else event)
            except ConnectionError:
                return

    async def _close_sockets(self, _: web.Application) -> None:
        for socket in list(self._sockets):
            await socket.close()


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.text())
    except ValueError:
        raise web.HTTPBadRequest(text="invalid JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="a JSON object, please")
    return body


def _field(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_FIELD


def _values(values: Any) -> TypeGuard[dict[str, str]]:
    return (
        isinstance(values, dict)
        and len(values) <= 100
        and all(isinstance(v, str) and len(v) <= MAX_VALUE for v in values.values())
    )


def _refused(why: str) -> web.Response:
    return web.json_response({"ok": False, "error": why}, status=400)
