"""The Slack emulator without a browser: its signatures are Slack's, its Web API keeps and answers
messages as Slack does, and the real bot answers through it end to end."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.playground import payloads
from bot.playground.blockkit import block_problems
from bot.playground.emulator import HOOK_USES
from bot.playground.server import Playground
from bot.playground.workspace import Workspace
from tests.playground.conftest import signature_of, skewed_token, token

# --- signing --------------------------------------------------------------------------------------


def test_every_kind_of_request_is_signed_as_slack_signs_it() -> None:
    ws = Workspace()
    message = ws.add(ws.person, payloads.message_text("hi @jwtcheck", ws))
    bodies = [
        payloads.command_body(ws, "eyJ… aud=orders-api", "http://127.0.0.1:1/hooks/x"),
        payloads.event_body(ws, payloads.message_event(ws, message, "app_mention")),
        payloads.block_actions_body(
            ws, message, "b", {"type": "button", "action_id": "a", "value": "v"}, "http://127.0.0.1:1/hooks/y"
        ),
    ]
    verifier = SignatureVerifier("the-secret")
    for body in bodies:
        headers = payloads.signed_headers("the-secret", body, "application/json")
        assert headers["X-Slack-Signature"].startswith("v0=")
        assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
        assert not SignatureVerifier("another-secret").is_valid(
            body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
        )
        stale = payloads.signed_headers("the-secret", body, "application/json", timestamp=int(time.time()) - 600)
        assert not verifier.is_valid(body, stale["X-Slack-Request-Timestamp"], stale["X-Slack-Signature"])


def test_typed_text_arrives_as_slack_delivers_it() -> None:
    ws = Workspace()
    text = payloads.message_text("@jwtcheck <b>&</b> see https://login.acme.test/x. or mail@jwtcheck.test", ws)
    assert text == "<@U0JWTCHECK> &lt;b&gt;&amp;&lt;/b&gt; see <https://login.acme.test/x>. or mail@jwtcheck.test"
    assert payloads.mentions(text, ws)
    form = parse_qs(payloads.command_body(ws, "<!channel> & co", "http://h/x"))
    assert form["text"] == ["&lt;!channel&gt; &amp; co"] and form["command"] == ["/jwtcheck"]
    event = json.loads(payloads.event_body(ws, payloads.message_event(ws, ws.add(ws.person, "x"))))
    assert event["type"] == "event_callback" and event["event_id"].startswith("Ev")
    assert event["event"]["user"] == ws.person.id and event["authorizations"][0]["user_id"] == ws.bot.id


def test_blocks_slack_would_refuse_are_named() -> None:
    assert block_problems([{"type": "header", "text": {"type": "plain_text", "text": "ok"}}]) == []
    [too_long] = block_problems([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}])
    assert "150" in too_long and "/blocks/0" in too_long
    assert block_problems([{"type": "divider", "block_id": "a"}, {"type": "divider", "block_id": "a"}])
    assert block_problems([{"type": "no_such_block"}])
    assert block_problems([{"type": "divider"}] * 51)
    assert block_problems("not a list")


# --- the Web API ----------------------------------------------------------------------------------


async def api(
    http: aiohttp.ClientSession, pg: Playground, method: str, *, token: str | None = None, **params: Any
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token if token is not None else pg.emulator.bot_token}"}
    async with http.post(f"{pg.url}/api/{method}", json=params, headers=headers) as response:
        assert response.status == 200
        answer: dict[str, Any] = await response.json()
        return answer


async def test_web_api_posts_updates_and_returns_threads(playground: Playground, http: aiohttp.ClientSession) -> None:
    pg, ws = playground, playground.workspace
    channel = ws.channel_id
    auth = await api(http, pg, "auth.test")
    assert auth["ok"] and auth["user_id"] == ws.bot.id and auth["team_id"] == ws.team_id
    assert (await api(http, pg, "auth.test", token=""))["error"] == "not_authed"
    assert (await api(http, pg, "auth.test", token="xoxb-wrong"))["error"] == "invalid_auth"

    parent = await api(http, pg, "chat.postMessage", channel=channel, text="parent")
    blocks = [{"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "*card*"}}]
    reply = await api(http, pg, "chat.postMessage", channel=channel, thread_ts=parent["ts"], text="card", blocks=blocks)
    assert reply["ok"] and reply["message"]["blocks"] == blocks
    thread = await api(http, pg, "conversations.replies", channel=channel, ts=parent["ts"])
    assert [m["text"] for m in thread["messages"]] == ["parent", "card"]
    assert all(m["bot_id"] == ws.bot.bot_id for m in thread["messages"])

    updated = await api(
        http,
        pg,
        "chat.update",
        channel=channel,
        ts=reply["ts"],
        text="card v2",
        blocks=[{"type": "divider", "block_id": "d"}],
    )
    assert updated["ok"]
    stored = ws.get(channel, reply["ts"])
    assert stored is not None and stored.text == "card v2" and stored.blocks == [{"type": "divider", "block_id": "d"}]
    assert ws.view(ws.get(channel, parent["ts"]))["reply_count"] == 1  # type: ignore[arg-type]

    person = ws.add(ws.person, "mine")
    assert (await api(http, pg, "chat.update", channel=channel, ts=person.ts, text="x"))[
        "error"
    ] == "cant_update_message"
    assert (await api(http, pg, "chat.update", channel=channel, ts="1.000001", text="x"))[
        "error"
    ] == "message_not_found"
    assert (await api(http, pg, "chat.postMessage", channel="CNOPE", text="x"))["error"] == "channel_not_found"
    assert (await api(http, pg, "chat.postMessage", channel=channel))["error"] == "no_text"
    refused = await api(
        http,
        pg,
        "chat.postMessage",
        channel=channel,
        blocks=[{"type": "header", "text": {"type": "plain_text", "text": "x" * 200}}],
    )
    assert refused["error"] == "invalid_blocks" and refused["errors"]
    assert (await api(http, pg, "users.list"))["error"] == "unknown_method"
    assert pg.emulator.calls["chat.postMessage"] >= 4


async def test_response_urls_answer_privately_replace_and_expire_after_five_uses(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    ws, emulator = playground.workspace, playground.emulator
    card = ws.add(ws.bot, "card", [{"type": "divider", "block_id": "d"}])
    hook = emulator.new_hook(ws.channel_id, card.ts)
    async with http.post(hook.url, json={"text": "only you", "response_type": "ephemeral"}) as response:
        assert response.status == 200
    private = ws.messages()[-1]
    assert private.ephemeral and private.text == "only you"
    async with http.post(hook.url, json={"text": "v2", "replace_original": True}) as response:
        assert response.status == 200
    assert card.text == "v2" and card.blocks == [{"type": "divider", "block_id": "d"}]
    async with http.post(hook.url, json={"text": "everyone", "response_type": "in_channel"}) as response:
        assert response.status == 200
    assert not ws.messages()[-1].ephemeral
    for _ in range(HOOK_USES - 3):
        async with http.post(hook.url, json={"text": "again"}) as response:
            assert response.status == 200
    async with http.post(hook.url, json={"text": "one too many"}) as response:
        assert response.status == 404 and await response.text() == "used_url"
    async with http.post(f"{playground.url}/hooks/unknown", json={"text": "x"}) as response:
        assert response.status == 404


# --- the whole bot, through the page's API ----------------------------------------------------------


async def page_post(http: aiohttp.ClientSession, pg: Playground, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with http.post(f"{pg.url}/playground/{path}", json=body) as response:
        answer: dict[str, Any] = await response.json()
        return answer


def bot_replies(pg: Playground, thread_ts: str) -> list[Any]:
    return [m for m in pg.workspace.messages() if m.thread_ts == thread_ts and m.author.id == pg.workspace.bot.id]


def everything_the_bot_posted(pg: Playground) -> str:
    return json.dumps([[m.text, m.blocks] for m in pg.workspace.messages() if m.author.id == pg.workspace.bot.id])


async def test_a_pasted_token_gets_a_card_in_its_thread_and_show_fix_updates_it(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    raw = skewed_token()
    sent = await page_post(http, playground, "send", {"text": f"401 with Bearer {raw}", "thread_ts": None})
    assert sent["ok"]
    await playground.settle()
    [card] = bot_replies(playground, sent["ts"])
    assert card.blocks[0]["type"] == "header" and "clock skew" in card.blocks[0]["text"]["text"].lower()
    assert signature_of(raw) not in everything_the_bot_posted(playground)

    button = next(
        element
        for block in card.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["text"]["text"] == "Show fix: PyJWT"
    )
    block_id = next(block["block_id"] for block in card.blocks if button in block.get("elements", []))
    clicked = await page_post(
        http,
        playground,
        "click",
        {"channel": card.channel, "ts": card.ts, "block_id": block_id, "action_id": button["action_id"]},
    )
    assert clicked["ok"]
    await playground.settle()
    assert "jwt.decode(" in json.dumps(card.blocks)  # the same message, updated in place
    assert len(bot_replies(playground, sent["ts"])) == 1

    refused = await page_post(
        http,
        playground,
        "click",
        {"channel": card.channel, "ts": card.ts, "block_id": block_id, "action_id": "jwtcheck_forged"},
    )
    assert refused == {"ok": False, "error": "no such button"}


async def test_a_mention_is_answered_once_though_slack_sends_two_events(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    sent = await page_post(http, playground, "send", {"text": f"@jwtcheck {token(exp=-7200)}"})
    await playground.settle()
    assert len(bot_replies(playground, sent["ts"])) == 1


async def test_slash_commands_post_a_summary_and_private_answers_stay_private(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    ws = playground.workspace
    assert (await page_post(http, playground, "send", {"text": f"/jwtcheck {skewed_token()}"}))["ok"]
    await playground.settle()
    [summary] = [m for m in ws.messages() if m.author.id == ws.bot.id and m.thread_ts is None]
    assert summary.text.startswith(f"<@{ws.person.id}> ran `/jwtcheck`")
    assert len(bot_replies(playground, summary.ts)) == 1

    await page_post(http, playground, "send", {"text": f"/jwtcheck {token(exp=-7200)} private"})
    await page_post(http, playground, "send", {"text": "/jwtcheck help"})
    await page_post(http, playground, "send", {"text": "/deploy"})
    await playground.settle()
    private = [m for m in ws.messages() if m.ephemeral]
    assert any(m.blocks and "expired" in json.dumps(m.blocks).lower() for m in private)
    assert any("Usage" in m.text for m in private)
    assert any(m.author.id == ws.slackbot.id and "not a valid command" in m.text for m in private)


async def test_an_unacknowledged_delivery_is_said_in_the_channel(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    playground.delivery._secret = "not-the-bot-s-secret"  # the bot refuses what it cannot verify
    await page_post(http, playground, "send", {"text": "/jwtcheck help"})
    await playground.settle()
    [notice] = [m for m in playground.workspace.messages() if m.ephemeral]
    assert notice.author.id == playground.workspace.slackbot.id and "http_401" in notice.text


# --- the page and its guards ------------------------------------------------------------------------


async def test_the_page_is_served_with_a_strict_content_security_policy(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    async with http.get(playground.url) as response:
        assert response.status == 200 and response.content_type == "text/html"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        html = await response.text()
    assert "<script>" not in html and 'src="/static/app.js"' in html
    for name, kind in (("app.js", "text/javascript"), ("mrkdwn.js", "text/javascript"), ("app.css", "text/css")):
        async with http.get(f"{playground.url}/static/{name}") as response:
            assert response.status == 200 and response.content_type == kind
    for missing in ("../server.py", "nope.js", "%2e%2e%2fserver.py"):
        async with http.get(f"{playground.url}/static/{missing}") as response:
            assert response.status == 404
    async with http.get(f"{playground.url}/playground/samples") as response:
        samples = (await response.json())["samples"]
    assert len(samples) > 10 and all(s["title"] and s["text"] for s in samples)
    assert any("aud=orders-api" in s["text"] for s in samples if "Audience" in s["title"])


async def test_cross_site_and_rebinding_requests_are_refused(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    url = f"{playground.url}/playground/send"
    async with http.post(url, json={"text": "hi"}, headers={"Origin": "https://evil.test"}) as response:
        assert response.status == 403
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    async with http.post(url, data="text=hi", headers=form) as response:
        assert response.status == 415
    async with http.get(playground.url, headers={"Host": "evil.test"}) as response:
        assert response.status == 403
    async with http.post(url, json={"text": "   "}) as response:
        assert response.status == 400
    assert playground.workspace.messages() == []


def test_the_page_scripts_never_parse_html() -> None:
    from importlib import resources

    folder = resources.files("bot.playground") / "static"
    for name in ("app.js", "blocks.js", "mrkdwn.js"):
        source = (folder / name).read_text()
        for sink in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
            "DOMParser",
            "createContextualFragment",
            'setAttribute("on',
        ):
            assert sink not in source, f"{name} uses {sink}"
