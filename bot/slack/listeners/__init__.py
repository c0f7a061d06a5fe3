"""Every entry point, registered in one place. Each listener acks and hands its work over
(``deps.work.submit(kind, …)``); ``JOBS`` says what each kind of work is."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.render.blocks import SHOW_FIX_ACTION_RE, VOTE_ACTION_RE
from bot.slack.answer import answer_command, answer_message
from bot.slack.deps import Deps
from bot.slack.home import publish_home
from bot.slack.listeners.actions.open_private_check import ACTION_ID as OPEN_PRIVATE_CHECK
from bot.slack.listeners.actions.open_private_check import open_private_check_listener
from bot.slack.listeners.actions.show_fix import expand_fix, show_fix_listener
from bot.slack.listeners.actions.vote import record_vote, vote_listener
from bot.slack.listeners.commands.jwtcheck import jwtcheck_command_listener
from bot.slack.listeners.events.app_home_opened import app_home_opened_listener
from bot.slack.listeners.events.app_mention import app_mention_listener
from bot.slack.listeners.events.message import message_listener
from bot.slack.listeners.shortcuts.check_privately import CALLBACK_ID as CHECK_PRIVATELY
from bot.slack.listeners.shortcuts.check_privately import check_privately_listener
from bot.slack.listeners.shortcuts.diagnose_message import CALLBACK_ID, diagnose_message_listener
from bot.slack.listeners.views.private_check import private_check_listener
from bot.slack.private_check import CALLBACK_ID as PRIVATE_CHECK_VIEW
from bot.slack.shortcuts import diagnose_message
from bot.slack.work import Job

COMMAND = "/jwtcheck"
JOBS: dict[str, Job] = {
    "command": answer_command,
    "message": answer_message,
    "vote": record_vote,
    "show_fix": expand_fix,
    "diagnose_message": diagnose_message,
    "home": publish_home,
}


def register_listeners(app: AsyncApp, deps: Deps) -> None:
    app.command(COMMAND)(jwtcheck_command_listener(deps))
    app.event("app_mention")(app_mention_listener(deps))
    app.event("app_home_opened")(app_home_opened_listener(deps))
    app.event("message")(message_listener(deps))
    app.action(SHOW_FIX_ACTION_RE)(show_fix_listener(deps))
    app.action(VOTE_ACTION_RE)(vote_listener(deps))
    app.shortcut(CALLBACK_ID)(diagnose_message_listener(deps))
    app.shortcut(CHECK_PRIVATELY)(check_privately_listener(deps))
    app.action(OPEN_PRIVATE_CHECK)(open_private_check_listener(deps))
    app.view(PRIVATE_CHECK_VIEW)(private_check_listener(deps))
