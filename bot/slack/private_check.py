"""The private check: a modal where one person pastes a token, header, log line or error text and reads
the diagnosis card in the same modal. Nothing is posted in any channel.

It opens from ``/jwtcheck`` with no text, the global shortcut *Check a token privately*
(``callback_id: check_privately``) and App Home's button (``action_id: open_private_check``), always with
``views.open`` right after the ack (a ``trigger_id`` lives 3 s). On submit, the listener answers the
``view_submission`` itself: ``response_action: errors`` for what cannot be read (inline, under the field),
``response_action: update`` with the card otherwise. The diagnosis runs in the listener, within
``ACK_BUDGET``: past it (a slow key source), the modal says "Checking…" and is updated through the outbox
(``views.update``) when the card is drawn.

The card's state records the view it lives in (``CardOptions.view_id``, stored as ``card/5``), so its
"Show fix" and vote buttons redraw it with ``views.update`` (``bot.slack.answer.update_card``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.answer import Place
from bot.chat.cards import CardState
from bot.config import ServicesConfig
from bot.diagnosis.expectations import seconds_problem
from bot.diagnosis.redact import credential_shaped
from bot.outbox import Call, Delivery, delivery_id
from bot.slack.deps import Deps
from bot.slack.options import OptionError, Request

log = logging.getLogger(__name__)

CALLBACK_ID = "jwtcheck_private_check"  # the form's view (its view_submission)
RESULT_CALLBACK_ID = "jwtcheck_private_result"  # the card's view: nothing to submit
SHORTCUT_ID = "check_privately"  # the global shortcut
OPEN_ACTION_ID = "open_private_check"  # App Home's button
TEXT, SERVICE, AUDIENCE, ISSUER, LEEWAY = "jc_text", "jc_service", "jc_aud", "jc_iss", "jc_leeway"
VALUE = "value"  # the action_id of every input of the form
TITLE = "Private JWT check"  # Slack: at most 24 characters
TEXT_MAX = 3000  # Slack's most for a plain_text_input
NAME_MAX = 500
MAX_SERVICES = 100  # Slack's most options in a static_select
ACK_BUDGET = 2.0  # seconds the listener may diagnose before it must ack (Slack waits 3 s)
ONLY_YOU = (
    "🔒 Only you can see this check. Nothing is posted in any channel, and the signature is never shown or stored."
)

NOTHING_TO_CHECK = "Paste a token, an Authorization header, a log line or an error message."
NOTHING_FOUND = "I found no JWT and no known JWT error message here."
CREDENTIAL = "This looks like a token or a secret, so it is neither shown nor kept: paste the token in the text above."
LEEWAY_PROBLEM = "A number of seconds, like 30"
_SPLIT = re.compile(r"[\s,]+")


def check_view(services: ServicesConfig | None) -> dict[str, Any]:
    """The form, as ``views.open`` takes it."""
    blocks: list[Block] = [
        InputBlock(
            block_id=TEXT,
            label="Token, header, log line or error text",
            element=PlainTextInputElement(
                action_id=VALUE,
                multiline=True,
                max_length=TEXT_MAX,
                placeholder="eyJhbGciOi…  or  Authorization: Bearer …  or  jwt audience invalid…",
            ),
            hint="Only you see the answer. The signature is never shown or stored.",
        )
    ]
    names = sorted(services.services)[:MAX_SERVICES] if services is not None else []
    if names:
        options = [Option(value=name, text=name) for name in names]
        select = StaticSelectElement(action_id=VALUE, placeholder="Judge against a service", options=options)
        if len(names) == 1:
            select.initial_option = options[0]
        blocks.append(InputBlock(block_id=SERVICE, label="Service", element=select, optional=True))
    for block_id, label, example in (
        (AUDIENCE, "Expected audience", "orders-api"),
        (ISSUER, "Expected issuer", "https://login.acme.test/"),
    ):
        element = PlainTextInputElement(action_id=VALUE, max_length=NAME_MAX, placeholder=example)
        blocks.append(
            InputBlock(block_id=block_id, label=label, element=element, optional=True, hint="Several: commas between")
        )
    leeway = PlainTextInputElement(action_id=VALUE, max_length=16, placeholder="30")
    blocks.append(InputBlock(block_id=LEEWAY, label="Leeway in seconds", element=leeway, optional=True))
    view = View(type="modal", callback_id=CALLBACK_ID, title=TITLE, submit="Check", close="Cancel", blocks=blocks)
    return _checked(view)


def result_view(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """The card (already fitted to Slack's limits by the renderer) in a modal, under one private note."""
    note = ContextBlock(block_id="jc-private-note", elements=[MarkdownTextObject(text=ONLY_YOU)])
    view = View(type="modal", callback_id=RESULT_CALLBACK_ID, title=TITLE, close="Done", blocks=[note, *blocks])
    return _checked(view)


def line_view(text: str) -> dict[str, Any]:
    """A modal of one line (plain text: it may quote nothing the user typed)."""
    section = SectionBlock(block_id="jc-line", text=PlainTextObject(text=text))
    return _checked(View(type="modal", callback_id=RESULT_CALLBACK_ID, title=TITLE, close="Done", blocks=[section]))


def _checked(view: View) -> dict[str, Any]:
    view.validate_json()  # slack_sdk's own limits: title 24, 100 blocks, block and element limits
    return view.to_dict()


def read_submission(view: dict[str, Any], services: ServicesConfig | None) -> Request | dict[str, str]:
    """The request a submitted form makes, or the inline errors (block id → message) that refuse it. No
    message quotes what was typed."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    values = values if isinstance(values, dict) else {}
    text = _input(values, TEXT)
    errors: dict[str, str] = {}
    if not text.strip():
        errors[TEXT] = NOTHING_TO_CHECK
    names: dict[str, tuple[str, ...]] = {}
    for block_id in (AUDIENCE, ISSUER):
        given = _input(values, block_id)
        if credential_shaped(given):
            errors[block_id] = CREDENTIAL
        names[block_id] = tuple(part for part in _SPLIT.split(given) if part)
    leeway: float | None = None
    given = _input(values, LEEWAY).strip()
    if given:
        try:
            leeway = float(given.removesuffix("s"))
        except ValueError:
            errors[LEEWAY] = LEEWAY_PROBLEM
        else:
            problem = seconds_problem(leeway)  # the one limit every front door uses
            if problem is not None:
                errors[LEEWAY] = f"The leeway {problem}"
    service = _selected(values, SERVICE)
    if service is not None and (services is None or service not in services.services):
        errors[SERVICE] = "No such service: pick one of the list"
    if errors:
        return errors
    return Request(text, audiences=names[AUDIENCE], issuers=names[ISSUER], leeway=leeway, service=service)


def _input(values: dict[str, Any], block_id: str) -> str:
    action = (values.get(block_id) or {}).get(VALUE) if isinstance(values.get(block_id), dict) else None
    value = action.get("value") if isinstance(action, dict) else None
    return value[: TEXT_MAX * 2] if isinstance(value, str) else ""


def _selected(values: dict[str, Any], block_id: str) -> str | None:
    action = (values.get(block_id) or {}).get(VALUE) if isinstance(values.get(block_id), dict) else None
    option = action.get("selected_option") if isinstance(action, dict) else None
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) and value else None


async def answer_submission(deps: Deps, body: dict[str, Any]) -> dict[str, Any]:
    """What to ack a ``view_submission`` of the form with: ``response_action`` and its ``errors`` or ``view``."""
    view = _field(body, "view")
    chat = deps.chat
    request = read_submission(view, chat.services)
    if isinstance(request, dict):
        return {"response_action": "errors", "errors": request}
    try:
        expectations = request.expectations(chat.services)  # the one merge, over the service's expectations
    except OptionError:
        return {"response_action": "errors", "errors": {SERVICE: "No such service: pick one of the list"}}
    team = _text(_field(body, "team").get("id")) or _text(_field(body, "user").get("team_id"))
    place = Place(team or deps.identity.team_id or "", "", None)
    answer = await chat.answer(place, request.text, expectations, request.keys(chat.services), service=request.service)
    if not answer.report.diagnoses:
        return {"response_action": "errors", "errors": {TEXT: NOTHING_FOUND}}
    drawn = await chat.make_cards(answer, place, 1, exposes_tokens=False, ephemeral=True)
    view_id = _text(view.get("id"))
    blocks: list[dict[str, Any]] = []
    for message, card_id in drawn:
        blocks.extend(message.blocks)
        if card_id is not None and view_id:
            state = await chat.cards.load(card_id)
            if isinstance(state, CardState):
                await chat.cards.save(state.with_options(view_id=view_id))  # its buttons redraw this view
    deps.metrics.cards.labels("private").inc()
    return {"response_action": "update", "view": result_view(blocks)}


async def acked_answer(deps: Deps, body: dict[str, Any]) -> tuple[dict[str, Any], asyncio.Task[dict[str, Any]] | None]:
    """The answer if it is ready within ``ACK_BUDGET``; else "Checking…" now, and the task that draws the
    card (:func:`finish_later` delivers it)."""
    task = asyncio.get_running_loop().create_task(answer_submission(deps, body))
    done, _ = await asyncio.wait({task}, timeout=ACK_BUDGET)
    if task in done:
        return task.result(), None
    return {"response_action": "update", "view": line_view("Checking… the answer appears here in a moment.")}, task


async def finish_later(deps: Deps, task: asyncio.Task[dict[str, Any]], view_id: str) -> None:
    """The card of a slow check, into the view that says "Checking…" (``views.update`` through the outbox)."""
    answer = await task
    view = answer.get("view")
    if answer.get("response_action") != "update" or not isinstance(view, dict):
        view = line_view(f"{NOTHING_FOUND} {NOTHING_TO_CHECK}")
    call = Call("views.update", {"view_id": view_id, "view": view})
    await deps.outbox.put(Delivery(delivery_id("private", view_id), (call,), time.time(), kind="update"))


def _field(payload: dict[str, Any], name: str) -> dict[str, Any]:
    value = payload.get(name)
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


async def open_check(deps: Deps, client: AsyncWebClient, trigger_id: str) -> bool:
    """``views.open`` of the form, right after the ack (the trigger_id lives 3 s). False when Slack would not
    open it (an expired trigger, a failure): counted and logged by its error code only."""
    if not trigger_id:
        return False
    try:
        await client.views_open(trigger_id=trigger_id, view=check_view(deps.chat.services))
    except SlackApiError as failure:
        data = getattr(failure.response, "data", None)
        error = str((data.get("error") if isinstance(data, dict) else None) or "unknown")[:64]
        deps.metrics.slack_errors.labels("views.open", error).inc()
        log.warning("Slack views.open failed: %s", error)
        return False
    except (aiohttp.ClientError, OSError, TimeoutError) as failure:
        deps.metrics.slack_errors.labels("views.open", type(failure).__name__).inc()
        log.warning("Slack views.open failed: %s", type(failure).__name__)
        return False
    return True
