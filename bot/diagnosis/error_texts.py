"""Recognise JWT-library validation errors in free text: log lines, stack traces, HTTP responses, chat.

The knowledge (message texts, causes, explanations) lives in ``error_patterns.toml``; this module
loads and checks it, then applies it. The bot scans every Slack message, so the common case, a text
with no error in it, must cost little:

* a prefilter first (:mod:`bot.diagnosis.prefilter`), in one scan with the token starts: with
  hyperscan, the needles themselves; otherwise their *anchors*, short substrings that many needles
  share (``ANCHORS``), found in a few passes. A needle is looked for only when it or its anchor
  was seen; most chat holds none;
* each distinct ``needle`` whose anchor is present is looked for once over the whole text with
  ``str.find``;
* only lines holding a needle are un-escaped, redacted and regex-matched, and only their first
  ``LINE_CAP`` characters;
* the loader accepts only regexes with bounded quantifiers and no nested repetition, so every search
  is linear in the (capped) line length.

Everything echoed back (excerpts, values in evidence) has been through ``redact_text``.
"""

from __future__ import annotations

import importlib
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from bot.datafiles import read_toml
from bot.diagnosis.model import CauseId, Evidence, Finding, Library
from bot.diagnosis.prefilter import LiteralSet
from bot.diagnosis.redact import redact_text
from bot.diagnosis.timefmt import format_duration, format_iso

CATALOGUE_PATH = Path(__file__).with_name("error_patterns.toml")
LINE_CAP = 8192  # only the first 8 KiB of any line is examined
EXCERPT_LIMIT = 300
VALUE_LIMIT = 200
MAX_MATCHES = 500  # beyond this a text is a log dump; later error lines are not reported
MAX_LINES_EXAMINED = 10_000  # candidate lines (holding a needle) examined per text, at most
GENERIC = "generic"  # library value in the catalogue for text with no library fingerprint

_MAX_REPEAT = 512
_GROUPS = frozenset({"exp", "nbf", "iat", "now", "duration", "expected", "value", "claim", "kid", "alg"})
_TIME_CLAIMS = ("exp", "nbf", "iat")
_VALUE_LABELS = (("expected", "expected"), ("value", "the token has"), ("kid", "kid"), ("alg", "alg"))
_NEEDLE_FORBIDDEN = frozenset("\"'<>&\\")
_MESSAGE_START = r"(?:^|[:\"'=>(\[{|,;`*-])[ \t]{0,8}"
_REQUIRED = frozenset({"id", "library", "needle", "regex", "causes", "explain", "examples"})
_OPTIONAL = frozenset({"claim", "message_start", "requires_any", "fallback"})
_CONTROL = {code: " " for code in (*range(32), 127)}
_ESCAPE = re.compile(r"""\\u00([0-7][0-9a-fA-F])|\\(["'/\\])|&(lt|gt|amp|quot|apos|#39|#x27|#34);""")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'", "#39": "'", "#x27": "'", "#34": '"'}
_GO_PART = re.compile(r"(\d{1,20}(?:\.\d{1,20})?)(ns|us|µs|μs|ms|h|m|s)")
_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ns": 1e-9}
_EPOCH = re.compile(r"[0-9]{9,11}(?:\.[0-9]{1,9})?")
_DOTNET_TIME_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p")
_sre_parser: Any = importlib.import_module("re._parser")  # the stdlib regex parser, for the linearity check

# Substrings that the catalogue's needles share, most preferred first: a needle's anchor is the first of
# these it contains. They are rare in chat, so that a message usually holds none of them, and most
# are too long (or hold a space or a colon) to turn up by chance inside the base64 of a log full of
# tokens. A needle that holds none of them is its own anchor (never skipped, only slower); a test
# keeps that from happening.
ANCHORS = (
    "IDX1",
    "ERR_JW",
    "NO_MATCHING",
    "ALG_NOT",
    "JOSE",
    "JWKS",
    "JWT ID",
    "JWT Claims",
    "Jwt ",
    "Jwt:",
    "jwt ",
    "Exception",
    "Error",
    "xpir",
    "maxAge",
    "equire",
    "Format is",
    "Bearer token",
    "Header",
    "Issuer",
    "Audience",
    "Signature",
    "Subject",
    "Invalid",
    "Token",
    "Not ",
    "None",
    "(alg)",
    "error_",
    "Key ID",
    "claim",
    "orithm",
    "oken",
    "keyfunc",
    "key ",
    "keys",
    "nvalid",
    "value",
    "verif",
    "padding",
)


