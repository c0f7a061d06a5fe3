"""What the person does in the page, delivered to the bot's ``/slack/events`` as Slack delivers it.

A typed message is stored first (it shows at once) and then sent as a ``message`` event, plus an
``app_mention`` event when it mentions the bot (Slack sends both; the bot must answer once). A
``/jwtcheck`` line is a signed slash command with its own ``response_url``; a click is a signed
``block_actions`` payload built from the stored message, so the value sent is the button's own.
When the bot does not acknowledge, Slackbot says so in the channel, only to the person, as Slack does.

The other surfaces: a message shortcut (``message_action``, with the message, a response_url and a
trigger_id), a global shortcut (``shortcut``, a trigger_id only), a button in a modal or the Home tab
(``block_actions`` from the view), ``app_home_opened`` when the Home tab is opened, and a modal's submit
(``view_submission`` with ``state.values`` as Slack shapes them). Slack's client keeps an empty required
input from being sent; otherwise the bot's HTTP answer decides: ``response_action`` ``update`` replaces the
modal, ``errors`` shows them under the inputs named, ``push`` stacks a view, ``clear`` closes them all, and
an empty answer closes the one submitted.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from typing import Any

import aiohttp

from bot.playground import payloads
from bot.playground.emulator import DM_CHANNEL, MAX_STACK, ApiError, Emulator, Hook
from bot.playground.workspace import Message, Workspace

log = logging.getLogger(__name__)
ACK_TIMEOUT = 3.0  # Slack's: an app that has not answered within 3 s has failed
MAX_TYPED = 40_000
FORM = "application/x-www-form-urlencoded"


class Refused(ValueError):
    """Something the page sent that Slack would not take (empty, too long, no such button)."""


class Delivery:
    def __init__(
        self, emulator: Emulator, signing_secret: str, events_url: str, *, ack_timeout: float = ACK_TIMEOUT
    ) -> None:
        self.emulator = emulator
        self.workspace: Workspace = emulator.workspace
        self.events_url = events_url
        self._secret = signing_secret
        self._timeout = ack_timeout
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # --- what the person does ---------------------------------------------------------------------

    def send(self, typed: str, thread_ts: str | None = None, channel: str | None = None) -> Message | None:
        """A line from a composer: a slash command, or a message (returned once stored)."""
        typed = typed.strip()
        if not typed:
            raise Refused("nothing to send")
        if len(typed) > MAX_TYPED:
            raise Refused(f"a message holds at most {MAX_TYPED} characters")
        where = self.workspace.channel_id if channel is None else channel
        if where not in self.workspace.channels():
            raise Refused("no such channel")
        thread = self._thread(thread_ts, where)
        if typed.startswith("/"):
            self._command(typed, thread, where)
            return None
        ws = self.workspace
        message = ws.add(ws.person, payloads.message_text(typed, ws), thread_ts=thread, channel=where)
        kinds = ["message", "app_mention"] if payloads.mentions(message.text, ws) else ["message"]
        for kind in kinds:
            body = payloads.event_body(ws, payloads.message_event(ws, message, kind))
            self._spawn(self._event(body, kind, message))
        return message

    def click(self, channel: str, ts: str, block_id: str, action_id: str, selected: str | None = None) -> None:
        """A button in a stored message, or an option picked in its select (``selected``, the option's value);
        the payload carries the button's value or the select's option as the message holds them, whatever
        the page says."""
        message = self.workspace.get(channel, ts)
        element = _find_element(message, block_id, action_id) if message is not None else None
        if message is None or element is None:
            raise Refused("no such button")
        option = None
        if element.get("type") == "static_select":
            options = [o for o in element.get("options") or [] if isinstance(o, dict)]
            option = next((o for o in options if selected is not None and o.get("value") == selected), None)
            if option is None:
                raise Refused("no such option")
        hook = self.emulator.new_hook(channel, message.ts, message.thread_ts)
        trigger = self.emulator.new_trigger()
        body = payloads.block_actions_body(self.workspace, message, block_id, element, hook.url, trigger, option)
        self._spawn(self._click(body, message))

    def message_shortcut(self, channel: str, ts: str, callback_id: str) -> None:
        """A message shortcut picked on a message's ⋯ menu (Slack sends the message's text with it)."""
        if callback_id not in payloads.MESSAGE_SHORTCUTS:
            raise Refused("no such shortcut")
        message = self.workspace.get(channel, ts)
        if message is None or message.ephemeral:
            raise Refused("no such message")
        hook = self.emulator.new_hook(channel, None, None)
        body = payloads.message_action_body(self.workspace, message, callback_id, hook.url, self.emulator.new_trigger())
        self._spawn(self._click(body, message))

    def global_shortcut(self, callback_id: str) -> None:
        """A global shortcut from the ⚡ menu: only a trigger_id goes with it."""
        if callback_id not in payloads.GLOBAL_SHORTCUTS:
            raise Refused("no such shortcut")
        body = payloads.shortcut_body(self.workspace, callback_id, self.emulator.new_trigger())
        self._spawn(self._interaction(body, "shortcut"))

    def view_click(self, view_id: str, block_id: str, action_id: str, typed: dict[str, Any] | None = None) -> None:
        """A button in the open modal or on the Home tab: ``block_actions`` from the view, as Slack holds it
        (with what was typed in its inputs so far)."""
        view = self.workspace.find_view(view_id)
        element = _find_element_in(view.get("blocks") or [], block_id, action_id) if view is not None else None
        if view is None or element is None:
            raise Refused("no such button")
        held = {**view, "state": {"values": _state_values(view, typed or {})}}
        body = payloads.view_actions_body(self.workspace, held, block_id, element, self.emulator.new_trigger())
        self._spawn(self._interaction(body, "block_actions"))

    def submit(self, view_id: str, typed: dict[str, Any]) -> None:
        """The top modal submitted with what was typed and picked; the bot's answer says what becomes of it."""
        ws = self.workspace
        if not ws.modals or ws.modals[-1]["id"] != view_id or not ws.modals[-1].get("submit"):
            raise Refused("no such modal")
        view = ws.modals[-1]
        values = _state_values(view, typed)
        missing = {
            block["block_id"]: "Please complete this required field."
            for block in _inputs(view)
            if not block.get("optional") and _empty(values[block["block_id"]])
        }
        if missing:  # Slack's client refuses these itself; the app never hears of them
            ws.errors[view_id] = missing
            ws.views_changed()
            return
        held = {**view, "state": {"values": values}}
        body = payloads.view_submission_body(ws, held, self.emulator.new_trigger())
        self._spawn(self._submission(body, view))

    def close_view(self, view_id: str) -> None:
        """Cancel (or ✕) on the top modal: it goes, and the one under it shows again."""
        ws = self.workspace
        if not ws.modals or ws.modals[-1]["id"] != view_id:
            raise Refused("no such modal")
        ws.modals.pop()
        ws.views_changed()

    def open_home(self) -> None:
        """The person opens the app's Home tab: Slack sends ``app_home_opened``."""
        ws = self.workspace
        event = payloads.app_home_opened_event(ws, DM_CHANNEL)
        self._spawn(self._home(payloads.event_body(ws, event)))

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def idle(self) -> None:
        """Wait until every delivery has been acknowledged (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.idle()
        if self._session is not None:
            await self._session.close()

    # --- the requests -----------------------------------------------------------------------------

    def _command(self, typed: str, thread: str | None, channel: str) -> None:
        ws = self.workspace
        name, _, text = typed.partition(" ")
        if name.lower() != payloads.COMMAND:
            ws.add(
                ws.slackbot,
                f"`{payloads.escape(name[:80])}` is not a valid command. In Slack, all messages "
                'that start with the "/" character are interpreted as commands. This playground has '
                f"`{payloads.COMMAND}`.",
                thread_ts=thread,
                ephemeral=True,
                channel=channel,
            )
            return
        hook = self.emulator.new_hook(channel, None, thread)
        body = payloads.command_body(ws, text.strip(), hook.url, self.emulator.new_trigger(), channel)
        self._spawn(self._slash(body, hook))

    async def _slash(self, body: str, hook: Hook) -> None:
        status, reply = await self._post(body, FORM)
        if status != 200:
            self._notice(f'`{payloads.COMMAND}` failed with the error "{_why(status)}"', hook.thread_ts, hook.channel)
            return
        if reply.strip():  # an acknowledgement with a body is a response, as in Slack
            try:
                data = json.loads(reply)
            except ValueError:
                data = {"text": reply}
            try:
                self.emulator.respond(hook, data if isinstance(data, dict) else {"text": reply})
            except ApiError as failure:
                self._notice(f"`{payloads.COMMAND}` answered with {failure.error}", hook.thread_ts, hook.channel)

    async def _event(self, body: str, kind: str, message: Message) -> None:
        status, _ = await self._post(body, "application/json")
        if status != 200:
            self._notice(
                f"The app did not acknowledge the `{kind}` event ({_why(status)}); Slack would retry it.",
                message.thread_ts or message.ts,
                message.channel,
            )

    async def _click(self, body: str, message: Message) -> None:
        status, _ = await self._post(body, FORM)
        if status != 200:
            self._notice(f"This app responded with {_why(status)}.", message.thread_ts, message.channel)

    async def _interaction(self, body: str, kind: str) -> None:
        status, _ = await self._post(body, FORM)
        if status != 200:
            self._notice(f"jwtcheck did not respond to the `{kind}` ({_why(status)}).", None)

    async def _home(self, body: str) -> None:
        status, _ = await self._post(body, "application/json")
        if status != 200:
            self._notice(f"The app did not acknowledge the `app_home_opened` event ({_why(status)}).", None)

    async def _submission(self, body: str, view: dict[str, Any]) -> None:
        """Send a submission and do what the bot's HTTP answer says, as Slack does."""
        status, reply = await self._post(body, FORM)
        ws = self.workspace
        if view not in ws.modals:  # closed meanwhile
            return
        if status != 200:
            ws.errors[view["id"]] = {"": f"We had some trouble connecting ({_why(status)}). Try again?"}
            ws.views_changed()
            return
        try:
            answer = json.loads(reply) if reply.strip() else {}
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            answer = None
        action = answer.get("response_action") if answer else None
        try:
            if answer == {}:
                ws.modals.remove(view)  # an empty acknowledgement closes the view
                ws.views_changed()
            elif action == "clear":
                ws.modals.clear()
                ws.views_changed()
            elif action == "errors" and isinstance(answer and answer.get("errors"), dict):
                errors = answer["errors"] if answer else {}
                named = {block["block_id"] for block in _inputs(view)}
                if not errors or not set(errors) <= named:  # Slack: errors name the view's input blocks
                    raise ApiError("invalid_errors")
                ws.errors[view["id"]] = {str(k)[:255]: str(v)[:2000] for k, v in errors.items()}
                ws.views_changed()
            elif action == "update":
                self.emulator.replace_view(view, self.emulator.view_from_response(answer or {}, "modal", view))
            elif action == "push":
                if len(ws.modals) >= MAX_STACK:
                    raise ApiError("push_limit_reached")
                pushed = self.emulator.view_from_response(answer or {}, "modal", None)
                pushed.update(previous_view_id=view["id"], root_view_id=ws.modals[0]["id"])
                ws.modals.append(pushed)
                ws.views_changed()
            else:
                raise ApiError("invalid_response_action")
        except ApiError as failure:
            ws.errors[view["id"]] = {"": f"The app's answer was refused: {failure.error}"}
            ws.views_changed()

    async def _post(self, body: str, content_type: str) -> tuple[int, str]:
        """POST ``body`` to the bot signed as Slack signs it; ``(0, "")`` when it did not answer."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        headers = payloads.signed_headers(self._secret, body, content_type)
        try:
            async with self._session.post(self.events_url, data=body.encode(), headers=headers) as response:
                return response.status, await response.text()
        except (TimeoutError, aiohttp.ClientError) as failure:
            log.warning("delivery to the bot failed: %s", type(failure).__name__)
            return 0, ""

    # --- helpers ----------------------------------------------------------------------------------

    def _thread(self, thread_ts: str | None, channel: str) -> str | None:
        if not thread_ts:
            return None
        parent = self.workspace.get(channel, thread_ts)
        if parent is None or parent.ephemeral:
            raise Refused("no such thread")
        return parent.thread_ts or parent.ts

    def _notice(self, text: str, thread_ts: str | None, channel: str | None = None) -> None:
        ws = self.workspace
        channel = channel or ws.channel_id
        if thread_ts is not None and ws.get(channel, thread_ts) is None:
            thread_ts = None
        ws.add(ws.slackbot, text, thread_ts=thread_ts, ephemeral=True, channel=channel)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _find_element(message: Message, block_id: str, action_id: str) -> dict[str, Any] | None:
    return _find_element_in(message.blocks or [], block_id, action_id)


def _find_element_in(blocks: list[Any], block_id: str, action_id: str) -> dict[str, Any] | None:
    for index, block in enumerate(blocks):
        if not isinstance(block, dict) or (block.get("block_id") or f"#{index}") != block_id:
            continue
        candidates = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return None


def _inputs(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        block
        for block in view.get("blocks") or []
        if isinstance(block, dict) and block.get("type") == "input" and isinstance(block.get("block_id"), str)
    ]


def _state_values(view: dict[str, Any], typed: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """``view.state.values`` as Slack sends it: every input block, by block_id then action_id. A select's
    option comes from the view itself (the page names only its value)."""
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for block in _inputs(view):
        found = block.get("element")
        element: dict[str, Any] = found if isinstance(found, dict) else {}
        action_id, kind = str(element.get("action_id") or ""), element.get("type")
        given = typed.get(block["block_id"])
        given = given if isinstance(given, str) else None
        if kind == "plain_text_input":
            text = given if given else None
            if text is not None and isinstance(element.get("max_length"), int):
                text = text[: element["max_length"]]
            values[block["block_id"]] = {action_id: {"type": kind, "value": text}}
        elif kind == "static_select":
            options = [o for o in element.get("options") or [] if isinstance(o, dict)]
            chosen = next((o for o in options if given is not None and o.get("value") == given), None)
            values[block["block_id"]] = {action_id: {"type": kind, "selected_option": chosen}}
        else:
            values[block["block_id"]] = {action_id: {"type": str(kind)}}
    return values


def _empty(value: dict[str, dict[str, Any]]) -> bool:
    action = next(iter(value.values()), {})
    return not action.get("value") and not action.get("selected_option")


def _why(status: int) -> str:
    return "operation_timeout" if status == 0 else f"http_{status}"
