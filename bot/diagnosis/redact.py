"""Redaction: the signature segment of a token never leaves the engine, nor does an opaque token.

``redact_text`` is the edge filter for any free text that may hold tokens (error excerpts, log
records, exception messages): it keeps the readable header and payload and replaces everything
after the second dot with a fixed marker. An opaque access token after ``Bearer`` or ``access_token``
(see :func:`find_opaque_values`) is a credential with nothing readable in it: only its first four
characters and its length are kept (:func:`opaque_shown`). It is linear in the length of the text, and
idempotent: a redacted text comes back unchanged.

What counts as a signature (the signature-shaped runs):

* in a dotted run of base64url characters that starts like a JSON object (``eyJ``, ``eyI``, ``eyA``,
  ``ewo``, ``ewk``, ``ew0``, even glued to other characters), everything after its second dot;
* in a dotted run whose *second* segment starts like a JSON object and is followed by just one more
  segment (``…J9.eyJ….sig``: a token whose header was cut off by a line break, the payload of a JWS
  being a JSON object too), everything after its second dot;
* a token cut by line breaks (a terminal's or a mail client's wrap, Slack's ``> `` quotes, ``\\r\\n``, a
  JSON ``\\n`` or a URL-encoded ``%0A``, indentation, at most two blank lines between): the run ending a
  line and the runs starting the lines after it are read as one run, by the two rules above, for as long
  as each piece fills its line. Where the signature had begun on an earlier line (two dots, or a
  redaction marker ending the line), a piece is the signature's tail and is replaced by the marker, and
  where it begins inside a piece, the piece is redacted from there. Not taken for a tail: an ordinary word
  (:func:`is_ordinary_word`: words, class names such as ``UnauthorizedError``, snake and kebab case,
  acronyms, error codes such as ``IDX10223``, numbers, dates, UUIDs, hex ids, Slack ids) unless a
  random-looking piece follows it; a dotted run, or a run whose first bytes decode to the text of a JSON
  object (the next line's own token); a word like ``ewok.txt`` (an ``ew…`` start needs a header of 8
  characters). A line ending in a full stop followed by a token's first line is a sentence, unless what
  follows proves the dot was a cut header's.

The rule errs on the side of hiding: a random-looking word at the start of the line after a token is
redacted too (about one random run of 12 characters in 10,000 reads as an ordinary word). Nothing but
these runs and the opaque tokens is touched.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from string import ascii_letters, digits
from typing import NamedTuple

REDACTION_MARKER = "[redacted]"

# Where a token starts: base64url of a JSON object's opening ('{"' is "eyJ" or "eyI", '{ "' is "eyA",
# '{' and a line break is "ewo", "ew0" or "ewk"), wherever it stands, even glued to other characters
# ("%20eyJ…" in a URL-encoded body). The pattern always matches to the end of the dotted run it
# starts, so no attempt fails and restarts inside a run: the substitution stays linear.
TOKEN_START = r"e(?:y[IJA]|w[ok0])"
TOKEN_STARTS = ("eyJ", "eyI", "eyA", "ewo", "ewk", "ew0")  # the same, as literals
_B64 = r"[A-Za-z0-9_\-]"
# A header cut by a line break ("…iJ9.eyJ…"): the first segment of a dotted run whose second starts like a
# JSON object. Tried only where a dotted run begins (the look-behind), so each segment is read once.
_CUT_HEADER = rf"(?<![A-Za-z0-9_\-.]){_B64}*+\.(?={TOKEN_START})"
_MARKER = re.escape(REDACTION_MARKER)
# A token's dotted run (``run``) and a marker right after it (``marker``: it was redacted already), or a
# marker alone (``bare``). Every match that starts succeeds, so the search never restarts inside a run.
_TOKENISH = re.compile(
    rf"(?P<run>(?P<cut>{_CUT_HEADER})?+{TOKEN_START}{_B64}*+(?:\.{_B64}*+)*+)(?P<marker>{_MARKER})?+|(?P<bare>{_MARKER})"
)
# A line break between the pieces of a wrapped token: trailing blanks, the break (raw, JSON-escaped or
# URL-encoded; at most two blank lines more), then indentation and quote marks (``>``, Slack's ``&gt;``).
_BLANK = r"(?:[ \t]|\\t|%20|%09|\+)"
_NEWLINE = r"(?:\r?\n|\\r\\n|\\n|%0[Dd]%0[Aa]|%0[Aa])"
_PREFIX = rf"(?:{_BLANK}|>|&gt;|%3[Ee])*+"
_BREAK_SOURCE = rf"{_BLANK}*+{_NEWLINE}{_PREFIX}(?:{_NEWLINE}{_PREFIX}){{0,2}}+"
_BREAK = re.compile(_BREAK_SOURCE)
_BREAK_HINTS = ("\n", "\\n", "%0A", "%0a")
_RUN = r"[A-Za-z0-9_\-.]"
# The last run of a line when the next line starts with a run (``run``, and a marker right after it), or
# a marker ending a line (``bare``). Tried where a run begins (the look-behind): each run is read once.
_LINE_END = re.compile(
    rf"(?:(?<![A-Za-z0-9_\-.])(?P<run>{_RUN}++)(?P<marker>{_MARKER})?+|(?P<bare>{_MARKER}))(?={_BREAK_SOURCE}{_RUN})"
)
# What starts the next line: a dotted run, and a marker right after it.
_CONTINUATION = re.compile(rf"(?P<run>{_RUN}++)(?P<marker>{_MARKER})?+")
_START = re.compile(TOKEN_START)
_ORDINARY_MAX = 80
# Ordinary words: a word, a class name, an acronym, an error code (IDX10223), a number, a hex id with digits
# and letters, snake or kebab case in one case (invalid_token, ERR_JWT_EXPIRED, x-request-id, Content-Type),
# a date, a UUID, a Slack id; dotted, each piece one of these (Object.verify, jwt.exceptions.DecodeError).
# A random run of 12 characters or more reads as one about once in 10,000 times.
_PIECE = (
    r"(?:[A-Z]?[a-z]{1,20}|[a-z]{1,12}[0-9]{1,4}|[A-Z]{1,10}|[A-Z]{2,6}[0-9]{1,8}|[0-9]{1,10}"
    r"|[a-z]{1,20}(?:[_\-][a-z]{2,20}){1,8}|[A-Z]{2,10}(?:_[A-Z]{2,10}){1,8}"  # invalid_token, ERR_JWT_EXPIRED
    r"|(?:[A-Z]{1,4}|[A-Z][a-z]{1,20})(?:-(?:[A-Z]{1,4}|[A-Z][a-z]{1,20})){1,8}"  # Content-Type, WWW-Authenticate
    r"|[A-Z]{0,4}(?:[A-Z]{1,4}[a-z]{2,20}){0,8}(?:Error|Exception|Expired|Invalid|Failed|Failure)"  # JWTClaimsError
    r"|(?=[0-9a-f]{0,63}[0-9])(?=[0-9a-f]{0,63}[a-f])[0-9a-f]{6,64}"
    r"|(?=[0-9A-F]{0,63}[0-9])(?=[0-9A-F]{0,63}[A-F])[0-9A-F]{6,64}"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2})?"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[UWCGDTEBF][A-Z0-9]{8,10})"
)
_ORDINARY = re.compile(rf"{_PIECE}(?:\.{_PIECE}){{0,8}}\.?")


# An opaque access token: the value right after "Bearer " (an Authorization header) or after "access_token"
# and an "=" or ":" (a query string, a form, JSON), that is no JWT: no dots, 16 to 512 base64url or base64
# characters (RFC 6750's token68 without "." and "~"), not starting like a JWT's JSON header. Redaction
# takes longer values too (an encrypted opaque token runs to a few KiB), up to REDACT_OPAQUE_MAX. Possessive
# quantifiers and a bounded run: a look at one place reads at most that many characters.
OPAQUE_MIN, OPAQUE_MAX = 16, 512
REDACT_OPAQUE_MAX = 16 * 1024
OPAQUE_MARKERS = ("Bearer", "bearer", "BEARER", "access_token")
_WORD = frozenset(ascii_letters + digits + "_")  # a marker glued to one of these is part of another word


def _after_markers(longest: int) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """What follows ``Bearer`` and what follows ``access_token``, the value (group 1) up to ``longest``."""
    value = rf"(?!{TOKEN_START})[A-Za-z0-9_\-+/]{{{OPAQUE_MIN},{longest}}}+={{0,2}}+(?![A-Za-z0-9_\-+/=.~])"
    bearer = re.compile(rf"[ \t]{{1,8}}+({value})")
    access_token = re.compile(rf"""(?:\\?["'])?+[ \t]{{0,8}}+[:=][ \t]{{0,8}}+(?:\\?["'])?+({value})""")
    return bearer, access_token


_AFTER = {OPAQUE_MAX: _after_markers(OPAQUE_MAX), REDACT_OPAQUE_MAX: _after_markers(REDACT_OPAQUE_MAX)}


class OpaqueValue(NamedTuple):
    """Where an opaque token's value stands in a text; ``marker`` is ``Bearer`` or ``access_token``."""

    marker: str
    start: int
    end: int


def find_opaque_values(
    text: str, markers: Iterable[str] = OPAQUE_MARKERS, *, longest: int = OPAQUE_MAX
) -> list[OpaqueValue]:
    """The opaque-token values after the ``markers`` (of :data:`OPAQUE_MARKERS`) in ``text``, in order;
    ``longest``: :data:`OPAQUE_MAX` (what the scan calls an opaque token) or :data:`REDACT_OPAQUE_MAX`.

    Looks only where a marker stands (``str.find``), with one bounded match there: linear in the text (a
    failed look reads a value that no other marker's look reads again: a marker inside it is glued to it).
    """
    bearer, access_token = _AFTER[longest]
    found: list[OpaqueValue] = []
    for marker in markers:
        after, name = (access_token, "access_token") if marker == "access_token" else (bearer, "Bearer")
        position = text.find(marker)
        while position >= 0:
            end = position + len(marker)
            if position == 0 or text[position - 1] not in _WORD:
                match = after.match(text, end)
                if match is not None:
                    found.append(OpaqueValue(name, match.start(1), match.end(1)))
                    end = match.end(1)
            position = text.find(marker, end)
    found.sort(key=lambda value: value.start)
    return found


def opaque_shown(value: str) -> str:
    """What may be shown of an opaque token: its first four characters and its length, ``2Yot… (22 chars)``."""
    return f"{value[:4]}… ({len(value)} chars)"


def redact_opaque(text: str) -> str:
    """``text`` with every opaque token after ``Bearer`` or ``access_token`` cut to :func:`opaque_shown`."""
    markers = [marker for marker in OPAQUE_MARKERS if marker in text]
    if not markers:
        return text
    values = find_opaque_values(text, markers, longest=REDACT_OPAQUE_MAX)
    if not values:
        return text
    pieces: list[str] = []
    last = 0
    for value in values:
        pieces += [text[last : value.start], opaque_shown(text[value.start : value.end])]
        last = value.end
    pieces.append(text[last:])
    return "".join(pieces)


def redact_text(text: str) -> str:
    """Replace every signature (and, for a JWE, everything after the second segment) with the marker, and
    every opaque token after ``Bearer`` or ``access_token`` with what may be shown of it; the tails of
    tokens wrapped over lines too (see the module's docstring)."""
    if any(hint in text for hint in _BREAK_HINTS):
        text = _apply(text, _merged(_local_spans(text), _wrapped_spans(text)))
    elif "." in text:
        text = _TOKENISH.sub(_redact_match, text)
    return redact_opaque(text)


def wrapped_tails(text: str) -> list[tuple[int, int, str]]:
    """The pieces of wrapped tokens on their continuation lines that redaction changes, as (start, end,
    replacement), in order: what the first line of a token does not show. (The first line's own
    signature is left to :func:`redact_text`.)"""
    if not any(hint in text for hint in _BREAK_HINTS):
        return []
    return [(start, end, REDACTION_MARKER) for start, end in sorted(_wrapped_spans(text))]


_LEADING_RUN = re.compile(rf"{_PREFIX}(?P<run>{_RUN}++)(?P<end>{_BREAK_SOURCE}|$)?+")


def may_hold_a_tail(line: str) -> bool:
    """Whether redaction might change ``line`` (one line of a text) because a token wrapped onto it: it
    starts with a run that a signature's tail could be (a dotted run, a random-looking one, or one filling
    the line), or it holds an escaped line break (``\\n``, ``%0A``). When no line of interest may, a caller
    can skip :func:`wrapped_tails`. (A line starting with an ordinary word and more never changes.)"""
    if "\\n" in line or "%0A" in line or "%0a" in line:
        return True
    lead = _LEADING_RUN.match(line)
    if lead is None:
        return False
    run = lead.group("run")
    return "." in run or lead.group("end") is not None or not is_ordinary_word(run)


def is_ordinary_word(run: str) -> bool:
    """Whether a base64url run (dots allowed) reads as words, codes, numbers or ids rather than random
    characters: such a run at the start of the line after a token is not taken for its tail."""
    return len(run) <= _ORDINARY_MAX and _ORDINARY.fullmatch(run) is not None


def _redact_match(match: re.Match[str]) -> str:
    end = _match_signature_start(match)
    return match.group(0) if end is None else match.group("run")[:end] + REDACTION_MARKER


def _match_signature_start(match: re.Match[str]) -> int | None:
    """Where the signature begins in the match's run. A cut header counts only when what follows it is
    a payload and a signature: ``docs.eyJ….eyJ….sig`` is a whole token after a word."""
    run = match.group("run")
    if run is None:
        return None  # a marker alone
    cut = match.group("cut")
    if cut and run.count(".", len(cut)) >= 2 and _START.search(cut) is None:
        end = _signature_start(run[len(cut) :])
        return None if end is None else len(cut) + end
    return _signature_start(run)


_Span = tuple[int, int]  # what is replaced by the marker (empty: the marker is inserted there)


def _local_spans(text: str) -> list[_Span]:
    """What :func:`_redact_match` replaces, line by line, as spans."""
    spans: list[_Span] = []
    for match in _TOKENISH.finditer(text):
        end = _match_signature_start(match)
        if end is None:
            continue
        start = match.start("run") + end
        if start == match.end("run") and match.group("marker"):
            continue  # ``h.p.[redacted]``: redacted already
        spans.append((start, match.end()))
    return spans


def _wrapped_spans(text: str) -> list[_Span]:
    """The pieces of wrapped tokens on their continuation lines that are signature. Every line end is
    looked at once and every continuation read once: linear in the text."""
    spans: list[_Span] = []
    position = 0
    while (match := _LINE_END.search(text, position)) is not None:
        position = _follow(text, match, spans)
    return spans


class _Token:
    """What the pieces of a logical run (a run at a line's end and the runs starting the lines after it)
    have shown of a token so far, read piece by piece as :data:`_TOKENISH` would read them joined."""

    __slots__ = ("dots", "doubtful", "header", "signature", "started", "tail", "word")

    def __init__(self, *, signature: bool = False) -> None:
        self.dots = 0  # before the start: dots in the run so far; after it: the token's dots so far
        self.started = self.signature = signature
        self.tail = ""  # the run's last characters (a token start may straddle a line break)
        # The dot ending a line was taken for a cut header's: ``expired.`` then ``eyJhbGci…fQ.e`` may as
        # well be a sentence and a token, which :meth:`undo` says when a dotted run follows where the
        # signature's tail would stand. (What was redacted meanwhile stays redacted.)
        self.doubtful = False
        # An "ewo", "ewk" or "ew0" start (a pretty-printed header) is also the start of words ("ewok.txt"):
        # it counts only with 8 characters before its first dot (``header`` counts them; -1: no count).
        self.header = -1
        self.word = False  # it was such a word: no token

    def undo(self) -> None:
        """The line before ended a sentence, not a header: one dot fewer, no signature yet."""
        self.signature = self.doubtful = False
        self.dots = 1

    def feed(self, piece: str) -> int | None:
        """Where in ``piece`` the signature begins (0: it had begun), or None if it has not begun."""
        if self.signature:
            return 0
        offset = 0
        if not self.started:
            window = self.tail + piece
            found = _START.search(window)
            if found is None:
                self.dots += piece.count(".")
                self.tail = window[-3:]
                return None
            at = found.start()
            offset = max(0, at - len(self.tail))
            before = self.dots + piece.count(".", 0, offset)
            # "…J9." then "eyJ…" (a payload and a signature, not a whole token after a sentence's full stop)
            cut_header = before == 1 and at > 0 and window[at - 1] == "." and piece.count(".", offset) < 2
            self.started, self.dots = True, 1 if cut_header else 0
            self.doubtful = cut_header
            if not cut_header and window.startswith("ew", at):
                self.header = max(0, len(self.tail) - at)
        if self.header >= 0:
            first = piece.find(".", offset)
            self.header += (len(piece) if first < 0 else first) - offset
            if first >= 0:
                self.word, self.header = self.header < 8, -1
                if self.word:
                    return None
        index = offset - 1
        for _ in range(2 - self.dots):
            index = piece.find(".", index + 1)
            if index < 0:
                self.dots += piece.count(".", offset)
                return None
        self.signature = True
        return index + 1


def _follow(text: str, match: re.Match[str], spans: list[_Span]) -> int:
    """Follow the lines that continue the run ending a line at ``match``; return where to look on.

    A piece wholly in the signature that is an ordinary word is taken only if a random-looking piece
    follows it (``pending``): ``…sig\\nIjog\\nIngifQ`` continues a token, ``…sig\\nThanks\\nBob`` does not.
    A dotted run, or a run starting like a token, where a signature's tail would stand is the next line's
    own token: the following stops, unless the signature was only supposed (``tentative``, see
    :attr:`_Token.doubtful`)."""
    if match.group("bare") is not None or match.group("marker"):
        token = _Token(signature=True)
    else:
        first = match.group("run")
        if not (first.endswith(("e", "ey", "ew", ".")) or _START.search(first)):
            return match.end()  # no token in it, and none can start across the break
        token = _Token()
        token.feed(first)
        if token.word:
            return match.end()
    pending: list[_Span] = []
    pending_head = ""  # the pending pieces' first characters: "e", "y", "JhbG…" is a token's start
    tentative: list[_Span] = []
    position = match.end()
    while (cut := _BREAK.match(text, position)) is not None:
        following = _CONTINUATION.match(text, cut.end())
        if following is None:
            break
        run, start = following.group("run"), following.start()
        # a full stop after a tail is a sentence's; before a marker, a segment's
        core = run if following.group("marker") else run.rstrip(".")
        head = (pending_head + core)[:12]
        if token.signature and token.doubtful and ("." in core or _new_token(head)):
            token.undo()  # what was taken for the signature was the payload
            tentative.clear()
            pending.clear()
            pending_head = ""
        taken = tentative if token.doubtful else spans
        if token.signature:
            if "." in core or _new_token(head):  # the next line's own token
                spans.extend(tentative)
                return pending[0][0] if pending else start
            span = (start, start + len(core))
            if is_ordinary_word(core):
                pending.append(span)
                pending_head = head
            else:
                taken.extend(pending)
                pending.clear()
                pending_head = ""
                taken.append(span)
        else:
            begins = token.feed(run)
            if token.word:
                break
            if begins is not None and begins < len(run):
                (tentative if token.doubtful else spans).append((start + begins, following.end("run")))
        position = following.end()
    spans.extend(tentative)
    return position


def _new_token(head: str) -> bool:
    """Whether a line starting with ``head`` (up to 12 characters) starts a token rather than continuing a
    signature: it starts like a JSON object and its first bytes decode to text (a random tail starts so
    once in 40,000 times, and decodes to text once in 300 of those)."""
    if _START.match(head) is None:
        return False
    chunk = head[: len(head) - len(head) % 4]
    if not chunk:
        return True  # too short to tell: a token's start
    try:
        raw = base64.urlsafe_b64decode(chunk)
    except (binascii.Error, ValueError):
        return False
    return all(32 <= byte < 127 or byte in (9, 10, 13) for byte in raw)


def _merged(first: list[_Span], second: list[_Span]) -> list[_Span]:
    """Both lists of spans as one, in order, overlapping spans joined (one marker for both)."""
    if not second:
        return first
    merged: list[_Span] = []
    for start, end in sorted(first + second):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _apply(text: str, spans: list[_Span]) -> str:
    if not spans:
        return text
    pieces: list[str] = []
    last = 0
    for start, end in spans:
        pieces += [text[last:start], REDACTION_MARKER]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _signature_start(run: str) -> int | None:
    """Where the third segment of a dotted run begins, if it has one."""
    first = run.find(".")
    second = run.find(".", first + 1) if first >= 0 else -1
    return second + 1 if second >= 0 else None


def contains_signature_like(text: str) -> bool:
    """True when the text still holds a token with something after its second dot (tests and guards)."""
    for match in _TOKENISH.finditer(text):
        start = _match_signature_start(match)
        if start is not None and start < len(match.group("run")):
            return True
    return False


def redacted_form(segments: list[str]) -> str:
    """The token as it may be shown: ``header.payload.`` + marker; a JWE keeps only its header."""
    if len(segments) == 5:
        return f"{segments[0]}.{REDACTION_MARKER}"
    return f"{segments[0]}.{segments[1]}.{REDACTION_MARKER}"


def fingerprint(token: str) -> str:
    """A truncated SHA-256 of the whole token: identifies it for caching without revealing it."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def shorten_redacted(redacted: str, longest: int, keep: int) -> str:
    """``eyJhbGciOi….eyJzdWIiOi….[redacted]``: each readable segment over ``longest`` characters cut to
    ``keep`` and an ellipsis; the marker is never cut."""
    return ".".join(
        part if len(part) <= longest or part == REDACTION_MARKER else part[:keep] + "…" for part in redacted.split(".")
    )


_SLACK_SECRETS = re.compile(r"\b(xox[abposre]|xapp)-[A-Za-z0-9-]{6,}")
# In a value that names something (an audience, an issuer, a claim, an algorithm, a service): a JSON
# object's base64url start and more ("eyJhbGci…", a token or a piece of one), or a long run of base64
# characters holding upper case, lower case and digits (a credential; client ids, GUIDs and URLs are
# shorter or single-case). Bounded runs, one look per run: linear.
_TOKEN_PIECE = re.compile(r"ey[JIA][A-Za-z0-9_\-]{8}")
_CREDENTIAL_MIN = 48
_LONG_RUN = re.compile(rf"(?<![A-Za-z0-9_\-+=])[A-Za-z0-9_\-+=]{{{_CREDENTIAL_MIN},}}+")


# Where any redaction of last_pass begins: a token's start (a wrapped tail is redacted only after the token
# it belongs to), an opaque token's marker, a Slack secret's prefix. A text holding none of them comes back
# as it is, and most of what leaves the process (block ids, labels, card sentences) holds none: one search
# in C instead of the whole pass. tests/diagnosis/test_redact.py holds the invariant to the full pass.
_MAY_REDACT = re.compile("|".join([TOKEN_START, *OPAQUE_MARKERS, "xox", "xapp"]))


def last_pass(text: str) -> str:
    """The last look at any text that leaves the process (Web API payloads, store writes, log records):
    JWT signatures, opaque tokens and Slack secrets redacted. Idempotent."""
    if _MAY_REDACT.search(text) is None:
        return text
    return _SLACK_SECRETS.sub(lambda m: m.group(1) + "-[redacted]", redact_text(text))


def credential_shaped(value: str) -> bool:
    """Whether a value given where a name belongs (``aud=``, ``--service``…) holds a token, a piece of one,
    an opaque token, a Slack token or a long random run: such a value is refused, never echoed nor kept.
    Audiences, issuers (URLs, ``api://`` names, GUIDs, client ids), claim names and algorithms are not."""
    if _TOKEN_PIECE.search(value) or last_pass(value) != value:
        return True
    return any(_mixed(run.group(0)) for run in _LONG_RUN.finditer(value))


def _mixed(run: str) -> bool:
    return any(c.isupper() for c in run) and any(c.islower() for c in run) and any(c.isdigit() for c in run)
