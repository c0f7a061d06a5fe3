"""Load and check the error-text catalogue: ``data/error_texts/catalogue.toml`` (the source card's libraries
and their kin) and the error texts of every stack file (``data/stacks/<library>.toml``, see
:mod:`bot.knowledge.stacks`), each file checked on its own, then across files. The matching that applies
it is :mod:`bot.diagnosis.error_texts`, which reads no file.

A problem stops the load at the first one found, as one line naming the file, the line, the key and
what is wrong (the format of every data file, see :mod:`bot.datafiles`), e.g.
``catalogue.toml:80: pattern['pyjwt.expired'].causes: unknown cause id 'expird'; known: ...``.

Beyond each value's type, the load checks what the matcher relies on: every cause after an entry's first
has its own ``why`` sentence (``clock_skew`` may go without: the matcher writes it from the times), so
that no two causes of one message share an evidence sentence; a ``below`` regex reads times only; a
``separator`` splits an ``expected`` group the regex has.

Two checks cost more than the rest: that every regex searches in linear time, and that every example
matches its own entry. :func:`load_catalogue` makes them; :func:`default_catalogue`, the packaged file
at start-up, skips them (the command line starts faster) because the test suite makes them on the
same file.
"""

from __future__ import annotations

import functools
import importlib
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from bot.datafiles import DataFile, DataFileError, KeyPath, read_toml
from bot.diagnosis.error_texts import (
    MESSAGE_START,
    REGEX_GROUPS,
    TIME_GROUPS,
    Catalogue,
    ContextRule,
    ErrorPattern,
    Leeway,
    unescape,
)
from bot.diagnosis.ids import CauseId, Library
from bot.knowledge.stacks import stack_document, stack_files, stack_library

CATALOGUE_PATH = Path(__file__).with_name("data") / "error_texts" / "catalogue.toml"
GENERIC = "generic"  # library value in the catalogue for text with no library fingerprint

_MAX_REPEAT = 512
_NEEDLE_FORBIDDEN = frozenset("\"'<>&\\")
_TOP_KEYS = frozenset({"anchors", "default_leeway", "timing", "context", "pattern"})
_REQUIRED = frozenset({"id", "library", "needle", "regex", "causes", "explain", "examples"})
_STACK_REQUIRED = (_REQUIRED - {"library"}) | {"source"}  # a stack file's library is its own
_OPTIONAL = frozenset({"claim", "message_start", "requires_any", "fallback", "why", "below", "separator", "source"})
# A stack file (data/stacks/<library>.toml) also holds what bot.knowledge.loader reads: stack, snippets.
_STACK_TOP_KEYS = frozenset({"stack", "snippets", "anchors", "default_leeway", "context", "pattern"})
_PLAUSIBLE_SKEW = 900.0
_TIMING_KEYS = frozenset({"plausible_skew_seconds"})
_sre_parser: Any = importlib.import_module("re._parser")  # the stdlib regex parser, for the linearity check


class CatalogueError(DataFileError):
    """The catalogue is invalid; the message names the file, the line, the entry and what is wrong."""


@functools.cache
def default_catalogue() -> Catalogue:
    """The packaged catalogue, loaded once (without the two costly checks, which its tests make)."""
    return packaged_catalogue(checked=False)


def packaged_files() -> tuple[Path, ...]:
    """The files the packaged catalogue is read from: ``catalogue.toml``, then the stack files."""
    return (CATALOGUE_PATH, *stack_files())


def packaged_catalogue(*, checked: bool = True) -> Catalogue:
    """``catalogue.toml`` and every stack file (``data/stacks/*.toml``)."""
    return catalogue_from_files(packaged_files(), checked=checked)


def catalogue_from_files(paths: Sequence[Path], *, checked: bool = True) -> Catalogue:
    """One catalogue from a catalogue file (the first) and stack files (the rest, each named after its
    library), checked file by file, then across files: a pattern id or a library's default leeway given
    twice is refused."""
    files = [(path, None if index == 0 else stack_library(path)) for index, path in enumerate(paths)]
    parts: list[_Parts] = []
    ids: dict[str, str] = {}
    leeway: dict[Library, str] = {}
    for path, stack in files:
        file = DataFile(path.name, path, CatalogueError)
        try:
            data = read_toml(path) if path == paths[0] else stack_document(path)
        except tomllib.TOMLDecodeError as exc:
            raise CatalogueError(file.decode_error(exc)) from exc
        if stack is None and path != paths[0]:
            raise CatalogueError(file.problem((), f"is named after no library id; known: {_known_libraries()}"))
        try:
            one = _parts(data, checked, stack)
        except _Invalid as invalid:
            if invalid.label is not None:
                file.label(*invalid.label)
            raise CatalogueError(file.problem(invalid.key, invalid.message, at=invalid.at)) from None
        for index, pattern in enumerate(one.patterns):
            if pattern.id in ids:
                file.label(("pattern", index), f"pattern[{pattern.id!r}]")
                raise CatalogueError(file.problem(("pattern", index, "id"), f"is used in {ids[pattern.id]} too"))
            ids[pattern.id] = path.name
        for library in one.leeway:
            if library in leeway:
                raise CatalogueError(
                    file.problem(("default_leeway",), f"{library.value}'s is in {leeway[library]} too")
                )
            leeway[library] = path.name
        parts.append(one)
    return _assemble(parts)


