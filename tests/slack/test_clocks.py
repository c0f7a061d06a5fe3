"""Slack's message timestamps measure the issuer's clock; cards get sharper as evidence accumulates."""

from __future__ import annotations

import json
import time

from tests.slack.conftest import Bot
from tests.support.slack_api import MockSlack
from tests.support.slack_requests import message
from tests.support.tokens import T, claims, make_token


def clock_lines(slack: MockSlack) -> list[str]:
    lines = []
    for call in slack.of("chat.postMessage"):
        text = json.dumps(call.params.get("blocks") or [])
        start = text.find("🕒") if "🕒" in text else text.find("\\ud83d\\udd52")
        lines.append(text[start:start + 300] if start >= 0 else "")
    return lines


async def test_tokens_issued_after_the_message_that_carries_them_show_the_issuer_ahead(bot: Bot,
                                                                                   slack: MockSlack) -> None:
    for n in range(3):
        posted = T - 30 + n
        token = make_token(claims(iat=posted + 42, nbf=posted + 42, exp=posted + 3600, n=n))
        await bot.event(message(f"401 again: {token}", ts=f"{posted}.000100"), f"Ev{n}")
        await bot.settle()
    first, _, third = clock_lines(slack)
    assert "login.acme.test's clock" in first
    assert "at least 41 s ahead of Slack" in first and "1 token," in first
    assert "3 tokens," in third and "leeway of 60 s" in third


async def test_tokens_issued_before_their_message_add_no_clock_note(bot: Bot, slack: MockSlack) -> None:
    posted = T - 30
    token = make_token(claims(iat=posted - 120, exp=posted + 3600))
    await bot.event(message(token, ts=f"{posted}.000100"), "Ev1")
    await bot.settle()
    assert clock_lines(slack) == [""]


async def test_a_slash_command_is_measured_by_slacks_request_timestamp(bot: Bot, slack: MockSlack) -> None:
    now = int(time.time())
    await bot.command(make_token(claims(iat=now + 120, exp=now + 3600)))
    await bot.settle()
    _, card = slack.of("chat.postMessage")
    assert "at least 1 min" in json.dumps(card.params["blocks"])


async def test_an_error_message_printing_the_validators_time_measures_the_validator(bot: Bot,
                                                                                  slack: MockSlack) -> None:
    posted = T - 30
    ahead = posted + 400
    stamp = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(ahead))
    valid_to = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(ahead - 90))
    line = (f"IDX10223: Lifetime validation failed. The token is expired. ValidTo (UTC): '{valid_to}', "
            f"Current time (UTC): '{stamp}'.")
    await bot.event(message(line, ts=f"{posted}.000100"), "Ev1")
    await bot.settle()
    [note] = clock_lines(slack)
    assert "the validator (microsoft-identitymodel)'s clock is at least 6 min 39 s ahead of Slack" in note
    assert "Fix NTP on the validating hosts" in note
