"""The message shortcut's listener alone: it acks first and hands the message over as JSON-able work."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qs

from bot.slack.deps import Deps
from bot.slack.listeners.shortcuts.diagnose_message import diagnose_message_listener
from tests.support.slack_api import TEAM
from tests.support.slack_requests import message_action

URL = "https://hooks.slack.com/app/T00000001/1/abc"


@dataclass
class RecordingWork:
    submitted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    order: list[str] = field(default_factory=list)

    def submit(self, kind: str, **args: Any) -> None:
        self.order.append("submit")
        self.submitted.append((kind, args))


@dataclass
class FakeDeps:
    work: RecordingWork = field(default_factory=RecordingWork)


def payload(**changes: Any) -> dict[str, Any]:
    body = parse_qs(message_action(**changes))["payload"][0]
    return cast(dict[str, Any], json.loads(body))


async def run(shortcut: dict[str, Any]) -> RecordingWork:
    deps = FakeDeps()

    async def ack(*args: Any, **kwargs: Any) -> None:
        deps.work.order.append("ack")

    await diagnose_message_listener(cast(Deps, deps))(ack=ack, shortcut=shortcut)  # type: ignore[arg-type]
    return deps.work


async def test_acks_then_submits_the_message_as_json() -> None:
    work = await run(payload(text="Bearer eyJ…", response_url=URL, thread_ts="1795899980.000001"))
    assert work.order == ["ack", "submit"]
    [(kind, args)] = work.submitted
    assert kind == "diagnose_message"
    assert args == {
        "team": TEAM,
        "channel": "CINCIDENT",
        "user": "UBOB0001",
        "ts": "1795899990.000100",
        "thread_ts": "1795899980.000001",
        "text": "Bearer eyJ…",
        "response_url": URL,
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    }
    assert json.loads(json.dumps(args)) == args


async def test_a_damaged_payload_still_acks_and_hands_over_strings_only() -> None:
    shortcut = payload(text=None, response_url=URL)
    shortcut.update(team=None, channel=["C1"], user="UBOB0001", message={"ts": 17, "text": {"x": 1}})
    work = await run(shortcut)
    assert work.order == ["ack", "submit"]
    [(_, args)] = work.submitted
    assert args["team"] == "" and args["channel"] == "" and args["user"] == ""
    assert args["ts"] == "1795899990.000100"  # from message_ts when the message's own is unreadable
    assert args["text"] == "" and all(isinstance(value, str) for value in args.values())
