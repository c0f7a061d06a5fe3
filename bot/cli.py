"""``jwtcheck``: why did the API refuse this token? Reads TEXT or standard input.

Exit status: 0 when every token is valid, 1 when any problem is found, 2 when there is nothing to
diagnose or the arguments are wrong (with one line on stderr).

This path imports no slack_bolt, slack_sdk, redis or aiohttp, so that it starts fast: aiohttp is
imported only when a key source must be fetched (``--jwks``, or a service with ``jwks_uri`` or
``discovery``); key files and an HMAC secret need no network.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn, TextIO

from bot import __version__

if TYPE_CHECKING:  # the rest is imported where it is used: `jwtcheck --version` and `--help` load none of it
    from bot.config import Service
    from bot.diagnosis.clock import Observation
    from bot.diagnosis.engine import KeyLookup
    from bot.diagnosis.model import Diagnosis, Expectations, Report
    from bot.diagnosis.signature import TrustedKey
    from bot.keys.config import KeyConfig

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
    parser.add_argument("--aud", action="append", default=[], metavar="AUD", help="an accepted audience")
    parser.add_argument("--iss", action="append", default=[], metavar="ISS", help="an accepted issuer")
    parser.add_argument("--alg", action="append", default=[], metavar="ALG", help="an allowed algorithm")
    parser.add_argument("--require", action="append", default=[], metavar="CLAIM", help="a claim that must be present")
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
    parser.add_argument("--service", metavar="NAME", help="the service in the config whose expectations apply")
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
    out = stdout or sys.stdout
    try:
        if argv[:1] == ["demo"]:
            return _demo(argv[1:], out)
        args = build_parser().parse_args(argv)
    except UsageError as problem:
        return _fail(str(problem))
    except KeyboardInterrupt:
        return 130
    from bot.config import ConfigError

    try:
        service = _service(args)
        expectations = _expectations(args, service)
        keys = _keys(args, service)
        text = _read_text(args.text, stdin)
        now = args.at or datetime.now(UTC)
    except (UsageError, ConfigError) as problem:
        return _fail(str(problem))
    except KeyboardInterrupt:
        return 130

    try:
        if args.probe and (service is None or service.probe_url is None):
            raise UsageError("--probe needs a service with probe_url in the config (--config, --service)")
        lookup = _key_lookup(text, now, keys)
        if args.json and not (args.summary or args.at_log or args.probe) and _json_indent(out) is None:
            return _print_compact_json(text, expectations, now, lookup, out, args.jobs)
        if args.at_log:
            report, observations = _diagnose_log(text, expectations, now, lookup)
        else:
            report, observations = _diagnose_at(text, expectations, now, lookup), []
        if args.probe and service is not None and service.probe_url is not None:
            observations += _probe(service, report, live=args.at is None)
    except UsageError as problem:
        return _fail(str(problem))
    except KeyboardInterrupt:
        return 130
    if not report.diagnoses:
        return _fail(NOTHING_TO_DIAGNOSE)
    _print(report, args.json, args.summary, out, observations)
    return EXIT_PROBLEMS if report.has_problems else EXIT_OK


def _demo(argv: list[str], out: TextIO) -> int:
    from bot.demo import DEMO_EXPECTATIONS, sample_texts
    from bot.diagnosis.engine import diagnose_text
    from bot.knowledge import default_knowledge
    from bot.render.text import Style, render_diagnosis

    as_json = "--json" in argv
    unknown = [arg for arg in argv if arg != "--json"]
    if unknown:
        raise UsageError(f"demo takes only --json, not {unknown[0]!r}")
    knowledge = default_knowledge()
    now = datetime.now(UTC).replace(microsecond=0)  # the samples are minted in whole seconds
    style = Style(colour=_wants_colour(out))
    pieces = sample_texts(now.timestamp())
    if as_json:
        from bot.render.json import dumps, report_to_dict

        text = "\n".join(piece for _, piece in pieces)
        report = diagnose_text(text, DEMO_EXPECTATIONS, now, knowledge=knowledge)
        out.write(dumps(report_to_dict(report, knowledge), indent=_json_indent(out)) + "\n")
        return EXIT_OK
    out.write(style.bold("jwtcheck demo") + " — one sample per cause, judged as service 'orders' would:\n")
    out.write(
        style.dim(
            f"  audiences {DEMO_EXPECTATIONS.audiences}, issuers {DEMO_EXPECTATIONS.issuers}, "
            f"algorithms {DEMO_EXPECTATIONS.algorithms}, required {DEMO_EXPECTATIONS.required_claims}, "
            f"leeway {DEMO_EXPECTATIONS.leeway:g} s\n\n"
        )
    )
    for number, (sample, piece) in enumerate(pieces, start=1):
        report = diagnose_text(piece, DEMO_EXPECTATIONS, now, knowledge=knowledge)
        out.write(style.bold(f"── {number}. {sample.title} ") + "\n")
        for diagnosis in report.diagnoses:
            out.write(render_diagnosis(diagnosis, now.timestamp(), style) + "\n\n")
    out.write(style.dim(knowledge.provenance) + "\n")
    return EXIT_OK


def _print_compact_json(
    text: str, expectations: Expectations, now: datetime, lookup: KeyLookup | None, out: TextIO, jobs: int | None
) -> int:
    """The plain ``--json`` document for a pipe: big logs are judged on every core (bot.parallel_json)."""
    from bot.knowledge import default_knowledge
    from bot.parallel_json import json_document

    document = json_document(text, expectations, now, knowledge=default_knowledge(), keys=lookup, cores=jobs)
    if not document.diagnoses:
        return _fail(NOTHING_TO_DIAGNOSE)
    binary = getattr(out, "buffer", None)
    if binary is None:
        out.write(document.text + "\n")
    else:  # megabytes for a big log: written as they are, not joined and encoded again
        out.flush()
        binary.writelines([*document.pieces, b"\n"])
        binary.flush()
    return EXIT_PROBLEMS if document.has_problems else EXIT_OK


def _print(report: Report, as_json: bool, summary: bool, out: TextIO, observations: list[Observation]) -> None:
    from bot.diagnosis.clock import estimate, leeway_to_accept
    from bot.knowledge import default_knowledge

    estimates = estimate(observations)
    issuers = [item for item in estimates if item.kinds[0] in ("token", "log_line")]
    services = [item for item in estimates if item.kinds[0] == "date_header"]
    leeways = [leeway_to_accept(issuer, services[0] if services else None) for issuer in issuers]
    leeway = max((value for value in leeways if value is not None), default=None)
    if as_json:
        from bot.render.clocks import clocks_to_dict
        from bot.render.json import dumps, report_to_dict, summary_to_dict

        document = summary_to_dict(report) if summary else report_to_dict(report, default_knowledge())
        if estimates:
            document["clocks"] = clocks_to_dict(estimates, leeway)
        out.write(dumps(document, indent=_json_indent(out)) + "\n")
        return
    from bot.render.clocks import clock_lines
    from bot.render.text import Style, render_report, render_summary

    style = Style(colour=_wants_colour(out))
    out.write(render_summary(report, style) if summary else render_report(report, default_knowledge(), style))
    lines = clock_lines(estimates, leeway)
    if lines:
        out.write("\n" + style.bold(lines[0]) + "\n" + "\n".join(lines[1:]) + "\n")


def _diagnose_at(text: str, expectations: Expectations, now: datetime, lookup: KeyLookup | None) -> Report:
    from bot.diagnosis.engine import diagnose_text
    from bot.knowledge import default_knowledge

    return diagnose_text(text, expectations, now, knowledge=default_knowledge(), keys=lookup)


def _diagnose_log(
    text: str, expectations: Expectations, now: datetime, lookup: KeyLookup | None
) -> tuple[Report, list[Observation]]:
    """Each line judged at its own timestamp (lines without one: at ``now``), and what the tokens' iat
    say about the issuers' clocks against the log's."""
    from bot.diagnosis.clock import issuer_and_iat, issuer_label, token_in_log
    from bot.diagnosis.logtime import line_time
    from bot.diagnosis.model import Report

    diagnoses: list[Diagnosis] = []
    observations: list[Observation] = []
    reference = now.timestamp()
    offset = 0
    for line in text.splitlines(keepends=True):
        stamp = line_time(line, reference)
        at = datetime.fromtimestamp(stamp, UTC) if stamp is not None else now
        for diagnosis in _diagnose_at(line, expectations, at, lookup).diagnoses:
            diagnoses.append(
                diagnosis._replace(position=offset + diagnosis.position, judged_at=stamp if stamp is not None else None)
            )
            issued = issuer_and_iat(diagnosis)
            if stamp is not None and issued is not None:
                observations.append(token_in_log(issuer_label(issued[0]), issued[1], stamp, "the log's timestamps"))
        offset += len(line)
    return Report(now, expectations, tuple(diagnoses)), observations


def _probe(service: Service, report: Report, *, live: bool) -> list[Observation]:
    """The service's clock from its Date header; with a live run, the tokens' iat against this host."""
    import asyncio

    from bot.diagnosis.clock import THIS_HOST, issuer_and_iat, issuer_label, token_seen
    from bot.keys.probe import ProbeFailure, probe_clock

    assert service.probe_url is not None
    measured = asyncio.run(probe_clock(service.name, service.probe_url, allow_http=service.keys.allow_http))
    if isinstance(measured, ProbeFailure):
        sys.stderr.write(f"jwtcheck: clock probe of {service.name} failed: {measured.detail}\n")
        observations: list[Observation] = []
    else:
        observations = [measured]
    if live:
        seen = report.evaluated_at.timestamp()
        for issuer, iat in filter(None, map(issuer_and_iat, report.diagnoses)):
            observations.append(token_seen(issuer_label(issuer), iat, seen, reference=THIS_HOST))
    return observations


def _key_lookup(text: str, now: datetime, keys: KeyConfig | None) -> KeyLookup | None:
    """Keys resolved before the pure engine runs: in memory for files and secrets, over aiohttp for URLs."""
    if keys is None or not keys.configured:
        return None
    if not keys.fetches:
        from bot.keys.local import resolve_local

        local = resolve_local(keys)
        return lambda _raw: local
    import asyncio
    import logging

    from bot.diagnosis.decode import decode_header
    from bot.diagnosis.engine import scan_text
    from bot.diagnosis.scan import TokenCandidate
    from bot.diagnosis.signature import KeyResolution
    from bot.keys.keyring import Keyring

    def kid_of(raw: str) -> str | None:
        header = decode_header(raw)
        kid = header.get("kid") if header else None
        return kid if isinstance(kid, str) else None

    found, _, _ = scan_text(text, now.timestamp())
    kids = list(dict.fromkeys(kid_of(item.token) for item in found if isinstance(item, TokenCandidate)))

    async def resolve_all() -> dict[str | None, KeyResolution]:
        keyring = Keyring()  # in process only: the command line has no Redis
        return {kid: await keyring.resolve(keys, kid) for kid in kids}

    quiet = logging.getLogger("bot.keys")  # the output itself says why a key source failed
    was_disabled, quiet.disabled = quiet.disabled, True
    try:
        resolutions = asyncio.run(resolve_all()) if kids else {}
    finally:
        quiet.disabled = was_disabled
    return lambda raw: resolutions.get(kid_of(raw))


def _service(args: argparse.Namespace) -> Service | None:
    from bot.config import config_path_from_env, load_services

    path = config_path_from_env(args.config)
    if path is None:
        if args.service:
            raise UsageError("--service needs --config FILE (or JWTCHECK_CONFIG)")
        return None
    services = load_services(path)
    service = services.pick(args.service)
    if service is None and services.services:
        names = ", ".join(sorted(services.services))
        raise UsageError(f"{path} defines several services ({names}): choose one with --service")
    return service


def _keys(args: argparse.Namespace, service: Service | None) -> KeyConfig | None:
    """The service's key sources, or, when any key flag is given, those flags instead (one-off use)."""
    from bot.keys.config import ENV_NAME, KeyConfig

    base = service.keys if service else KeyConfig()
    if not (args.jwks or args.key or args.secret_env):
        return base if base.configured else None
    from bot.keys.urls import UrlRefused, check_url

    jwks = None
    if args.jwks:
        try:
            jwks = check_url(args.jwks, allow_http=base.allow_http, what="--jwks URL")
        except UrlRefused as refused:
            raise UsageError(str(refused)) from None
    if args.secret_env and not ENV_NAME.fullmatch(args.secret_env):
        raise UsageError("--secret-env takes the NAME of an environment variable (letters, digits, _), not a secret")
    static: list[TrustedKey] = []
    if args.key:
        from pathlib import Path

        from bot.keys.static import KeyFileError, load_key_file

        for name in args.key:
            try:
                static.extend(load_key_file(Path(name), name))
            except KeyFileError as problem:
                raise UsageError(f"--key {problem}") from None
    return KeyConfig(
        jwks_uri=jwks,
        static_keys=tuple(static),
        key_files=tuple(args.key),
        hmac_secret_env=args.secret_env,
        allow_http=base.allow_http,
        issuers=base.issuers,
    )


