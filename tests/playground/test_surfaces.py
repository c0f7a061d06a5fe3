"""The bot's other surfaces through the emulator and the real bot: the private check's modal (from
``/jwtcheck`` with no text, the ⚡ shortcut and the Home tab's button), the message shortcut, the App Home,
and ``/jwtcheck bind`` in a second channel. Views are opened, updated and published as Slack does it:
``views.open`` only with a trigger_id the emulator issued, submissions answered by the bot's HTTP reply."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
import yaml
from aiohttp import web

from bot.config import load_services
from bot.playground import payloads
from bot.playground.delivery import Delivery, _state_values
from bot.playground.emulator import TRIGGER_TTL, Emulator
from bot.playground.server import Playground
from bot.playground.workspace import Workspace
from bot.slack.logs import install_redaction
from bot.slack.private_check import NOTHING_FOUND
from tests.playground.conftest import signature_of, skewed_token, token
from tests.playground.test_emulator import api, bot_replies, page_post

ROOT = Path(__file__).resolve().parents[2]


def top(pg: Playground) -> dict[str, Any]:
    assert pg.workspace.modals, "no modal is open"
    return pg.workspace.modals[-1]


def buttons(view: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(block_id, element) of every button in a view."""
    found = []
    for index, block in enumerate(view["blocks"]):
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        found += [(block.get("block_id") or f"#{index}", e) for e in elements if e.get("type") == "button"]
    return found


async def open_check(pg: Playground, http: aiohttp.ClientSession) -> dict[str, Any]:
    assert (await page_post(http, pg, "send", {"text": "/jwtcheck", "thread_ts": None}))["ok"]
    await pg.settle()
    view = top(pg)
    assert view["callback_id"] == "jwtcheck_private_check" and view["type"] == "modal"
    return view


