"""TOML data files: the packaged ones parsed once per install, and every file's problems in one format.

``tomllib`` is pure Python: parsing the packaged files took a tenth of a short ``jwtcheck`` run. Like
the interpreter with bytecode, the parsed document is kept beside its file, in ``__pycache__`` (or
under ``sys.pycache_prefix``), as JSON, which the standard library reads in C, and used again while
the file's bytes are unchanged (their hash is stored with it). The cache is a copy of our own
packaged data, never of user input; it is not written when bytecode is not
(``PYTHONDONTWRITEBYTECODE``, ``-B``), and any problem reading or writing it falls back to parsing.

Every TOML file the project reads (the services config, the knowledge cards, the error-text catalogue)
reports a problem as one line, ``FILE:LINE: KEY: MESSAGE``, through :class:`DataFile`::

    services.toml:3: services.orders.audience: unknown key (did you mean 'audiences'?)
    catalogue.toml:80: pattern['pyjwt.expired'].causes: unknown cause id 'expird'; known: ...

``:LINE`` is left out when no line holds the key, ``KEY: `` when the problem is the file's as a whole.
The exceptions are :class:`DataFileError` (``ConfigError``, ``KnowledgeError``, ``CatalogueError``).
This module imports only the standard library, so that the services config stays light to load.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

KeyPath = tuple[str | int, ...]  # ("services", "orders", "leeway"), ("pattern", 3, "regex")

_MAGIC = b"jwtcheck-toml-json-1\n"


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML document at ``path``. Raises OSError and tomllib.TOMLDecodeError as ``tomllib`` does."""
    raw = path.read_bytes()
    digest = hashlib.blake2b(raw, digest_size=16).digest()
    cache = cache_path(path)
    cached = _load(cache, digest)
    if cached is not None:
        return cached
    document = tomllib.loads(raw.decode("utf-8"))
    if not sys.dont_write_bytecode:
        _store(cache, digest, document)
    return document


def cache_path(path: Path) -> Path:
    """Where the parsed form of ``path`` is kept, by the rules Python uses for bytecode."""
    name = f"{path.name}.json"
    if sys.pycache_prefix:
        absolute = path.resolve()
        return Path(sys.pycache_prefix, *absolute.parent.parts[1:], name)
    return path.parent / "__pycache__" / name


def _load(cache: Path, digest: bytes) -> dict[str, Any] | None:
    try:
        blob = cache.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + len(digest)
    if blob[:head] != _MAGIC + digest:
        return None
    try:
        document = json.loads(blob[head:])
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _store(cache: Path, digest: bytes, document: dict[str, Any]) -> None:
    try:
        payload = json.dumps(document, ensure_ascii=False, check_circular=False).encode("utf-8")
    except TypeError:  # a TOML date or time has no JSON form: that file is parsed every time
        return
    temporary = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(_MAGIC + digest + payload)
        os.replace(temporary, cache)  # readers see the old file or the new one, never half of one
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------ problems


class DataFileError(ValueError):
    """A data file is invalid. ``problems`` holds one line per problem, ``FILE:LINE: KEY: MESSAGE``."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("\n".join(self.problems))


def problem(source: str | Path, message: str, *, key: str = "", line: int | None = None) -> str:
    """One problem in the format every data file uses: ``FILE:LINE: KEY: MESSAGE``."""
    place = f"{source}:{line}" if line else str(source)
    return f"{place}: {key}: {message}" if key else f"{place}: {message}"


class DataFile:
    """One TOML document being validated: names each problem by file, line and key.

    ``text`` is the document's text, or the path to read it from when a line is first needed (a file
    without problems is never read twice); the lines are found only for a problem.
    """

    def __init__(self, source: str | Path, text: str | Path | None = None, error: type[DataFileError] = DataFileError):
        self.source = source
        self.error = error
        self._text = text
        self._lines: dict[KeyPath, int] | None = None
        self._labels: dict[KeyPath, str] = {}

    def label(self, path: KeyPath, name: str) -> None:
        """Name ``path`` (and the keys below it) ``name`` in messages: ``pattern['pyjwt.expired']``."""
        self._labels[path] = name

    def problem(self, key: KeyPath | str, message: str, *, at: KeyPath | None = None) -> str:
        """The problem's line. ``key`` is a key path (or a dotted key such as ``card.versions[0].library``);
        its line is that of ``at`` when given, else of the key, else of the nearest table above it."""
        if isinstance(key, str):
            path, name = _parse_key(key), key
        else:
            path, name = key, self._name(key)
        return problem(self.source, message, key=name, line=self.line(path if at is None else at))

    def fail(self, key: KeyPath | str, message: str, *, at: KeyPath | None = None) -> NoReturn:
        """Raise the file's error class for this one problem."""
        raise self.error(self.problem(key, message, at=at))

    def decode_error(self, exc: tomllib.TOMLDecodeError) -> str:
        """The problem line for a document that is not TOML (the parser's message names line and column)."""
        found = _DECODE_LINE.search(str(exc))
        return problem(self.source, f"not valid TOML: {exc}", line=int(found.group(1)) if found else None)

    def line(self, path: KeyPath) -> int | None:
        """The 1-based line that sets ``path``, else the line of its nearest enclosing key; None if none."""
        if not path:
            return None
        if self._lines is None:
            text = self._text
            if isinstance(text, Path):
                try:
                    text = text.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    text = None
            self._lines = key_lines(text) if text else {}
        for end in range(len(path), 0, -1):
            found = self._lines.get(path[:end])
            if found is not None:
                return found
        return None

    def _name(self, path: KeyPath) -> str:
        for end in range(len(path), 0, -1):
            label = self._labels.get(path[:end])
            if label is not None:
                return label + key_name(path[end:], nested=True)
        return key_name(path)