def load_catalogue(toml_text: str, *, source: str = "<string>", checked: bool = True) -> Catalogue:
    """Parse and check a catalogue; raise CatalogueError naming the first problem found."""
    file = DataFile(source, toml_text, CatalogueError)
    try:
        data = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(file.decode_error(exc)) from exc
    return _catalogue(data, file, checked)


def catalogue_from_data(
    data: dict[str, Any], *, source: str, checked: bool = True, text: str | Path | None = None
) -> Catalogue:
    """Check a parsed catalogue and build it; ``text`` (the document, or its path) lets problems name lines.

    ``checked=False`` skips the two costly checks, that every regex searches in linear time and that
    every example matches its own entry: only for the packaged catalogue, whose tests run them.
    """
    return _catalogue(data, DataFile(source, text, CatalogueError), checked)


def _catalogue(data: Mapping[str, Any], file: DataFile, checked: bool) -> Catalogue:
    try:
        return _build(data, checked)
    except _Invalid as invalid:
        if invalid.label is not None:
            file.label(*invalid.label)
        raise CatalogueError(file.problem(invalid.key, invalid.message, at=invalid.at)) from None


class _Invalid(Exception):
    """A problem at a key path; :func:`_catalogue` names its file and line (only then: loading stays fast)."""

    def __init__(self, key: KeyPath, message: str, at: KeyPath | None = None) -> None:
        self.key, self.message, self.at = key, message, at
        self.label: tuple[KeyPath, str] | None = None

    def within(self, prefix: KeyPath, label: str | None) -> _Invalid:
        """The same problem, its keys below ``prefix`` (named ``label`` in the message, when given)."""
        moved = _Invalid((*prefix, *self.key), self.message, None if self.at is None else (*prefix, *self.at))
        moved.label = None if label is None else (prefix, label)
        return moved


class _Parts(NamedTuple):
    """What one file contributes; :func:`_assemble` joins the files' parts into one catalogue."""

    patterns: list[ErrorPattern]
    rules: list[ContextRule]
    leeway: dict[Library, Leeway]
    plausible: float | None
    anchors: list[str]


def _build(data: Mapping[str, Any], checked: bool) -> Catalogue:
    return _assemble([_parts(data, checked)])


def _assemble(files: Sequence[_Parts]) -> Catalogue:
    """One catalogue from the parts of several files, each already checked on its own."""
    patterns = [pattern for parts in files for pattern in parts.patterns]
    leeway: dict[Library, Leeway] = {}
    for parts in files:
        leeway.update(parts.leeway)
    anchors = list(dict.fromkeys(anchor for parts in files for anchor in parts.anchors))
    plausible = next((parts.plausible for parts in files if parts.plausible is not None), _PLAUSIBLE_SKEW)
    return Catalogue.build(
        patterns,
        context_rules=[rule for parts in files for rule in parts.rules],
        default_leeway=leeway,
        plausible_skew_seconds=plausible,
        anchors=anchors,
    )


