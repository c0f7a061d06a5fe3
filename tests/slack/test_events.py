"""Messages and mentions: one card in the thread per message, whatever Slack delivers twice."""

from __future__ import annotations

import json

from tests.slack.conftest import Bot, BotFactory
from tests.support.slack_api import BOT_ID, BOT_USER, MockSlack
from tests.support.slack_requests import message
from tests.support.tokens import T, claims, make_token, signature_of

TS = "1795899990.000100"


async def test_a_pasted_token_gets_a_card_in_the_message_thread(bot: Bot, slack: MockSlack) -> None:
    token = make_token(claims(exp=T - 7200))
    assert (await bot.event(message(f"getting 401s with {token}", ts=TS), "Ev1")).status == 200
    await bot.settle()
    [card] = slack.of("chat.postMessage")
    assert card.params["thread_ts"] == TS and card.params["channel"] == "CINCIDENT"
    assert "Token refused" in card.params["text"]
    assert signature_of(token) not in slack.everything_sent()


async def test_a_reply_in_a_thread_is_answered_in_that_thread(bot: Bot, slack: MockSlack) -> None:
    await bot.event(message(make_token(), ts=TS, thread_ts="1795899000.000001"), "Ev1")
    await bot.settle()
    assert slack.of("chat.postMessage")[0].params["thread_ts"] == "1795899000.000001"


async def test_an_error_line_gets_a_card_naming_the_library(bot: Bot, slack: MockSlack) -> None:
    await bot.event(message("prod: UnauthorizedError: jwt audience invalid. expected: orders-api", ts=TS), "Ev1")
    await bot.settle()
    [card] = slack.of("chat.postMessage")
    assert "express-jwt" in json.dumps(card.params["blocks"])


async def test_ordinary_chat_gets_no_reply(bot: Bot, slack: MockSlack) -> None:
    await bot.event(message("is anyone looking at the 401s?", ts=TS), "Ev1")
    await bot.settle()
    assert slack.of("chat.postMessage") == []


async def test_bots_edits_and_deletions_are_ignored(bot: Bot, slack: MockSlack) -> None:
    token = make_token()
    await bot.event(message(token, ts="1.1", bot_id="BOTHER01", subtype="bot_message"), "Ev1")
    await bot.event(message(token, ts="1.2", user=BOT_USER, bot_id=BOT_ID), "Ev2")
    await bot.event(message(token, ts="1.3", subtype="message_changed"), "Ev3")
    await bot.event(message(token, ts="1.4", subtype="message_deleted"), "Ev4")
    await bot.settle()
    assert slack.of("chat.postMessage") == []


async def test_a_mention_arriving_as_app_mention_and_message_gets_one_card(bot: Bot, slack: MockSlack) -> None:
    text = f"<@{BOT_USER}> why is this refused? {make_token(claims(nbf=T + 70))}"
    await bot.event(message(text, ts=TS), "EvMessage")
    await bot.event({**message(text, ts=TS), "type": "app_mention"}, "EvMention")
    await bot.settle()
    assert len(slack.of("chat.postMessage")) == 1


async def test_a_retry_is_answered_once_even_on_another_replica(make_bot: BotFactory, slack: MockSlack) -> None:
    first, second = await make_bot(), await make_bot()
    event = message(make_token(), ts=TS)
    await first.event(event, "EvRetried")
    await second.event(event, "EvRetried", retry=1)
    await first.event(event, "EvRetried", retry=2)
    await first.settle()
    await second.settle()
    assert len(slack.of("chat.postMessage")) == 1


async def test_a_retry_whose_first_attempt_failed_still_produces_the_card(bot: Bot, slack: MockSlack) -> None:
    slack.fail("chat.postMessage", status=200, error="fatal_error")
    event = message(make_token(), ts=TS)
    await bot.event(event, "EvFlaky")
    await bot.settle()
    await bot.event(event, "EvFlaky", retry=1)
    await bot.settle()
    posts = slack.of("chat.postMessage")
    assert len(posts) == 2 and "blocks" in posts[1].params


