"""Everything ``jwtcheck`` prints goes through here: text that cannot restyle or reorder a terminal, in an
encoding that cannot fail.

A token is hostile input: its claim names and values may hold ESC and OSC sequences, C1 controls, DEL,
bidi overrides (U+202E) or a lone surrogate. The renderers escape the values they show; this is the last
gate, for every line, claim names and clock lines included:

- terminal text: every character that is not printable (``bot.diagnosis.checks.values.printable``)
  is written as ``\\uXXXX``; only line breaks, tabs (the snippets' Go code) and, when colour is on, the
  renderer's own SGR colour codes pass;
- JSON: the same characters (and, for a stream that cannot encode them, every non-ASCII one) are written
  as JSON ``\\uXXXX`` escapes, so the document holds the same values;
- the encoding: whatever the stream cannot encode (``PYTHONIOENCODING=ascii``, a C locale) becomes a
  backslash escape instead of a ``UnicodeEncodeError``.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from typing import TextIO

from bot.diagnosis.checks.values import printable

_LAYOUT = re.compile(r"(\n|\t)")
_LAYOUT_AND_COLOUR = re.compile(r"(\n|\t|\x1b\[[0-9;]{0,16}m)")
_OUTSIDE_ASCII = re.compile(r"[^\n\x20-\x7e]")
_UNICODE_ENCODINGS = frozenset({"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "gb18030"})


def terminal_text(text: str, *, colour: bool = False) -> str:
    """``text`` with every unprintable character escaped; line breaks, tabs and (``colour``) SGR codes kept."""
    if text.replace("\n", "").replace("\t", "").isprintable():
        return text
    pieces = (_LAYOUT_AND_COLOUR if colour else _LAYOUT).split(text)
    # split() with one group: the separators are at the odd indexes
    return "".join(piece if index % 2 else printable(piece) for index, piece in enumerate(pieces))


def json_text(text: str, *, ascii_only: bool = False) -> str:
    """JSON text with every unprintable character (and with ``ascii_only`` every non-ASCII one) as a
    ``\\uXXXX`` escape. Such characters can only stand inside JSON strings, so the values do not change."""
    if (text.isascii() or not ascii_only) and text.replace("\n", "").isprintable():
        return text
    # only the rare characters outside printable ASCII are looked at one by one: a big log's document is MBs
    return _OUTSIDE_ASCII.sub(_ascii_escape if ascii_only else _printable_escape, text)


def _printable_escape(match: re.Match[str]) -> str:
    char = match.group()
    return char if char.isprintable() else _ascii_escape(match)


def _ascii_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # as a UTF-16 surrogate pair, as JSON writes it
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def unicode_capable(out: TextIO) -> bool:
    """Whether ``out`` encodes every character (UTF-8 and kin); an unknown encoding counts as not."""
    encoding = getattr(out, "encoding", None)
    if encoding is None:
        return True  # an in-memory stream (io.StringIO): no encoding at all
    try:
        return codecs.lookup(encoding).name in _UNICODE_ENCODINGS
    except LookupError:
        return False


def write(out: TextIO, text: str) -> None:
    """``text`` as ``out`` can encode it: a character it cannot becomes a backslash escape."""
    if unicode_capable(out) or text.isascii():
        try:
            out.write(text)  # a text stream encodes the whole text before it writes any of it
            return
        except UnicodeEncodeError:  # a lone surrogate
            pass
    encoding = getattr(out, "encoding", None) or "utf-8"
    try:
        text = text.encode(encoding, "backslashreplace").decode(encoding, "replace")
    except LookupError:
        text = text.encode("ascii", "backslashreplace").decode("ascii")
    out.write(text)


def write_terminal(out: TextIO, text: str, *, colour: bool = False) -> None:
    write(out, terminal_text(text, colour=colour))


def write_json(out: TextIO, text: str) -> None:
    write(out, json_text(text, ascii_only=not unicode_capable(out)))


def write_json_pieces(out: TextIO, pieces: Iterable[bytes | memoryview]) -> None:
    """A compact JSON document in UTF-8 pieces (``bot.parallel_json``), written as they are to ``out``'s
    binary buffer when they need no escape (the usual case: megabytes are not copied)."""
    chunks = list(pieces)
    binary = getattr(out, "buffer", None)
    unicode_ok = unicode_capable(out)
    # The pieces are views of a few big buffers (a part's document each): a view is judged by its whole
    # buffer (_needs_no_escape), so each buffer is judged once, not once per view of it.
    judged: dict[int, bool] = {}
    clean = all(_judged(chunk, judged, unicode_ok) for chunk in chunks)
    if binary is None or not clean:
        write_json(out, b"".join(chunks).decode("utf-8", "replace"))
        return
    out.flush()
    binary.writelines(chunks)


def _judged(chunk: bytes | memoryview, judged: dict[int, bool], unicode_ok: bool) -> bool:
    key = id(chunk.obj if isinstance(chunk, memoryview) else chunk)  # chunks (and so their buffers) live on
    if key not in judged:
        judged[key] = _needs_no_escape(chunk, unicode_ok)
    return judged[key]


_ASCII_BUT_DEL = bytes(range(0x7F))


def _needs_no_escape(chunk: bytes | memoryview, unicode_ok: bool) -> bool:
    """Whether the whole buffer behind ``chunk`` may be written as it is: ASCII without DEL (JSON encoders
    escape the other controls), or, for a stream that encodes any character, printable characters beyond.

    Deleting every ASCII byte but DEL (``translate``, at memory speed) leaves whole UTF-8 characters, as
    every byte of a multi-byte character is 0x80 or above: judging what is left judges every character of
    the document outside ASCII. A view is judged by its whole buffer, which errs on the safe side."""
    data = chunk.obj if isinstance(chunk, memoryview) else chunk
    if not isinstance(data, bytes | bytearray):
        data = bytes(chunk)
    rest = data.translate(None, _ASCII_BUT_DEL)
    if not rest:
        return True
    if not unicode_ok:
        return False
    try:
        return rest.decode("utf-8").isprintable()
    except UnicodeDecodeError:
        return False