def _parts(data: Mapping[str, Any], checked: bool, stack: Library | None = None) -> _Parts:
    """One file's parts, checked. ``stack``: the file is a stack file of that library (see
    ``data/stacks/README.md``): its patterns may leave out ``library``, must cite their ``source``, and its
    ``default_leeway`` is that library's alone."""
    allowed = _STACK_TOP_KEYS if stack is not None else _TOP_KEYS
    unknown = [key for key in data if key not in allowed]
    if unknown:
        raise _Invalid((), f"unknown top-level keys {sorted(unknown)}", at=(unknown[0],))
    patterns: list[ErrorPattern] = []
    for index, entry in enumerate(_list(data.get("pattern", []), ("pattern",))):
        try:
            patterns.append(_load_pattern(entry, checked, stack))
        except _Invalid as invalid:
            named = isinstance(entry, dict) and isinstance(entry.get("id"), str)
            raise invalid.within(("pattern", index), f"pattern[{entry['id']!r}]" if named else None) from None
    seen: set[str] = set()
    for index, pattern in enumerate(patterns):
        if pattern.id in seen:
            duplicate = _Invalid((), f"pattern id {pattern.id!r} is used twice", at=("id",))
            raise duplicate.within(("pattern", index), f"pattern[{pattern.id!r}]")
        seen.add(pattern.id)
    contexts = _list(data.get("context", []), ("context",))
    rules = [_load_context(entry, ("context", index)) for index, entry in enumerate(contexts)]
    leeway: dict[Library, Leeway] = {}
    table = _table(data.get("default_leeway", {}), ("default_leeway",))
    if stack is not None and table:
        table = {stack.value: table}
    for name, value in table.items():
        key: KeyPath = ("default_leeway",) if stack is not None else ("default_leeway", name)
        library, entry = _library(name, key), _table(value, key)
        if library is None or set(entry) != {"seconds", "setting"}:
            needs = "exactly seconds and setting" if stack is not None else "a library name, seconds and setting"
            raise _Invalid(key, f"needs {needs}")
        leeway[library] = Leeway(_number(entry["seconds"], (*key, "seconds"), 0), _text(entry, "setting", key))
    timing = _table(data.get("timing", {}), ("timing",))
    strange = sorted(set(timing) - _TIMING_KEYS)
    if strange:
        raise _Invalid(("timing", strange[0]), f"unknown key; known: {sorted(_TIMING_KEYS)}")
    plausible = None
    if "plausible_skew_seconds" in timing:
        plausible = _number(timing["plausible_skew_seconds"], ("timing", "plausible_skew_seconds"), 1)
    anchors = _strings(data.get("anchors", []), ("anchors",))
    if len(set(anchors)) != len(anchors):
        twice = next(anchor for index, anchor in enumerate(anchors) if anchor in anchors[:index])
        raise _Invalid(("anchors",), f"{twice!r} is listed twice")
    return _Parts(patterns, rules, leeway, plausible, anchors)


def _load_pattern(entry: Any, checked: bool = True, stack: Library | None = None) -> ErrorPattern:
    """One ``[[pattern]]`` entry; its problems name keys within the entry."""
    entry = _table(entry, ())
    required = _REQUIRED if stack is None else _STACK_REQUIRED
    missing, unknown = required - set(entry), set(entry) - _REQUIRED - _OPTIONAL
    if missing or unknown:
        at = (sorted(unknown)[0],) if unknown else None
        raise _Invalid((), f"missing keys {sorted(missing)}, unknown keys {sorted(unknown)}", at=at)
    if "source" in entry:
        _text(entry, "source", ())
    library = _library(_text(entry, "library", ()), ("library",)) if "library" in entry else stack
    if stack is not None and library is not stack:
        raise _Invalid(("library",), f"a pattern of the {stack.value} stack file is {stack.value}'s")
    needle = _text(entry, "needle", ())
    if _NEEDLE_FORBIDDEN & set(needle):
        raise _Invalid(("needle",), f"may not contain any of {sorted(_NEEDLE_FORBIDDEN)}")
    source = _text(entry, "regex", ())
    problem = regex_problem(source) if checked else None
    if problem:
        raise _Invalid(("regex",), f"bad regex {source!r}: {problem}")
    message_start, fallback = entry.get("message_start", False), entry.get("fallback", False)
    if not isinstance(message_start, bool):
        raise _Invalid(("message_start",), "must be true or false")
    if not isinstance(fallback, bool):
        raise _Invalid(("fallback",), "must be true or false")
    expression = f"{MESSAGE_START}(?:{source})" if message_start else source
    strange = set(re.compile(expression).groupindex) - REGEX_GROUPS if checked else set()
    if strange:
        raise _Invalid(("regex",), f"unknown regex group names {sorted(strange)}; known: {sorted(REGEX_GROUPS)}")
    causes: list[tuple[CauseId, float]] = []
    for name, likelihood in _table(entry["causes"], ("causes",)).items():
        try:
            cause = CauseId(name)
        except ValueError:
            known = ", ".join(c.value for c in CauseId)
            raise _Invalid(("causes",), f"unknown cause id {name!r}; known: {known}", at=("causes", name)) from None
        if isinstance(likelihood, bool) or not isinstance(likelihood, int | float) or not 0.01 <= likelihood <= 1:
            raise _Invalid((), f"likelihood of {name} must be a number from 0.01 to 1", at=("causes", name))
        causes.append((cause, float(likelihood)))
    if not causes:
        raise _Invalid(("causes",), "is empty")
    claim = entry.get("claim")
    if claim is not None and not (isinstance(claim, str) and claim):
        raise _Invalid(("claim",), "must be a non-empty string")
    requires_any = tuple(_strings(entry.get("requires_any", []), ("requires_any",)))
    explain = _text(entry, "explain", ())
    why = _why(entry, causes, explain)
    below = _below(entry, checked)
    separator = entry.get("separator")
    if separator is not None and not (isinstance(separator, str) and separator):
        raise _Invalid(("separator",), "must be a non-empty string")
    if separator is not None and "expected" not in re.compile(expression).groupindex:
        raise _Invalid(("separator",), "splits the regex's `expected` group, and the regex has none")
    pattern = ErrorPattern(
        entry["id"],
        library,
        needle,
        expression,
        tuple(causes),
        claim,
        explain,
        requires_any,
        fallback,
        why,
        below,
        separator,
    )
    examples = _strings(entry["examples"], ("examples",))
    if not examples:
        raise _Invalid(("examples",), "give at least one example")
    for example in examples if checked else ():
        line = unescape(example)
        found = (
            needle in example
            and pattern.regex.search(line)
            and (not requires_any or any(s in line for s in requires_any))
        )
        if not found:
            raise _Invalid(("examples",), f"example {example!r} does not match its own needle/regex")
    return pattern