@dataclass(frozen=True, slots=True)
class ErrorTextMatch:
    """One line of the text holding one or more recognised error messages.

    ``start``/``end`` delimit that line in the original text; ``excerpt`` is the redacted message;
    ``validator_time`` is the validator's own clock reading when the message prints it (IDX10223's
    "Current time"), evidence of how far that clock is off.
    """

    start: int
    end: int
    excerpt: str
    library: Library | None
    findings: tuple[Finding, ...]
    validator_time: float | None = None


@dataclass(frozen=True, slots=True)
class ErrorPattern:
    id: str
    library: Library | None
    needle: str
    expression: str  # the regex, compiled on first use: most runs meet few of the catalogue's messages
    causes: tuple[tuple[CauseId, float], ...]
    claim: str | None
    explain: str
    requires_any: tuple[str, ...]
    fallback: bool  # counts only when no other pattern matched the line

    @property
    def regex(self) -> re.Pattern[str]:
        compiled = _COMPILED.get(self.expression)
        if compiled is None:
            compiled = _COMPILED[self.expression] = re.compile(self.expression)
        return compiled


_COMPILED: dict[str, re.Pattern[str]] = {}  # the catalogue's regexes, once compiled (bounded by the catalogue)


@dataclass(frozen=True, slots=True)
class ContextRule:
    """A message of ``library`` in a text that also contains ``text_contains`` came from ``becomes``."""

    library: Library
    text_contains: str
    becomes: Library


@dataclass(frozen=True, slots=True)
class Leeway:
    """A library's default leeway for time claims, and the name of the setting that changes it."""

    seconds: float
    setting: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    patterns: tuple[ErrorPattern, ...]
    context_rules: tuple[ContextRule, ...]
    default_leeway: Mapping[Library, Leeway]
    plausible_skew_seconds: float
    far_skew_likelihood: float
    by_needle: Mapping[str, tuple[int, ...]]  # needle -> indexes into patterns
    anchors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # anchor -> its needles
    anchor_set: LiteralSet = field(default_factory=lambda: LiteralSet(()))
    # What engine.scan_text looks for in every message (see _prefilter): the needles or the anchors.
    prefilter: LiteralSet = field(default_factory=lambda: LiteralSet(()))


class CatalogueError(ValueError):
    """error_patterns.toml is invalid; the message names the entry and what is wrong with it."""


# ------------------------------------------------------------------------------------------ matching


def find_error_texts(
    text: str, *, now: float | None = None, anchors: Iterable[str] | None = None
) -> list[ErrorTextMatch]:
    """Every line of ``text`` that holds a known JWT error message, in order of appearance.

    ``now`` (epoch seconds), when given, lets evidence say how long ago a time in a message was.
    ``anchors``: the anchors whose needles may be in ``text`` (every anchor of a needle that is in it),
    when the caller has looked; see :func:`bot.diagnosis.engine.scan_text`.
    """
    if not text:
        return []
    if now is not None and not math.isfinite(now):
        now = None
    catalogue = default_catalogue()
    candidates = _candidate_lines(text, catalogue, anchors)
    hints: dict[str, bool] = {}
    matches: list[ErrorTextMatch] = []
    for start in sorted(candidates)[:MAX_LINES_EXAMINED]:
        end = text.find("\n", start)
        end = len(text) if end < 0 else end - (text[end - 1 : end] == "\r")
        match = _match_line(text, start, end, sorted(candidates[start]), catalogue, now, hints)
        if match is not None:
            matches.append(match)
            if len(matches) >= MAX_MATCHES:
                break
    return matches


def _candidate_lines(text: str, catalogue: Catalogue, anchors: Iterable[str] | None) -> dict[int, set[int]]:
    """Line start -> indexes of the patterns whose needle occurs in the first LINE_CAP chars of the line.

    Only the first MAX_LINES_EXAMINED lines are examined, so each needle's first that many lines suffice.
    """
    lines: dict[int, set[int]] = {}
    if anchors is None:
        anchors = catalogue.anchor_set.present(text)  # a needle can be in the text only with its anchor
    for anchor in anchors:
        for needle in catalogue.anchors.get(anchor, ()):
            indexes = catalogue.by_needle[needle]
            pos, found = text.find(needle), 0
            while pos >= 0 and found < MAX_LINES_EXAMINED:
                line_start = text.rfind("\n", 0, pos) + 1
                if pos + len(needle) <= line_start + LINE_CAP:
                    lines.setdefault(line_start, set()).update(indexes)
                    found += 1
                line_end = text.find("\n", pos)
                if line_end < 0:
                    break
                pos = text.find(needle, line_end + 1)
    return lines