def _expectations(args: argparse.Namespace, service: Service | None) -> Expectations:
    from bot.diagnosis.model import Expectations

    base = service.expectations if service else Expectations()
    return replace(
        base,
        audiences=tuple(args.aud) or base.audiences,
        issuers=tuple(args.iss) or base.issuers,
        algorithms=tuple(args.alg) or base.algorithms,
        required_claims=tuple(args.require) or base.required_claims,
        leeway=base.leeway if args.leeway is None else args.leeway,
        skew_window=base.skew_window if args.skew_window is None else args.skew_window,
    )


def _read_text(text: str | None, stdin: TextIO | None) -> str:
    if text is not None and text != "-":
        return text
    stream = stdin or sys.stdin
    if stream.isatty():
        sys.stderr.write("jwtcheck: reading a token or log from standard input; end with Ctrl-D\n")
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        return str(buffer.read().decode("utf-8", errors="replace"))
    return stream.read()


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
    if not math.isfinite(seconds) or not 0 <= seconds <= 86400 * 366:
        raise argparse.ArgumentTypeError(f"{value!r} must be between 0 and 31622400 seconds")
    return seconds


def _jobs(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError(f"{value!r} must be a whole number of processes from 1 to 64")
    return int(value)


def _json_indent(out: TextIO) -> int | None:
    """Indented for a person at a terminal; one compact line for a pipe (much faster on big logs)."""
    isatty = getattr(out, "isatty", None)
    return 2 if isatty and isatty() else None


def _wants_colour(out: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


def _fail(message: str) -> int:
    sys.stderr.write(f"jwtcheck: {message.splitlines()[0] if message else 'error'}\n")
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
