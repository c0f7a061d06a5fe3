"""The private check's listeners alone: each acks first, then opens the modal with the payload's own
trigger_id (no job: a trigger_id lives 3 s); the submission is answered in its ack."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qs

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.slack.deps import Deps
from bot.slack.listeners.actions.open_private_check import open_private_check_listener
from bot.slack.listeners.commands.jwtcheck import jwtcheck_command_listener
from bot.slack.listeners.shortcuts.check_privately import check_privately_listener
from bot.slack.listeners.views.private_check import private_check_listener
from bot.slack.metrics import Metrics
from bot.slack.private_check import CALLBACK_ID, NOTHING_TO_CHECK, TEXT, VALUE, check_view
from tests.support.slack_requests import global_shortcut, submitted_view, view_submission


@dataclass
class Recorder:
    order: list[str] = field(default_factory=list)
    submitted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    opened: list[dict[str, Any]] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)
    refuse: bool = False

    def submit(self, kind: str, **args: Any) -> None:
        self.order.append("submit")
        self.submitted.append((kind, args))

    async def views_open(self, **args: Any) -> None:
        self.order.append("views.open")
        self.opened.append(args)
        if self.refuse:
            response = AsyncSlackResponse(
                client=None,
                http_verb="POST",
                api_url="views.open",
                req_args={},
                data={"ok": False, "error": "expired_trigger_id"},
                headers={},
                status_code=200,
            )
            raise SlackApiError("refused", response)

    async def ack(self, **kwargs: Any) -> None:
        self.order.append("ack")
        self.acks.append(kwargs)


@dataclass
class FakeChat:
    services: Any = None


@dataclass
class FakeDeps:
    work: Recorder
    chat: FakeChat = field(default_factory=FakeChat)
    metrics: Metrics = field(default_factory=Metrics)


@dataclass
class FakeRequest:
    headers: dict[str, list[str]] = field(default_factory=lambda: {"x-slack-request-timestamp": ["1795900000"]})


def payload(form: str) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(parse_qs(form)["payload"][0]))


def deps_for(recorder: Recorder) -> Deps:
    return cast(Deps, FakeDeps(recorder))


async def test_the_global_shortcut_acks_then_opens_the_form() -> None:
    rec = Recorder()
    shortcut = payload(global_shortcut(trigger_id="9.9.9"))
    await check_privately_listener(deps_for(rec))(ack=rec.ack, shortcut=shortcut, client=rec)
    assert rec.order == ["ack", "views.open"] and rec.submitted == []
    [opened] = rec.opened
    assert opened["trigger_id"] == "9.9.9" and opened["view"]["callback_id"] == CALLBACK_ID


async def test_a_shortcut_without_a_trigger_id_acks_and_opens_nothing() -> None:
    rec = Recorder()
    shortcut = payload(global_shortcut())
    shortcut["trigger_id"] = {"forged": True}
    await check_privately_listener(deps_for(rec))(ack=rec.ack, shortcut=shortcut, client=rec)
    assert rec.order == ["ack"]


async def test_app_home_s_button_acks_then_opens_the_form() -> None:
    rec = Recorder()
    body = {"type": "block_actions", "trigger_id": "7.7.7", "container": {"type": "view", "view_id": "VHOME"}}
    await open_private_check_listener(deps_for(rec))(ack=rec.ack, body=body, client=rec)
    assert rec.order == ["ack", "views.open"] and rec.opened[0]["trigger_id"] == "7.7.7"


async def test_an_empty_command_opens_the_form_and_submits_no_work() -> None:
    rec = Recorder()
    command = {"text": "  ", "trigger_id": "1.2.3", "response_url": "https://hooks.slack.com/x"}
    await jwtcheck_command_listener(deps_for(rec))(ack=rec.ack, command=command, request=FakeRequest(), client=rec)
    assert rec.order == ["ack", "views.open"] and rec.submitted == []


async def test_an_empty_command_whose_modal_is_refused_gets_the_usage_job() -> None:
    rec = Recorder(refuse=True)
    command = {"text": "", "trigger_id": "1.2.3"}
    await jwtcheck_command_listener(deps_for(rec))(ack=rec.ack, command=command, request=FakeRequest(), client=rec)
    assert rec.order == ["ack", "views.open", "submit"]
    assert rec.submitted == [("command", {"command": command, "sent_at": 1795900000.0})]


async def test_a_command_with_text_is_a_job_and_opens_nothing() -> None:
    rec = Recorder()
    command = {"text": "help", "trigger_id": "1.2.3"}
    await jwtcheck_command_listener(deps_for(rec))(ack=rec.ack, command=command, request=FakeRequest(), client=rec)
    assert rec.order == ["ack", "submit"] and rec.opened == []


async def test_an_empty_submission_is_acked_once_with_an_inline_error() -> None:
    rec = Recorder()
    values = {TEXT: {VALUE: {"type": "plain_text_input", "value": None}}}
    body = payload(view_submission(submitted_view(check_view(None), values, view_id="V1")))
    await private_check_listener(deps_for(rec))(ack=rec.ack, body=body)
    assert rec.order == ["ack"]
    assert rec.acks == [{"response_action": "errors", "errors": {TEXT: NOTHING_TO_CHECK}}]
