"""Every entry point, registered in one place. Each listener acks and hands its work over
(``deps.work.submit(kind, …)``); ``JOBS`` says what each kind of work is."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.render.blocks import SHOW_FIX_ACTION_RE, VOTE_ACTION_RE
from bot.slack.answer import answer_command, answer_message
from bot.slack.deps import Deps
from bot.slack.listeners.actions.show_fix import expand_fix, show_fix_listener
from bot.slack.listeners.actions.vote import record_vote, vote_listener
from bot.slack.listeners.commands.jwtcheck import jwtcheck_command_listener
from bot.slack.listeners.events.app_mention import app_mention_listener
from bot.slack.listeners.events.message import message_listener
from bot.slack.listeners.shortcuts.diagnose_message import CALLBACK_ID, diagnose_message_listener
from bot.slack.shortcuts import diagnose_message
from bot.slack.work import Job

COMMAND = "/jwtcheck"
JOBS: dict[str, Job] = {
    "command": answer_command,
    "message": answer_message,
    "vote": record_vote,
    "show_fix": expand_fix,
    "diagnose_message": diagnose_message,
}


def register_listeners(app: AsyncApp, deps: Deps) -> None:
    app.command(COMMAND)(jwtcheck_command_listener(deps))
    app.event("app_mention")(app_mention_listener(deps))
    app.event("message")(message_listener(deps))
    app.action(SHOW_FIX_ACTION_RE)(show_fix_listener(deps))
    app.action(VOTE_ACTION_RE)(vote_listener(deps))
    app.shortcut(CALLBACK_ID)(diagnose_message_listener(deps))