def _match_line(
    text: str,
    start: int,
    end: int,
    indexes: Iterable[int],
    catalogue: Catalogue,
    now: float | None,
    hints: dict[str, bool],
) -> ErrorTextMatch | None:
    line = redact_text(_unescape(text[start : min(end, start + LINE_CAP)])).translate(_CONTROL)
    hits: list[tuple[re.Match[str], ErrorPattern]] = []
    for index in indexes:
        pattern = catalogue.patterns[index]
        if pattern.requires_any and not any(s in line for s in pattern.requires_any):
            continue
        found = pattern.regex.search(line)
        if found is not None:
            hits.append((found, pattern))
    if not hits:
        return None
    if not all(pattern.fallback for _, pattern in hits):
        hits = [(found, pattern) for found, pattern in hits if not pattern.fallback]
    hits.sort(key=lambda hit: hit[0].start())
    library: Library | None = None
    best: dict[CauseId, Finding] = {}
    for found, pattern in hits:
        library = library or _library_in_context(pattern.library, text, catalogue, hints)
        evidence, summary = _evidence(pattern, found, now, catalogue)
        far = evidence.seconds_off is not None and evidence.seconds_off > catalogue.plausible_skew_seconds
        for cause, likelihood in pattern.causes:
            if far and cause is CauseId.CLOCK_SKEW:
                likelihood = min(likelihood, catalogue.far_skew_likelihood)
            kept = best.get(cause)
            if kept is None or likelihood > kept.likelihood:
                best[cause] = Finding(cause, evidence, likelihood, summary)
    findings = tuple(sorted(best.values(), key=lambda finding: -finding.likelihood))
    first = hits[0][0].start()
    readings = (_parse_time(raw) for found, _ in hits if (raw := found.groupdict().get("now")) and not _hidden(raw))
    validator_time = next((reading for reading in readings if reading is not None), None)
    return ErrorTextMatch(start, end, _excerpt(line, first), library, findings, validator_time)


def _library_in_context(
    library: Library | None, text: str, catalogue: Catalogue, hints: dict[str, bool]
) -> Library | None:
    for rule in catalogue.context_rules:
        if rule.library is library:
            if rule.text_contains not in hints:
                hints[rule.text_contains] = rule.text_contains in text
            if hints[rule.text_contains]:
                return rule.becomes
    return library


def _evidence(
    pattern: ErrorPattern, found: re.Match[str], now: float | None, catalogue: Catalogue
) -> tuple[Evidence, str | None]:
    """The evidence for every cause of one recognised message, and a few-word summary (or None)."""
    groups = {name: value for name, value in found.groupdict().items() if value and not _hidden(value)}
    claim = _clean(groups["claim"]) if "claim" in groups else pattern.claim
    parts = [pattern.explain.rstrip(".")]
    reason, summary = "error_text", None
    for name, label in _VALUE_LABELS:
        if name in groups:
            parts.append(f"{label} '{_clean(groups[name])}'")
            if name == "expected":
                reason, summary = "expected_value", f"expected {_clean(groups[name], 60)}"
    seconds_off: float | None = None
    time_name = next((name for name in _TIME_CLAIMS if name in groups), None)
    when = _parse_time(groups[time_name]) if time_name else None
    validator_now = _parse_time(groups["now"]) if "now" in groups else None
    if time_name and when is not None and validator_now is not None:
        reason = "times_in_message"
        seconds_off = validator_now - when if time_name == "exp" else when - validator_now
        gap = format_duration(seconds_off)
        if time_name == "exp":
            summary = f"{gap} past exp"
            parts.append(f"the validator's clock read {_iso(validator_now)}, {gap} after exp {_iso(when)}")
        else:
            summary = f"{time_name} {gap} ahead"
            parts.append(f"{time_name} {_iso(when)} was {gap} ahead of the validator's clock {_iso(validator_now)}")
    elif "duration" in groups and (seconds_off := _parse_go_duration(groups["duration"])) is not None:
        reason, summary = "times_in_message", f"{format_duration(seconds_off)} past exp"
        parts.append(f"it was {format_duration(seconds_off)} past exp when checked")
    elif time_name and when is not None and now is not None:
        reason = "time_in_message"
        side = "before" if now >= when else "after"
        parts.append(f"{time_name} {_iso(when)} is {format_duration(now - when)} {side} now ({_iso(now)})")
    leeway_needed = math.ceil(seconds_off) if seconds_off is not None and seconds_off > 0 else None
    if leeway_needed is not None:
        leeway = catalogue.default_leeway.get(pattern.library) if pattern.library else None
        setting = leeway.setting if leeway else "the leeway"
        if leeway and leeway.seconds:
            parts.append(f"the default {setting} of {leeway.seconds:g} s is already included in that judgement")
        parts.append(f"{setting} would have to be at least {leeway_needed} s to accept it")
    return Evidence(claim, reason, "; ".join(parts) + ".", seconds_off, leeway_needed), summary


