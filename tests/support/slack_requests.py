"""Requests signed exactly as Slack signs them: v0 HMAC-SHA256 over ``v0:{timestamp}:{raw body}``."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from tests.support.slack_api import TEAM

SIGNING_SECRET = "test-signing-secret"


def signed(
    body: str,
    content_type: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    retry: int | None = None,
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}
    if retry is not None:
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


def command(text: str, response_url: str, *, channel: str = "CINCIDENT", user: str = "UALICE01") -> str:
    return urlencode(
        {
            "token": "deprecated",
            "team_id": TEAM,
            "team_domain": "acme",
            "channel_id": channel,
            "channel_name": "incident",
            "user_id": user,
            "user_name": "alice",
            "command": "/jwtcheck",
            "text": text,
            "api_app_id": "A0JWTCHECK",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )


def event(inner: dict[str, Any], event_id: str) -> str:
    return json.dumps(
        {
            "token": "deprecated",
            "team_id": TEAM,
            "api_app_id": "A0JWTCHECK",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": inner,
            "authorizations": [{"team_id": TEAM, "user_id": "UBOT00001", "is_bot": True}],
        }
    )


def message(text: str, *, ts: str, channel: str = "CINCIDENT", user: str = "UALICE01", **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "team": TEAM,
        "event_ts": ts,
        "channel_type": "channel",
        **extra,
    }


def block_action(
    action_id: str,
    value: str,
    *,
    response_url: str,
    channel: str = "CINCIDENT",
    message_ts: str = "1795900000.000002",
    user: str = "UBOB0001",
    ephemeral: bool = False,
) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A0JWTCHECK",
        "token": "deprecated",
        "trigger_id": "1.2.3",
        "response_url": response_url,
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": ephemeral},
        "channel": {"id": channel, "name": "incident"},
        "actions": [
            {"action_id": action_id, "block_id": "b1", "type": "button", "value": value, "action_ts": str(time.time())}
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def message_action(
    text: str | None,
    *,
    response_url: str,
    channel: str = "CINCIDENT",
    ts: str = "1795899990.000100",
    thread_ts: str | None = None,
    author: str = "UALICE01",
    user: str = "UBOB0001",
    callback_id: str = "diagnose_message",
    trigger_id: str = "13345224609.738474920.8088930838d88f008e0",
) -> str:
    """A message shortcut's payload (``type: message_action``), form-encoded as Slack sends it: ``user``
    clicked it on ``author``'s message (its text as Slack escapes it)."""
    message: dict[str, Any] = {"type": "message", "user": author, "ts": ts, "team": TEAM}
    if text is not None:
        message["text"] = text
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
    payload = {
        "type": "message_action",
        "token": "deprecated",
        "action_ts": str(time.time()),
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "name": "bob", "team_id": TEAM},
        "channel": {"id": channel, "name": "incident"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "response_url": response_url,
        "message_ts": ts,
        "message": message,
    }
    return urlencode({"payload": json.dumps(payload)})
