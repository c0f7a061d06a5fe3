"""The Bolt app and the aiohttp application around it (``/slack/events``, ``/healthz``, ``/metrics``)."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.knowledge import default_knowledge
from bot.slack import ingress
from bot.slack.client import RedactingWebClient
from bot.slack.deps import Deps
from bot.slack.listeners import JOBS, register_listeners
from bot.slack.metrics import CONTENT_TYPE_LATEST, Metrics
from bot.slack.sender import ANSWER_TIMEOUT, SlackSender
from bot.slack.settings import Settings
from bot.slack.work import InlineWork, ProcessWork
from bot.store import Store, make_store
from bot.store.connect import close_client, redis_client

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
OUTBOX_READ_TIMEOUT = 5.0  # above the outbox's 1 s blocking read of the stream
DRAIN_SECONDS = 10.0  # diagnoses under way, then the outbox's calls under way: within k8s's 30 s grace period
MAX_BODY = ingress.MAX_BODY  # what Slack's biggest payloads need (see there); /slack/events refuses more with 413


class AnyServerErrorRetryHandler(AsyncServerErrorRetryHandler):
    """slack_sdk's handler retries 500 and 503 only; a proxy in front of Slack also answers 502 and 504."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in {500, 502, 503, 504}


def make_client(settings: Settings) -> AsyncWebClient:
    """The Web API client for what is not an answer (auth.test, reading a thread): SLACK_API_URL for tests
    and proxies; 429 and 5xx retried within bounds. Answers go through the outbox (``make_answer_client``)."""
    client = RedactingWebClient(**_client_kwargs(settings, timeout=10))
    client.retry_handlers = [
        AsyncConnectionErrorRetryHandler(max_retry_count=1),
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AnyServerErrorRetryHandler(max_retry_count=2),
    ]
    return client


def make_answer_client(settings: Settings) -> AsyncWebClient:
    """The outbox's client: no retry handlers (the outbox retries) and a long timeout (bot.slack.sender)."""
    client = RedactingWebClient(**_client_kwargs(settings, timeout=ANSWER_TIMEOUT))
    client.retry_handlers = []
    return client


def _client_kwargs(settings: Settings, timeout: int) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"token": settings.bot_token, "timeout": timeout}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url
    return kwargs


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


class Engine:
    """What does the work after the ack: the deps (chat services, store, outbox) and the Web API clients;
    started and stopped once. The serving process has one; a worker process (bot/slack/worker.py) has its
    own, and then the serving process's engine only serves health and identity."""

    def __init__(self, settings: Settings, store: Store | None = None, client: AsyncWebClient | None = None) -> None:
        self.settings = settings
        self.client = client or make_client(settings)
        self.answer_client = make_answer_client(settings)
        metrics = Metrics()
        self.deps = Deps(
            store=store or make_store(settings.redis_url),
            knowledge=default_knowledge(),
            services=settings.services,
            sender=SlackSender(self.answer_client, metrics),
            metrics=metrics,
            redis=redis_client(settings.redis_url.strip(), socket_timeout=OUTBOX_READ_TIMEOUT)
            if settings.redis_url and settings.redis_url.strip()
            else None,
            slack_api_url=settings.slack_api_url,
        )
        self._own_session: aiohttp.ClientSession | None = None
        self._answer_session: aiohttp.ClientSession | None = None

    def inline_work(self) -> InlineWork:
        """Jobs done in this engine's tracked tasks."""
        work = InlineWork(self.deps.tasks.spawn, JOBS)
        work.bind(self.deps, self.client)
        return work

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

    async def start(self, *, deliver: bool = True) -> None:
        """Warm up, open the HTTP session, and (``deliver``) start taking answers from the outbox."""
        warm_up(self.deps)
        _freeze_the_heap_once()
        if self.client.session is None:
            # One HTTP session for every Web API call: kept-alive connections instead of a new session
            # and a new TCP (and TLS) connection per call, which slack_sdk makes when it has none.
            self._own_session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.client.timeout))
            self.client.session = self._own_session
        if self.answer_client.session is None:
            # A session of its own: slack_sdk applies a running session's timeout, not the client's, and the
            # outbox's calls must wait ANSWER_TIMEOUT (a call given up on may still be performed: a duplicate).
            self._answer_session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=ANSWER_TIMEOUT))
            self.answer_client.session = self._answer_session
        if deliver:
            self.deps.outbox.start()

    async def stop(self) -> None:
        """Finish the diagnoses under way (their answers go to the outbox), then let the outbox finish the
        calls under way and hand what it still holds back to the stream, for the other replicas."""
        cancelled = await self.deps.tasks.drain(DRAIN_SECONDS)
        if cancelled:
            log.warning("shutdown: %d diagnosis task(s) did not finish in time", cancelled)
        held = await self.deps.outbox.close(DRAIN_SECONDS)
        if held:
            log.info("shutdown: %d undelivered answer(s) left to the other replicas", held)
        await self.deps.store.close()
        if self.deps.redis is not None:
            with contextlib.suppress(Exception):
                await close_client(self.deps.redis)
        for client, session in ((self.client, self._own_session), (self.answer_client, self._answer_session)):
            if session is not None:
                client.session = None
                await session.close()
        self._own_session = self._answer_session = None

    async def idle(self) -> None:
        """Wait until every diagnosis is done and every answer delivered (tests and the benchmark)."""
        await self.deps.tasks.idle()
        await self.deps.outbox.idle()
        await self.deps.tasks.idle()


