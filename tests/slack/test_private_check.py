"""The private check: ``/jwtcheck`` with no text, the global shortcut and App Home's button open one modal;
its submission is answered in the modal only (inline errors, or the card), and the card's buttons redraw
it with ``views.update``. Nothing is posted in any channel; no signature anywhere."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import redis.asyncio as aioredis
from slack_sdk.models.views import View

from bot.config import ServicesConfig, load_services
from bot.render.mrkdwn import ulen
from bot.slack import private_check
from bot.slack.private_check import (
    AUDIENCE,
    CALLBACK_ID,
    CREDENTIAL,
    ISSUER,
    LEEWAY,
    NOTHING_FOUND,
    NOTHING_TO_CHECK,
    SERVICE,
    TEXT,
    VALUE,
)
from bot.store.codec import CARD_IN_VIEW
from tests.slack.conftest import Bot, BotFactory, Reply
from tests.support.redis_dump import everything_in_redis
from tests.support.slack_api import MockSlack
from tests.support.slack_requests import (
    block_action,
    global_shortcut,
    submitted_view,
    view_block_action,
    view_submission,
)
from tests.support.tokens import T, claims, make_token, signature_of

FORM = "application/x-www-form-urlencoded"
VIEW_ID = "V0PRIVATE1"
POSTING = {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage"}


def assert_view_limits(view: dict[str, Any]) -> None:
    """Slack's limits for a modal, by slack_sdk's own view model, and the ones it does not check."""
    View(**view).validate_json()
    assert view["type"] == "modal" and 1 <= ulen(view["title"]["text"]) <= 24
    for key in ("submit", "close"):
        if key in view:
            assert 1 <= ulen(view[key]["text"]) <= 24
    blocks = view["blocks"]
    assert 1 <= len(blocks) <= 100
    ids = [block.get("block_id") for block in blocks if block.get("block_id")]
    assert len(ids) == len(set(ids)) and all(len(i) <= 255 for i in ids)
    assert len(view.get("private_metadata", "")) <= 3000 and len(view.get("callback_id", "")) <= 255
    assert len(json.dumps(view)) < 250_000


def views_sent(slack: MockSlack) -> list[dict[str, Any]]:
    return [call.params["view"] for call in slack.calls if call.method.startswith("views.")]


def nothing_posted(slack: MockSlack) -> bool:
    return not [c for c in slack.calls if c.method in POSTING or c.method.startswith("response:")]


def form_values(
    text: str | None = None, *, service: str | None = None, aud: str = "", iss: str = "", leeway: str = ""
) -> dict[str, dict[str, dict[str, Any]]]:
    values: dict[str, dict[str, dict[str, Any]]] = {
        TEXT: {VALUE: {"type": "plain_text_input", "value": text}},
        AUDIENCE: {VALUE: {"type": "plain_text_input", "value": aud or None}},
        ISSUER: {VALUE: {"type": "plain_text_input", "value": iss or None}},
        LEEWAY: {VALUE: {"type": "plain_text_input", "value": leeway or None}},
    }
    if service is not None:
        option = {"text": {"type": "plain_text", "text": service, "emoji": True}, "value": service}
        values[SERVICE] = {VALUE: {"type": "static_select", "selected_option": option}}
    return values


async def open_form(bot: Bot) -> dict[str, Any]:
    reply = await bot.post(global_shortcut(), FORM)
    assert reply.status == 200 and reply.text == ""
    [opened] = bot.slack.of("views.open")
    return dict(opened.params["view"])


async def submit(bot: Bot, view: dict[str, Any], values: dict[str, Any], **extra: Any) -> Reply:
    shown = submitted_view(view, values, view_id=VIEW_ID, **extra)
    return await bot.post(view_submission(shown), FORM)


def acked(reply: Reply) -> dict[str, Any]:
    assert reply.status == 200, reply
    answer = json.loads(reply.text)
    assert isinstance(answer, dict)
    return answer


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [element for block in blocks if block["type"] == "actions" for element in block["elements"]]


@pytest.fixture
def services(tmp_path: Path) -> ServicesConfig:
    path = tmp_path / "services.toml"
    path.write_text(
        '[services.orders]\naudiences = ["orders-api"]\nissuers = ["https://login.acme.test/"]\n'
        '[services.billing]\naudiences = ["billing-api"]\n',
        encoding="utf-8",
    )
    return load_services(path)


async def test_the_global_shortcut_opens_the_form_with_its_trigger_id(bot: Bot, slack: MockSlack) -> None:
    view = await open_form(bot)
    [opened] = slack.of("views.open")
    assert opened.params["trigger_id"] == "944799105734.773906753841.38b5"
    assert view["callback_id"] == CALLBACK_ID and view["title"]["text"] == "Private JWT check"
    blocks = {block["block_id"]: block for block in view["blocks"]}
    assert blocks[TEXT]["element"]["multiline"] is True and not blocks[TEXT].get("optional")
    assert SERVICE not in blocks  # no services config: no picker
    assert all(blocks[b]["optional"] for b in (AUDIENCE, ISSUER, LEEWAY))
    assert_view_limits(view)


async def test_a_single_service_is_preselected_and_several_are_listed(
    make_bot: BotFactory, slack: MockSlack, services: ServicesConfig, tmp_path: Path
) -> None:
    bot = await make_bot(services=services)
    view = await open_form(bot)
    picker = next(b for b in view["blocks"] if b["block_id"] == SERVICE)["element"]
    assert [o["value"] for o in picker["options"]] == ["billing", "orders"] and "initial_option" not in picker
    one = tmp_path / "one.toml"
    one.write_text('[services.orders]\naudiences = ["orders-api"]\n', encoding="utf-8")
    single = await make_bot(services=load_services(one))
    await single.post(global_shortcut(trigger_id="2.2.2"), FORM)
    await single.settle()
    picker = next(b for b in slack.of("views.open")[-1].params["view"]["blocks"] if b["block_id"] == SERVICE)
    assert picker["element"]["initial_option"]["value"] == "orders"
    assert_view_limits(slack.of("views.open")[-1].params["view"])


async def test_a_token_submitted_updates_the_modal_with_its_card_and_nothing_else_happens(
    bot: Bot, slack: MockSlack, redis_raw: aioredis.Redis
) -> None:
    view = await open_form(bot)
    answer = acked(await submit(bot, view, form_values(f"Bearer {make_token(claims(nbf=T + 70))}")))
    await bot.settle()
    assert answer["response_action"] == "update"
    card = answer["view"]
    assert_view_limits(card)
    shown = json.dumps(card)
    assert "Clock skew" in shown and "Only you can see this check" in shown
    assert nothing_posted(slack) and [c.method for c in slack.calls if c.method != "auth.test"] == ["views.open"]
    stored = [await redis_raw.get(key) for key in await redis_raw.keys("jwtcheck:card:*")]
    assert len(stored) == 1 and stored[0] is not None
    assert json.loads(stored[0])[0] == CARD_IN_VIEW and json.loads(stored[0])[7][-1] == VIEW_ID


async def test_expectations_from_the_form_are_applied(bot: Bot) -> None:
    view = await open_form(bot)
    token = make_token(claims(aud="orders-api", exp=T + 600))
    answer = acked(await submit(bot, view, form_values(token, aud="billing-api", leeway="30s")))
    assert "audience" in json.dumps(answer["view"]).lower()


async def test_an_empty_submission_gets_an_inline_error(bot: Bot, slack: MockSlack) -> None:
    view = await open_form(bot)
    for text in (None, "   \n "):
        answer = acked(await submit(bot, view, form_values(text)))
        assert answer == {"response_action": "errors", "errors": {TEXT: NOTHING_TO_CHECK}}
    answer = acked(await submit(bot, view, form_values("is the api down?")))
    assert answer == {"response_action": "errors", "errors": {TEXT: NOTHING_FOUND}}
    await bot.settle()
    assert nothing_posted(slack)


async def test_a_bad_leeway_and_a_token_given_as_an_audience_get_inline_errors_that_quote_nothing(
    bot: Bot, slack: MockSlack
) -> None:
    view = await open_form(bot)
    token = make_token(claims(nbf=T + 70))
    for leeway in ("soon", "-5", "1e12", "nan"):
        answer = acked(await submit(bot, view, form_values(token, leeway=leeway)))
        assert answer["response_action"] == "errors" and set(answer["errors"]) == {LEEWAY}
        assert leeway not in answer["errors"][LEEWAY]
    answer = acked(await submit(bot, view, form_values(token, aud=token, iss=token.rsplit(".", 1)[0])))
    assert answer == {"response_action": "errors", "errors": {AUDIENCE: CREDENTIAL, ISSUER: CREDENTIAL}}
    assert signature_of(token) not in json.dumps([r.text for r in bot.responses])
    await bot.settle()
    assert nothing_posted(slack) and not slack.of("views.update")


async def test_a_service_picked_judges_the_token_against_it_and_an_unknown_one_is_refused(
    make_bot: BotFactory, services: ServicesConfig
) -> None:
    bot = await make_bot(services=services)
    view = await open_form(bot)
    token = make_token(claims(aud="orders-api", iss="https://login.acme.test/", exp=T + 600))
    answer = acked(await submit(bot, view, form_values(token, service="billing")))
    assert answer["response_action"] == "update"
    shown = json.dumps(answer["view"])
    assert "judged against billing" in shown and "billing-api" in shown
    answer = acked(await submit(bot, view, form_values(token, service="payroll")))
    assert answer["response_action"] == "errors" and set(answer["errors"]) == {SERVICE}


async def test_show_fix_and_votes_in_the_modal_update_that_view_on_any_replica(
    make_bot: BotFactory, slack: MockSlack
) -> None:
    first, second = await make_bot(), await make_bot()
    view = await open_form(first)
    card = acked(await submit(first, view, form_values(make_token(claims(nbf=T + 70)))))["view"]
    shown = submitted_view(card, {}, view_id=VIEW_ID, view_hash="h1")
    pyjwt = next(b for b in buttons(card["blocks"]) if b["text"]["text"] == "Show fix: PyJWT")
    assert (await second.post(view_block_action(pyjwt["action_id"], pyjwt["value"], shown), FORM)).status == 200
    await second.settle()
    [update] = slack.of("views.update")
    assert update.params["view_id"] == VIEW_ID and update.params["hash"] == "h1"
    assert "leeway=" in json.dumps(update.params["view"]) and "PyJWT 2.8.0" in json.dumps(update.params["view"])
    assert_view_limits(update.params["view"])
    fixed = next(b for b in buttons(card["blocks"]) if b["text"]["text"] == "This fixed it")
    redrawn = submitted_view(update.params["view"], {}, view_id=VIEW_ID, view_hash="h2")
    await first.post(view_block_action(fixed["action_id"], fixed["value"], redrawn), FORM)
    await first.settle()
    vote = slack.of("views.update")[-1]
    assert vote.params["hash"] == "h2" and "1 of 1 here" in json.dumps(vote.params["view"])
    assert_view_limits(vote.params["view"])
    assert nothing_posted(slack)


async def test_a_click_naming_another_view_still_updates_the_cards_own_view_without_a_hash(
    bot: Bot, slack: MockSlack
) -> None:
    view = await open_form(bot)
    card = acked(await submit(bot, view, form_values(make_token(claims(nbf=T + 70)))))["view"]
    pyjwt = next(b for b in buttons(card["blocks"]) if b["text"]["text"] == "Show fix: PyJWT")
    elsewhere = submitted_view(card, {}, view_id="V0SOMEONE9", view_hash="zz")
    await bot.post(view_block_action(pyjwt["action_id"], pyjwt["value"], elsewhere), FORM)
    await bot.settle()
    [update] = slack.of("views.update")
    assert update.params["view_id"] == VIEW_ID and "hash" not in update.params


async def test_a_check_slower_than_the_ack_budget_says_checking_then_updates_the_view(
    bot: Bot, slack: MockSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(private_check, "ACK_BUDGET", 0)  # the diagnosis is never done before the budget
    view = await open_form(bot)
    answer = acked(await submit(bot, view, form_values(make_token(claims(nbf=T + 70)))))
    assert answer["response_action"] == "update" and "Checking" in json.dumps(answer["view"])
    await bot.settle()
    [update] = slack.of("views.update")
    assert update.params["view_id"] == VIEW_ID and "Clock skew" in json.dumps(update.params["view"])
    for sent in [answer["view"], *views_sent(slack)]:
        assert_view_limits(sent)
    assert nothing_posted(slack)


async def test_slash_command_with_no_text_opens_the_modal_and_help_still_answers(bot: Bot, slack: MockSlack) -> None:
    assert (await bot.command("")).status == 200
    await bot.command("help", response="help")
    await bot.settle()
    [opened] = slack.of("views.open")
    assert opened.params["trigger_id"] == "1.2.3" and opened.params["view"]["callback_id"] == CALLBACK_ID
    assert_view_limits(opened.params["view"])
    assert slack.of("response:r1") == []
    [usage] = slack.of("response:help")
    assert "*Usage:*" in usage.params["text"]


async def test_slash_command_with_no_text_answers_the_usage_when_the_modal_cannot_open(
    bot: Bot, slack: MockSlack
) -> None:
    slack.fail("views.open", error="expired_trigger_id")
    await bot.command("")
    await bot.settle()
    [usage] = slack.of("response:r1")
    assert "*Usage:*" in usage.params["text"]


async def test_app_home_s_button_opens_the_modal(bot: Bot, slack: MockSlack) -> None:
    body = block_action("open_private_check", "open", response_url=slack.response_url("home"))
    trigger = json.loads(parse_qs(body)["payload"][0])["trigger_id"]
    assert (await bot.post(body, FORM)).status == 200
    await bot.settle()
    [opened] = slack.of("views.open")
    assert opened.params["trigger_id"] == trigger and opened.params["view"]["callback_id"] == CALLBACK_ID
    assert nothing_posted(slack)


async def test_no_signature_reaches_slack_redis_the_acks_or_the_logs(
    bot: Bot, slack: MockSlack, redis_raw: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = make_token(claims(nbf=T + 70))
    view = await open_form(bot)
    card = acked(await submit(bot, view, form_values(f"Authorization: Bearer {token}", aud="orders-api")))["view"]
    acked(await submit(bot, view, form_values(token, leeway="bad")))
    pyjwt = next(b for b in buttons(card["blocks"]) if b["text"]["text"] == "Show fix: PyJWT")
    await bot.post(
        view_block_action(pyjwt["action_id"], pyjwt["value"], submitted_view(card, {}, view_id=VIEW_ID)), FORM
    )
    await bot.settle()
    assert slack.of("views.update")
    sent = slack.everything_sent() + "".join(r.text for r in bot.responses)
    assert token not in sent and signature_of(token) not in sent
    assert signature_of(token) not in await everything_in_redis(redis_raw)
    logged = caplog.text + "".join(str(r.exc_info or "") for r in caplog.records)
    assert signature_of(token) not in logged
    assert nothing_posted(slack)
    for view in [card, *views_sent(slack)]:
        assert_view_limits(view)
