"""Recognise JWT-library validation errors in free text: log lines, stack traces, HTTP responses, chat.

The knowledge (message texts, causes, explanations, anchors) is data, in the catalogue that
:mod:`bot.knowledge.catalogue` loads and checks (``bot/knowledge/data/error_texts/catalogue.toml``);
this module applies a :class:`Catalogue` and reads no file. The bot scans every Slack message, so the
common case, a text with no error in it, must cost little:

* a prefilter first (:mod:`bot.diagnosis.prefilter`), in one scan with the token starts: with
  hyperscan, the needles themselves; otherwise their *anchors*, short substrings that many needles
  share (the catalogue's ``anchors`` list), found in a few passes. A needle is looked for only when it
  or its anchor was seen; most chat holds none;
* each distinct ``needle`` whose anchor is present is looked for once over the whole text with
  ``str.find``;
* only lines holding a needle are un-escaped, redacted and regex-matched, and only their first
  ``LINE_CAP`` characters;
* the loader accepts only regexes with bounded quantifiers and no nested repetition, so every search
  is linear in the (capped) line length.

One printed error is one match. A traceback's source lines (``raise ExpiredSignatureError("…")``),
the ``at …`` frames of a Node, Java or .NET stack and a Node source excerpt above its caret are never
read as errors; the properties Node prints under an error (``code: 'ERR_JWT_EXPIRED'``), a Java
``Caused by:`` and a Python chained exception (``During handling of the above exception…``) join the
error they belong to. Node's properties also give times (``expiredAt``, jose's ``payload``): an entry's
``below`` regex reads them.

Causes follow the times a message gives (the validator's own clock, a Go duration, or a time in the
message against ``now``): where the gap is beyond the catalogue's plausible skew, the time cause stands
alone (``expired``, ``not_yet_valid``, ``issued_in_future``) and ``clock_skew`` is not listed; where the
times allow skew, both are, each with its own evidence. With no times, the entry's causes stand as the
catalogue ranks them. No two causes of a message share an evidence sentence: the entry's first cause
says its ``explain``, every other cause its own ``why`` (``clock_skew``'s is written here, from the claim
and the times).

Everything echoed back (excerpts, values in evidence, the expected values) has been through
``redact_text``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import NamedTuple

from bot.diagnosis.ids import CauseId, Library, Reason
from bot.diagnosis.model import Evidence, Finding
from bot.diagnosis.prefilter import LiteralSet
from bot.diagnosis.redact import REDACTION_MARKER, redact_text
from bot.diagnosis.timefmt import format_duration, format_iso

LINE_CAP = 8192  # only the first 8 KiB of any line is examined
EXCERPT_LIMIT = 300
VALUE_LIMIT = 200
MAX_MATCHES = 500  # beyond this a text is a log dump; later error lines are not reported
MAX_LINES_EXAMINED = 10_000  # candidate lines (holding a needle) examined per text, at most
MAX_EXPECTED_VALUES = 5  # expected values kept per claim
TRACE_LINES = 400  # lines of one printed error (frames, properties, a chained traceback) looked through
TRACE_CHARS = 64 * 1024
BELOW_LINES = 80  # lines under a message searched for its ``below`` details
# The named regex groups the matcher reads (see _findings); a catalogue's regexes may use only these.
REGEX_GROUPS = frozenset(
    {
        "exp",
        "nbf",
        "iat",
        "now",
        "duration",
        "expected",
        "expected_list",
        "expected_more",
        "value",
        "claim",
        "kid",
        "alg",
        "difference_ms",
        "difference_s",
        "allowed_skew_ms",
        "allowed_skew_s",
    }
)
TIME_GROUPS = frozenset({"exp", "nbf", "iat"})  # the groups a ``below`` regex may use
# The causes whose evidence the times in a message decide.
TIME_CAUSES = frozenset(
    {
        CauseId.CLOCK_SKEW,
        CauseId.EXPIRED,
        CauseId.NOT_YET_VALID,
        CauseId.ISSUED_IN_FUTURE,
        CauseId.MILLISECONDS_TIMESTAMP,
    }
)
# What a ``message_start`` entry's regex is prefixed with: the start of the line or a delimiter.
MESSAGE_START = r"(?:^|[:\"'=>(\[{|,;`*-])[ \t]{0,8}"

_TIME_CLAIMS = ("exp", "nbf", "iat")
_TIMED = frozenset({Reason.TIMES_IN_MESSAGE, Reason.TIME_IN_MESSAGE})
_VALUE_LABELS = (
    ("expected", "expected"),
    ("expected_list", "expected one of"),
    ("expected_more", "or the configuration's"),
    ("value", "the token has"),
    ("kid", "kid"),
    ("alg", "alg"),
)
# The groups that say what the validator expected, and what joins several values in each (None: the
# entry's ``separator``, else one value).
_EXPECTED_GROUPS: tuple[tuple[str, str | None], ...] = (
    ("expected", None),
    ("expected_list", ", "),
    ("expected_more", None),
)
# A value group that stops before one of these (or the line's end) was not cut short (see _value_ended).
_VALUE_ENDS = frozenset("\"'`")
_PUNCTUATION_ENDS = frozenset({", ", ". ", "; "})
_REGEX_LITERAL = re.compile(r"/[^\n]{1,400}/[dgimsuyv]{0,8}")  # jsonwebtoken prints a RegExp audience as /…/
_CONTROL = {code: " " for code in (*range(32), 127)}
_ESCAPE = re.compile(r"""\\u00([0-7][0-9a-fA-F])|\\(["'/\\])|&(lt|gt|amp|quot|apos|#39|#x27|#34);""")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'", "#39": "'", "#x27": "'", "#34": '"'}
_GO_PART = re.compile(r"(\d{1,20}(?:\.\d{1,20})?)(ns|us|µs|μs|ms|h|m|s)")
_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ns": 1e-9}
_EPOCH = re.compile(r"[0-9]{9,11}(?:\.[0-9]{1,9})?")
_NUMBER = re.compile(r"[0-9]{1,3}(?:,?[0-9]{3}){0,6}(?:\.[0-9]{1,9})?")
_DOTNET_TIME_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p")

# The lines of a printed error that are not messages (all applied to one line, at its start).
# Node, Java and .NET stack frames: "    at verify (/app/verify.js:190:21)", "\tat a.B.c(B.java:80)",
# "   at X.Y(String s) in /src/Y.cs:line 42", "    at /app/verify.js:190:21", Node's last frame before "{".
_FRAME = re.compile(
    r"[ \t]{1,40}at (?:async |new )?[^\s(]{1,1000}(?: \[as [^\]\n]{1,200}\])?"
    r"(?: ?\([^\n]{0,2000}\)(?: in [^\n]{1,1000}:line [0-9]{1,9})?)?[ \t]{0,8}\{?[ \t]{0,8}"
)
_PY_FILE = re.compile(r'[ \t]{0,40}File "[^"\n]{1,2000}", line [0-9]{1,9}')  # a Python traceback's frame
_PY_RAISE = re.compile(r"[ \t>0-9-]{0,24}raise [A-Za-z_][\w.]{0,200}\(")  # Python source: raise X("…")
_CARET = re.compile(r"[ \t]{0,400}[~^]{1,400}[ \t]{0,40}")  # the marker line under a source excerpt
_PROPERTY = re.compile(r"[ \t]{1,24}(?:\[[A-Za-z_$][\w$]{0,40}\]|[A-Za-z_$][\w$]{0,60}|'[^'\n]{1,60}'): ")
_CLOSER = re.compile(r"[ \t]{0,24}[}\]][,;]?[ \t]{0,8}")
_CHAIN_MARKERS = frozenset(
    {
        "During handling of the above exception, another exception occurred:",
        "The above exception was the direct cause of the following exception:",
    }
)
# An HTTP header line as curl -i and browsers' dev tools print it; a response's headers and body are one refusal.
_HEADER_LINE = re.compile(r"[ \t]{0,8}(?:< )?[A-Za-z][A-Za-z0-9-]{0,60}:[ \t]")
_RESPONSE_CHARS = 16 * 1024
_TRACEBACK = "Traceback (most recent call last):"
_PART, _LOGGED = "part", "logged"  # how a message joins the printed error above it (see _continues)
_TRACE_NOISE = ("...", "[Previous line repeated", "--- End of", "Caused by:", "Traceback (most recent call last):")


@dataclass(frozen=True, slots=True)
class ErrorTextMatch:
    """One printed error: the line holding one or more recognised error messages.

    ``start``/``end`` delimit that line in the original text; ``excerpt`` is the redacted message;
    ``validator_time`` is the validator's own clock reading when the message prints it (IDX10223's
    "Current time"), evidence of how far that clock is off. ``expected`` is what the message says the
    validator expected, claim by claim (``(("aud", ("orders-api",)),)``): at most
    ``MAX_EXPECTED_VALUES`` values a claim, each whole (a value the message cut short, hid or that
    redaction touched is left out) and at most ``VALUE_LIMIT`` characters.
    """

    start: int
    end: int
    excerpt: str
    library: Library | None
    findings: tuple[Finding, ...]
    validator_time: float | None = None
    expected: tuple[tuple[str, tuple[str, ...]], ...] = ()


class ErrorPattern(NamedTuple):  # not a dataclass: cheaper to define at every start-up
    id: str
    library: Library | None
    needle: str
    expression: str  # the regex, compiled on first use: most runs meet few of the catalogue's messages
    causes: tuple[tuple[CauseId, float], ...]
    claim: str | None
    explain: str  # the evidence sentence of the first cause
    requires_any: tuple[str, ...]
    fallback: bool  # counts only when no other pattern matched the line
    why: tuple[tuple[CauseId, str], ...] = ()  # the evidence sentence of each later cause (clock_skew: optional)
    below: str | None = None  # a regex for the lines printed under the message (times only)
    separator: str | None = None  # what joins several values in the ``expected`` group

    @property
    def regex(self) -> re.Pattern[str]:
        return _compiled(self.expression)

    @property
    def below_regex(self) -> re.Pattern[str] | None:
        return None if self.below is None else _compiled(self.below)

    def sentence(self, cause: CauseId) -> str | None:
        """The sentence that says why ``cause`` (None: clock skew, written from the claim and the times)."""
        if cause is self.causes[0][0]:
            return self.explain
        return next((sentence for named, sentence in self.why if named is cause), None)


_COMPILED: dict[str, re.Pattern[str]] = {}  # the catalogue's regexes, once compiled (bounded by the catalogue)


def _compiled(expression: str) -> re.Pattern[str]:
    compiled = _COMPILED.get(expression)
    if compiled is None:
        compiled = _COMPILED[expression] = re.compile(expression)
    return compiled


class ContextRule(NamedTuple):  # not a dataclass: cheaper to define at every start-up
    """A message of ``library`` in a text that also contains ``text_contains`` came from ``becomes``;
    with ``line_only``, only when the message's own line contains it (a traceback's last line names the
    exception's module: another library's traceback in the same paste must not count)."""

    library: Library
    text_contains: str
    becomes: Library
    line_only: bool = False


class Leeway(NamedTuple):  # not a dataclass: cheaper to define at every start-up
    """A library's default leeway for time claims, and the name of the setting that changes it."""

    seconds: float
    setting: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The error texts to recognise, with what the prefilter needs; :meth:`build` derives the rest.

    ``plausible_skew_seconds``: how far clocks plausibly drift apart; a gap in a message's times beyond
    it is not clock skew.
    """

    patterns: tuple[ErrorPattern, ...]
    context_rules: tuple[ContextRule, ...]
    default_leeway: Mapping[Library, Leeway]
    plausible_skew_seconds: float
    by_needle: Mapping[str, tuple[int, ...]]  # needle -> indexes into patterns
    anchors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # anchor -> its needles
    anchor_set: LiteralSet = field(default_factory=lambda: LiteralSet(()))
    # What bot.diagnosis.scan looks for in every message (see _prefilter): the needles or the anchors.
    prefilter: LiteralSet = field(default_factory=lambda: LiteralSet(()))

    @classmethod
    def build(
        cls,
        patterns: Sequence[ErrorPattern],
        *,
        context_rules: Sequence[ContextRule],
        default_leeway: Mapping[Library, Leeway],
        plausible_skew_seconds: float,
        anchors: Sequence[str],
    ) -> Catalogue:
        """A catalogue of checked parts, its prefilter derived: ``anchors`` are the substrings the needles
        share, most preferred first (see :func:`build_anchors`)."""
        by_needle: dict[str, list[int]] = {}
        for index, pattern in enumerate(patterns):
            by_needle.setdefault(pattern.needle, []).append(index)
        needles = {needle: tuple(indexes) for needle, indexes in by_needle.items()}
        grouped = build_anchors(needles, anchors)
        anchor_set = LiteralSet(grouped)
        return cls(
            patterns=tuple(patterns),
            context_rules=tuple(context_rules),
            default_leeway=default_leeway,
            plausible_skew_seconds=plausible_skew_seconds,
            by_needle=needles,
            anchors=grouped,
            anchor_set=anchor_set,
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


def anchor_of(needle: str, anchors: Sequence[str]) -> str:
    """The first of ``anchors`` that ``needle`` contains, else the needle itself."""
    return next((anchor for anchor in anchors if anchor in needle), needle)


def build_anchors(needles: Iterable[str], anchors: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Every needle under exactly one anchor (its own, if none of ``anchors`` is in it): the prefilter
    of :func:`find_error_texts`. Exact: a needle in the text puts its anchor in the text."""
    grouped: dict[str, list[str]] = {}
    for needle in needles:
        grouped.setdefault(anchor_of(needle, anchors), []).append(needle)
    return {anchor: tuple(members) for anchor, members in grouped.items()}


# ------------------------------------------------------------------------------------------ matching


def find_error_texts(
    text: str, catalogue: Catalogue, *, now: float | None = None, anchors: Iterable[str] | None = None
) -> list[ErrorTextMatch]:
    """Every printed error in ``text`` that holds one of the catalogue's messages, in order of appearance.

    ``now`` (epoch seconds), when given, lets evidence say how long ago a time in a message was.
    ``anchors``: the anchors whose needles may be in ``text`` (every anchor of a needle that is in it),
    when the caller has looked; see :func:`bot.diagnosis.scan.scan`.
    """
    if not text:
        return []
    if now is not None and not math.isfinite(now):
        now = None
    candidates = _candidate_lines(text, catalogue, anchors)
    hints: dict[str, bool] = {}
    matches: list[ErrorTextMatch] = []
    tail = -1  # the end of the last line that belonged to the last match's printed error
    for start in sorted(candidates)[:MAX_LINES_EXAMINED]:
        end = _line_end(text, start)
        if _is_trace_line(text, start, end):
            continue  # source code or a stack frame: never a message of its own
        match = _match_line(text, start, end, sorted(candidates[start]), catalogue, now, hints)
        if match is None:
            continue
        joined = _continues(text, tail, start, end) if matches else None
        if joined is not None:
            # a logged message above its own traceback: the exception's line names the validator best
            matches[-1] = _merged(matches[-1], match, later_names_it=joined == _LOGGED)
        elif matches and _same_response(text, tail, start):
            matches[-1] = _merged_response(matches[-1], match)
        else:
            if len(matches) >= MAX_MATCHES:
                break
            matches.append(match)
        tail = end
    return matches


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end < 0 else end - (text[end - 1 : end] == "\r")


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


# ------------------------------------------------------------------------------ one printed error


def _is_trace_line(text: str, start: int, end: int) -> bool:
    """Whether the line is part of a printed error but no message: a stack frame, a traceback's source
    line (``    raise ExpiredSignatureError("Signature has expired")``) or a source excerpt above a caret."""
    head = text[start : min(end, start + 512)]
    if _PY_RAISE.match(head) or _is_frame(text[start : min(end, start + 4096)]):
        return True
    if head[:1] in (" ", "\t") and start > 0:
        previous = _previous_line(text, start)
        if _PY_FILE.match(previous) and _indent(head) > _indent(previous):
            return True  # the source line printed under a traceback's File line
    following = _next_line(text, end)
    return following is not None and _CARET.fullmatch(following) is not None


def _is_frame(line: str) -> bool:
    return _FRAME.fullmatch(line) is not None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _previous_line(text: str, start: int) -> str:
    end = start - 1  # the line feed before ``start``
    end -= text[end - 1 : end] == "\r"
    begin = text.rfind("\n", 0, end) + 1
    return text[begin : min(end, begin + 2048)]


def _next_line(text: str, end: int) -> str | None:
    newline = text.find("\n", end)
    if newline < 0:
        return None
    stop = text.find("\n", newline + 1)
    stop = len(text) if stop < 0 else stop
    return text[newline + 1 : min(stop, newline + 1 + 2048)].rstrip("\r")


class _Trace:
    """Reads the lines between two messages: are they all part of one printed error?"""

    __slots__ = ("chained", "file_indent", "open_object")

    def __init__(self, open_object: bool = False) -> None:
        self.chained = False  # a Python "During handling of the above exception…" was seen
        self.file_indent: int | None = None  # the indentation of the last traceback File line
        self.open_object = open_object  # Node printed "{" and the error's properties follow

    def absorb(self, line: str) -> bool:
        """Whether ``line`` belongs to the printed error (a frame, a property, traceback furniture)."""
        stripped = line.strip()
        if not stripped:
            return True
        if stripped in _CHAIN_MARKERS:
            self.chained, self.file_indent = True, None
            return True
        indent = _indent(line)
        if _PY_FILE.match(line):
            self.file_indent = indent
            return True
        if self.file_indent is not None and indent > self.file_indent:
            return True  # a traceback's source line, or its carets
        self.file_indent = None
        if _CARET.fullmatch(line) or stripped.startswith(_TRACE_NOISE):
            return True
        if _is_frame(line[:4096]) or _PROPERTY.match(line) or _CLOSER.fullmatch(line):
            self.open_object = self.open_object or stripped.endswith(("{", "["))
            return True
        return False


def _continues(text: str, tail: int, start: int, end: int) -> str | None:
    """Whether the message on the line at ``start`` is part of the printed error whose last line ended at
    ``tail``: only frames, properties and traceback furniture lie between, and the message is one of that
    error's properties (Node's ``code: 'ERR_JWT_EXPIRED'``, ``[cause]: …``), its cause (Java's
    ``Caused by:``, .NET's ``--->``) or a Python exception chained to it (``_PART``); or the exception
    line of the traceback that a logger printed right under its message (``logger.exception``: ``_LOGGED``).
    None: another error."""
    if tail < 0 or start - tail > TRACE_CHARS:
        return None
    between = text[tail:start].split("\n")[1:-1]
    if len(between) > TRACE_LINES:
        return None
    trace = _Trace(open_object=text[max(0, tail - 8) : tail].rstrip().endswith("{"))
    if not all(trace.absorb(line.rstrip("\r")) for line in between):
        return None
    head = text[start : min(end, start + 512)]
    if trace.chained or head.lstrip().startswith(("Caused by:", "---> ")):
        return _PART
    if trace.open_object and _PROPERTY.match(head) is not None:
        return _PART
    first = next((line.strip() for line in between if line.strip()), "")
    if first != _TRACEBACK or _ends_a_traceback(text, tail):
        return None  # (two tracebacks in a row are two errors)
    return _LOGGED


def _ends_a_traceback(text: str, tail: int) -> bool:
    """Whether the line ending at ``tail`` closes a traceback: the line above it is indented (the
    traceback's source line or carets), where a logger's message follows a line of the log."""
    line_start = text.rfind("\n", 0, tail) + 1
    above_start = text.rfind("\n", 0, max(0, line_start - 1)) + 1
    return line_start > 0 and text[above_start : above_start + 1] in (" ", "\t")


def _same_response(text: str, tail: int, start: int) -> bool:
    """Whether the message at ``start`` is the body of the HTTP response whose header line (a gateway's
    ``www-authenticate``) ended at ``tail``: only more header lines and the blank line before the body lie
    between (a ``curl -i`` paste is one refusal, not two)."""
    if tail < 0 or start - tail > _RESPONSE_CHARS:
        return False
    line_start = text.rfind("\n", 0, tail) + 1
    if not _HEADER_LINE.match(text, line_start, tail):
        return False
    between = text[tail:start].split("\n")[1:-1]
    blank = [line for line in between if not line.strip()]
    return len(blank) == 1 and all(not line.strip() or _HEADER_LINE.match(line) for line in between)


def _merged_response(header: ErrorTextMatch, body: ErrorTextMatch) -> ErrorTextMatch:
    """One refusal from a response's header and body. The body is the validator's own words (Envoy's ``Jwt
    is expired`` under a bare RFC 6750 challenge), so its findings stand, unless only the header names its
    validator (AWS's ``error_description`` above a plain ``{"message":"Unauthorized"}``)."""
    chosen, other = (header, body) if header.library is not None and body.library is None else (body, header)
    return replace(
        chosen,
        start=header.start,
        library=chosen.library or other.library,
        expected=_merge_expected((chosen.expected, other.expected)),
    )


def _merged(first: ErrorTextMatch, later: ErrorTextMatch, *, later_names_it: bool = False) -> ErrorTextMatch:
    """One printed error from two of its lines: the first line stays its place and excerpt; its library,
    unless ``later_names_it`` (a traceback's exception line, module and all, under a logged message)."""
    library = (later.library or first.library) if later_names_it else (first.library or later.library)
    return replace(
        first,
        library=library,
        findings=_combine((first.findings, later.findings)),
        validator_time=first.validator_time if first.validator_time is not None else later.validator_time,
        expected=_merge_expected((first.expected, later.expected)),
    )


def _combine(groups: Iterable[Sequence[Finding]]) -> tuple[Finding, ...]:
    """One finding per cause, the likeliest, most likely first. Where a message gave times, the time
    causes come only from the findings that read them: a bare class name or error code beside it does
    not bring back a cause the times ruled out."""
    everything = [finding for group in groups for finding in group]
    timed = any(f.cause in TIME_CAUSES and f.evidence.reason in _TIMED for f in everything)
    best: dict[CauseId, Finding] = {}
    for finding in everything:
        if timed and finding.cause in TIME_CAUSES and finding.evidence.reason not in _TIMED:
            continue
        kept = best.get(finding.cause)
        if kept is None or finding.likelihood > kept.likelihood:
            best[finding.cause] = finding
    return tuple(sorted(best.values(), key=lambda finding: -finding.likelihood))


def _below(text: str, end: int, regex: re.Pattern[str]) -> dict[str, str]:
    """The time groups of ``regex`` in the first of the lines printed under a message that holds them
    (Node's error properties: ``expiredAt: 2026-…``, jose's ``payload: { …, exp: 1795… }``)."""
    trace = _Trace(open_object=True)
    position = end
    for _ in range(BELOW_LINES):
        newline = text.find("\n", position)
        if newline < 0:
            break
        position = _line_end(text, newline + 1)
        raw = text[newline + 1 : min(position, newline + 1 + LINE_CAP)]
        if not raw.strip() or not trace.absorb(raw):
            break
        found = regex.search(_prepared(raw))
        if found is not None:
            groups = {name: value for name, value in found.groupdict().items() if value and not _hidden(value)}
            if groups:
                return groups
    return {}


# ------------------------------------------------------------------------------------------ one line


def _match_line(
    text: str,
    start: int,
    end: int,
    indexes: Iterable[int],
    catalogue: Catalogue,
    now: float | None,
    hints: dict[str, bool],
) -> ErrorTextMatch | None:
    line = _prepared(text[start : min(end, start + LINE_CAP)])
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
    elif any(pattern.library is not None for _, pattern in hits):
        # only fallbacks: a library's (a class name, an error code) says more than a generic refusal's
        hits = [(found, pattern) for found, pattern in hits if pattern.library is not None]
    hits.sort(key=lambda hit: hit[0].start())
    first = hits[0][0].start()
    library: Library | None = None
    for _, pattern in hits:
        library = library or _library_in_context(pattern.library, text, line, catalogue, hints)
    own = [hit for hit in hits if hit[1].library is library]
    if library is not None and own:
        # The line's validator explains it: another library's entry for the same words (ruby-jwt's and
        # PyJWT's "Signature has expired") would name the wrong library in its evidence.
        hits = own
    per_hit: list[tuple[Finding, ...]] = []
    expected: list[tuple[tuple[str, tuple[str, ...]], ...]] = []
    for found, pattern in hits:
        groups = {name: value for name, value in found.groupdict().items() if value and not _hidden(value)}
        below = pattern.below_regex
        if below is not None and TIME_GROUPS.isdisjoint(groups):
            groups.update(_below(text, end, below))
        per_hit.append(_findings(pattern, groups, now, catalogue, library))
        said = _expected(pattern, found, line)
        if said is not None:
            expected.append((said,))
    readings = (_parse_time(raw) for found, _ in hits if (raw := found.groupdict().get("now")) and not _hidden(raw))
    validator_time = next((reading for reading in readings if reading is not None), None)
    return ErrorTextMatch(
        start, end, _excerpt(line, first), library, _combine(per_hit), validator_time, _merge_expected(expected)
    )


def _prepared(raw: str) -> str:
    return redact_text(unescape(raw)).translate(_CONTROL)


def _library_in_context(
    library: Library | None, text: str, line: str, catalogue: Catalogue, hints: dict[str, bool]
) -> Library | None:
    for rule in catalogue.context_rules:
        if rule.library is library:
            if rule.line_only:
                if rule.text_contains in line:
                    return rule.becomes
                continue
            if rule.text_contains not in hints:
                hints[rule.text_contains] = rule.text_contains in text
            if hints[rule.text_contains]:
                return rule.becomes
    return library


# ------------------------------------------------------------------------------ evidence, per cause


class _Times(NamedTuple):  # a NamedTuple, not a dataclass: built at import for a fraction of the cost
    """What a message's times say. ``gap``: for exp, how long after exp the clock read; for nbf and iat,
    how far ahead of the clock the claim lay. ``validator``: the clock is the validator's own reading
    (IDX10223's "Current time") or its own arithmetic (golang-jwt v4's "expired by"), so the gap is the
    one it refused; otherwise the clock is ``now`` and the refusal happened at some time before it."""

    claim: str
    gap: float
    validator: bool
    when: float | None
    clock: float | None
    allowed: float | None = None  # the leeway the validator says it had in force (jjwt's "Allowed clock skew")


def _read_times(groups: Mapping[str, str], now: float | None, claim: str | None = None) -> _Times | None:
    name = next((name for name in _TIME_CLAIMS if name in groups), None)
    when = _parse_time(groups[name]) if name else None
    clock = _parse_time(groups["now"]) if "now" in groups else None
    difference = _seconds(groups, "difference")
    if difference is not None and difference > 0:
        # the validator's own arithmetic (jjwt: "a difference of 45000 milliseconds"): more precise than the
        # instants it prints beside it, which it rounds to the second
        on = name or (claim if claim in _TIME_CLAIMS else "exp")
        return _Times(on, difference, True, when, clock, _seconds(groups, "allowed_skew"))
    if name and when is not None and clock is not None:
        gap = clock - when if name == "exp" else when - clock
        # A refusal needs exp at or before the validator's clock, nbf/iat after it: else the times are garbled.
        return _Times(name, gap, True, when, clock) if (gap >= 0 if name == "exp" else gap > 0) else None
    if "duration" in groups and (duration := _parse_go_duration(groups["duration"])) is not None:
        return _Times("exp", duration, True, None, None)
    if name and when is not None and now is not None:
        return _Times(name, now - when if name == "exp" else when - now, False, when, now)
    return None


def _seconds(groups: Mapping[str, str], stem: str) -> float | None:
    """A number of seconds from the group ``<stem>_ms`` or ``<stem>_s``, if the message printed one."""
    for suffix, scale in (("_ms", 1e-3), ("_s", 1.0)):
        raw = groups.get(stem + suffix)
        if raw is not None and _NUMBER.fullmatch(raw.strip()):
            return float(raw.strip().replace(",", "")) * scale
    return None


def _allowed(cause: CauseId, times: _Times | None, window: float) -> bool:
    """Whether the message's times leave room for ``cause``."""
    if times is None or cause not in TIME_CAUSES:
        return True
    if cause is CauseId.MILLISECONDS_TIMESTAMP:
        return False  # the message printed the claim, and it reads as seconds
    if cause is CauseId.CLOCK_SKEW:
        return times.gap <= window
    if cause is CauseId.EXPIRED:
        return times.validator or times.claim != "exp" or times.gap >= 0
    return True


def _findings(
    pattern: ErrorPattern,
    groups: Mapping[str, str],
    now: float | None,
    catalogue: Catalogue,
    library: Library | None = None,
) -> tuple[Finding, ...]:
    """The findings of one recognised message, each cause with evidence of its own. ``library`` is who
    printed it (a context rule may say another library than the entry's): its default leeway is in force."""
    claim = _clean(groups["claim"]) if "claim" in groups else pattern.claim
    times = _read_times(groups, now, claim)
    window = catalogue.plausible_skew_seconds
    causes = [(cause, likelihood) for cause, likelihood in pattern.causes if _allowed(cause, times, window)]
    if not causes:  # garbled times that rule out everything: read the message without them
        times, causes = None, list(pattern.causes)
    if times is not None and len(causes) == 1 and causes[0][0] is CauseId.CLOCK_SKEW:
        # exp still ahead of now, yet refused: skew is the one explanation left
        causes = [(CauseId.CLOCK_SKEW, max(likelihood for _, likelihood in pattern.causes))]
    validator = library or pattern.library
    leeway = catalogue.default_leeway.get(validator) if validator else None
    values = [f"{label} '{_clean(groups[name])}'" for name, label in _VALUE_LABELS if name in groups]
    said = next((groups[name] for name, _ in _EXPECTED_GROUPS if name in groups), None)
    findings: list[Finding] = []
    for position, (cause, likelihood) in enumerate(causes):
        sentence = pattern.sentence(cause)
        parts = [sentence.rstrip(".")] if sentence else []
        if position == 0:
            parts.extend(values)  # the values the message printed, said once
        reason, summary = (Reason.EXPECTED_VALUE, f"expected {_clean(said, 60)}") if said else (Reason.ERROR_TEXT, None)
        seconds_off: float | None = None
        leeway_needed: int | None = None
        if times is not None and cause in TIME_CAUSES:
            timing = _timing(cause, times, leeway, window)
            parts.extend(timing.parts)
            reason = Reason.TIMES_IN_MESSAGE if times.validator else Reason.TIME_IN_MESSAGE
            summary = timing.summary
            if times.validator:
                seconds_off, leeway_needed = times.gap, _needed(times)
        elif cause is CauseId.CLOCK_SKEW and not sentence:
            parts.append(_skew_without_times(claim))
        if not parts:  # an entry the loader would refuse (a later cause without its own sentence)
            parts.append(f"{pattern.explain.rstrip('.')} ({cause.value.replace('_', ' ')})")
        evidence = Evidence(times.claim if times and cause in TIME_CAUSES else claim, reason, "; ".join(parts) + ".")
        if seconds_off is not None:
            evidence = evidence._replace(seconds_off=seconds_off, leeway_needed=leeway_needed)
        findings.append(Finding(cause, evidence, likelihood, summary if position == 0 or times else None))
    return tuple(findings)


def _needed(times: _Times) -> int:
    """The smallest whole leeway that accepts the token at the gap the validator refused.

    exp: the libraries refuse from ``now - leeway >= exp`` (PyJWT, jsonwebtoken, jose, golang-jwt), or
    from ``now - leeway > exp`` (Spring, IdentityModel) with a clock the message prints in whole seconds,
    truncated, so the gap was at least the printed one and less than a second more: the floor plus one
    second accepts it in every library. nbf and iat: refused while ``claim > now + leeway``, and the
    truncated clock makes the printed lead the largest it could have been: its ceiling accepts it.
    """
    return math.floor(times.gap) + 1 if times.claim == "exp" else math.ceil(times.gap)


def _skew_without_times(claim: str | None) -> str:
    if claim == "exp":
        return (
            "the message gives no times, so clock skew is not ruled out: a validator clock running ahead "
            "of the issuer's refuses a token that is still valid"
        )
    if claim in ("nbf", "iat"):
        return (
            "the message gives no times, so clock skew is not ruled out: an issuer clock running ahead of "
            f"the validator's puts {claim} in the validator's future"
        )
    return "the message gives no times, so clock skew is not ruled out"


class _Timing(NamedTuple):
    parts: tuple[str, ...]
    summary: str


def _timing(cause: CauseId, times: _Times, leeway: Leeway | None, window: float) -> _Timing:
    """What the times say about one cause, in words of that cause only."""
    if times.claim == "exp":
        return _exp_timing(cause, times, leeway, window)
    return _ahead_timing(cause, times, leeway, window)


def _exp_timing(cause: CauseId, times: _Times, leeway: Leeway | None, window: float) -> _Timing:
    gap, claim = format_duration(times.gap), times.claim
    setting = leeway.setting if leeway else "leeway"
    if times.validator:
        needed = _needed(times)
        if cause is CauseId.CLOCK_SKEW:
            return _Timing(
                (
                    f"exp passed only {gap} before the validator's clock: a validator clock {gap} fast would "
                    "refuse a token that is still valid",
                    f"{setting} {needed} s would cover that much skew",
                ),
                f"only {gap} past exp",
            )
        parts = [f"the token expired {gap} before the validator checked it{_instants(times)}"]
        parts.extend(_default_in_force(times, leeway, "gap"))
        if times.gap <= window:
            parts.append(f"only a {setting} of at least {needed} s would accept it")
        else:
            parts.append("that is far beyond any clock skew: get a fresh token")
        return _Timing(tuple(parts), f"{gap} past exp")
    when, now = _iso(times.when or 0.0), _iso(times.clock or 0.0)
    if times.gap < 0:  # only clock_skew is allowed here
        return _Timing(
            (
                f"exp {when} is still {gap} after now ({now}), yet the validator called the token expired: the "
                f"validator's clock runs more than {gap} ahead of this one",
            ),
            f"exp still {gap} ahead",
        )
    if cause is CauseId.CLOCK_SKEW:
        return _Timing(
            (f"exp is only {gap} before now: had the API refused the token before exp, its clock was running fast",),
            f"expired only {gap} ago",
        )
    if times.gap > window:
        return _Timing(
            (f"{claim} {when} is {gap} before now ({now}): the token has expired whatever the clocks say",),
            f"expired {gap} ago",
        )
    return _Timing((f"{claim} {when} is {gap} before now ({now})",), f"expired {gap} ago")


def _ahead_timing(cause: CauseId, times: _Times, leeway: Leeway | None, window: float) -> _Timing:
    claim, gap = times.claim, format_duration(times.gap)
    setting = leeway.setting if leeway else "leeway"
    meaning = (
        "the token is not valid until then"
        if claim == "nbf"
        else "the issuer dated the token in the validator's future"
    )
    if times.validator:
        needed = _needed(times)
        if cause is CauseId.CLOCK_SKEW:
            return _Timing(
                (
                    f"{claim} was only {gap} ahead of the validator's clock: an issuer clock {gap} fast (or a "
                    "validator clock that slow) does that",
                    f"{setting} {needed} s would cover that much skew",
                ),
                f"{claim} only {gap} ahead",
            )
        parts = [f"{claim}{_instants(times)} was {gap} ahead of the validator's clock: {meaning}"]
        parts.extend(_default_in_force(times, leeway, "lead"))
        if times.gap <= window:
            parts.append(f"a {setting} of {needed} s would accept it")
        else:
            parts.append(f"too far ahead for clock skew: the issuer set {claim} wrong")
        return _Timing(tuple(parts), f"{claim} {gap} ahead")
    when, now = _iso(times.when or 0.0), _iso(times.clock or 0.0)
    if times.gap <= 0:
        if cause is CauseId.CLOCK_SKEW:
            return _Timing(
                (
                    f"{claim} has passed by now, so the validator that refused the token read a time before "
                    f"{claim}: its clock lags the issuer's, or the token was used the moment it was issued",
                ),
                f"{claim} before the validator's clock",
            )
        return _Timing(
            (
                f"{claim} {when} passed {gap} before now ({now}): the token is usable by now as far as {claim} "
                "goes, so the refusal came earlier",
            ),
            f"{claim} passed {gap} ago",
        )
    if cause is CauseId.CLOCK_SKEW:
        return _Timing(
            (f"{claim} is only {gap} ahead of now: an issuer clock running {gap} fast would produce it",),
            f"{claim} only {gap} ahead",
        )
    if times.gap > window:
        return _Timing(
            (f"{claim} {when} is {gap} after now ({now}): too far ahead for clock skew; the issuer set it wrong",),
            f"{claim} {gap} ahead",
        )
    return _Timing((f"{claim} {when} is {gap} after now ({now}): {meaning}",), f"{claim} {gap} ahead")


def _instants(times: _Times) -> str:
    if times.when is None or times.clock is None:
        return ""
    if times.claim == "exp":
        return f" (exp {_iso(times.when)}, the validator's clock {_iso(times.clock)})"
    return f" {_iso(times.when)}"


def _default_in_force(times: _Times, leeway: Leeway | None, word: str) -> list[str]:
    """What the refusal says of the library's default leeway (IdentityModel's 300 s ClockSkew, Spring's
    60 s): a gap is refused only when the leeway in force is below it. A validator that prints the leeway
    it had in force (jjwt) is quoted instead."""
    if times.allowed is not None:
        setting = leeway.setting if leeway else "leeway"
        return [f"the validator allowed {_plain(times.allowed)} s of clock skew ({setting})"]
    if leeway is None or leeway.seconds <= 0:
        return []
    amount, default = _plain(times.gap), _plain(leeway.seconds)
    if _needed(times) <= leeway.seconds:
        if times.gap < 1:
            return [
                f"a {word} under a second is refused only when the {leeway.setting} in force is under a second, "
                f"so it was set to 0 s, not the default {default} s"
            ]
        return [
            f"a {word} of {amount} s is refused only when the {leeway.setting} in force is below it, so the "
            f"{leeway.setting} in force was below {amount} s (to the second the message prints), not the "
            f"default {default} s"
        ]
    return [f"the default {leeway.setting} of {default} s refuses a {word} that large too"]


def _plain(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:.3f}".rstrip("0")


# ------------------------------------------------------------------------------ what was expected


def _expected(pattern: ErrorPattern, found: re.Match[str], line: str) -> tuple[str, tuple[str, ...]] | None:
    """What the message says the validator expected, as (claim, values), or None."""
    claim = found.groupdict().get("claim") or pattern.claim
    if not claim:
        return None
    values: list[str] = []
    for name, separator in _EXPECTED_GROUPS:
        raw = found.group(name) if name in found.re.groupindex else None
        if not raw or _hidden(raw):
            continue
        joiner = separator or (pattern.separator if name == "expected" else None)
        pieces = raw.split(joiner) if joiner else [raw]
        if not _value_ended(line, found.end(name)):
            pieces = pieces[:-1]  # the regex's bound cut the last value short: it is not a value
        for piece in pieces:
            value = _expected_value(piece)
            if value is not None and value not in values:
                values.append(value)
    return (_clean(claim, 64), tuple(values[:MAX_EXPECTED_VALUES])) if values else None


def _value_ended(line: str, stop: int) -> bool:
    """Whether a value group that stopped at ``stop`` ended where the message ends the value: the line's
    end, a closing quote, or punctuation and a space ("Expected orders-api, received api://x")."""
    return stop >= len(line) or line[stop] in _VALUE_ENDS or line[stop : stop + 2] in _PUNCTUATION_ENDS


def _expected_value(piece: str) -> str | None:
    """One expected value, whole and fit to reuse, or None (hidden, redacted, too long, a RegExp)."""
    words = piece.split()
    value = words[0].rstrip(".,;:") if words else ""  # "expected: orders-api since Monday" in chat
    if not value or len(value) > VALUE_LIMIT or _hidden(value) or REDACTION_MARKER in value:
        return None
    if _REGEX_LITERAL.fullmatch(value):
        return None  # jsonwebtoken's audience option may be a RegExp: not a value to compare with
    return value


def _merge_expected(
    sets: Iterable[tuple[tuple[str, tuple[str, ...]], ...]],
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    merged: dict[str, list[str]] = {}
    for expected in sets:
        for claim, values in expected:
            kept = merged.setdefault(claim, [])
            kept.extend(value for value in values if value not in kept)
    return tuple((claim, tuple(values[:MAX_EXPECTED_VALUES])) for claim, values in merged.items() if values)


def unescape(line: str) -> str:
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
    """IdentityModel prints "[PII of type '...' is hidden ...]" in place of values, and "null" or "empty"
    for a list it does not have."""
    return value.lstrip().startswith("[PII") or value.strip().lower() in {"null", "none", "empty"}


def _clean(value: str, limit: int = VALUE_LIMIT) -> str:
    """A value fit to echo: redacted, on one line, at most ``limit`` characters."""
    redacted = value if REDACTION_MARKER in value else redact_text(value)  # redacted once: no second marker
    text = " ".join(redacted.translate(_CONTROL).split())
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
