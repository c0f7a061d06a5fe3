"""Slack clients that cannot send a signature: every payload goes through the one last pass.

``RedactingWebClient`` scrubs in ``api_call``, which every Web API method of slack_sdk's
``AsyncWebClient`` calls (``chat_postMessage`` and the rest build their arguments and hand them to it),
and in ``_upload_file``, the one request that bypasses it (the content of ``files_upload_v2``).
``RedactingWebhookClient`` scrubs in ``send_dict``, which ``send`` calls, for ``response_url`` posts.
Whatever the caller passes (params, a JSON body, form data, blocks as slack_sdk models), what leaves
has had :func:`bot.diagnosis.redact.last_pass` applied to every string, keys included.

The credential a call authenticates with (a top-level ``token`` argument, which slack_sdk moves into
the ``Authorization`` header) keeps its Slack token: only JWT signatures are taken out of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from logging import Logger
from ssl import SSLContext
from typing import Any

from aiohttp import FormData
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.web.file_upload_v2_result import FileUploadV2Result
from slack_sdk.webhook.async_client import AsyncWebhookClient
from slack_sdk.webhook.webhook_response import WebhookResponse

from bot.diagnosis.redact import last_pass, redact_text


def scrubbed(value: Any) -> Any:
    """A deep copy of a JSON-like value with :func:`last_pass` applied to every string, keys and values.

    Dicts (any mapping), lists and tuples are copied; objects with ``to_dict()`` (slack_sdk's blocks and
    attachments) are copied as their dict; other values are kept as they are. Iterative, so a hostile
    nesting depth costs no recursion."""
    root: list[Any] = [None]
    tuples: list[tuple[Any, Any]] = []  # (container, key) of each tuple, built as a list, in creation order
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while stack:
        source, target, key = stack.pop()
        if isinstance(source, str):
            target[key] = last_pass(source)
        elif isinstance(source, Mapping):
            copy: dict[Any, Any] = {}
            target[key] = copy
            for name, item in source.items():
                name = last_pass(name) if isinstance(name, str) else name
                copy[name] = None  # keeps the order of the keys
                stack.append((item, copy, name))
        elif isinstance(source, list | tuple):
            items: list[Any] = [None] * len(source)
            target[key] = items
            if isinstance(source, tuple):
                tuples.append((target, key))
            stack.extend((item, items, index) for index, item in enumerate(source))
        elif callable(getattr(source, "to_dict", None)):
            stack.append((source.to_dict(), target, key))
        else:
            target[key] = source
    for target, key in reversed(tuples):  # the innermost first: a tuple's items are final before it is
        target[key] = tuple(target[key])
    return root[0]


def _arguments(value: Any) -> Any:
    """Scrubbed call arguments; a top-level ``token`` (the call's own credential) keeps its Slack token."""
    if not isinstance(value, Mapping):
        return scrubbed(value)
    token = value.get("token")
    copy = scrubbed({name: item for name, item in value.items() if name != "token"})
    if token is not None:
        copy["token"] = redact_text(token) if isinstance(token, str) else scrubbed(token)
    return copy


def _form(data: Any) -> Any:
    if isinstance(data, FormData):
        return data  # multipart fields already encoded by the caller: file uploads, which the bot never sends
    return _arguments(data)


class RedactingWebClient(AsyncWebClient):
    """An ``AsyncWebClient`` whose every request is scrubbed before it is sent."""

    async def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | FormData | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> AsyncSlackResponse:
        return await super().api_call(
            api_method,
            http_verb=http_verb,
            files=files,
            data=None if data is None else _form(data),
            params=None if params is None else _arguments(params),
            json=None if json is None else _arguments(json),
            headers=headers,
            auth=auth,
        )

    async def _upload_file(
        self,
        *,
        url: str,
        data: bytes,
        logger: Logger,
        timeout: int,
        proxy: str | None,
        ssl: SSLContext | None,
    ) -> FileUploadV2Result:
        with suppress(UnicodeDecodeError):  # binary content holds no text, so no token to redact
            data = last_pass(bytes(data).decode("utf-8")).encode("utf-8")
        return await super()._upload_file(url=url, data=data, logger=logger, timeout=timeout, proxy=proxy, ssl=ssl)


class RedactingWebhookClient(AsyncWebhookClient):
    """An ``AsyncWebhookClient`` (``response_url`` posts) whose every body is scrubbed before it is sent."""

    async def send_dict(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> WebhookResponse:
        return await super().send_dict(scrubbed(body), headers)