def _unescape(line: str) -> str:
    """Undo the escaping a message picks up in JSON logs (\\u0027, \\") and HTML/Slack (&quot; &lt;)."""
    if "\\" not in line and "&" not in line:
        return line
    return _ESCAPE.sub(_unescape_one, line)


def _unescape_one(found: re.Match[str]) -> str:
    hex_code, escaped, entity = found.groups()
    if hex_code:
        return chr(int(hex_code, 16))
    return str(escaped) if escaped else _ENTITIES[entity]


def _hidden(value: str) -> bool:
    """IdentityModel prints "[PII of type '...' is hidden ...]" in place of values."""
    return value.lstrip().startswith("[PII") or value.strip().lower() in {"null", "none"}


def _clean(value: str, limit: int = VALUE_LIMIT) -> str:
    """A value fit to echo: redacted, on one line, at most ``limit`` characters."""
    text = " ".join(redact_text(value).translate(_CONTROL).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _excerpt(line: str, first: int) -> str:
    """The line (already redacted), or a window of it around the first recognised message."""
    if len(line) <= EXCERPT_LIMIT:
        return line.strip()
    start = max(0, min(first - 40, len(line) - EXCERPT_LIMIT))
    piece = line[start : start + EXCERPT_LIMIT]
    if start > 0:
        piece = "…" + piece[1:]
    if start + EXCERPT_LIMIT < len(line):
        piece = piece[:-1] + "…"
    return piece.strip()


def _parse_time(raw: str) -> float | None:
    """Epoch seconds from an ISO 8601 instant, a .NET invariant-culture date, or epoch digits."""
    text = raw.strip()
    if _EPOCH.fullmatch(text):
        return float(text)
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for layout in _DOTNET_TIME_FORMATS:
            try:
                parsed = datetime.strptime(text, layout)  # the messages say "(UTC)"
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    try:
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    except (OverflowError, ValueError):  # e.g. year 1 with a positive UTC offset
        return None


def _parse_go_duration(raw: str) -> float | None:
    total, position = 0.0, 0
    for part in _GO_PART.finditer(raw):
        if part.start() != position:
            return None
        total += float(part[1]) * _GO_UNITS[part[2]]
        position = part.end()
    return total if position and position == len(raw) else None


def _iso(epoch: float) -> str:
    return format_iso(epoch) or f"{epoch:.0f}"


# ------------------------------------------------------------------------------------------ loading


@cache
def default_catalogue() -> Catalogue:
    """The packaged catalogue, loaded once.

    Its regexes' linearity and its examples are checked by the test suite (which loads the same file
    with ``checked=True``), not at every start: the command line starts faster.
    """
    try:
        data = read_toml(CATALOGUE_PATH)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{CATALOGUE_PATH.name}: not valid TOML: {exc}") from exc
    return catalogue_from_data(data, source=CATALOGUE_PATH.name, checked=False)


def load_catalogue(toml_text: str, *, source: str = "<string>", checked: bool = True) -> Catalogue:
    """Parse and check a catalogue; raise CatalogueError naming the first problem found."""
    try:
        data = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{source}: not valid TOML: {exc}") from exc
    return catalogue_from_data(data, source=source, checked=checked)


def catalogue_from_data(data: dict[str, Any], *, source: str, checked: bool = True) -> Catalogue:
    """Check a parsed catalogue and build it.

    ``checked=False`` skips the two costly checks, that every regex searches in linear time and that
    every example matches its own entry: only for the packaged catalogue, whose tests run them.
    """
    unknown = set(data) - {"default_leeway", "timing", "context", "pattern"}
    if unknown:
        raise CatalogueError(f"{source}: unknown top-level keys {sorted(unknown)}")
    entries = _list(data.get("pattern"), f"{source}: [[pattern]]")
    patterns = tuple(_load_pattern(entry, f"{source}: pattern #{n}", checked) for n, entry in enumerate(entries, 1))
    seen: set[str] = set()
    for pattern in patterns:
        if pattern.id in seen:
            raise CatalogueError(f"{source}: pattern id {pattern.id!r} is used twice")
        seen.add(pattern.id)
    rules = tuple(_load_context(entry, f"{source}: [[context]]") for entry in _list(data.get("context", []), source))
    leeway: dict[Library, Leeway] = {}
    for name, value in _table(data.get("default_leeway", {}), f"{source}: [default_leeway]").items():
        where = f"{source}: [default_leeway] {name}"
        library, entry = _library(name, where), _table(value, where)
        if library is None or set(entry) != {"seconds", "setting"}:
            raise CatalogueError(f"{where}: needs a library name, seconds and setting")
        leeway[library] = Leeway(_number(entry["seconds"], f"{where} seconds", 0), _text(entry, "setting", where))
    timing = _table(data.get("timing", {}), f"{source}: [timing]")
    plausible = _number(timing.get("plausible_skew_seconds", 900), f"{source}: [timing] plausible_skew_seconds", 1)
    far = _number(timing.get("far_skew_likelihood", 0.1), f"{source}: [timing] far_skew_likelihood", 0, 1)
    by_needle: dict[str, list[int]] = {}
    for index, pattern in enumerate(patterns):
        by_needle.setdefault(pattern.needle, []).append(index)
    needles = {needle: tuple(indexes) for needle, indexes in by_needle.items()}
    return Catalogue(
        patterns=patterns,
        context_rules=rules,
        default_leeway=leeway,
        plausible_skew_seconds=plausible,
        far_skew_likelihood=far,
        by_needle=needles,
        anchors=(anchors := build_anchors(needles)),
        anchor_set=(anchor_set := LiteralSet(anchors)),
        prefilter=_prefilter(needles, anchor_set),
    )


def _prefilter(needles: Iterable[str], anchor_set: LiteralSet) -> LiteralSet:
    """The set that tells, in one scan, which of the catalogue's messages a text may hold.

    With hyperscan, the needles themselves: one scan costs the same for any number of literals, and long
    literals make far fewer false candidates than the anchors, which are short and made of common letters
    (on ordinary chat the needles scan about twice as fast as the anchors). The Python backend pays a pass
    per gate group, so there the anchors, which many needles share, are cheaper. Either way exact: a
    needle in the text is found, or its anchor is.
    """
    needle_set = LiteralSet(needles)
    return needle_set if needle_set.backend == "hyperscan" else anchor_set


def anchor_of(needle: str) -> str:
    """The first of ANCHORS that ``needle`` contains, else the needle itself."""
    return next((anchor for anchor in ANCHORS if anchor in needle), needle)


def build_anchors(needles: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Every needle under exactly one anchor (its own, if no anchor of ANCHORS is in it): the prefilter
    of :func:`find_error_texts`. Exact: a needle in the text puts its anchor in the text."""
    grouped: dict[str, list[str]] = {}
    for needle in needles:
        grouped.setdefault(anchor_of(needle), []).append(needle)
    return {anchor: tuple(members) for anchor, members in grouped.items()}


def _load_pattern(entry: Any, where: str, checked: bool = True) -> ErrorPattern:
    entry = _table(entry, where)
    if isinstance(entry.get("id"), str):
        where = f"{where.rsplit(': ', 1)[0]}: pattern {entry['id']!r}"
    missing, unknown = _REQUIRED - set(entry), set(entry) - _REQUIRED - _OPTIONAL
    if missing or unknown:
        raise CatalogueError(f"{where}: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}")
    library = _library(_text(entry, "library", where), where)
    needle = _text(entry, "needle", where)
    if _NEEDLE_FORBIDDEN & set(needle):
        raise CatalogueError(f"{where}: needle may not contain any of {sorted(_NEEDLE_FORBIDDEN)}")
    source = _text(entry, "regex", where)
    problem = regex_problem(source) if checked else None
    if problem:
        raise CatalogueError(f"{where}: bad regex {source!r}: {problem}")
    message_start, fallback = entry.get("message_start", False), entry.get("fallback", False)
    if not isinstance(message_start, bool) or not isinstance(fallback, bool):
        raise CatalogueError(f"{where}: message_start and fallback must be true or false")
    expression = f"{_MESSAGE_START}(?:{source})" if message_start else source
    strange = set(re.compile(expression).groupindex) - _GROUPS if checked else set()
    if strange:
        raise CatalogueError(f"{where}: unknown regex group names {sorted(strange)}; known: {sorted(_GROUPS)}")
    causes: list[tuple[CauseId, float]] = []
    for name, likelihood in _table(entry["causes"], f"{where}: causes").items():
        try:
            cause = CauseId(name)
        except ValueError:
            known = ", ".join(c.value for c in CauseId)
            raise CatalogueError(f"{where}: unknown cause id {name!r}; known: {known}") from None
        causes.append((cause, _number(likelihood, f"{where}: likelihood of {name}", 0.01, 1)))
    if not causes:
        raise CatalogueError(f"{where}: causes is empty")
    claim = entry.get("claim")
    if claim is not None and not (isinstance(claim, str) and claim):
        raise CatalogueError(f"{where}: claim must be a non-empty string")
    requires_any = tuple(_strings(entry.get("requires_any", []), f"{where}: requires_any"))
    explain = _text(entry, "explain", where)
    pattern = ErrorPattern(
        entry["id"], library, needle, expression, tuple(causes), claim, explain, requires_any, fallback
    )
    examples = _strings(entry["examples"], f"{where}: examples")
    if not examples:
        raise CatalogueError(f"{where}: give at least one example")
    for example in examples if checked else ():
        line = _unescape(example)
        found = (
            needle in example
            and pattern.regex.search(line)
            and (not requires_any or any(s in line for s in requires_any))
        )
        if not found:
            raise CatalogueError(f"{where}: example {example!r} does not match its own needle/regex")
    return pattern


def _load_context(entry: Any, where: str) -> ContextRule:
    entry = _table(entry, where)
    if set(entry) != {"library", "text_contains", "becomes"}:
        raise CatalogueError(f"{where}: needs exactly library, text_contains, becomes")
    library = _library(_text(entry, "library", where), where)
    becomes = _library(_text(entry, "becomes", where), where)
    if library is None or becomes is None:
        raise CatalogueError(f"{where}: library and becomes must name libraries")
    return ContextRule(library, _text(entry, "text_contains", where), becomes)


def regex_problem(source: str) -> str | None:
    """Why ``source`` could search in worse than linear time (or does not compile), else None.

    Allowed: literals, classes, anchors, look-arounds, groups, bounded quantifiers ({m,n} with
    n <= 512, or ?). Rejected: * + {m,}, a variable quantifier or an alternation inside a group that
    repeats more than once, back-references.
    """
    try:
        tree = _sre_parser.parse(source)
    except re.error as exc:
        return f"does not compile: {exc}"
    return _repetition_problem(tree, repeated=False)


def _repetition_problem(items: Any, *, repeated: bool) -> str | None:
    for op, arg in items:
        name, children = str(op), []
        if name in {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}:
            low, high, body = arg
            if high > _MAX_REPEAT:
                return f"unbounded quantifier; write {{m,n}} with n <= {_MAX_REPEAT}"
            if repeated and low != high:
                return "quantifier inside a repeated group"
            problem = _repetition_problem(body, repeated=repeated or high > 1)
            if problem:
                return problem
        elif name == "BRANCH":
            if repeated:
                return "alternation inside a repeated group"
            children = list(arg[1])
        elif name == "SUBPATTERN":
            children = [arg[-1]]
        elif name in {"ASSERT", "ASSERT_NOT"}:
            children = [arg[1]]
        elif name == "ATOMIC_GROUP":
            children = [arg]
        elif name in {"GROUPREF", "GROUPREF_EXISTS"}:
            return "back-references are not allowed"
        for child in children:
            problem = _repetition_problem(child, repeated=repeated)
            if problem:
                return problem
    return None


def _library(name: str, where: str) -> Library | None:
    if name == GENERIC:
        return None
    try:
        return Library(name)
    except ValueError:
        known = ", ".join([*(lib.value for lib in Library), GENERIC])
        raise CatalogueError(f"{where}: unknown library {name!r}; known: {known}") from None


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise CatalogueError(f"{where}: {key} must be a non-empty string")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise CatalogueError(f"{where}: must be a list of non-empty strings")
    return value


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CatalogueError(f"{where}: must be a table")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise CatalogueError(f"{where}: must be an array of tables")
    return value


def _number(value: Any, where: str, low: float, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise CatalogueError(f"{where}: must be a number from {low:g} to {high:g}")
    return float(value)
