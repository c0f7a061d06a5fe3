"""The outbox's way to Slack: one call, its result, or why it failed (worth retrying or not).

Its Web API client has no retry handlers of its own (the outbox retries, with the same rules for every
failure, 502 and 504 included) and a long timeout: a call that times out may have been performed, and
Slack's chat.postMessage takes no idempotency key, so waiting longer is what keeps a slow Slack from
getting the same card twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.outbox import Refused, Retry
from bot.slack.client import RedactingWebhookClient
from bot.slack.metrics import Metrics

log = logging.getLogger(__name__)

ANSWER_TIMEOUT = 30  # seconds; see the module's docstring
RESPONSE_URL = "response_url"  # the outbox "method" of a POST to a response_url: args {"url", "body"}
# Errors Slack returns with HTTP 200 that mean "try again later".
RETRYABLE_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
SLACK_HOOKS = ("https://hooks.slack.com/", "https://hooks.slack-gov.com/")  # Slack's and GovSlack's response_urls


class SlackSender:
    def __init__(
        self,
        client: AsyncWebClient,
        metrics: Metrics,
        webhook: Callable[[str], AsyncWebhookClient] | None = None,
    ) -> None:
        self._client = client
        self._metrics = metrics
        self._webhook = webhook or (lambda url: RedactingWebhookClient(url, timeout=ANSWER_TIMEOUT))

    async def send(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        try:
            if method == RESPONSE_URL:
                return await self._respond(str(args.get("url") or ""), dict(args.get("body") or {}))
            response = await self._client.api_call(method, json=args)
        except SlackApiError as failure:
            raise self._classify(method, failure) from None
        except (aiohttp.ClientConnectorError, ConnectionRefusedError) as failure:
            self._count(method, "connection_refused")
            raise Retry("connection_refused") from failure
        except TimeoutError as failure:
            self._count(method, "timeout")
            raise Retry("timeout") from failure
        except (aiohttp.ClientError, OSError) as failure:
            self._count(method, "connection_error")
            raise Retry("connection_error") from failure
        data = response.data if isinstance(response.data, dict) else {}
        message = data.get("message")
        message = message if isinstance(message, dict) else {}
        return {"ts": str(data.get("ts") or message.get("ts") or args.get("ts") or ""), "channel": data.get("channel")}

    async def _respond(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self._webhook(url).send_dict(body)
        status = response.status_code
        if status == 200:
            return {}
        code = (response.body or f"http_{status}").strip()[:64]
        if status == 429 or status >= 500:
            self._count(RESPONSE_URL, f"http_{status}")
            after = _seconds((response.headers or {}).get("Retry-After") or (response.headers or {}).get("retry-after"))
            raise Retry(f"http_{status}", after)
        self._count(RESPONSE_URL, code)
        raise Refused(code)

    def _classify(self, method: str, failure: SlackApiError) -> Retry | Refused:
        response = failure.response
        status = int(getattr(response, "status_code", 0) or 0)
        error = error_code(failure)
        self._count(method, error)
        if status == 429 or error == "ratelimited":
            headers = getattr(response, "headers", None) or {}
            return Retry("ratelimited", _seconds(headers.get("Retry-After") or headers.get("retry-after")))
        if status >= 500 or error in RETRYABLE_ERRORS:
            return Retry(f"http_{status}" if status >= 500 else error)
        return Refused(error)

    def _count(self, method: str, error: str) -> None:
        count_failure(self._metrics, method, error)


def error_code(failure: SlackApiError) -> str:
    """Slack's error code for a failed call (``not_in_channel``), or ``http_<status>`` when it gave none."""
    response = failure.response
    data = getattr(response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    return str(error or f"http_{getattr(response, 'status_code', 'unknown')}")[:64]


def count_failure(metrics: Metrics, method: str, error: str) -> None:
    """A failed Web API call, counted by method and error and logged (the error code only)."""
    metrics.slack_errors.labels(method, error).inc()
    log.warning("Slack %s failed: %s", method, error)


def _seconds(value: Any) -> float | None:
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    try:
        seconds = float(str(value))
    except (TypeError, ValueError):
        return None
    return min(max(seconds, 0.0), 300.0)


def trusted_response_url(url: object, slack_api_url: str | None) -> str | None:
    """``url`` if it is Slack's (``https://hooks.slack.com/…``, GovSlack's), or on the host of a configured
    SLACK_API_URL (a test double, a proxy); otherwise None: a signed payload may still name any URL, and the
    bot must not post an answer wherever a payload points."""
    if not isinstance(url, str) or not url:
        return None
    if url.startswith(SLACK_HOOKS):
        return url
    if slack_api_url:
        mine, theirs = urlsplit(slack_api_url), urlsplit(url)
        if (mine.scheme, mine.netloc) == (theirs.scheme, theirs.netloc) and theirs.scheme in {"http", "https"}:
            return url
    return None
