"""A service with trusted keys: the card says whether the signature verified, and with what."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import load_services
from tests.slack.conftest import BotFactory
from tests.support.slack_api import MockSlack
from tests.support.slack_requests import message
from tests.support.tokens import SECRET, make_token


async def test_cards_carry_the_verification_line(
    make_bot: BotFactory, slack: MockSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERS_JWT_SECRET", SECRET)
    config = tmp_path / "services.toml"
    config.write_text(
        '[services.orders]\naudiences = ["orders-api"]\nalgorithms = ["HS256"]\n'
        'hmac_secret_env = "ORDERS_JWT_SECRET"\n',
        encoding="utf-8",
    )
    bot = await make_bot(services=load_services(config))
    await bot.event(message(make_token(), ts="1795899990.000100"), "Ev1")
    await bot.event(message(make_token(key="another-secret-" + "x" * 60), ts="1795899991.000100"), "Ev2")
    await bot.settle()
    by_thread = {call.params["thread_ts"]: json.dumps(call.params["blocks"]) for call in slack.of("chat.postMessage")}
    good, forged = by_thread["1795899990.000100"], by_thread["1795899991.000100"]  # answered in no set order
    assert "No problem found, but issuer not checked" in good and "verified" in good.lower()
    assert "Signature does not verify" in forged
