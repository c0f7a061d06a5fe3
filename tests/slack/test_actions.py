"""Buttons: "Show fix" expands the card in place, votes count once per user; any replica can handle a click."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.render.blocks import parse_show_fix_value, parse_vote_value
from bot.slack.listeners.actions.gone import OTHER_VERSION
from bot.store.codec import CARD
from tests.slack.conftest import Bot, BotFactory
from tests.support.slack_api import MockSlack
from tests.support.slack_requests import message
from tests.support.tokens import T, claims, make_token

TS = "1795899990.000100"


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [element for block in blocks if block["type"] == "actions" for element in block["elements"]]


def button(blocks: list[dict[str, Any]], label: str) -> dict[str, Any]:
    return next(b for b in buttons(blocks) if b["type"] == "button" and b["text"]["text"] == label)


def select(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return next(b for b in buttons(blocks) if b["type"] == "static_select")


async def post_skew_card(bot: Bot, slack: MockSlack) -> tuple[str, list[dict[str, Any]]]:
    await bot.event(message(make_token(claims(nbf=T + 70)), ts=TS), "Ev1")
    await bot.settle()
    [card] = slack.of("chat.postMessage")
    return "1795900000.000001", card.params["blocks"]


async def test_show_fix_on_another_replica_expands_the_card_with_the_snippet(
    make_bot: BotFactory, slack: MockSlack
) -> None:
    poster, clicker = await make_bot(), await make_bot()
    card_ts, blocks = await post_skew_card(poster, slack)
    pyjwt = button(blocks, "Show fix: PyJWT")
    assert parse_show_fix_value(pyjwt["value"]) is not None and len(pyjwt["value"]) < 100
    reply = await clicker.click(pyjwt["action_id"], pyjwt["value"], message_ts=card_ts)
    assert reply.status == 200
    await clicker.settle()
    [update] = slack.of("chat.update")
    assert update.params["ts"] == card_ts and update.params["channel"] == "CINCIDENT"
    expanded = json.dumps(update.params["blocks"])
    assert "leeway=" in expanded and "PyJWT 2.8.0" in expanded
    old_ids = {block.get("block_id") for block in blocks}
    assert old_ids.isdisjoint(block.get("block_id") for block in update.params["blocks"])


async def test_a_stack_picked_in_the_select_expands_the_card_with_its_snippet(bot: Bot, slack: MockSlack) -> None:
    card_ts, blocks = await post_skew_card(bot, slack)
    more = select(blocks)
    [golang] = [option for option in more["options"] if option["value"].endswith("|golang-jwt")]
    assert all(b["text"]["text"] != "Show fix: golang-jwt" for b in buttons(blocks) if b["type"] == "button")
    await bot.click(more["action_id"], golang["value"], message_ts=card_ts, selected=True)
    await bot.settle()
    [update] = slack.of("chat.update")
    expanded = json.dumps(update.params["blocks"])
    assert "golang-jwt 5.2.1" in expanded and "jwt.WithLeeway(" in expanded
    assert select(update.params["blocks"])["initial_option"]["value"] == golang["value"]


async def test_a_second_click_on_the_same_library_folds_the_snippet_away(bot: Bot, slack: MockSlack) -> None:
    card_ts, blocks = await post_skew_card(bot, slack)
    pyjwt = button(blocks, "Show fix: PyJWT")
    for _ in range(2):
        await bot.click(pyjwt["action_id"], pyjwt["value"], message_ts=card_ts)
        await bot.settle()
    opened, folded = (json.dumps(call.params["blocks"]) for call in slack.of("chat.update"))
    assert "leeway=" in opened and "leeway=" not in folded


async def test_votes_count_once_per_user_and_a_second_click_changes_it(make_bot: BotFactory, slack: MockSlack) -> None:
    first, second = await make_bot(), await make_bot()
    card_ts, blocks = await post_skew_card(first, slack)
    fixed = button(blocks, "This fixed it")
    didnt = next(
        b
        for b in buttons(blocks)
        if parse_vote_value(b["value"])
        and b["value"].endswith("didnt_help")
        and b["value"].split("|")[1] == fixed["value"].split("|")[1]
    )
    await first.click(fixed["action_id"], fixed["value"], message_ts=card_ts, user="UBOB0001")
    await first.settle()
    await second.click(fixed["action_id"], fixed["value"], message_ts=card_ts, user="UCAROL01")
    await second.settle()
    assert "2 of 2 here" in json.dumps(slack.of("chat.update")[-1].params["blocks"])
    await first.click(didnt["action_id"], didnt["value"], message_ts=card_ts, user="UBOB0001")
    await first.settle()
    assert "1 of 2 here" in json.dumps(slack.of("chat.update")[-1].params["blocks"])
    await first.click(fixed["action_id"], fixed["value"], message_ts=card_ts, user="UCAROL01")
    await first.settle()
    assert "1 of 2 here" in json.dumps(slack.of("chat.update")[-1].params["blocks"])


async def test_a_new_card_shows_the_workspace_votes_already_cast(bot: Bot, slack: MockSlack) -> None:
    card_ts, blocks = await post_skew_card(bot, slack)
    fixed = button(blocks, "This fixed it")
    await bot.click(fixed["action_id"], fixed["value"], message_ts=card_ts)
    await bot.settle()
    await bot.event(message(make_token(claims(nbf=T + 80)), ts="1795899999.000100"), "Ev2")
    await bot.settle()
    assert "1 of 1 here" in json.dumps(slack.of("chat.postMessage")[-1].params["blocks"])


async def test_an_ephemeral_card_is_updated_through_the_clicks_response_url(bot: Bot, slack: MockSlack) -> None:
    await bot.command(f"{make_token(claims(nbf=T + 70))} private")
    await bot.settle()
    [card] = slack.of("response:r1")
    library = button(card.params["blocks"], "Show fix: express-jwt")
    await bot.click(library["action_id"], library["value"], response="click1", ephemeral=True)
    await bot.settle()
    [update] = slack.of("response:click1")
    assert update.params["replace_original"] is True and "expressjwt(" in json.dumps(update.params["blocks"])
    assert slack.of("chat.update") == []


async def test_a_click_on_an_unknown_card_says_it_is_too_old(bot: Bot, slack: MockSlack) -> None:
    await bot.click("jwtcheck_show_fix:0", "0123456789abcdef|pyjwt", response="old")
    await bot.settle()
    assert "too old" in slack.of("response:old")[0].params["text"]


async def test_forged_button_values_are_ignored(bot: Bot, slack: MockSlack) -> None:
    for value in ("", "|", "a|b|c|d", "../../etc|pyjwt", "x" * 3000):
        assert (await bot.click("jwtcheck_show_fix:0", value, response="forged")).status == 200
    await bot.settle()
    assert slack.of("chat.update") == []


LEGACY = json.loads((Path(__file__).parents[1] / "store" / "legacy_cards.json").read_text(encoding="utf-8"))


async def test_a_card_the_previous_version_posted_still_takes_clicks(
    bot: Bot, slack: MockSlack, redis_raw: aioredis.Redis
) -> None:
    """A deploy in the middle of an incident: the cards already in the channel keep working."""
    old = json.loads(LEGACY["skew"])  # expanded on PyJWT, revision 2
    await redis_raw.set(f"jwtcheck:card:{old['card_id']}", LEGACY["skew"], ex=600)
    await bot.click("jwtcheck_show_fix:1", f"{old['card_id']}|express-jwt", message_ts=old["ts"])
    await bot.settle()
    [update] = slack.of("chat.update")
    blocks = json.dumps(update.params["blocks"])
    assert update.params["ts"] == old["ts"] and f"jc-{old['card_id']}-r3-" in blocks
    assert "expressjwt(" in blocks and "🕒" in json.dumps(update.params["blocks"], ensure_ascii=False)
    fixed = button(update.params["blocks"], "This fixed it")
    await bot.click(fixed["action_id"], fixed["value"], message_ts=old["ts"])
    await bot.settle()
    assert "1 of 1 here" in json.dumps(slack.of("chat.update")[-1].params["blocks"])
    stored = await redis_raw.get(f"jwtcheck:card:{old['card_id']}")
    assert stored is not None and json.loads(stored)[0] == CARD  # saved again, in this version's layout


@pytest.mark.parametrize("stored", ['["card/2", "0a1b2c3d4e5f6071", "T00000001", "CINCIDENT"]', "{damaged"])
async def test_a_card_another_version_wrote_is_refused_with_a_clear_answer(
    bot: Bot, slack: MockSlack, redis_raw: aioredis.Redis, stored: str
) -> None:
    await redis_raw.set("jwtcheck:card:0a1b2c3d4e5f6071", stored, ex=600)
    await bot.click("jwtcheck_show_fix:0", "0a1b2c3d4e5f6071|pyjwt", response="old")
    await bot.click("jwtcheck_vote:1:fixed", "0a1b2c3d4e5f6071|clock_leeway|fixed", response="old2")
    await bot.settle()
    for name in ("response:old", "response:old2"):
        [answer] = slack.of(name)
        assert answer.params["text"] == OTHER_VERSION and answer.params["response_type"] == "ephemeral"
    assert slack.of("chat.update") == []
    assert await redis_raw.hvals("jwtcheck:votes:{T00000001}:clock_leeway") == []
