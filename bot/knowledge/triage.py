"""Load and check the next steps for a refusal that names no claim and no library
(``data/error_texts/triage.toml``); :mod:`bot.knowledge.advise` gives them to the diagnoses that need them.

A generic message ("401 Unauthorized: JWT claims validation failed", RFC 6750's bare ``invalid_token``)
only lets its causes be ranked. What helps next is the validator's own error line (which logger or
setting shows it, library by library) and the token itself, shared safely. The file holds those steps,
each library's line with the sources that say so.

A problem stops the load at the first one found, as one line naming the file, the line, the key and what
is wrong (the format of every data file, see :mod:`bot.datafiles`), e.g.
``triage.toml:31: step['validator_error_line'].library[2].library: unknown library 'express'; known: …``.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.datafiles import DataFile, DataFileError, KeyPath, read_toml
from bot.diagnosis.ids import Library

TRIAGE_PATH = Path(__file__).with_name("data") / "error_texts" / "triage.toml"
TEXT_MAX = 600  # characters of one line: a card shows every step
_ID = re.compile(r"[a-z][a-z0-9_]*\Z")
_SOURCE = re.compile(r"https://[^\s/]+/\S*\Z")
_TOP_KEYS = frozenset({"step"})
_STEP_KEYS = frozenset({"id", "text", "library"})
_LIBRARY_KEYS = frozenset({"library", "display", "how", "sources"})


class TriageError(DataFileError):
    """The triage file is invalid; the message names the file, the line, the key and what is wrong."""


@dataclass(frozen=True, slots=True)
class LibraryHint:
    """Where one library puts its own error line, and the sources that say so."""

    library: Library
    display: str
    how: str
    sources: tuple[str, ...]

    @property
    def line(self) -> str:
        return f"{self.display}: {self.how}"


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    text: str
    libraries: tuple[LibraryHint, ...] = ()


@dataclass(frozen=True, slots=True)
class Triage:
    """The steps in order; :attr:`lines` is what a diagnosis carries (``Diagnosis.next_steps``): each step's
    text, then one line per library under it."""

    steps: tuple[Step, ...]
    lines: tuple[str, ...]

    @classmethod
    def of(cls, steps: tuple[Step, ...]) -> Triage:
        lines = tuple(line for step in steps for line in (step.text, *(hint.line for hint in step.libraries)))
        return cls(steps, lines)


@functools.cache
def default_triage() -> Triage:
    """The packaged steps, loaded and checked once per process (on first use: most runs never need them)."""
    file = DataFile(TRIAGE_PATH.name, TRIAGE_PATH, TriageError)
    try:
        data = read_toml(TRIAGE_PATH)
    except tomllib.TOMLDecodeError as exc:
        raise TriageError(file.decode_error(exc)) from exc
    return _triage(data, file)


def load_triage(toml_text: str, *, source: str = "<string>") -> Triage:
    """Parse and check a triage file; raise TriageError naming the first problem found."""
    file = DataFile(source, toml_text, TriageError)
    try:
        data = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        raise TriageError(file.decode_error(exc)) from exc
    return _triage(data, file)


def _triage(data: Mapping[str, Any], file: DataFile) -> Triage:
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        file.fail((unknown[0],), f"unknown key; known: {sorted(_TOP_KEYS)}")
    entries = data.get("step")
    if not isinstance(entries, list) or not entries:
        file.fail(("step",), "give at least one [[step]]")
    steps: list[Step] = []
    for index, entry in enumerate(entries):
        key: KeyPath = ("step", index)
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            file.label(key, f"step[{entry['id']!r}]")
        step = _step(entry, key, file)
        if any(step.id == earlier.id for earlier in steps):
            file.fail((*key, "id"), f"step id {step.id!r} is used twice")
        steps.append(step)
    return Triage.of(tuple(steps))


def _step(entry: Any, key: KeyPath, file: DataFile) -> Step:
    if not isinstance(entry, dict):
        file.fail(key, "must be a table")
    _keys(entry, key, _STEP_KEYS, {"id", "text"}, file)
    step_id = _text(entry, "id", key, file)
    if not _ID.match(step_id):
        file.fail((*key, "id"), "ids are lower-case letters, digits and underscores")
    libraries = entry.get("library", [])
    if not isinstance(libraries, list):
        file.fail((*key, "library"), "must be an array of tables ([[step.library]])")
    hints: list[LibraryHint] = []
    for index, item in enumerate(libraries):
        hint = _hint(item, (*key, "library", index), file)
        if any(hint.library is earlier.library for earlier in hints):
            file.fail((*key, "library", index, "library"), f"library {hint.library.value!r} is listed twice")
        hints.append(hint)
    return Step(step_id, _text(entry, "text", key, file), tuple(hints))


def _hint(entry: Any, key: KeyPath, file: DataFile) -> LibraryHint:
    if not isinstance(entry, dict):
        file.fail(key, "must be a table")
    _keys(entry, key, _LIBRARY_KEYS, _LIBRARY_KEYS, file)
    name = _text(entry, "library", key, file)
    try:
        library = Library(name)
    except ValueError:
        known = ", ".join(lib.value for lib in Library)
        file.fail((*key, "library"), f"unknown library {name!r}; known: {known}")
    sources = entry["sources"]
    if not isinstance(sources, list) or not sources:
        file.fail((*key, "sources"), "must be a non-empty list of https addresses")
    for source in sources:
        if not isinstance(source, str) or not _SOURCE.match(source):
            file.fail((*key, "sources"), f"{source!r} is not an https address")
    hint = LibraryHint(library, _text(entry, "display", key, file), _text(entry, "how", key, file), tuple(sources))
    if len(hint.line) > TEXT_MAX:
        file.fail((*key, "how"), f"the line is {len(hint.line)} characters, more than {TEXT_MAX}")
    return hint


def _keys(
    entry: Mapping[str, Any], key: KeyPath, allowed: frozenset[str], required: set[str] | frozenset[str], file: DataFile
) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        file.fail((*key, unknown[0]), f"unknown key; known: {sorted(allowed)}")
    missing = sorted(set(required) - set(entry))
    if missing:
        file.fail(key, f"missing keys {missing}")


def _text(entry: Mapping[str, Any], name: str, key: KeyPath, file: DataFile) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value.strip():
        file.fail((*key, name), "must be a non-empty string")
    if "\n" in value or "\r" in value:
        file.fail((*key, name), "must be one line")
    if len(value) > TEXT_MAX:
        file.fail((*key, name), f"is {len(value)} characters, more than {TEXT_MAX}")
    return value


__all__ = ["TRIAGE_PATH", "LibraryHint", "Step", "Triage", "TriageError", "default_triage", "load_triage"]
