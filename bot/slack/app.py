"""The Bolt app and the aiohttp application around it (``/slack/events``, ``/healthz``, ``/metrics``)."""

from __future__ import annotations

import gc
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.knowledge import default_knowledge
from bot.slack.deps import Deps
from bot.slack.listeners import register_listeners
from bot.slack.metrics import CONTENT_TYPE_LATEST
from bot.slack.settings import Settings
from bot.store import Store, make_store

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller; anything bigger is refused with 413


def make_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: SLACK_API_URL for tests and proxies; 429 and 5xx retried within bounds."""
    kwargs: dict[str, Any] = {"token": settings.bot_token, "timeout": 10}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url
    client = AsyncWebClient(**kwargs)
    client.retry_handlers = [
        AsyncConnectionErrorRetryHandler(max_retry_count=1),
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]
    return client


def warm_up(deps: Deps) -> None:
    """Load, before the first request, what the first diagnosis would otherwise load on the event loop
    while acks wait: the error-message catalogue and one diagnosis through every code path."""
    from datetime import UTC, datetime

    from bot.diagnosis import Expectations
    from bot.pipeline import diagnose_text

    diagnose_text(
        "eyJhbGciOiJub25lIn0.eyJleHAiOjF9. Signature has expired",
        Expectations(),
        datetime.now(UTC),
        knowledge=deps.knowledge,
    )


_heap_frozen = False


def _freeze_the_heap_once() -> None:
    """Everything loaded at start (modules, knowledge, catalogue) lives as long as the process: take it
    out of the cyclic collector's sight, so that a full collection under load walks only what requests
    allocate instead of stalling the acks for tens of milliseconds. Once per process (tests start many
    bots in one), after a collection so that no garbage is kept forever."""
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.collect()
        gc.freeze()


class Runtime:
    """One running bot: Bolt app, web server routes, store, background tasks; started and stopped once."""

    def __init__(self, settings: Settings, store: Store | None = None, client: AsyncWebClient | None = None) -> None:
        self.settings = settings
        self.client = client or make_client(settings)
        self.deps = Deps(
            store=store or make_store(settings.redis_url), knowledge=default_knowledge(), services=settings.services
        )
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=settings.signing_secret or "socket-mode-does-not-sign",
            request_verification_enabled=not settings.socket_mode,
            # Bolt's default (False) runs the listener in a task and polls for ack() every 10 ms, so each
            # HTTP answer waited at least that long. Ours ack, hand the work to ``deps.tasks`` and return
            # at once (tests/slack/test_acks.py pins it): run inline, they answer Slack without the poll.
            process_before_response=True,
            logger=logging.getLogger("slack_bolt"),
        )
        self.bolt.error(self._on_error)
        register_listeners(self.bolt, self.deps)
        self.socket: AsyncSocketModeHandler | None = None
        if settings.socket_mode:
            self.socket = AsyncSocketModeHandler(self.bolt, settings.app_token)
        self.web_app = self._web_app()
        self._own_session: aiohttp.ClientSession | None = None

    def _web_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._timing])
        app.add_routes(
            [
                web.post(EVENTS_PATH, self._events),
                web.get("/healthz", self._health),
                web.get("/metrics", self._metrics),
            ]
        )
        app.on_startup.append(self._startup)
        app.on_shutdown.append(self._shutdown)
        return app

    async def check_auth(self) -> bool:
        """Call auth.test now, so that a bad token shows at start rather than at the first request."""
        identity = self.deps.identity
        try:
            response = await self.client.auth_test()
        except SlackApiError as failure:
            identity.auth = "failed"
            error = failure.response.get("error", "unknown") if failure.response else "unknown"
            log.error("Slack auth.test failed: %s (check SLACK_BOT_TOKEN)", error)
            return False
        except Exception as failure:  # network errors: the bot may still come good, but say so
            identity.auth = "failed"
            log.error("Slack auth.test failed: %s", type(failure).__name__)
            return False
        identity.user_id, identity.bot_id = response.get("user_id"), response.get("bot_id")
        identity.team_id, identity.auth = response.get("team_id"), "ok"
        log.info("authenticated as bot user %s in team %s", identity.user_id, identity.team_id)
        return True

    async def _startup(self, _: web.Application) -> None:
        warm_up(self.deps)
        _freeze_the_heap_once()
        if self.client.session is None:
            # One HTTP session for every Web API call: kept-alive connections instead of a new session
            # and a new TCP (and TLS) connection per call, which slack_sdk makes when it has none.
            self._own_session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.client.timeout))
            self.client.session = self._own_session
        if self.socket is not None:
            await self.socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("Socket Mode connected")
        await self._refresh_redis_gauge()

    async def _shutdown(self, _: web.Application) -> None:
        cancelled = await self.deps.tasks.drain()
        if cancelled:
            log.warning("shutdown: %d background task(s) did not finish in time", cancelled)
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
        await self.deps.store.close()
        if self._own_session is not None:
            self.client.session = None
            await self._own_session.close()
            self._own_session = None

    @web.middleware
    async def _timing(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path != EVENTS_PATH:
            return await handler(request)
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            self.deps.metrics.ack_latency.observe(time.perf_counter() - started)

    async def _events(self, request: web.Request) -> web.Response:
        if self.settings.socket_mode:
            raise web.HTTPNotFound(text="this bot runs in Socket Mode")
        bolt_response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def _health(self, _: web.Request) -> web.Response:
        redis = await self._refresh_redis_gauge()
        socket = "off"
        if self.socket is not None:
            socket = "connected" if await self.socket.client.is_connected() else "disconnected"
        identity = self.deps.identity
        serving = identity.auth != "failed" and socket != "disconnected"
        body = {
            "status": "ok" if serving else "unavailable",
            "slack_auth": identity.auth,
            "redis": redis,
            "socket_mode": socket,
            "tasks_in_flight": self.deps.tasks.in_flight,
        }
        return web.json_response(body, status=200 if serving else 503, dumps=json.dumps)

    async def _metrics(self, _: web.Request) -> web.Response:
        await self._refresh_redis_gauge()
        return web.Response(body=self.deps.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _refresh_redis_gauge(self) -> str:
        store = self.deps.store
        if store.name == "memory":
            self.deps.metrics.redis_up.set(-1)
            return "not_configured"
        up = await store.ping()
        self.deps.metrics.redis_up.set(1 if up else 0)
        return "up" if up else "down"

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        kind = body.get("type") or (body.get("event") or {}).get("type") or "request"
        log.error("unhandled error in a %s listener: %s", kind, type(error).__name__)