def _why(
    entry: Mapping[str, Any], causes: list[tuple[CauseId, float]], explain: str
) -> tuple[tuple[CauseId, str], ...]:
    """The evidence sentence of every cause after the first: no two causes of one message may share one.
    ``clock_skew`` may go without: the matcher writes its sentence from the claim and the times."""
    table = _table(entry.get("why", {}), ("why",))
    listed = [cause for cause, _ in causes]
    sentences: list[tuple[CauseId, str]] = []
    for name, sentence in table.items():
        cause = next((cause for cause in listed if cause.value == name), None)
        if cause is None or cause is listed[0]:
            raise _Invalid(("why",), f"{name!r} is not one of the later causes {[c.value for c in listed[1:]]}")
        if not isinstance(sentence, str) or not sentence:
            raise _Invalid(("why", name), "must be a non-empty string")
        sentences.append((cause, sentence))
    missing = [c.value for c in listed[1:] if c is not CauseId.CLOCK_SKEW and c.value not in table]
    if missing:
        raise _Invalid(("why",), f"give each later cause its own sentence; missing: {missing}")
    said = [explain, *(sentence for _, sentence in sentences)]
    if len({sentence.strip().rstrip(".") for sentence in said}) != len(said):
        raise _Invalid(("why",), "two causes share one sentence")
    return tuple(sentences)


def _below(entry: Mapping[str, Any], checked: bool) -> str | None:
    """The regex for the lines printed under the message; it may read times only."""
    if "below" not in entry:
        return None
    source = _text(entry, "below", ())
    problem = regex_problem(source) if checked else None
    if problem:
        raise _Invalid(("below",), f"bad regex {source!r}: {problem}")
    groups = set(re.compile(source).groupindex)
    if not groups or not groups <= TIME_GROUPS:
        raise _Invalid(("below",), f"must name one or more of the groups {sorted(TIME_GROUPS)} and no other")
    return source


def _load_context(entry: Any, key: KeyPath) -> ContextRule:
    entry = _table(entry, key)
    if not {"library", "text_contains", "becomes"} <= set(entry) <= {"library", "text_contains", "becomes", "within"}:
        raise _Invalid(key, "needs exactly library, text_contains, becomes (and optionally within)")
    library = _library(_text(entry, "library", key), (*key, "library"))
    becomes = _library(_text(entry, "becomes", key), (*key, "becomes"))
    if library is None or becomes is None:
        raise _Invalid(key, "library and becomes must name libraries")
    within = entry.get("within", "text")
    if within not in ("text", "line"):
        raise _Invalid((*key, "within"), "must be 'text' or 'line'")
    return ContextRule(library, _text(entry, "text_contains", key), becomes, within == "line")


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


# ------------------------------------------------------------------ checks of one value, at a key


def _known_libraries() -> str:
    return ", ".join(lib.value for lib in Library)


def _library(name: str, key: KeyPath) -> Library | None:
    if name == GENERIC:
        return None
    try:
        return Library(name)
    except ValueError:
        known = ", ".join([*(lib.value for lib in Library), GENERIC])
        raise _Invalid(key, f"unknown library {name!r}; known: {known}") from None


def _text(entry: Mapping[str, Any], name: str, key: KeyPath) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value:
        raise _Invalid((*key, name), "must be a non-empty string")
    return value


def _strings(value: Any, key: KeyPath) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise _Invalid(key, "must be a list of non-empty strings")
    return value


def _table(value: Any, key: KeyPath) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(key, "must be a table")
    return value


def _list(value: Any, key: KeyPath) -> list[Any]:
    if not isinstance(value, list):
        raise _Invalid(key, "must be an array of tables")
    return value


def _number(value: Any, key: KeyPath, low: float, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _Invalid(key, f"must be a number from {low:g} to {high:g}")
    return float(value)