async def test_a_mention_in_a_thread_reads_the_thread_for_tokens(bot: Bot, slack: MockSlack) -> None:
    token = make_token(claims(exp=T - 7200))
    slack.threads[("CINCIDENT", "1795899000.000001")] = [
        {"user": "UCAROL01", "text": f"here is what the gateway saw: Bearer {token}", "ts": "1795899000.000001"},
        {"user": BOT_USER, "bot_id": BOT_ID, "text": "an earlier card", "ts": "1795899001.000001"},
    ]
    mention = {
        **message(f"<@{BOT_USER}> what is wrong here?", ts=TS, thread_ts="1795899000.000001"),
        "type": "app_mention",
    }
    await bot.event(mention, "EvMention")
    await bot.settle()
    [card] = slack.of("chat.postMessage")
    assert card.params["thread_ts"] == "1795899000.000001" and "expired" in card.params["text"].lower()


async def test_a_mention_with_nothing_to_diagnose_gets_a_one_line_hint(bot: Bot, slack: MockSlack) -> None:
    await bot.event({**message(f"<@{BOT_USER}> hello", ts=TS), "type": "app_mention"}, "EvMention")
    await bot.settle()
    [hint] = slack.of("chat.postMessage")
    assert "no JWT" in hint.params["text"] and "blocks" not in hint.params and hint.params["thread_ts"] == TS


async def test_a_live_token_in_a_channel_gets_a_warning_to_rotate_it(bot: Bot, slack: MockSlack) -> None:
    await bot.event(message(make_token(), ts=TS), "Ev1")
    await bot.event(message(make_token(claims(exp=T - 7200)), ts="1795899991.000100"), "Ev2")
    await bot.settle()
    by_thread = {call.params["thread_ts"]: json.dumps(call.params["blocks"]) for call in slack.of("chat.postMessage")}
    live, expired = by_thread[TS], by_thread["1795899991.000100"]  # threads are answered in no set order
    assert "rotate" in live and "rotate" not in expired


async def test_an_opaque_access_token_in_a_channel_gets_the_warning_too(bot: Bot, slack: MockSlack) -> None:
    await bot.event(
        message("curl -H 'Authorization: Bearer 2YotnFZFEjr1zCsicMWpAA' https://api.acme.test/", ts=TS), "Ev1"
    )
    await bot.settle()
    [card] = slack.of("chat.postMessage")
    assert "rotate" in json.dumps(card.params["blocks"]) and "2YotnFZFEjr1zCsicMWpAA" not in json.dumps(card.params)


async def test_claims_cannot_ping_the_channel_or_plant_links(bot: Bot, slack: MockSlack) -> None:
    hostile = claims(sub="<!channel>", name="<https://evil.example|click to fix>", iss="<@U0ADMIN>", exp=T - 7200)
    await bot.event(message(make_token(hostile), ts=TS), "Ev1")
    await bot.settle()
    sent = json.dumps([call.params for call in slack.of("chat.postMessage")])
    for dangerous in ("<!channel>", "<https://evil", "<@U0ADMIN>"):
        assert dangerous not in sent


async def test_many_tokens_in_one_message_give_a_few_cards_and_a_summary(bot: Bot, slack: MockSlack) -> None:
    tokens = " ".join(make_token(claims(n=n, exp=T - 7200)) for n in range(12))
    await bot.event(message(tokens, ts=TS), "Ev1")
    await bot.settle()
    posts = slack.of("chat.postMessage")
    assert len(posts) == 6 and "…and 7" in posts[-1].params["text"]
    assert all(len(call.params.get("blocks") or []) <= 50 for call in posts)


async def test_a_huge_message_is_answered_without_trouble(bot: Bot, slack: MockSlack) -> None:
    filler = "lorem ipsum eyJ " * 20_000
    reply = await bot.event(message(f"{filler} {make_token()} {filler}", ts=TS), "EvBig")
    await bot.settle()
    assert reply.status == 200 and len(slack.of("chat.postMessage")) == 1


async def test_a_body_over_a_megabyte_is_refused_before_any_work(bot: Bot, slack: MockSlack) -> None:
    reply = await bot.event(message("x" * 1_100_000, ts=TS), "EvHuge")
    assert reply.status == 413 and slack.of("chat.postMessage") == []
