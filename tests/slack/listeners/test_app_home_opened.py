"""The App Home listener alone: the Home tab of a well-formed event is handed over as JSON-able work; any
other tab, or a damaged event, is not."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from bot.slack.deps import Deps, Identity
from bot.slack.home import publish_home
from bot.slack.listeners import JOBS
from bot.slack.listeners.events.app_home_opened import app_home_opened_listener
from tests.support.slack_api import TEAM


@dataclass
class RecordingWork:
    submitted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def submit(self, kind: str, **args: Any) -> None:
        self.submitted.append((kind, args))


@dataclass
class FakeDeps:
    work: RecordingWork = field(default_factory=RecordingWork)
    identity: Identity = field(default_factory=lambda: Identity(team_id="T0SELF001"))


def event(**changes: Any) -> dict[str, Any]:
    base = {"type": "app_home_opened", "user": "UALICE01", "channel": "D0JWTHOME", "tab": "home", "event_ts": "1.2"}
    return {**base, **changes}


async def run(inner: dict[str, Any], body: dict[str, Any] | None = None) -> list[tuple[str, dict[str, Any]]]:
    deps = FakeDeps()
    await app_home_opened_listener(cast(Deps, deps))(event=inner, body={"team_id": TEAM} if body is None else body)
    return deps.work.submitted


async def test_the_home_tab_is_handed_over_for_its_user_and_workspace() -> None:
    [(kind, args)] = await run(event())
    assert kind == "home" and JOBS[kind] is publish_home
    assert args == {"user": "UALICE01", "team": TEAM} and json.loads(json.dumps(args)) == args


async def test_the_workspace_comes_from_the_view_or_the_bots_own_when_the_body_has_none() -> None:
    [(_, from_view)] = await run(event(view={"team_id": "T0VIEW001"}), body={})
    [(_, own)] = await run(event(), body={"team_id": ["not", "a", "team"]})
    assert from_view["team"] == "T0VIEW001" and own["team"] == "T0SELF001"


@pytest.mark.parametrize(
    "inner",
    [event(tab="messages"), event(tab="about"), event(tab=None), event(user=None), event(user="<!channel>")],
)
async def test_other_tabs_and_damaged_events_hand_over_nothing(inner: dict[str, Any]) -> None:
    assert await run(inner) == []
