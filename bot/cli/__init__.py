"""``jwtcheck``: why did the API refuse this token? Reads TEXT or standard input.

Exit status: 0 when every token is valid, 1 when any problem is found, 2 when there is nothing to
diagnose or the arguments are wrong (with one line on stderr).

This module parses the arguments and nothing more, so that ``jwtcheck --version`` and ``--help`` load
none of the engine; :mod:`bot.cli.run` does the work. That path imports no slack_bolt, slack_sdk or
redis, and aiohttp only when a key source must be fetched.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NoReturn, TextIO

from bot import __version__

USAGE = (
    "jwtcheck [TEXT | -] [--json] [--aud AUD]... [--iss ISS]... [--alg ALG]... [--require CLAIM]...\n"
    "                [--leeway SECONDS] [--skew-window SECONDS] [--at TIME] [--config FILE] [--service NAME]\n"
    "                [--jwks URL] [--key FILE]... [--secret-env NAME] [--summary] [--at-log] [--probe]\n"
    "                [--jobs N]\n"
    "       jwtcheck demo"
)
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
NOTHING_TO_DIAGNOSE = "nothing to diagnose: no JWT and no known JWT error message in the input"


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="jwtcheck",
        usage=USAGE,
        description="Say which JWT claim failed, why, and what fixes it. The signature is never shown.",
        epilog="TEXT may be a token, an Authorization header, a curl line, a log or an error message. "
        "Without TEXT (or with -) standard input is read, so tokens stay out of shell history.",
    )
    parser.add_argument("text", nargs="?", metavar="TEXT", help="text holding tokens or error messages; - for stdin")
    parser.add_argument("--json", action="store_true", help="print one JSON document (schema jwtcheck/diagnosis@1)")
    parser.add_argument("--aud", action="append", default=[], type=_name, metavar="AUD", help="an accepted audience")
    parser.add_argument("--iss", action="append", default=[], type=_name, metavar="ISS", help="an accepted issuer")
    parser.add_argument("--alg", action="append", default=[], type=_name, metavar="ALG", help="an allowed algorithm")
    parser.add_argument(
        "--require", action="append", default=[], type=_name, metavar="CLAIM", help="a claim that must be present"
    )
    parser.add_argument("--leeway", type=_seconds, metavar="SECONDS", help="clock leeway the validator allows")
    parser.add_argument(
        "--skew-window",
        type=_seconds,
        metavar="SECONDS",
        help="how far beyond the leeway a time claim still counts as clock skew (default 300)",
    )
    parser.add_argument(
        "--at",
        type=parse_instant,
        metavar="TIME",
        help="evaluate as of this instant (ISO 8601 or Unix seconds) to replay an incident",
    )
    parser.add_argument("--config", metavar="FILE", help="services TOML (default: $JWTCHECK_CONFIG)")
    parser.add_argument(
        "--service", type=_name, metavar="NAME", help="the service in the config whose expectations apply"
    )
    parser.add_argument("--jwks", metavar="URL", help="verify signatures with the keys at this https JWKS URL")
    parser.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="FILE",
        help="verify signatures with this public key (PEM or JWK); repeat for several",
    )
    parser.add_argument(
        "--secret-env",
        metavar="NAME",
        help="verify HS* signatures with the secret in environment variable NAME (never the secret)",
    )
    parser.add_argument("--summary", action="store_true", help="print counts per cause instead of each diagnosis")
    parser.add_argument(
        "--at-log",
        action="store_true",
        help="judge each token at the timestamp of its own log line (ISO 8601, RFC 3339, common "
        "log format, syslog) and estimate whose clock is off",
    )
    parser.add_argument(
        "--probe",
        action="store_true",
        help="read the service's clock from the Date header of its probe_url and say whose clock is off",
    )
    parser.add_argument(
        "--jobs",
        type=_jobs,
        metavar="N",
        help="processes that judge a big log's tokens for --json (default: one per usable CPU)",
    )
    parser.add_argument("--version", action="version", version=f"jwtcheck {__version__}")
    return parser


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    try:
        return _main(argv, stdin, stdout)
    except BrokenPipeError:
        # The reader went away (``jwtcheck … | head``): stop quietly, as Unix tools do. Python's recipe:
        # point stdout at /dev/null so that the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the signal


def _main(argv: Sequence[str] | None, stdin: TextIO | None, stdout: TextIO | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if stdout is None:
        _protect_streams()
    out = stdout or sys.stdout
    try:
        if argv[:1] == ["demo"]:
            from bot.cli.run import demo

            return demo(argv[1:], out)
        args = build_parser().parse_args(argv)
    except UsageError as problem:
        return _fail(str(problem))
    except KeyboardInterrupt:
        return 130
    from bot.cli.run import run  # the engine loads only now: --version and --help stay instant

    return run(args, stdin, out)


def parse_instant(value: str) -> datetime:
    """ISO 8601 (a time without zone is UTC) or Unix seconds."""
    text = value.strip()
    if re.fullmatch(r"-?\d{1,12}(\.\d+)?", text):
        seconds = float(text)
        if math.isfinite(seconds) and 0 <= seconds <= 253402300799:
            return datetime.fromtimestamp(seconds, UTC)
        raise argparse.ArgumentTypeError(f"--at {value!r}: Unix seconds must lie between 1970 and 9999")
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--at {value!r} is neither ISO 8601 (2026-11-28T20:40:00Z) nor Unix seconds"
        ) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    from bot.diagnosis.expectations import seconds_problem  # here: --version and --help load no engine

    problem = seconds_problem(seconds)
    if problem:
        raise argparse.ArgumentTypeError(f"{value!r} {problem}")
    return seconds


def _name(value: str) -> str:
    """A name, audience, issuer, algorithm or claim: never a token or a credential, which would be echoed in
    an error or kept in a report. The refusal does not repeat the value."""
    from bot.diagnosis.redact import credential_shaped  # here: --version and --help load no engine

    if credential_shaped(value):
        raise argparse.ArgumentTypeError("looks like a token or a secret; give the token as TEXT, not as an option")
    return value


def _jobs(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError(f"{value!r} must be a whole number of processes from 1 to 64")
    return int(value)


def _protect_streams() -> None:
    """A character the terminal cannot encode (``PYTHONIOENCODING=ascii``, a C locale) is written as a
    backslash escape, never a ``UnicodeEncodeError``; :mod:`bot.cli.output` escapes what it writes
    itself, this covers the rest (argparse's help, a traceback's last words)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(errors="backslashreplace")


def _fail(message: str) -> int:
    from bot.cli.output import write_terminal

    write_terminal(sys.stderr, f"jwtcheck: {message.splitlines()[0] if message else 'error'}\n")
    return EXIT_USAGE
