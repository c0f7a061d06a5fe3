"""What ``jwtcheck`` does once its arguments parsed (:mod:`bot.cli` parses them).

Imports no slack_bolt, slack_sdk or redis; aiohttp only when a key source must be fetched (``--jwks``, a
service with ``jwks_uri`` or ``discovery``, ``--probe``), so that a plain run starts fast. Key files and
an HMAC secret need no network.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.cli import EXIT_OK, EXIT_PROBLEMS, NOTHING_TO_DIAGNOSE, UsageError, _fail
from bot.cli.output import write_json, write_json_pieces, write_terminal
from bot.config import ConfigError, Service, config_path_from_env, load_services
from bot.demo import DEMO_EXPECTATIONS, sample_texts
from bot.diagnosis import Diagnosis, Expectations, Found, KeyLookup, KeyResolution, Report, scan
from bot.diagnosis.clock import (
    THIS_HOST,
    Observation,
    estimate,
    issuer_and_iat,
    issuer_label,
    leeway_to_accept,
    token_in_log,
    token_seen,
)
from bot.diagnosis.decode import decode_header
from bot.diagnosis.expectations import Overrides, learn, merge
from bot.diagnosis.leeway import figure
from bot.diagnosis.logtime import line_time
from bot.diagnosis.signature import TrustedKey
from bot.keys.config import ENV_NAME, KeyConfig
from bot.keys.local import resolve_local
from bot.keys.static import KeyFileError, load_key_file
from bot.keys.urls import UrlRefused, check_host, check_url, loopback_allowed
from bot.knowledge import default_catalogue, default_knowledge
from bot.knowledge.advise import judge_advised
from bot.parallel_json import json_document
from bot.pipeline import diagnose_text
from bot.render.clocks import clock_lines, clocks_to_dict
from bot.render.json import dumps, report_to_dict, summary_to_dict
from bot.render.text import Style, render_diagnosis, render_report, render_summary, validator_notes


def run(args: argparse.Namespace, stdin: TextIO | None, out: TextIO) -> int:
    """Everything after the arguments parsed."""
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
        catalogue = default_catalogue()
        # The whole text is scanned once; with --at-log, line by line instead, each at its own instant.
        found = scan(text, catalogue, at=now.timestamp()) if not args.at_log or _fetches(keys) else None
        lookup = _key_lookup(found.tokens if found else (), keys)
        learned: tuple[str, ...] = ()
        if found is not None:
            expectations, learned = learn(found, expectations)
        if args.json and not (args.summary or args.at_log or args.probe) and _json_indent(out) is None:
            assert found is not None
            return _print_compact_json(found, expectations, now, lookup, out, args.jobs, learned)
        if args.at_log:
            report, observations = _diagnose_log(text, expectations, now, lookup)
        else:
            assert found is not None
            report = judge_advised(found, expectations, now, default_knowledge(), keys=lookup, learned=learned)
            observations = []
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


def demo(argv: list[str], out: TextIO) -> int:
    """``jwtcheck demo [--json]``: one built-in sample per cause."""
    as_json = "--json" in argv
    unknown = [arg for arg in argv if arg != "--json"]
    if unknown:
        raise UsageError(f"demo takes only --json, not {unknown[0]!r}")
    knowledge = default_knowledge()
    now = datetime.now(UTC).replace(microsecond=0)  # the samples are minted in whole seconds
    style = Style(colour=_wants_colour(out))
    pieces = sample_texts(now.timestamp())
    if as_json:
        text = "\n".join(piece for _, piece in pieces)
        report = diagnose_text(text, DEMO_EXPECTATIONS, now, knowledge=knowledge)
        write_json(out, dumps(report_to_dict(report, knowledge), indent=_json_indent(out)) + "\n")
        return EXIT_OK
    colour = style.colour
    write_terminal(
        out, style.bold("jwtcheck demo") + " — one sample per cause, judged as service 'orders' would:\n", colour=colour
    )
    write_terminal(
        out,
        style.dim(
            f"  audiences {DEMO_EXPECTATIONS.audiences}, issuers {DEMO_EXPECTATIONS.issuers}, "
            f"algorithms {DEMO_EXPECTATIONS.algorithms}, required {DEMO_EXPECTATIONS.required_claims}, "
            f"leeway {DEMO_EXPECTATIONS.leeway:g} s\n\n"
        ),
        colour=colour,
    )
    for number, (sample, piece) in enumerate(pieces, start=1):
        report = diagnose_text(piece, DEMO_EXPECTATIONS, now, knowledge=knowledge)
        write_terminal(out, style.bold(f"── {number}. {sample.title} ") + "\n", colour=colour)
        for diagnosis in report.diagnoses:
            notes = validator_notes(diagnosis, knowledge)
            write_terminal(
                out, render_diagnosis(diagnosis, now.timestamp(), style, notes=notes) + "\n\n", colour=colour
            )
    write_terminal(out, style.dim(knowledge.provenance) + "\n", colour=colour)
    return EXIT_OK


def _print_compact_json(
    found: Found,
    expectations: Expectations,
    now: datetime,
    lookup: KeyLookup | None,
    out: TextIO,
    jobs: int | None,
    learned: tuple[str, ...],
) -> int:
    """The plain ``--json`` document for a pipe: big logs are judged on every core (bot.parallel_json)."""

    document = json_document(
        found, expectations, now, knowledge=default_knowledge(), keys=lookup, cores=jobs, learned=learned
    )
    if not document.diagnoses:
        return _fail(NOTHING_TO_DIAGNOSE)
    # megabytes for a big log: written as they are, not joined and encoded again, when they need no escape
    write_json_pieces(out, [*document.pieces, b"\n"])
    out.flush()
    return EXIT_PROBLEMS if document.has_problems else EXIT_OK


def _print(report: Report, as_json: bool, summary: bool, out: TextIO, observations: list[Observation]) -> None:

    estimates = estimate(observations)
    issuers = [item for item in estimates if item.kinds[0] in ("token", "log_line")]
    services = [item for item in estimates if item.kinds[0] == "date_header"]
    leeways = [leeway_to_accept(issuer, services[0] if services else None) for issuer in issuers]
    need = max((value for value in leeways if value is not None), default=None)
    # The one figure, within this run's skew window (bot.diagnosis.leeway), as the cards compute it.
    leeway = (
        figure(need, default_knowledge().small_leeway, report.expectations.skew_window) if need is not None else None
    )
    if as_json:
        document = summary_to_dict(report) if summary else report_to_dict(report, default_knowledge())
        if estimates:
            document["clocks"] = clocks_to_dict(estimates, leeway)
        write_json(out, dumps(document, indent=_json_indent(out)) + "\n")
        return

    style = Style(colour=_wants_colour(out))
    text = render_summary(report, style) if summary else render_report(report, default_knowledge(), style)
    lines = clock_lines(estimates, leeway)
    if lines:
        text += "\n" + style.bold(lines[0]) + "\n" + "\n".join(lines[1:]) + "\n"
    write_terminal(out, text, colour=style.colour)


def _diagnose_log(
    text: str, expectations: Expectations, now: datetime, lookup: KeyLookup | None
) -> tuple[Report, list[Observation]]:
    """Each line judged at its own timestamp (lines without one: at ``now``), and what the tokens' iat
    say about the issuers' clocks against the log's."""

    diagnoses: list[Diagnosis] = []
    observations: list[Observation] = []
    reference = now.timestamp()
    offset = 0
    for line in text.splitlines(keepends=True):
        stamp = line_time(line, reference)
        at = datetime.fromtimestamp(stamp, UTC) if stamp is not None else now
        for diagnosis in diagnose_text(line, expectations, at, keys=lookup).diagnoses:
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

    from bot.keys.probe import ProbeFailure, probe_clock

    assert service.probe_url is not None
    measured = asyncio.run(probe_clock(service.name, service.probe_url, allow_http=service.keys.allow_http))
    if isinstance(measured, ProbeFailure):
        write_terminal(sys.stderr, f"jwtcheck: clock probe of {service.name} failed: {measured.detail}\n")
        observations: list[Observation] = []
    else:
        observations = [measured]
    if live:
        seen = report.evaluated_at.timestamp()
        for issuer, iat in filter(None, map(issuer_and_iat, report.diagnoses)):
            observations.append(token_seen(issuer_label(issuer), iat, seen, reference=THIS_HOST))
    return observations


def _fetches(keys: KeyConfig | None) -> bool:
    return keys is not None and keys.configured and keys.fetches


def _key_lookup(tokens: Sequence[str], keys: KeyConfig | None) -> KeyLookup | None:
    """Keys resolved before the pure engine runs: in memory for files and secrets, over aiohttp for URLs."""
    if keys is None or not keys.configured:
        return None
    if not keys.fetches:
        local = resolve_local(keys)
        return lambda _raw: local
    import asyncio  # aiohttp, below, only when a key source must be fetched
    import logging

    from bot.keys.keyring import Keyring

    def kid_of(raw: str) -> str | None:
        header = decode_header(raw)
        kid = header.get("kid") if header else None
        return kid if isinstance(kid, str) else None

    kids = list(dict.fromkeys(kid_of(token) for token in tokens))

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

    base = service.keys if service else KeyConfig()
    if not (args.jwks or args.key or args.secret_env):
        return base if base.configured else None

    jwks = None
    if args.jwks:
        try:
            jwks = check_url(args.jwks, allow_http=base.allow_http, what="--jwks URL")
            check_host(jwks, loopback=loopback_allowed(jwks, allow_http=base.allow_http), what="--jwks URL")
        except UrlRefused as refused:
            raise UsageError(str(refused)) from None
    if args.secret_env and not ENV_NAME.fullmatch(args.secret_env):
        raise UsageError("--secret-env takes the NAME of an environment variable (letters, digits, _), not a secret")
    static: list[TrustedKey] = []
    if args.key:
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
    overrides = Overrides(
        audiences=tuple(args.aud),
        issuers=tuple(args.iss),
        algorithms=tuple(args.alg),
        required_claims=tuple(args.require),
        leeway=args.leeway,
        skew_window=args.skew_window,
    )
    return merge(service.expectations if service else Expectations(), overrides)


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


def _json_indent(out: TextIO) -> int | None:
    """Indented for a person at a terminal; one compact line for a pipe (much faster on big logs)."""
    isatty = getattr(out, "isatty", None)
    return 2 if isatty and isatty() else None


def _wants_colour(out: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())
