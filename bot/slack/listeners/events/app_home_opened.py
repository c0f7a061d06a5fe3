"""The App Home's tab opened: the ``home`` job (``bot.slack.home.publish_home``) publishes the Home for
whoever opened it. Only the Home tab: the Messages and About tabs need nothing. Events are acked by Bolt."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.config import TEAM_ID, USER_ID
from bot.slack.deps import Deps


def app_home_opened_listener(deps: Deps) -> Callable[..., Awaitable[None]]:
    async def app_home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        user = event.get("user")
        if event.get("tab") != "home" or not isinstance(user, str) or not USER_ID.fullmatch(user):
            return
        deps.work.submit("home", user=user, team=team_of(event, body) or deps.identity.team_id or "")

    return app_home_opened


def team_of(event: dict[str, Any], body: dict[str, Any]) -> str | None:
    """The workspace whose Home it is: the event's, else the view's (an org-wide install)."""
    view = event.get("view")
    for team in (body.get("team_id"), view.get("team_id") if isinstance(view, dict) else None):
        if isinstance(team, str) and TEAM_ID.fullmatch(team):
            return team
    return None
