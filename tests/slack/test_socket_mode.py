"""Socket Mode: no public URL; the same listeners answer envelopes from a WebSocket, acked by envelope id."""

from __future__ import annotations

import asyncio
import json
import time

from tests.slack.conftest import BotFactory
from tests.support.slack_api import MockSlack
from tests.support.slack_requests import event, message
from tests.support.tokens import T, claims, make_token


async def test_socket_mode_answers_events_and_commands_and_reports_health(
    make_bot: BotFactory, slack: MockSlack
) -> None:
    bot = await make_bot(app_token="xapp-1-A0JWTCHECK-test", signing_secret=None)
    status, body = await bot.get("/healthz")
    assert status == 200 and json.loads(body)["socket_mode"] == "connected"
    token = make_token(claims(exp=T - 7200))
    await slack.deliver(
        {
            "envelope_id": "env-1",
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": json.loads(event(message(token, ts="1795899990.000100"), "EvSock")),
        }
    )
    await slack.deliver(
        {
            "envelope_id": "env-2",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "command": "/jwtcheck",
                "text": f"{token} private",
                "team_id": "T00000001",
                "channel_id": "CINCIDENT",
                "user_id": "UALICE01",
                "response_url": slack.response_url("sock"),
                "trigger_id": "1.2.3",
            },
        }
    )
    deadline = time.monotonic() + 10
    while len(slack.socket_acks) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    await bot.settle()
    assert {ack["envelope_id"] for ack in slack.socket_acks} == {"env-1", "env-2"}
    [card] = slack.of("chat.postMessage")
    assert card.params["thread_ts"] == "1795899990.000100" and "expired" in card.params["text"].lower()
    assert slack.of("response:sock")[0].params["response_type"] == "ephemeral"
    reply = await bot.post("{}", "application/json")
    assert reply.status == 404  # no HTTP events in Socket Mode
