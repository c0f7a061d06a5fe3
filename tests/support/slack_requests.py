"""Requests signed exactly as Slack signs them: v0 HMAC-SHA256 over ``v0:{timestamp}:{raw body}``."""

from __future__ import annotations

import itertools
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


_CLICKS = itertools.count(1)


def block_action(
    action_id: str,
    value: str,
    *,
    response_url: str,
    channel: str = "CINCIDENT",
    message_ts: str = "1795900000.000002",
    user: str = "UBOB0001",
    ephemeral: bool = False,
    selected: bool = False,
) -> str:
    """A click on a button, or (``selected``) a pick in a static select: ``value`` is the picked option's.
    Each click has its own trigger_id, as in Slack (the bot keys a click's one answer on it)."""
    action: dict[str, Any] = {"action_id": action_id, "block_id": "b1", "action_ts": str(time.time())}
    if selected:
        action.update(
            type="static_select", selected_option={"text": {"type": "plain_text", "text": "x"}, "value": value}
        )
    else:
        action.update(type="button", value=value)
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A0JWTCHECK",
        "token": "deprecated",
        "trigger_id": f"{next(_CLICKS)}.2.3",
        "response_url": response_url,
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": ephemeral},
        "channel": {"id": channel, "name": "incident"},
        "actions": [action],
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


def global_shortcut(
    *, callback_id: str = "check_privately", user: str = "UBOB0001", trigger_id: str = "944799105734.773906753841.38b5"
) -> str:
    """A global shortcut's payload (``type: shortcut``), form-encoded as Slack sends it: no channel, no
    response_url, only a trigger_id to open a modal with."""
    payload = {
        "type": "shortcut",
        "token": "deprecated",
        "action_ts": str(time.time()),
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "username": "bob", "team_id": TEAM},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
    }
    return urlencode({"payload": json.dumps(payload)})


def submitted_view(
    view: dict[str, Any], values: dict[str, dict[str, dict[str, Any]]], *, view_id: str, view_hash: str = "1.abc"
) -> dict[str, Any]:
    """``view`` (as the bot sent it to ``views.open``) as Slack holds it once shown and filled in: its id,
    hash and the inputs' state (``{block_id: {action_id: {"type": …, "value": …}}}``)."""
    return {
        **view,
        "id": view_id,
        "team_id": TEAM,
        "hash": view_hash,
        "private_metadata": view.get("private_metadata", ""),
        "state": {"values": values},
        "previous_view_id": None,
        "root_view_id": view_id,
        "app_id": "A0JWTCHECK",
        "external_id": "",
        "app_installed_team_id": TEAM,
        "bot_id": "BBOT00001",
    }


def view_submission(view: dict[str, Any], *, user: str = "UBOB0001", trigger_id: str = "12466734323.1395872398") -> str:
    """A ``view_submission`` payload, form-encoded as Slack sends it (``view`` from :func:`submitted_view`)."""
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "username": "bob", "name": "bob", "team_id": TEAM},
        "api_app_id": "A0JWTCHECK",
        "token": "deprecated",
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload)})


def view_block_action(
    action_id: str, value: str, view: dict[str, Any], *, user: str = "UBOB0001", block_id: str = "b1"
) -> str:
    """A button clicked in a modal (``block_actions`` whose container is the view): no channel, no message,
    no response_url; the view as Slack holds it, with its id and hash."""
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "username": "bob", "name": "bob", "team_id": TEAM},
        "api_app_id": "A0JWTCHECK",
        "token": "deprecated",
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": "1.2.4",
        "is_enterprise_install": False,
        "enterprise": None,
        "view": view,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "type": "button",
                "value": value,
                "action_ts": str(time.time()),
                "text": {"type": "plain_text", "text": "x", "emoji": True},
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})
