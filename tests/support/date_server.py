"""A local HTTP service whose Date header runs off by a chosen offset: a real clock to probe."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.utils import formatdate

from aiohttp import web


class DateServer:
    def __init__(self, offset: float = -38.0) -> None:
        self.offset = offset
        self.methods: list[str] = []
        self.refuse_head = False
        self.date: str | None = None  # a literal Date header instead of the skewed clock
        self.delay = 0.0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.methods.append(request.method)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse_head and request.method == "HEAD":
            return web.Response(status=405)
        date = self.date if self.date is not None else formatdate(time.time() + self.offset, usegmt=True)
        return web.Response(status=401, headers={"Date": date, "Location": "https://elsewhere.example/"})

    @classmethod
    @asynccontextmanager
    async def running(cls, offset: float = -38.0) -> AsyncIterator[DateServer]:
        server = cls(offset)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", server.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/health"  # type: ignore[union-attr]
        try:
            yield server
        finally:
            await runner.cleanup()