def key_name(path: KeyPath, *, nested: bool = False) -> str:
    """``services.orders.leeway``, ``card.versions[0].library``: a key path as messages write it."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = part if _BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False)
            text += f".{name}" if text or nested else name
    return text


_DECODE_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_DOTTED = rf"{_PART}(?:[ \t]*\.[ \t]*{_PART})*"
_HEADER = re.compile(rf"[ \t]*(\[\[?)[ \t]*({_DOTTED})[ \t]*\]")
_ASSIGN = re.compile(rf"[ \t]*({_DOTTED})[ \t]*=")
_PARTS = re.compile(_PART)
_KEY_PARTS = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def key_lines(text: str) -> dict[KeyPath, int]:
    """Where each key of a TOML document is first set (or its table opened), by key path.

    A light reading of the lines, enough to point at a key: table headers (``[[array]]`` elements by
    index), keys and dotted keys; values that span lines (arrays, multi-line strings) are skipped.
    """
    found: dict[KeyPath, int] = {}
    table: KeyPath = ()
    arrays: dict[KeyPath, int] = {}  # an array of tables -> the index of its latest element
    closing, depth = "", 0  # an open multi-line string's delimiter; open brackets of a value
    for number, line in enumerate(text.splitlines(), 1):
        if closing or depth:
            closing, depth = _skip_value(line, 0, closing, depth)
            continue
        header = _HEADER.match(line)
        if header:
            parts = _key_parts(header.group(2))
            resolved: KeyPath = ()
            for part in parts[:-1]:
                resolved = (*resolved, part)
                if resolved in arrays:
                    resolved = (*resolved, arrays[resolved])
            table = (*resolved, parts[-1])
            if header.group(1) == "[[":
                arrays[table] = arrays.get(table, -1) + 1
                table = (*table, arrays[table])
            for end in range(1, len(table) + 1):
                found.setdefault(table[:end], number)
            continue
        assign = _ASSIGN.match(line)
        if assign:
            path = (*table, *_key_parts(assign.group(1)))
            for end in range(len(table) + 1, len(path) + 1):
                found.setdefault(path[:end], number)
            closing, depth = _skip_value(line, assign.end(), "", 0)
    return found


def _key_parts(dotted: str) -> tuple[str, ...]:
    parts = []
    for match in _PARTS.finditer(dotted):
        part = match.group(0)
        if part.startswith('"'):
            try:
                part = json.loads(part)  # TOML's escapes are JSON's, but for \U and \e
            except ValueError:
                part = part[1:-1]
        elif part.startswith("'"):
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


def _parse_key(key: str) -> KeyPath:
    return tuple(int(index) if index else name for name, index in _KEY_PARTS.findall(key))


def _skip_value(line: str, position: int, closing: str, depth: int) -> tuple[str, int]:
    """Read a value's text from ``position``: what is still open at the end of the line (a multi-line
    string's delimiter, a count of brackets)."""
    end = len(line)
    while position < end:
        if closing:
            found = line.find(closing, position)
            if found < 0:
                return closing, depth
            position, closing = found + 3, ""
            continue
        char = line[position]
        if char == "#":
            break
        if line.startswith(('"""', "'''"), position):
            closing, position = line[position : position + 3], position + 3
            continue
        if char == '"':
            position += 1
            while position < end and line[position] != '"':
                position += 2 if line[position] == "\\" else 1
        elif char == "'":
            found = line.find("'", position + 1)
            position = end if found < 0 else found
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(0, depth - 1)
        position += 1
    return closing, depth
