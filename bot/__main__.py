"""``python -m bot check …`` (the CLI), ``python -m bot demo``, ``python -m bot serve`` (the Slack bot),
``python -m bot playground`` (the bot in a browser, no Slack)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

COMMANDS = "check, demo, serve, playground"  # and "work", the worker process serve starts


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command, rest = (args[0], args[1:]) if args else ("", [])
    if command == "check":
        from bot.cli import main as cli_main

        return cli_main(rest)
    if command == "demo":
        from bot.cli import main as cli_main

        return cli_main(["demo", *rest])
    if command == "serve":
        from bot.slack.server import main as serve_main

        return serve_main(rest)
    if command == "work":
        from bot.slack.worker import main as work_main

        return work_main(rest)
    if command == "playground":
        from bot.playground.server import main as playground_main

        return playground_main(rest)
    sys.stderr.write(f"usage: python -m bot {{{COMMANDS}}} …\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
