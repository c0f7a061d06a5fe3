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
# The shortcuts the app's manifest declares (deploy/slack-app-manifest*.yaml): callback_id -> name.
MESSAGE_SHORTCUTS = {"diagnose_message": "Diagnose with jwtcheck"}
GLOBAL_SHORTCUTS = {"check_privately": "Check a token privately"}
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


def command_body(
    workspace: Workspace, text: str, response_url: str, trigger: str | None = None, channel: str | None = None
) -> str:
    """A slash command, form-encoded as Slack posts it."""
    channel = channel or workspace.channel_id
    return urlencode(
        {
            "token": "playground-verification-token-unused",
            "team_id": workspace.team_id,
            "team_domain": workspace.team_domain,
            "channel_id": channel,
            "channel_name": workspace.channels().get(channel, workspace.channel_name),
            "user_id": workspace.person.id,
            "user_name": workspace.person.name,
            "command": COMMAND,
            "text": escape(text),
            "api_app_id": API_APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger or trigger_id(),
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
    workspace: Workspace,
    message: Message,
    block_id: str,
    element: dict[str, Any],
    response_url: str,
    trigger: str | None = None,
    selected_option: dict[str, Any] | None = None,
) -> str:
    """A button click, or an option picked in a select (``selected_option``), as the form field ``payload``
    Slack posts."""
    action = _action(block_id, element)
    if selected_option is not None:
        action["selected_option"] = selected_option
        action.pop("text", None)  # a select's action carries its pick, not a label
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
        "user": _user(workspace),
        "api_app_id": API_APP_ID,
        "token": "playground-verification-token-unused",
        "container": container,
        "trigger_id": trigger or trigger_id(),
        "team": {"id": workspace.team_id, "domain": workspace.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": message.channel, "name": workspace.channels().get(message.channel, "")},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
    if not message.ephemeral:  # Slack sends the message itself only for public ones
        payload["message"] = message.slack()
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def _action(block_id: str, element: dict[str, Any]) -> dict[str, Any]:
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
    return action


def _user(workspace: Workspace) -> dict[str, Any]:
    return {
        "id": workspace.person.id,
        "username": workspace.person.name,
        "name": workspace.person.name,
        "team_id": workspace.team_id,
    }


def _form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def message_action_body(
    workspace: Workspace, message: Message, callback_id: str, response_url: str, trigger: str
) -> str:
    """A message shortcut (``message_action``) picked on ``message``'s menu; Slack sends the message with it."""
    return _form(
        {
            "type": "message_action",
            "token": "playground-verification-token-unused",
            "action_ts": f"{time.time():.6f}",
            "team": {"id": workspace.team_id, "domain": workspace.team_domain},
            "user": _user(workspace),
            "channel": {"id": message.channel, "name": workspace.channels().get(message.channel, "")},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": trigger,
            "response_url": response_url,
            "message_ts": message.ts,
            "message": {**message.slack(), "team": workspace.team_id},
        }
    )


def shortcut_body(workspace: Workspace, callback_id: str, trigger: str) -> str:
    """A global shortcut (``shortcut``): no channel, no response_url, only a trigger_id."""
    return _form(
        {
            "type": "shortcut",
            "token": "playground-verification-token-unused",
            "action_ts": f"{time.time():.6f}",
            "team": {"id": workspace.team_id, "domain": workspace.team_domain},
            "user": {"id": workspace.person.id, "username": workspace.person.name, "team_id": workspace.team_id},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": trigger,
        }
    )


def view_submission_body(workspace: Workspace, view: dict[str, Any], trigger: str) -> str:
    """A modal submitted (``view_submission``), its ``view`` holding the inputs' ``state``."""
    return _form(
        {
            "type": "view_submission",
            "team": {"id": workspace.team_id, "domain": workspace.team_domain},
            "user": _user(workspace),
            "api_app_id": API_APP_ID,
            "token": "playground-verification-token-unused",
            "trigger_id": trigger,
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
    )


def view_actions_body(
    workspace: Workspace, view: dict[str, Any], block_id: str, element: dict[str, Any], trigger: str
) -> str:
    """A button in a view (a modal or the Home tab): ``block_actions`` whose container is the view."""
    return _form(
        {
            "type": "block_actions",
            "user": _user(workspace),
            "api_app_id": API_APP_ID,
            "token": "playground-verification-token-unused",
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": trigger,
            "team": {"id": workspace.team_id, "domain": workspace.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "view": view,
            "actions": [_action(block_id, element)],
        }
    )


def app_home_opened_event(workspace: Workspace, channel: str) -> dict[str, Any]:
    """The inner event when the person opens the app's Home tab (with the view, once one was published)."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": workspace.person.id,
        "channel": channel,
        "tab": "home",
        "event_ts": f"{time.time():.6f}",
    }
    if workspace.home is not None:
        event["view"] = workspace.home
    return event
