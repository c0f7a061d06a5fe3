"""The Slack Web API methods the bot calls, and the ``response_url`` hooks it answers through.

Routes: ``/api/{method}`` (GET or POST, form or JSON, ``Authorization: Bearer xoxb-…``) and
``/hooks/{id}``. Answers have Slack's shapes and error codes (``not_authed``, ``invalid_auth``,
``channel_not_found``, ``message_not_found``, ``cant_update_message``, ``invalid_blocks``, ``no_text``,
``unknown_method``…). State lives in the ``Workspace``.

Views: ``views.open`` and ``views.push`` take a trigger_id this emulator issued for an interaction, once
and within 3 s (``invalid_trigger_id``, ``expired_trigger_id``), push at most three deep
(``push_limit_reached``); ``views.update`` finds the view by ``view_id`` or ``external_id`` and refuses a
stale ``hash`` (``hash_conflict``); ``views.publish`` sets the person's Home. Each view is answered as
Slack holds it: an id kept across updates, a new hash each time, an empty ``state``.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from bot.playground import payloads
from bot.playground.blockkit import block_problems
from bot.playground.workspace import Message, Workspace

log = logging.getLogger(__name__)
HOOK_USES = 5  # Slack: a response_url takes five responses within thirty minutes
HOOK_TTL = 30 * 60
TRIGGER_TTL = 3.0  # Slack: a trigger_id opens one view within three seconds
MAX_STACK = 3  # Slack: at most three views in a modal's stack
MAX_TEXT = 40_000
Answer = dict[str, Any]
DM_CHANNEL = "D0JWTCHECK"  # the person's direct messages with the app (its Messages tab)


class ApiError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error, self.extra = error, extra


@dataclass(slots=True)
class Hook:
    """A ``response_url``: where it answers (the clicked message, if any) and how often it was used."""

    url: str
    channel: str
    message_ts: str | None
    thread_ts: str | None
    created: float
    uses: int = 0


class Emulator:
    def __init__(self, workspace: Workspace, bot_token: str, base_url: str) -> None:
        self.workspace = workspace
        self.bot_token = bot_token
        self.base_url = base_url.rstrip("/")
        self.calls: Counter[str] = Counter()
        self._hooks: dict[str, Hook] = {}
        self._triggers: dict[str, float] = {}
        self._methods: dict[str, Callable[[dict[str, Any]], Answer]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update,
            "chat.delete": self._delete,
            "conversations.replies": self._replies,
            "conversations.open": self._open_dm,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
        }

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def routes(self) -> list[web.RouteDef]:
        return [web.route("*", "/api/{method}", self._api), web.post("/hooks/{hook}", self._hook)]

    def new_hook(self, channel: str, message_ts: str | None = None, thread_ts: str | None = None) -> Hook:
        now = time.time()
        for key in [k for k, hook in self._hooks.items() if now - hook.created > HOOK_TTL]:
            del self._hooks[key]
        key = secrets.token_urlsafe(18)
        hook = self._hooks[key] = Hook(f"{self.base_url}/hooks/{key}", channel, message_ts, thread_ts, now)
        return hook

    def new_trigger(self) -> str:
        """A trigger_id for one interaction; ``views.open``/``views.push`` take it once, within 3 s."""
        now = time.time()
        for key in [k for k, made in self._triggers.items() if now - made > HOOK_TTL]:
            del self._triggers[key]
        trigger = payloads.trigger_id()
        self._triggers[trigger] = now
        return trigger

    # --- Web API ----------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.method not in ("GET", "POST"):
            raise web.HTTPMethodNotAllowed(request.method, ["GET", "POST"])
        self.calls[method] += 1
        try:
            params = await _params(request)
            self._authorize(request, params)
            handler = self._methods.get(method)
            if handler is None:
                log.warning("the bot called %s, which the playground does not emulate", method[:60])
                raise ApiError("unknown_method")
            answer = handler(params)
        except ApiError as failure:
            return web.json_response({"ok": False, "error": failure.error, **failure.extra})
        return web.json_response({"ok": True, **answer})

    def _authorize(self, request: web.Request, params: dict[str, Any]) -> None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else str(params.get("token") or "")
        if not token:
            raise ApiError("not_authed")
        if not secrets.compare_digest(token.encode(), self.bot_token.encode()):
            raise ApiError("invalid_auth")

    def _auth_test(self, _: dict[str, Any]) -> Answer:
        ws = self.workspace
        return {
            "url": f"https://{ws.team_domain}.slack.com/",
            "team": "Playground",
            "user": ws.bot.name,
            "team_id": ws.team_id,
            "user_id": ws.bot.id,
            "bot_id": ws.bot.bot_id,
            "is_enterprise_install": False,
        }

    def _post_message(self, params: dict[str, Any]) -> Answer:
        channel = self._channel(params)
        text, blocks = _content(params)
        thread_ts = self._thread(channel, params.get("thread_ts"))
        message = self.workspace.add(self.workspace.bot, text, blocks, thread_ts=thread_ts, channel=channel)
        return {"channel": channel, "ts": message.ts, "message": message.slack()}

    def _post_ephemeral(self, params: dict[str, Any]) -> Answer:
        channel = self._channel(params)
        if str(params.get("user") or "") != self.workspace.person.id:
            raise ApiError("user_not_in_channel")
        text, blocks = _content(params)
        thread_ts = self._thread(channel, params.get("thread_ts"))
        message = self.workspace.add(
            self.workspace.bot, text, blocks, thread_ts=thread_ts, ephemeral=True, channel=channel
        )
        return {"message_ts": message.ts}

    def _update(self, params: dict[str, Any]) -> Answer:
        message = self._own_message(params)
        text, blocks = _content(params, old=message)
        self.workspace.replace(message, text, blocks)
        return {"channel": message.channel, "ts": message.ts, "text": message.text, "message": message.slack()}

    def _delete(self, params: dict[str, Any]) -> Answer:
        message = self._own_message(params)
        self.workspace.delete(message)
        return {"channel": message.channel, "ts": message.ts}

    def _replies(self, params: dict[str, Any]) -> Answer:
        channel = self._channel(params)
        thread = self.workspace.thread(channel, str(params.get("ts") or ""))
        if not thread:
            raise ApiError("thread_not_found")
        limit = _int(params.get("limit"), default=1000, low=1, high=1000)
        messages = [m.slack() for m in thread[:limit]]
        if len(thread) > 1:  # Slack marks a thread's parent with its own ts and the number of replies
            messages[0].update(thread_ts=thread[0].ts, reply_count=len(thread) - 1)
        return {"messages": messages, "has_more": len(thread) > limit, "response_metadata": {"next_cursor": ""}}

    def _channel(self, params: dict[str, Any]) -> str:
        channel = self.workspace.channel_named(str(params.get("channel") or ""))
        if channel is None:
            raise ApiError("channel_not_found")
        return channel

    def _thread(self, channel: str, thread_ts: Any) -> str | None:
        if not thread_ts:
            return None
        parent = self.workspace.get(channel, str(thread_ts))
        if parent is None or parent.ephemeral:
            raise ApiError("thread_not_found")
        return parent.thread_ts or parent.ts  # a reply to a reply goes in the same thread

    def _own_message(self, params: dict[str, Any]) -> Message:
        channel = self._channel(params)
        message = self.workspace.get(channel, str(params.get("ts") or ""))
        if message is None or message.ephemeral:
            raise ApiError("message_not_found")
        if message.author.id != self.workspace.bot.id:
            raise ApiError("cant_update_message")
        return message

    def _open_dm(self, params: dict[str, Any]) -> Answer:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            raise ApiError("users_list_not_supplied")
        if any(user not in {m.id for m in self.workspace.members()} for user in users):
            raise ApiError("user_not_found")
        return {"channel": {"id": DM_CHANNEL}}

    # --- views (modals and the Home tab) ----------------------------------------------------------

    def _views_open(self, params: dict[str, Any]) -> Answer:
        view = self._new_view(params, "modal")
        self._take_trigger(params)
        self.workspace.modals[:] = [view]
        self.workspace.views_changed()
        return {"view": view}

    def _views_push(self, params: dict[str, Any]) -> Answer:
        view = self._new_view(params, "modal")
        ws = self.workspace
        if not ws.modals:
            raise ApiError("not_found")  # nothing to push onto
        if len(ws.modals) >= MAX_STACK:
            raise ApiError("push_limit_reached")
        self._take_trigger(params)
        view.update(previous_view_id=ws.modals[-1]["id"], root_view_id=ws.modals[0]["id"])
        ws.modals.append(view)
        ws.views_changed()
        return {"view": view}

    def _views_update(self, params: dict[str, Any]) -> Answer:
        ws = self.workspace
        view_id, external = str(params.get("view_id") or ""), str(params.get("external_id") or "")
        if not view_id and not external:
            raise ApiError("invalid_arguments")
        old = next(
            (
                v
                for v in [*ws.modals, *([ws.home] if ws.home else [])]
                if (view_id and v["id"] == view_id) or (external and v.get("external_id") == external)
            ),
            None,
        )
        if old is None:
            raise ApiError("not_found")
        given = params.get("hash")
        if given and str(given) != old["hash"]:
            raise ApiError("hash_conflict")
        view = self._new_view(params, old["type"], keep=old)
        self.replace_view(old, view)
        return {"view": view}

    def _views_publish(self, params: dict[str, Any]) -> Answer:
        ws = self.workspace
        if str(params.get("user_id") or "") not in {ws.person.id}:
            raise ApiError("user_not_found")
        old = ws.home
        given = params.get("hash")
        if given and old is not None and str(given) != old["hash"]:
            raise ApiError("hash_conflict")
        view = self._new_view(params, "home", keep=old)
        ws.home = view
        ws.views_changed()
        return {"view": view}

    def _take_trigger(self, params: dict[str, Any]) -> None:
        trigger = str(params.get("trigger_id") or "")
        if not trigger:
            raise ApiError("invalid_arguments")
        made = self._triggers.pop(trigger, None)
        if made is None:
            raise ApiError("invalid_trigger_id")
        if time.time() - made > TRIGGER_TTL:
            raise ApiError("expired_trigger_id")

    def _new_view(self, params: dict[str, Any], kind: str, keep: dict[str, Any] | None = None) -> dict[str, Any]:
        """The view Slack holds once shown: what the app sent, checked, with an id, a new hash and a state."""
        sent = params.get("view")
        if isinstance(sent, str):
            try:
                sent = json.loads(sent)
            except ValueError:
                raise ApiError("invalid_arguments") from None
        if not isinstance(sent, dict):
            raise ApiError("invalid_arguments")
        if sent.get("type") != kind:
            raise ApiError("invalid_arguments", response_metadata={"messages": [f"view type must be {kind}"]})
        problems = block_problems(sent.get("blocks") or [])
        if kind == "modal":
            found = sent.get("title")
            title: dict[str, Any] = found if isinstance(found, dict) else {}
            text = title.get("text")
            if not isinstance(text, str) or not 0 < len(text) <= 24:
                problems.append("must be at most 24 characters [json-pointer:/view/title/text]")
            if len(sent.get("blocks") or []) > 100:
                problems.append("no more than 100 items allowed [json-pointer:/view/blocks]")
        if problems:
            raise ApiError("invalid_arguments", response_metadata={"messages": problems[:10]})
        ws = self.workspace
        view_id = keep["id"] if keep is not None else f"V{secrets.token_hex(5).upper()}"
        return {
            "id": view_id,
            "team_id": ws.team_id,
            "type": kind,
            "blocks": sent.get("blocks") or [],
            "private_metadata": str(sent.get("private_metadata") or ""),
            "callback_id": str(sent.get("callback_id") or ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": sent.get("title"),
            "clear_on_close": bool(sent.get("clear_on_close")),
            "notify_on_close": bool(sent.get("notify_on_close")),
            "close": sent.get("close"),
            "submit": sent.get("submit"),
            "previous_view_id": keep.get("previous_view_id") if keep else None,
            "root_view_id": keep.get("root_view_id", view_id) if keep else view_id,
            "app_id": payloads.API_APP_ID,
            "external_id": str(sent.get("external_id") or ""),
            "app_installed_team_id": ws.team_id,
            "bot_id": ws.bot.bot_id,
        }

    def replace_view(self, old: dict[str, Any], view: dict[str, Any]) -> None:
        """``view`` where ``old`` was (an update keeps the view's id and its place in the stack)."""
        ws = self.workspace
        if ws.home is old:
            ws.home = view
        else:
            ws.modals[:] = [view if v is old else v for v in ws.modals]
            ws.errors.pop(view["id"], None)
        ws.views_changed()

    def view_from_response(self, params: dict[str, Any], kind: str, keep: dict[str, Any] | None) -> dict[str, Any]:
        """A view an app answered a submission with (``response_action`` update or push)."""
        return self._new_view(params, kind, keep)

    # --- response_url -----------------------------------------------------------------------------

    async def _hook(self, request: web.Request) -> web.Response:
        hook = self._hooks.get(request.match_info["hook"])
        if hook is None or time.time() - hook.created > HOOK_TTL:
            return web.Response(status=404, text="expired_url")
        if hook.uses >= HOOK_USES:
            return web.Response(status=404, text="used_url")
        try:
            body = await _params(request)
            self.respond(hook, body)
        except ApiError as failure:
            return web.Response(status=400, text=failure.error)
        hook.uses += 1
        return web.Response(text="ok")

    def respond(self, hook: Hook, body: dict[str, Any]) -> None:
        """A message sent through a ``response_url`` (or as a slash command's acknowledgement)."""
        ws = self.workspace
        source = ws.get(hook.channel, hook.message_ts) if hook.message_ts else None
        if _true(body.get("delete_original")):
            if source is not None:
                ws.delete(source)
            return
        text, blocks = _content(body, old=source if _true(body.get("replace_original")) else None)
        if source is not None and _true(body.get("replace_original")):
            ws.replace(source, text, blocks)
            return
        public = body.get("response_type") == "in_channel"
        thread = body.get("thread_ts") or hook.thread_ts
        thread_ts = self._thread(hook.channel, thread) if thread else None
        ws.add(ws.bot, text, blocks, thread_ts=thread_ts, ephemeral=not public, channel=hook.channel)


def _content(params: dict[str, Any], old: Message | None = None) -> tuple[str, list[dict[str, Any]] | None]:
    """``text`` and ``blocks`` of a post or an update, checked as Slack checks them."""
    text = params.get("text")
    blocks = params.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks) if blocks.strip() else None
        except ValueError:
            raise ApiError("invalid_blocks_format") from None
    if blocks is not None:
        problems = block_problems(blocks)
        if problems:
            raise ApiError("invalid_blocks", errors=problems[:10])
    if old is not None:
        text = old.text if text is None else text
        blocks = old.blocks if "blocks" not in params else blocks
    if not text and not blocks:
        raise ApiError("no_text")
    text = "" if text is None else str(text)
    if len(text) > MAX_TEXT:
        raise ApiError("msg_too_long")
    return text, blocks


async def _params(request: web.Request) -> dict[str, Any]:
    """Query, form or JSON parameters, as Slack accepts them."""
    params: dict[str, Any] = dict(request.query)
    raw = await request.text()
    if not raw:
        return params
    if request.content_type == "application/json":
        try:
            data = json.loads(raw)
        except ValueError:
            raise ApiError("invalid_json") from None
        if not isinstance(data, dict):
            raise ApiError("invalid_json")
        params.update(data)
    else:
        form = dict(parse_qsl(raw, keep_blank_values=True))
        if set(form) == {"payload"}:  # a response_url body may come form-encoded as payload=…
            try:
                payload = json.loads(form["payload"])
            except ValueError:
                raise ApiError("invalid_json") from None
            form = payload if isinstance(payload, dict) else {}
        params.update(form)
    return params


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _int(value: Any, *, default: int, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return max(low, min(high, number))