class Runtime:
    """One running bot: Bolt app, web server routes and the engine; started and stopped once. With
    ``settings.work == "process"`` the work after each ack goes to a worker process (bot/slack/work.py)."""

    def __init__(self, settings: Settings, store: Store | None = None, client: AsyncWebClient | None = None) -> None:
        self.settings = settings
        self.engine = Engine(settings, store, client)
        self.client, self.answer_client, self.deps = self.engine.client, self.engine.answer_client, self.engine.deps
        inline = self.engine.inline_work()
        self.worker = ProcessWork(inline, env=settings.as_env(os.environ)) if settings.work == "process" else None
        self.deps.work = self.worker or inline
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=settings.signing_secret or "socket-mode-does-not-sign",
            request_verification_enabled=False,  # bot.slack.ingress verified the raw bytes; Socket Mode does not sign
            # Bolt's default (False) runs the listener in a task and polls for ack() every 10 ms, so each
            # HTTP answer waited at least that long. Ours ack, hand the work over (``deps.work``) and return
            # at once (tests/slack/test_acks.py pins it): run inline, they answer Slack without the poll.
            process_before_response=True,
            # The identity check_auth found at start: Bolt's own single-team authorization calls auth.test on
            # the first requests, before the listener acks, and drops a request when that call fails (a
            # fresh replica meeting Slack's 429s acked late and answered nothing).
            authorize=self._authorizer(),
            logger=logging.getLogger("slack_bolt"),
        )
        self.bolt.error(self._on_error)
        register_listeners(self.bolt, self.deps)
        self.socket: AsyncSocketModeHandler | None = None
        if settings.socket_mode:
            self.socket = AsyncSocketModeHandler(self.bolt, settings.app_token)
        self.web_app = self._web_app()
        self.draining = False  # set on SIGTERM: new requests are refused before any ack, so none is dropped

    async def check_auth(self) -> bool:
        return await self.engine.check_auth()

    def _authorizer(self) -> Callable[[], Awaitable[AuthorizeResult]]:
        """A plain function (Bolt passes arguments by the names a function declares: none here)."""
        identity, token = self.deps.identity, self.settings.bot_token

        async def authorize() -> AuthorizeResult:
            return AuthorizeResult(
                enterprise_id=None,
                team_id=identity.team_id,
                bot_token=token,
                bot_id=identity.bot_id,
                bot_user_id=identity.user_id,
            )

        return authorize

    def _web_app(self) -> web.Application:
        self.ingress = ingress.Ingress(self.settings.signing_secret)
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

    async def _startup(self, _: web.Application) -> None:
        await self.engine.start(deliver=self.worker is None)
        if self.worker is not None:
            await self.worker.start()
        if self.socket is not None:
            await self.socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("Socket Mode connected")
        await self._refresh_redis_gauge()

    async def _shutdown(self, _: web.Application) -> None:
        """Refuse what still arrives; the worker (or this process's engine) finishes its work, hands the
        undelivered answers back to the outbox's stream, and stops."""
        self.draining = True
        if self.worker is not None:
            code = await self.worker.stop(2 * DRAIN_SECONDS + 2)
            log.info("the worker process stopped (status %s)", code)
        await self.engine.stop()
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]

    async def idle(self) -> None:
        """Wait until every diagnosis is done and every answer delivered (tests and the benchmark)."""
        await self.engine.idle()

    @web.middleware
    async def _timing(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path != EVENTS_PATH:
            return await handler(request)
        if self.draining:
            # Before Bolt acks: Slack retries an event elsewhere; a command shows its user an error to retry,
            # rather than an ack whose answer this replica could no longer make.
            return web.Response(status=503, text="shutting down", headers={"Retry-After": "1"})
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            self.deps.metrics.ack_latency.observe(time.perf_counter() - started)

    async def _events(self, request: web.Request) -> web.Response:
        if self.settings.socket_mode:
            raise web.HTTPNotFound(text="this bot runs in Socket Mode")
        admitted = await self.ingress.admit(request)
        if isinstance(admitted, web.Response):
            return admitted
        return await to_aiohttp_response(await self.bolt.async_dispatch(admitted))

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
            "answers_held": self.deps.outbox.held,
        }
        if self.worker is not None:
            status = self.worker.status
            body["worker"] = "running" if self.worker.running else "down"
            body["tasks_in_flight"] = int(status.get("tasks") or 0)
            body["answers_held"] = int(status.get("held") or 0)
        last_failure = getattr(self.deps.store, "last_failure", None)
        if redis == "down" and last_failure:
            body["redis_last_failure"] = last_failure
        return web.json_response(body, status=200 if serving else 503, dumps=json.dumps)

    async def _metrics(self, _: web.Request) -> web.Response:
        await self._refresh_redis_gauge()
        others = [self.worker.status["metrics"]] if self.worker is not None and "metrics" in self.worker.status else []
        return web.Response(body=self.deps.metrics.render(others), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _refresh_redis_gauge(self) -> str:
        store = self.deps.store
        if store.name == "memory":
            self.deps.metrics.redis_up.set(-1)
            return "not_configured"
        up = await store.ping()
        self.deps.metrics.redis_up.set(1 if up else 0)
        return "up" if up else "down"

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        event = body.get("event")
        kind = str(body.get("type") or (event.get("type") if isinstance(event, dict) else None) or "request")[:40]
        log.error("unhandled error in a %s listener: %s", kind, type(error).__name__)
