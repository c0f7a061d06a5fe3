"""Slack's message timestamps measure the issuer's clock; cards get sharper as evidence accumulates."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import ServicesConfig, load_services
from tests.slack.conftest import Bot, BotFactory
from tests.support.date_server import DateServer
from tests.support.slack_api import MockSlack
from tests.support.slack_requests import message
from tests.support.tokens import T, claims, make_token


def clock_lines(slack: MockSlack) -> list[str]:
    lines = []
    for call in slack.of("chat.postMessage"):
        text = json.dumps(call.params.get("blocks") or [], ensure_ascii=False)
        start = text.find("🕒")
        lines.append(text[start : start + 300] if start >= 0 else "")
    return lines


async def test_tokens_issued_after_the_message_that_carries_them_show_the_issuer_ahead(
    bot: Bot, slack: MockSlack
) -> None:
    for n in range(3):
        posted = T - 30 + n
        token = make_token(claims(iat=posted + 42, nbf=posted + 42, exp=posted + 3600, n=n))
        await bot.event(message(f"401 again: {token}", ts=f"{posted}.000100"), f"Ev{n}")
        await bot.settle()
    first, _, third = clock_lines(slack)
    assert "login.acme.test's clock" in first
    assert "at least 41 s ahead of Slack" in first and "1 token," in first
    # the issuer runs at least 41 s ahead: the card's one figure, rounded up to 10 s
    assert "3 tokens," in third and "leeway of 50 s" in third


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


async def test_an_error_message_printing_the_validators_time_measures_the_validator(bot: Bot, slack: MockSlack) -> None:
    posted = T - 30
    ahead = posted + 400
    stamp = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(ahead))
    valid_to = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(ahead - 90))
    line = (
        f"IDX10223: Lifetime validation failed. The token is expired. ValidTo (UTC): '{valid_to}', "
        f"Current time (UTC): '{stamp}'."
    )
    await bot.event(message(line, ts=f"{posted}.000100"), "Ev1")
    await bot.settle()
    [note] = clock_lines(slack)
    assert "the validator (microsoft-identitymodel)'s clock is at least 6 min 39 s ahead of Slack" in note
    assert "Fix NTP on the validating hosts" in note


@pytest.fixture
async def skewed_service() -> AsyncIterator[tuple[DateServer, str]]:
    async with DateServer.running() as server:
        yield server, server.url


def _services(tmp_path: Path, url: str) -> ServicesConfig:
    config = tmp_path / "services.toml"
    config.write_text(
        f'[services.orders]\naudiences = ["orders-api"]\nprobe_url = "{url}"\nallow_http = true\n', encoding="utf-8"
    )
    return load_services(config)


async def test_a_time_diagnosis_probes_the_services_clock_once_a_minute(
    make_bot: BotFactory, slack: MockSlack, skewed_service: tuple[DateServer, str], tmp_path: Path
) -> None:
    skewed, url = skewed_service
    bot = await make_bot(services=_services(tmp_path, url))
    for n in range(2):
        await bot.event(message(make_token(claims(exp=T - 20, n=n)), ts=f"{T - 10 + n}.000100"), f"Ev{n}")
        await bot.settle()
    await bot.event(message(make_token(claims(aud="billing-api")), ts=f"{T}.000100"), "Ev9")  # no time cause
    await bot.settle()
    notes = clock_lines(slack)
    assert "orders's clock is 3" in notes[0] and "behind this host (±1 s)" in notes[0]
    assert "Fix NTP on orders's hosts" in notes[0] and notes[1] and notes[2] == ""
    assert len(skewed.methods) == 1  # the second card reused the minute-old reading


async def test_slash_probe_measures_on_demand(
    make_bot: BotFactory, slack: MockSlack, skewed_service: tuple[DateServer, str], tmp_path: Path
) -> None:
    _, url = skewed_service
    bot = await make_bot(services=_services(tmp_path, url))
    await bot.command("probe orders")
    await bot.command("probe billing", response="r2")
    await bot.settle()
    [answer] = slack.of("response:r1")
    assert answer.params["response_type"] == "ephemeral" and "behind this host" in answer.params["text"]
    assert "No probe_url" in slack.of("response:r2")[0].params["text"]


async def test_an_absurd_iat_is_no_clock_evidence_and_still_gets_its_card(bot: Bot, slack: MockSlack) -> None:
    await bot.event(message(make_token(claims(iat=10**400)), ts=f"{T}.000100"), "Ev1")
    await bot.settle()
    [card] = slack.of("chat.postMessage")
    assert "wrong JSON type" in card.params["text"] and clock_lines(slack) == [""]