async def test_jwtcheck_with_no_text_opens_the_modal_and_a_submission_shows_the_card_in_it(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    pg, ws = playground, playground.workspace
    form = await open_check(pg, http)
    assert [m for m in ws.messages() if m.author.id == ws.bot.id] == []  # nothing posted anywhere
    assert pg.emulator.calls["views.open"] == 1

    raw = skewed_token()
    sent = await page_post(http, pg, "view/submit", {"view_id": form["id"], "values": {"jc_text": raw}})
    assert sent["ok"]
    await pg.settle()
    card = top(pg)
    assert card["id"] == form["id"] and card["hash"] != form["hash"]  # updated in place by response_action
    assert card["callback_id"] == "jwtcheck_private_result"
    assert any(b["type"] == "header" and "clock skew" in b["text"]["text"].lower() for b in card["blocks"])
    assert signature_of(raw) not in json.dumps(ws.views())
    assert [m for m in ws.messages() if m.author.id == ws.bot.id] == []

    block_id, show = next((b, e) for b, e in buttons(card) if e["text"]["text"].startswith("Show fix"))
    clicked = await page_post(
        http, pg, "view/click", {"view_id": card["id"], "block_id": block_id, "action_id": show["action_id"]}
    )
    assert clicked["ok"]
    await pg.settle()
    redrawn = top(pg)
    assert pg.emulator.calls["views.update"] >= 1 and redrawn["hash"] != card["hash"]
    pressed = next(e for _, e in buttons(redrawn) if e["action_id"] == show["action_id"])
    assert pressed.get("style") == "primary"

    assert (await page_post(http, pg, "view/close", {"view_id": card["id"]}))["ok"]
    assert ws.modals == []


async def test_the_form_shows_inline_errors_from_slack_and_from_the_bot(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    pg, ws = playground, playground.workspace
    form = await open_check(pg, http)
    calls = pg.emulator.calls.copy()
    assert (await page_post(http, pg, "view/submit", {"view_id": form["id"], "values": {}}))["ok"]
    await pg.settle()
    assert ws.views()["modals"][-1]["errors"] == {"jc_text": "Please complete this required field."}
    assert pg.emulator.calls == calls  # Slack's client refuses an empty required field itself

    values = {"jc_text": "nothing here, honestly", "jc_leeway": "soon"}
    assert (await page_post(http, pg, "view/submit", {"view_id": form["id"], "values": values}))["ok"]
    await pg.settle()
    errors = ws.views()["modals"][-1]["errors"]
    assert set(errors) == {"jc_leeway"} and "seconds" in errors["jc_leeway"].lower()
    assert top(pg)["hash"] == form["hash"]  # the same view, with errors under the fields named

    values = {"jc_text": "nothing here, honestly", "jc_leeway": "30"}
    assert (await page_post(http, pg, "view/submit", {"view_id": form["id"], "values": values}))["ok"]
    await pg.settle()
    assert ws.views()["modals"][-1]["errors"] == {"jc_text": NOTHING_FOUND}

    refused = await page_post(http, pg, "view/submit", {"view_id": "VNOPE", "values": {}})
    assert refused == {"ok": False, "error": "no such modal"}


async def test_a_submission_carries_state_values_shaped_as_slacks(playground: Playground) -> None:
    ws = playground.workspace
    view = {
        "id": "V1",
        "blocks": [
            {"type": "input", "block_id": "t", "element": {"type": "plain_text_input", "action_id": "v"}},
            {
                "type": "input",
                "block_id": "s",
                "optional": True,
                "element": {
                    "type": "static_select",
                    "action_id": "v",
                    "options": [{"text": {"type": "plain_text", "text": "Orders"}, "value": "orders"}],
                },
            },
            {
                "type": "input",
                "block_id": "u",
                "optional": True,
                "element": {"type": "static_select", "action_id": "v"},
            },
        ],
    }
    values = _state_values(view, {"t": "eyJ…", "s": "orders", "u": "forged"})
    assert values == {
        "t": {"v": {"type": "plain_text_input", "value": "eyJ…"}},
        "s": {"v": {"type": "static_select", "selected_option": view["blocks"][1]["element"]["options"][0]}},
        "u": {"v": {"type": "static_select", "selected_option": None}},
    }
    body = parse_qs(payloads.view_submission_body(ws, {**view, "state": {"values": values}}, "1.2.3"))
    payload = json.loads(body["payload"][0])
    assert payload["type"] == "view_submission" and payload["view"]["state"]["values"] == values
    assert payload["user"]["id"] == ws.person.id and payload["trigger_id"] == "1.2.3"


async def test_the_global_shortcut_opens_the_modal_and_views_open_wants_a_fresh_trigger(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    pg = playground
    assert (await page_post(http, pg, "shortcut", {"callback_id": "check_privately"}))["ok"]
    await pg.settle()
    assert top(pg)["callback_id"] == "jwtcheck_private_check"
    refused = await page_post(http, pg, "shortcut", {"callback_id": "no_such_shortcut"})
    assert refused == {"ok": False, "error": "no such shortcut"}

    view = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []}
    assert (await api(http, pg, "views.open", trigger_id="1.2.3", view=view))["error"] == "invalid_trigger_id"
    trigger = pg.emulator.new_trigger()
    opened = await api(http, pg, "views.open", trigger_id=trigger, view=view)
    assert opened["ok"] and opened["view"]["id"].startswith("V") and opened["view"]["state"] == {"values": {}}
    assert (await api(http, pg, "views.open", trigger_id=trigger, view=view))["error"] == "invalid_trigger_id"
    long_title = {**view, "title": {"type": "plain_text", "text": "x" * 25}}
    assert (await api(http, pg, "views.open", trigger_id=pg.emulator.new_trigger(), view=long_title))[
        "error"
    ] == "invalid_arguments"
    pushed = await api(http, pg, "views.push", trigger_id=pg.emulator.new_trigger(), view=view)
    assert pushed["ok"] and pushed["view"]["previous_view_id"] == opened["view"]["id"]
    assert len(pg.workspace.modals) == 2
    stale = await api(http, pg, "views.update", view_id=opened["view"]["id"], hash="0.stale", view=view)
    assert stale["error"] == "hash_conflict"
    updated = await api(http, pg, "views.update", view_id=opened["view"]["id"], hash=opened["view"]["hash"], view=view)
    assert updated["ok"] and updated["view"]["id"] == opened["view"]["id"]
    assert (await api(http, pg, "views.update", view_id="VNOPE", view=view))["error"] == "not_found"
    home = {"type": "home", "blocks": [{"type": "divider"}]}
    assert (await api(http, pg, "views.publish", user_id="UNOBODY", view=home))["error"] == "user_not_found"
    assert (await api(http, pg, "views.publish", user_id=pg.workspace.person.id, view=home))["ok"]
    dm = await api(http, pg, "conversations.open", users=pg.workspace.person.id)
    assert dm["ok"] and dm["channel"]["id"].startswith("D")


async def test_the_message_shortcut_answers_in_the_messages_thread_or_privately(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    pg, ws = playground, playground.workspace
    raw = token(exp=-7200)
    sent = await page_post(http, pg, "send", {"text": f"seen in the gateway log: {raw}", "thread_ts": None})
    await pg.settle()
    before = len(bot_replies(pg, sent["ts"]))  # the bot reads the channel: it answered the paste already
    shortcut = {"callback_id": "diagnose_message", "channel": ws.channel_id, "ts": sent["ts"]}
    assert (await page_post(http, pg, "shortcut", shortcut))["ok"]
    await pg.settle()
    cards = bot_replies(pg, sent["ts"])
    assert len(cards) > before
    assert "expired" in json.dumps(cards[-1].blocks).lower()
    assert signature_of(raw) not in json.dumps([c.blocks for c in cards])

    plain = await page_post(http, pg, "send", {"text": "lunch at noon?", "thread_ts": None})
    await pg.settle()
    shortcut["ts"] = plain["ts"]
    assert (await page_post(http, pg, "shortcut", shortcut))["ok"]
    await pg.settle()
    line = ws.messages()[-1]
    assert line.ephemeral and line.author.id == ws.bot.id and "no JWT" in line.text
    missing = await page_post(http, pg, "shortcut", {**shortcut, "ts": "1.000001"})
    assert missing == {"ok": False, "error": "no such message"}


async def test_the_home_tab_is_published_and_its_button_opens_the_private_check(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    pg, ws = playground, playground.workspace
    assert ws.home is None
    assert (await page_post(http, pg, "home", {}))["ok"]
    await pg.settle()
    home = ws.home
    assert home is not None and home["type"] == "home" and pg.emulator.calls["views.publish"] == 1
    assert "Check a token privately" in json.dumps(home["blocks"])
    block_id = next(b for b, e in buttons(home) if e["action_id"] == "open_private_check")
    clicked = await page_post(
        http, pg, "view/click", {"view_id": home["id"], "block_id": block_id, "action_id": "open_private_check"}
    )
    assert clicked["ok"]
    await pg.settle()
    assert top(pg)["callback_id"] == "jwtcheck_private_check"
    assert (await page_post(http, pg, "home", {}))["ok"]  # opened again: republished, the same view id
    await pg.settle()
    assert ws.home is not None and ws.home["id"] == home["id"]


def test_the_playgrounds_shortcuts_are_the_manifests() -> None:
    manifest = yaml.safe_load((ROOT / "deploy" / "slack-app-manifest.yaml").read_text())
    declared = {s["callback_id"]: (s["type"], s["name"]) for s in manifest["features"]["shortcuts"]}
    ours = {k: ("message", v) for k, v in payloads.MESSAGE_SHORTCUTS.items()}
    ours |= {k: ("global", v) for k, v in payloads.GLOBAL_SHORTCUTS.items()}
    assert ours == declared


def test_the_workspace_has_a_second_channel() -> None:
    ws = Workspace()
    assert len(ws.channels()) == 2 and ws.channel_named("#payments") == "C0PAYMENTS"
    assert ws.channel_named("#nope") is None


@pytest.fixture
async def with_services(tmp_path: Path) -> AsyncIterator[Playground]:
    install_redaction()
    config = tmp_path / "services.toml"
    config.write_text(
        '[services.orders]\nissuers = ["https://login.acme.test/"]\naudiences = ["orders-api"]\n'
        '[services.payments]\nissuers = ["https://login.acme.test/"]\naudiences = ["payments-api"]\n'
    )
    running = await Playground.start(0, redis_url=None, services=load_services(config), ack_timeout=30.0)
    try:
        yield running
    finally:
        await running.stop()


async def test_bind_in_the_second_channel_judges_its_tokens_against_the_service(
    with_services: Playground, http: aiohttp.ClientSession
) -> None:
    pg, ws = with_services, with_services.workspace
    second = "C0PAYMENTS"
    bound = await page_post(http, pg, "send", {"text": "/jwtcheck bind payments", "thread_ts": None, "channel": second})
    assert bound["ok"]
    await pg.settle()
    said = [m for m in ws.messages() if m.channel == second and m.author.id == ws.bot.id]
    assert said and "payments" in said[-1].text
    assert all(m.channel == second for m in ws.messages())  # nothing in the first channel

    sent = await page_post(http, pg, "send", {"text": f"refused: {token()}", "thread_ts": None, "channel": second})
    await pg.settle()
    [card] = bot_replies(pg, sent["ts"])
    assert card.channel == second and "payments" in json.dumps(card.blocks)
    assert "audience" in json.dumps(card.blocks).lower()
    assert (await page_post(http, pg, "send", {"text": "x", "channel": "C0NOPE"}))["error"] == "no such channel"

    # the Home lists the binding; its figures count the answers
    assert (await page_post(http, pg, "home", {}))["ok"]
    await pg.settle()
    assert ws.home is not None and "C0PAYMENTS" in json.dumps(ws.home["blocks"])


async def test_views_open_refuses_a_trigger_older_than_three_seconds(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    pg = playground
    trigger = pg.emulator.new_trigger()
    pg.emulator._triggers[trigger] -= TRIGGER_TTL + 1  # issued four seconds ago
    view = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []}
    assert (await api(http, pg, "views.open", trigger_id=trigger, view=view))["error"] == "expired_trigger_id"
    assert pg.workspace.modals == []


async def test_what_an_app_answers_a_submission_with_is_done_as_slack_does() -> None:
    """push stacks, an empty answer closes the view, clear closes them all, errors must name inputs: checked
    against a small app that answers each submission with the next canned reply."""
    replies: list[dict[str, Any]] = []

    async def app(request: web.Request) -> web.Response:
        payload = json.loads(parse_qs(await request.text())["payload"][0])
        assert payload["type"] == "view_submission"
        reply = replies.pop(0)
        return web.json_response(reply) if reply else web.Response(text="")  # {}: an empty acknowledgement

    server = web.Application()
    server.router.add_post("/slack/events", app)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    ws = Workspace()
    emulator = Emulator(ws, "xoxb-x", "http://127.0.0.1:1")
    delivery = Delivery(emulator, "secret", f"http://127.0.0.1:{port}/slack/events", ack_timeout=30.0)
    form = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Form"},
        "submit": {"type": "plain_text", "text": "Go"},
        "blocks": [
            {
                "type": "input",
                "block_id": "t",
                "label": {"type": "plain_text", "text": "T"},
                "element": {"type": "plain_text_input", "action_id": "v"},
            }
        ],
    }
    try:
        ws.modals.append(emulator.view_from_response({"view": form}, "modal", None))

        async def submit() -> None:
            delivery.submit(ws.modals[-1]["id"], {"t": "x"})
            await delivery.idle()

        replies.append({"response_action": "errors", "errors": {"nope": "x"}})
        await submit()
        assert "invalid_errors" in ws.errors[ws.modals[-1]["id"]][""]
        replies.append({"response_action": "push", "view": form})
        await submit()
        assert len(ws.modals) == 2 and ws.modals[1]["previous_view_id"] == ws.modals[0]["id"]
        replies.append({})
        await submit()
        assert len(ws.modals) == 1
        replies.append({"response_action": "push", "view": form})
        await submit()
        replies.append({"response_action": "clear"})
        await submit()
        assert ws.modals == []
    finally:
        await delivery.close()
        await runner.cleanup()
