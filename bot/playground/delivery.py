"""What the person does in the page, delivered to the bot's ``/slack/events`` as Slack delivers it.

A typed message is stored first (it shows at once) and then sent as a ``message`` event, plus an
``app_mention`` event when it mentions the bot (Slack sends both; the bot must answer once). A
``/jwtcheck`` line is a signed slash command with its own ``response_url``; a click is a signed
``block_actions`` payload built from the stored message, so the value sent is the button's own.
When the bot does not acknowledge, Slackbot says so in the channel, only to the person, as Slack does.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from typing import Any

import aiohttp

from bot.playground import payloads
from bot.playground.emulator import ApiError, Emulator, Hook
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

    def send(self, typed: str, thread_ts: str | None = None) -> Message | None:
        """A line from a composer: a slash command, or a message (returned once stored)."""
        typed = typed.strip()
        if not typed:
            raise Refused("nothing to send")
        if len(typed) > MAX_TYPED:
            raise Refused(f"a message holds at most {MAX_TYPED} characters")
        thread = self._thread(thread_ts)
        if typed.startswith("/"):
            self._command(typed, thread)
            return None
        ws = self.workspace
        message = ws.add(ws.person, payloads.message_text(typed, ws), thread_ts=thread)
        kinds = ["message", "app_mention"] if payloads.mentions(message.text, ws) else ["message"]
        for kind in kinds:
            body = payloads.event_body(ws, payloads.message_event(ws, message, kind))
            self._spawn(self._event(body, kind, message))
        return message

    def click(self, channel: str, ts: str, block_id: str, action_id: str) -> None:
        """A button in a stored message; the payload carries that button's value, whatever the page says."""
        message = self.workspace.get(channel, ts)
        element = _find_element(message, block_id, action_id) if message is not None else None
        if message is None or element is None:
            raise Refused("no such button")
        hook = self.emulator.new_hook(channel, message.ts, message.thread_ts)
        body = payloads.block_actions_body(self.workspace, message, block_id, element, hook.url)
        self._spawn(self._click(body, message))

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

    def _command(self, typed: str, thread: str | None) -> None:
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
            )
            return
        hook = self.emulator.new_hook(ws.channel_id, None, thread)
        body = payloads.command_body(ws, text.strip(), hook.url)
        self._spawn(self._slash(body, hook))

    async def _slash(self, body: str, hook: Hook) -> None:
        status, reply = await self._post(body, FORM)
        if status != 200:
            self._notice(f'`{payloads.COMMAND}` failed with the error "{_why(status)}"', hook.thread_ts)
            return
        if reply.strip():  # an acknowledgement with a body is a response, as in Slack
            try:
                data = json.loads(reply)
            except ValueError:
                data = {"text": reply}
            try:
                self.emulator.respond(hook, data if isinstance(data, dict) else {"text": reply})
            except ApiError as failure:
                self._notice(f"`{payloads.COMMAND}` answered with {failure.error}", hook.thread_ts)

    async def _event(self, body: str, kind: str, message: Message) -> None:
        status, _ = await self._post(body, "application/json")
        if status != 200:
            self._notice(
                f"The app did not acknowledge the `{kind}` event ({_why(status)}); Slack would retry it.",
                message.thread_ts or message.ts,
            )

    async def _click(self, body: str, message: Message) -> None:
        status, _ = await self._post(body, FORM)
        if status != 200:
            self._notice(f"This app responded with {_why(status)}.", message.thread_ts)

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

    def _thread(self, thread_ts: str | None) -> str | None:
        if not thread_ts:
            return None
        parent = self.workspace.get(self.workspace.channel_id, thread_ts)
        if parent is None or parent.ephemeral:
            raise Refused("no such thread")
        return parent.thread_ts or parent.ts

    def _notice(self, text: str, thread_ts: str | None) -> None:
        ws = self.workspace
        if thread_ts is not None and ws.get(ws.channel_id, thread_ts) is None:
            thread_ts = None
        ws.add(ws.slackbot, text, thread_ts=thread_ts, ephemeral=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _find_element(message: Message, block_id: str, action_id: str) -> dict[str, Any] | None:
    for index, block in enumerate(message.blocks or []):
        if not isinstance(block, dict) or (block.get("block_id") or f"#{index}") != block_id:
            continue
        candidates = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return None


def _why(status: int) -> str:
    return "operation_timeout" if status == 0 else f"http_{status}"
