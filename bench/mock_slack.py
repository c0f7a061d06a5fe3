"""The mock Slack Web API for the load figures: a process of its own, and as cheap as it can be.

Slack's Web API runs on Slack's machines; here it shares two cores with the bot, the bare Bolt app,
Redis and the load generator. Run in the load generator's process it would share that event loop, so
every chat.postMessage the bot sends (two per command) would delay the generator's timing of the
acks, a cost the bare Bolt app (which posts nothing) never pays. And the test suite's recording mock
(``tests/support/slack_api.py``) parses and keeps every call, CPU that competes with the very acks
being measured. This one answers the methods the bot calls, the way the test mock does, and only
counts: summaries (a chat.postMessage without ``thread_ts``) and cards (with ``thread_ts`` and blocks).

Prints ``<api port> <control port>`` on one line once both servers listen; ``GET /counts`` on the
control port answers ``{"summaries": n, "cards": n, "calls": n}``; SIGTERM stops it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_TOKEN = "xoxb-test-token"  # as tests/support/slack_api.py, whose token the load harness signs with
AUTH_TEST = {
    "ok": True,
    "user_id": "UBOT00001",
    "bot_id": "BBOT00001",
    "team_id": "T00000001",
    "user": "jwtcheck",
    "url": "https://acme.slack.test/",
}


class CountingSlack:
    def __init__(self) -> None:
        self.counts = {"summaries": 0, "cards": 0, "calls": 0}
        self._ts = itertools.count(1)

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.counts["calls"] += 1
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method == "auth.test":
            return web.json_response(AUTH_TEST)
        if method != "chat.postMessage":
            return web.json_response({"ok": True})
        params = _params(await request.read(), request.content_type)
        if not params.get("thread_ts"):
            self.counts["summaries"] += 1
        elif params.get("blocks"):
            self.counts["cards"] += 1
        ts = f"1795900000.{next(self._ts):06d}"
        return web.json_response({"ok": True, "channel": params.get("channel"), "ts": ts})

    async def counts_view(self, _: web.Request) -> web.Response:
        return web.json_response(self.counts)


def _params(raw: bytes, content_type: str) -> dict[str, Any]:
    if content_type == "application/json":
        data = json.loads(raw or b"{}")
        return data if isinstance(data, dict) else {}
    return dict(parse_qsl(raw.decode(), keep_blank_values=True))


async def _serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: int = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, port


async def main() -> None:
    slack = CountingSlack()
    api = web.Application()
    api.add_routes([web.post("/api/{method}", slack.api), web.get("/api/{method}", slack.api)])
    control = web.Application()
    control.add_routes([web.get("/counts", slack.counts_view)])
    (api_runner, api_port), (control_runner, control_port) = await _serve(api), await _serve(control)
    print(api_port, control_port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await control_runner.cleanup()
    await api_runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
