"""Slack-shaped requests for the bot: slash commands, ``message``/``app_mention`` events, ``block_actions``,
signed exactly as Slack signs them (v0 HMAC-SHA256 of ``v0:{timestamp}:{body}``, by slack_sdk).

Typed text becomes what Slack would deliver: ``& < >`` escaped, ``@jwtcheck`` a ``<@U…>`` mention, bare
http(s) URLs wrapped in ``<…>`` (in messages; slash command text only gets the escaping).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.playground.workspace import Message, Workspace

API_APP_ID = "A0PLAYGROUND"
COMMAND = "/jwtcheck"
_URL = re.compile(r"https?://[^\s<>|]+")
_TRAILING = ".,;:!?)]}'\""


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def message_text(typed: str, workspace: Workspace) -> str:
    """A typed message as Slack stores it."""
    text = escape(typed)
    text = re.sub(rf"(?<![\w@])@{re.escape(workspace.bot.name)}\b", f"<@{workspace.bot.id}>", text)
    return _URL.sub(_wrap_url, text)


def _wrap_url(match: re.Match[str]) -> str:
    url = match.group(0)
    trail = len(url) - len(url.rstrip(_TRAILING))
    return f"<{url[: len(url) - trail]}>{url[len(url) - trail :]}" if trail else f"<{url}>"


def mentions(text: str, workspace: Workspace) -> bool:
    return f"<@{workspace.bot.id}>" in text


def signed_headers(secret: str, body: str, content_type: str, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": str(SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)),
    }


def trigger_id() -> str:
    return f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def command_body(workspace: Workspace, text: str, response_url: str) -> str:
    """A slash command, form-encoded as Slack posts it."""
    return urlencode(
        {
            "token": "playground-verification-token-unused",
            "team_id": workspace.team_id,
            "team_domain": workspace.team_domain,
            "channel_id": workspace.channel_id,
            "channel_name": workspace.channel_name,
            "user_id": workspace.person.id,
            "user_name": workspace.person.name,
            "command": COMMAND,
            "text": escape(text),
            "api_app_id": API_APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id(),
        }
    )


def message_event(workspace: Workspace, message: Message, kind: str = "message") -> dict[str, Any]:
    """The inner ``event`` of a ``message`` or ``app_mention`` event for a person's message."""
    event: dict[str, Any] = {
        "type": kind,
        "channel": message.channel,
        "user": message.author.id,
        "text": message.text,
        "ts": message.ts,
        "event_ts": message.ts,
        "team": workspace.team_id,
        "client_msg_id": secrets.token_hex(16),
    }
    if kind == "message":
        event["channel_type"] = "channel"
    if message.thread_ts:
        event["thread_ts"] = message.thread_ts
    return event


def event_body(workspace: Workspace, inner: dict[str, Any]) -> str:
    """An Events API ``event_callback``, JSON as Slack posts it."""
    return json.dumps(
        {
            "token": "playground-verification-token-unused",
            "team_id": workspace.team_id,
            "api_app_id": API_APP_ID,
            "event": inner,
            "type": "event_callback",
            "event_id": f"Ev{secrets.token_hex(5).upper()}",
            "event_time": int(time.time()),
            "event_context": secrets.token_hex(12),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": workspace.team_id,
                    "user_id": workspace.bot.id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        },
        separators=(",", ":"),
    )


def block_actions_body(
    workspace: Workspace, message: Message, block_id: str, element: dict[str, Any], response_url: str
) -> str:
    """A button click, as the form field ``payload`` Slack posts."""
    action: dict[str, Any] = {
        "action_id": element.get("action_id"),
        "block_id": block_id,
        "type": element.get("type", "button"),
        "text": element.get("text"),
        "action_ts": f"{time.time():.6f}",
    }
    for key in ("value", "style", "url"):
        if key in element:
            action[key] = element[key]
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": message.channel,
        "is_ephemeral": message.ephemeral,
    }
    if message.thread_ts:
        container["thread_ts"] = message.thread_ts
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {
            "id": workspace.person.id,
            "username": workspace.person.name,
            "name": workspace.person.name,
            "team_id": workspace.team_id,
        },
        "api_app_id": API_APP_ID,
        "token": "playground-verification-token-unused",
        "container": container,
        "trigger_id": trigger_id(),
        "team": {"id": workspace.team_id, "domain": workspace.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": message.channel, "name": workspace.channel_name},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
    if not message.ephemeral:  # Slack sends the message itself only for public ones
        payload["message"] = message.slack()
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
