"""What each named JWT library does with a token's claims, from a sourced table, and a model of it.

The table is ``data/error_texts/libraries.toml``: one table per library (PyJWT, jsonwebtoken,
express-jwt, jose, Spring Security, Microsoft.IdentityModel, golang-jwt), each row of facts citing
the library source it was read from. :func:`load_libraries` reads and checks it; a bad row raises
:class:`LibrariesError` naming the file, the line and the key.

:func:`accepts` models one library's claim validation from the table's parameters: the algorithm
allow-list, required claims, exp/nbf/iat with the library's clock resolution, comparison boundaries,
leeway and type rules, aud and iss (including a token with ``aud`` when no audience is configured).
The signature is assumed to verify. The answer is an :class:`Outcome`: accepted, refused with the
library's own error name and message, or unknown where the table does not record what the library
would do (the libraries marked ``verified = "reference"`` say "unknown" wherever their source is
silent). :func:`split` asks every library; :func:`describe_split` and :func:`describe_library` put
the answers and the facts into sentences.

An empty ``Expectations.audiences`` / ``issuers`` / ``algorithms`` is modelled as a validator called
without that option: for PyJWT, a token with ``aud`` and no ``audience=`` is refused. This module is
pure: no network, no subprocess, no clock.
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from bot.datafiles import DataFile, DataFileError, KeyPath, read_toml

if TYPE_CHECKING:
    from bot.diagnosis.model import Expectations

LIBRARIES_PATH = Path(__file__).with_name("data") / "error_texts" / "libraries.toml"

Status = Literal["accepted", "refused", "unknown"]
CHECK_GROUPS: frozenset[str] = frozenset({"alg", "required", "time", "aud", "iss"})
TIME_CLAIMS: tuple[str, ...] = ("exp", "nbf", "iat")
KINDS: tuple[str, ...] = (
    "integers",
    "floats",
    "integer_strings",
    "decimal_strings",
    "other_strings",
    "booleans",
    "null",
    "containers",
)

_VERIFIED = frozenset({"oracle", "source", "reference"})
_RULES = frozenset({"number", "int", "type_error", "crash", "unknown"})
_CHECKED = frozenset({"always", "never", "option", "unknown"})
_PRESENT = frozenset({"defined", "truthy", "nonempty", "not_null", "unknown"})
_STEPS = frozenset({"alg", "required", "iss", "aud"} | {f"{c}{p}" for c in TIME_CLAIMS for p in ("", ".type", ".time")})
_PLACEHOLDER = re.compile(r"\{(claim|expected|instant|alg|type)\}")
_REFERENCE_PREFIX = "reference note"


class LibrariesError(DataFileError):
    """The library table is invalid: one line per problem, ``FILE:LINE: KEY: MESSAGE``."""


# ------------------------------------------------------------------------------------ the table


@dataclass(frozen=True, slots=True)
class ErrorText:
    """What a library raises: its error's name, message (with ``{claim}``-style fields), code, a short form."""

    name: str
    message: str
    code: str | None = None
    short: str | None = None

    def render(self, **values: str) -> LibraryError:
        def fill(text: str) -> str:
            return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)

        return LibraryError(
            self.name, fill(self.message), self.code, fill(self.short) if self.short is not None else None
        )


class _Comparison(NamedTuple):
    """``refused_if``: two sums of signed terms (claim, now, leeway) and an operator."""

    text: str
    left: tuple[tuple[int, str], ...]
    op: str
    right: tuple[tuple[int, str], ...]

    def refuses(self, values: Mapping[str, float]) -> bool:
        a, b = _sum(self.left, values), _sum(self.right, values)
        if self.op == "<":
            return a < b
        if self.op == "<=":
            return a <= b
        if self.op == ">":
            return a > b
        return a >= b


def _sum(terms: tuple[tuple[int, str], ...], values: Mapping[str, float]) -> float:
    """Left to right, as the library's own expression is evaluated (so the float rounding is the same)."""
    sign, name = terms[0]
    total = values[name] if sign > 0 else -values[name]
    for sign, name in terms[1:]:
        total = total + values[name] if sign > 0 else total - values[name]
    return total


# The parts of a library's facts are named tuples, not dataclasses: the table is read once, and each
# dataclass costs milliseconds of start-up to define (its methods are generated and compiled), which
# the command line pays on every run.
class Leeway(NamedTuple):
    default: float
    option: str
    applies_to: tuple[str, ...]
    source: str


class Clock(NamedTuple):
    now: str  # exact | floor | unknown
    claim: str  # as_is | truncate | unknown
    source: str

    @property
    def whole_seconds(self) -> bool | None:
        """Whether claims and the clock meet in whole seconds (None: not recorded)."""
        if "unknown" in (self.now, self.claim):
            return None
        return self.now == "floor" or self.claim == "truncate"


class NumericDate(NamedTuple):
    rules: Mapping[str, str]  # kind -> number | int | type_error | crash | unknown
    numbers: str  # python | double
    crash: ErrorText | None
    source: str


class TimeClaim(NamedTuple):
    claim: str
    checked: str
    option: str
    type_checked: str
    missing: str
    refused_if: _Comparison | None
    error: ErrorText | None
    type_error: ErrorText | None
    source: str


class Audience(NamedTuple):
    unconfigured: str
    present: str
    missing: str
    format: str
    lists: str
    match: str
    expected_join: str
    errors: Mapping[str, ErrorText]
    source: str


class Issuer(NamedTuple):
    unconfigured: str
    present: str
    missing: str
    non_string: str
    lists: str
    match: str
    expected_join: str
    errors: Mapping[str, ErrorText]
    source: str


class Required(NamedTuple):
    default: tuple[str, ...]
    option: str
    present: str
    implied: tuple[str, ...]
    reverse: bool
    error: ErrorText | None
    source: str


class Algorithm(NamedTuple):
    checked: str
    invalid: str
    errors: Mapping[str, ErrorText]
    source: str


@dataclass(frozen=True, slots=True)
class LibraryFacts:
    """One library's row of the table. A delegating library (express-jwt) carries its delegate's facts."""

    id: str
    name: str
    version: str
    ecosystem: str
    verified: str
    source: str
    order: tuple[str, ...]
    order_known: bool
    joins: str
    leeway: Leeway
    clock: Clock
    numeric_date: NumericDate
    claims: Mapping[str, TimeClaim]
    audience: Audience
    issuer: Issuer
    required: Required
    algorithm: Algorithm
    delegates_to: str | None = None
    wrap: ErrorText | None = None

    @property
    def display(self) -> str:
        return self.name

    def rows(self) -> dict[str, str]:
        """Every row of facts and its source, by section (``exp``, ``audience``...)."""
        if self.delegates_to is not None:
            return {"library": self.source}
        rows = {
            "library": self.source,
            "leeway": self.leeway.source,
            "clock": self.clock.source,
            "numeric_date": self.numeric_date.source,
            "audience": self.audience.source,
            "issuer": self.issuer.source,
            "required": self.required.source,
            "algorithm": self.algorithm.source,
        }
        rows.update({claim: facts.source for claim, facts in self.claims.items()})
        return rows


# ------------------------------------------------------------------------------------ loading


class _Reader:
    """Reads one library's table, collecting every problem with its key path."""

    def __init__(self, data: DataFile) -> None:
        self.data = data
        self.problems: list[str] = []

    def bad(self, path: KeyPath, message: str) -> None:
        self.problems.append(self.data.problem(path, message))

    def table(self, parent: Mapping[str, Any], path: KeyPath, keys: Collection[str]) -> Mapping[str, Any]:
        value = parent.get(str(path[-1])) if path else parent
        if not isinstance(value, dict):
            self.bad(path, "missing" if value is None else "must be a table")
            return {}
        for key in value:
            if key not in keys:
                self.bad((*path, key), "unknown key")
        return value

    def text(self, table: Mapping[str, Any], path: KeyPath, key: str, *, empty: bool = False) -> str:
        value = table.get(key)
        if not isinstance(value, str) or (not empty and not value.strip()):
            self.bad((*path, key), "missing" if value is None else "must be a non-empty string")
            return ""
        return value

    def choice(self, table: Mapping[str, Any], path: KeyPath, key: str, allowed: Collection[str]) -> str:
        value = self.text(table, path, key)
        if value and value not in allowed:
            self.bad((*path, key), f"{value!r} is not one of {', '.join(sorted(allowed))}")
        return value

    def strings(self, table: Mapping[str, Any], path: KeyPath, key: str) -> tuple[str, ...]:
        value = table.get(key)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.bad((*path, key), "missing" if value is None else "must be a list of strings")
            return ()
        return tuple(value)

    def source(self, table: Mapping[str, Any], path: KeyPath, verified: str) -> str:
        value = self.text(table, path, "source")
        if value and verified == "reference" and not value.startswith(_REFERENCE_PREFIX):
            self.bad((*path, "source"), f"a reference library's row must cite the {_REFERENCE_PREFIX!r}")
        return value

    def error(self, table: Mapping[str, Any], path: KeyPath, key: str, *, required: bool) -> ErrorText | None:
        value = table.get(key)
        if value is None:
            if required:
                self.bad((*path, key), "missing")
            return None
        where = (*path, key)
        entry = self.table(table, where, {"name", "message", "code", "short"})
        if not entry:
            return None
        name = self.text(entry, where, "name")
        message = self.text(entry, where, "message")
        code, short = entry.get("code"), entry.get("short")
        for label, item in (("code", code), ("short", short)):
            if item is not None and not isinstance(item, str):
                self.bad((*where, label), "must be a string")
        return ErrorText(
            name, message, code if isinstance(code, str) else None, short if isinstance(short, str) else None
        )

    def errors(self, table: Mapping[str, Any], path: KeyPath, names: Collection[str]) -> dict[str, ErrorText]:
        found: dict[str, ErrorText] = {}
        entries = table.get("errors", {})
        if not isinstance(entries, dict):
            self.bad((*path, "errors"), "must be a table")
            return found
        for name in entries:
            if name not in names:
                self.bad((*path, "errors", name), "unknown key")
                continue
            error = self.error(entries, (*path, "errors"), name, required=True)
            if error is not None:
                found[name] = error
        return found

    def comparison(self, table: Mapping[str, Any], path: KeyPath) -> _Comparison | None:
        text = self.text(table, path, "refused_if", empty=True)
        if not text:
            return None
        parsed = _parse_comparison(text)
        if parsed is None:
            self.bad((*path, "refused_if"), f"{text!r} is not `SUM OP SUM` over claim, now, leeway with + and -")
        return parsed


_TERM = re.compile(r"\s*([+-]?)\s*(claim|now|leeway)\s*")
_OPERATOR = re.compile(r"\s*(<=|>=|<|>)\s*")


def _parse_comparison(text: str) -> _Comparison | None:
    match = _OPERATOR.search(text)
    if match is None:
        return None
    left, right = _parse_sum(text[: match.start()]), _parse_sum(text[match.end() :])
    if left is None or right is None or "claim" not in {name for _, name in (*left, *right)}:
        return None
    return _Comparison(text, left, match.group(1), right)


def _parse_sum(text: str) -> tuple[tuple[int, str], ...] | None:
    terms: list[tuple[int, str]] = []
    position = 0
    while position < len(text):
        match = _TERM.match(text, position)
        if match is None or match.end() == position or (terms and not match.group(1)):
            return None
        terms.append((-1 if match.group(1) == "-" else 1, match.group(2)))
        position = match.end()
    return tuple(terms) or None


_LIBRARY_KEYS = frozenset(
    {"name", "version", "ecosystem", "verified", "order", "order_known", "joins", "source", "delegates_to", "wrap"}
)
_SECTIONS = ("leeway", "clock", "numeric_date", *TIME_CLAIMS, "audience", "issuer", "required", "algorithm")


def _read_library(reader: _Reader, document: Mapping[str, Any], library: str) -> LibraryFacts | None:
    path: KeyPath = (library,)
    raw = document[library]
    if not isinstance(raw, dict):
        reader.bad(path, "must be a table")
        return None
    delegate = raw.get("delegates_to")
    allowed = _LIBRARY_KEYS if delegate is not None else _LIBRARY_KEYS | set(_SECTIONS)
    table = reader.table(document, path, allowed)
    verified = reader.choice(table, path, "verified", _VERIFIED)
    name = reader.text(table, path, "name")
    version = reader.text(table, path, "version")
    ecosystem = reader.text(table, path, "ecosystem")
    source = reader.source(table, path, verified)
    if delegate is not None:
        if not isinstance(delegate, str) or delegate == library:
            reader.bad((*path, "delegates_to"), "must name another library")
        return None  # built once its delegate is read (load_libraries)
    order = reader.strings(table, path, "order")
    for index, step in enumerate(order):
        if step not in _STEPS:
            reader.bad((*path, "order", index), f"unknown step {step!r}; known: {', '.join(sorted(_STEPS))}")
    order_known = table.get("order_known")
    if not isinstance(order_known, bool):
        reader.bad((*path, "order_known"), "must be true or false")
    joins = table.get("joins", "")
    if not isinstance(joins, str):
        reader.bad((*path, "joins"), "must be a string")

    def section(name: str, keys: Collection[str]) -> tuple[Mapping[str, Any], KeyPath]:
        where = (*path, name)
        return reader.table(table, where, {*keys, "source"}), where

    section_table, where = section("leeway", {"default", "option", "applies_to"})
    default = section_table.get("default")
    if isinstance(default, bool) or not isinstance(default, int | float) or default < 0:
        reader.bad((*where, "default"), "must be a number of seconds, 0 or more")
        default = 0
    leeway = Leeway(
        float(default),
        reader.text(section_table, where, "option"),
        reader.strings(section_table, where, "applies_to"),
        reader.source(section_table, where, verified),
    )

    section_table, where = section("clock", {"now", "claim"})
    clock = Clock(
        reader.choice(section_table, where, "now", {"exact", "floor", "unknown"}),
        reader.choice(section_table, where, "claim", {"as_is", "truncate", "unknown"}),
        reader.source(section_table, where, verified),
    )

    section_table, where = section("numeric_date", {"numbers", "crash", *KINDS})
    rules = {kind: reader.choice(section_table, where, kind, _RULES) for kind in KINDS}
    crash = reader.error(section_table, where, "crash", required="crash" in rules.values())
    numeric = NumericDate(
        rules,
        reader.choice(section_table, where, "numbers", {"python", "double"}),
        crash,
        reader.source(section_table, where, verified),
    )
    if (rules["floats"] == "int") != (clock.claim == "truncate"):
        reader.bad((*path, "clock", "claim"), "must be 'truncate' exactly when numeric_date.floats is 'int'")

    claims: dict[str, TimeClaim] = {}
    for claim in TIME_CLAIMS:
        section_table, where = section(
            claim, {"checked", "option", "type_checked", "missing", "refused_if", "error", "type_error"}
        )
        checked = reader.choice(section_table, where, "checked", _CHECKED)
        comparison = reader.comparison(section_table, where)
        error = reader.error(section_table, where, "error", required=checked in ("always", "option"))
        if checked == "always" and not section_table.get("refused_if"):
            reader.bad((*where, "refused_if"), "a checked claim needs its comparison")
        if comparison is not None:
            uses_leeway = any(name == "leeway" for _, name in (*comparison.left, *comparison.right))
            if uses_leeway != (claim in leeway.applies_to):
                reader.bad((*where, "refused_if"), "uses the leeway exactly when leeway.applies_to names the claim")
        option = section_table.get("option", "")
        if checked == "option" and not (isinstance(option, str) and option):
            reader.bad((*where, "option"), "names the option that turns the check on")
        type_checked = reader.choice(section_table, where, "type_checked", {"with_time", "always"})
        type_error = reader.error(
            section_table, where, "type_error", required=checked != "never" and "type_error" in rules.values()
        )
        claims[claim] = TimeClaim(
            claim=claim,
            checked=checked,
            option=option if isinstance(option, str) else "",
            type_checked=type_checked,
            missing=reader.choice(section_table, where, "missing", {"accept", "unknown"}),
            refused_if=comparison,
            error=error,
            type_error=type_error,
            source=reader.source(section_table, where, verified),
        )
        if checked != "never" and not ({claim, f"{claim}.time"} & set(order)):
            reader.bad((*path, "order"), f"names no step for {claim}")

    keys = {"unconfigured", "present", "missing", "lists", "match", "expected_join", "errors"}
    section_table, where = section("audience", {*keys, "format"})
    audience = Audience(
        unconfigured=reader.choice(section_table, where, "unconfigured", {"ignore", "refuse_if_present", "unknown"}),
        present=reader.choice(section_table, where, "present", _PRESENT),
        missing=reader.choice(section_table, where, "missing", {"missing_error", "mismatch", "unknown"}),
        format=reader.choice(section_table, where, "format", {"strings", "any", "unknown"}),
        lists=reader.choice(section_table, where, "lists", {"any", "whole", "one"}),
        match=reader.choice(section_table, where, "match", {"exact", "application", "unknown"}),
        expected_join=reader.text(section_table, where, "expected_join"),
        errors=reader.errors(section_table, where, {"unconfigured", "missing", "format", "mismatch"}),
        source=reader.source(section_table, where, verified),
    )
    _need_errors(
        reader,
        where,
        audience.errors,
        {
            "unconfigured": audience.unconfigured == "refuse_if_present",
            "missing": audience.missing == "missing_error",
            "format": audience.format == "strings",
            "mismatch": True,
        },
    )

    section_table, where = section("issuer", {*keys, "non_string"})
    issuer = Issuer(
        unconfigured=reader.choice(section_table, where, "unconfigured", {"ignore", "unknown"}),
        present=reader.choice(section_table, where, "present", _PRESENT),
        missing=reader.choice(section_table, where, "missing", {"missing_error", "mismatch", "unknown"}),
        non_string=reader.choice(section_table, where, "non_string", {"mismatch", "unknown"}),
        lists=reader.choice(section_table, where, "lists", {"any", "whole", "one"}),
        match=reader.choice(section_table, where, "match", {"exact", "unknown"}),
        expected_join=reader.text(section_table, where, "expected_join"),
        errors=reader.errors(section_table, where, {"missing", "mismatch"}),
        source=reader.source(section_table, where, verified),
    )
    _need_errors(reader, where, issuer.errors, {"missing": issuer.missing == "missing_error", "mismatch": True})

    section_table, where = section("required", {"default", "option", "present", "implied", "reverse", "error"})
    option = reader.text(section_table, where, "option", empty=True)
    reverse = section_table.get("reverse")
    if not isinstance(reverse, bool):
        reader.bad((*where, "reverse"), "must be true or false")
    required = Required(
        default=reader.strings(section_table, where, "default"),
        option=option,
        present=reader.choice(section_table, where, "present", _PRESENT - {"unknown"}),
        implied=reader.strings(section_table, where, "implied"),
        reverse=reverse is True,
        error=reader.error(section_table, where, "error", required=bool(option)),
        source=reader.source(section_table, where, verified),
    )
    if (required.option or required.default) and "required" not in order:
        reader.bad((*path, "order"), "names no 'required' step")

    section_table, where = section("algorithm", {"checked", "invalid", "errors"})
    algorithm = Algorithm(
        checked=reader.choice(section_table, where, "checked", {"always", "unknown"}),
        invalid=reader.choice(section_table, where, "invalid", {"absent", "not_nonempty_string", "none"}),
        errors=reader.errors(section_table, where, {"invalid", "not_allowed"}),
        source=reader.source(section_table, where, verified),
    )
    _need_errors(
        reader,
        where,
        algorithm.errors,
        {
            "invalid": algorithm.invalid != "none",
            "not_allowed": algorithm.checked == "always",
        },
    )
    if "alg" not in order:
        reader.bad((*path, "order"), "names no 'alg' step")

    return LibraryFacts(
        id=library,
        name=name,
        version=version,
        ecosystem=ecosystem,
        verified=verified,
        source=source,
        order=order,
        order_known=order_known is True,
        joins=joins if isinstance(joins, str) else "",
        leeway=leeway,
        clock=clock,
        numeric_date=numeric,
        claims=claims,
        audience=audience,
        issuer=issuer,
        required=required,
        algorithm=algorithm,
    )


def _need_errors(reader: _Reader, path: KeyPath, errors: Mapping[str, ErrorText], needed: Mapping[str, bool]) -> None:
    for name, wanted in needed.items():
        if wanted and name not in errors:
            reader.bad((*path, "errors", name), "missing")


def load_libraries(path: Path | None = None) -> Mapping[str, LibraryFacts]:
    """The library table at ``path`` (default: the packaged one), checked; raises :class:`LibrariesError`."""
    path = LIBRARIES_PATH if path is None else path
    data = DataFile(path.name, path, LibrariesError)
    try:
        document = read_toml(path)
    except OSError as exc:
        raise LibrariesError(data.problem((), f"cannot be read: {exc}")) from exc
    except tomllib.TOMLDecodeError as exc:
        raise LibrariesError(data.decode_error(exc)) from exc
    reader = _Reader(data)
    libraries: dict[str, LibraryFacts] = {}
    delegating: list[str] = []
    for library in document:
        facts = _read_library(reader, document, library)
        if facts is not None:
            libraries[library] = facts
        elif isinstance(document[library], dict) and "delegates_to" in document[library]:
            delegating.append(library)
    for library in delegating:
        raw = document[library]
        delegate = raw.get("delegates_to")
        base = libraries.get(delegate) if isinstance(delegate, str) else None
        if base is None:
            reader.bad((library, "delegates_to"), f"names no library with its own facts: {delegate!r}")
            continue
        wrap = None
        if "wrap" in raw:
            entry = reader.table(raw, (library, "wrap"), {"name", "code"})
            wrap_name = reader.text(entry, (library, "wrap"), "name") if entry else ""
            wrap_code = entry.get("code")
            wrap = ErrorText(wrap_name, "", wrap_code if isinstance(wrap_code, str) else None)
        libraries[library] = replace(
            base,
            id=library,
            name=str(raw.get("name", "")),
            version=str(raw.get("version", "")),
            ecosystem=str(raw.get("ecosystem", "")),
            verified=str(raw.get("verified", "")),
            source=str(raw.get("source", "")),
            delegates_to=delegate,
            wrap=wrap,
        )
    if not libraries and not reader.problems:
        reader.problems.append(data.problem((), "describes no library"))
    if reader.problems:
        raise LibrariesError(reader.problems)
    return {library: libraries[library] for library in document if library in libraries}


@functools.cache
def default_libraries() -> Mapping[str, LibraryFacts]:
    """The packaged table, loaded and checked once per process."""
    return load_libraries()


# ------------------------------------------------------------------------------------ the model


@dataclass(frozen=True, slots=True)
class LibraryError:
    """A library's refusal in its own words. ``inner`` is the wrapped error's name (express-jwt)."""

    name: str
    message: str
    code: str | None = None
    short: str | None = None
    inner: str | None = None

    @property
    def one_line(self) -> str:
        return f"{self.name}: {self.message}"

    @property
    def brief(self) -> str:
        """``Name: message``, with the message's short form where the table gives one."""
        return f"{self.name}: {self.short or self.message}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one library does with a token.

    ``check`` is the check that decided (``exp``, ``nbf``, ``iat``, ``aud``, ``iss``, ``alg``,
    ``required``) and ``reason`` why (``expired``, ``not_yet_valid``, ``issued_in_future``,
    ``invalid_type``, ``crash``, ``missing``, ``mismatch``, ``unconfigured``, ``format``,
    ``not_allowed``, ``invalid``); for an unknown outcome ``notes`` says what is not recorded.
    ``notes`` also holds what the library skipped that another might not (``never checks iat``).
    """

    library: str
    status: Status
    error: LibraryError | None = None
    check: str | None = None
    reason: str | None = None
    notes: tuple[str, ...] = field(default=())
    leeway: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"

    @property
    def refused(self) -> bool:
        return self.status == "refused"


class _Refusal(NamedTuple):
    check: str
    reason: str
    error: LibraryError


class _Unknown(NamedTuple):
    check: str
    why: str


_Result = _Refusal | _Unknown | None


class _Run:
    """One library judging one token."""

    def __init__(
        self,
        facts: LibraryFacts,
        header: Mapping[str, Any],
        claims: Mapping[str, Any],
        expectations: Expectations,
        now: float,
        leeway: float,
    ) -> None:
        self.facts = facts
        self.header = header
        self.claims = claims
        self.expectations = expectations
        self.now = now
        self.leeway = leeway
        self.notes: list[str] = []

    # --- steps

    def step(self, name: str) -> _Result:
        if name == "alg":
            return self.algorithm()
        if name == "required":
            return self.required()
        if name == "iss":
            return self.issuer()
        if name == "aud":
            return self.audience()
        claim, _, part = name.partition(".")
        return self.time_claim(claim, part or "both")

    def algorithm(self) -> _Result:
        facts = self.facts.algorithm
        allowed = self.expectations.algorithms
        if not allowed:
            return None
        alg = self.header.get("alg")
        if facts.checked == "unknown":
            if isinstance(alg, str) and alg in allowed:
                return None
            return _Unknown("alg", f"what {self.facts.name} does with an alg outside the allowed list is not recorded")
        invalid = (facts.invalid == "absent" and "alg" not in self.header) or (
            facts.invalid == "not_nonempty_string" and not (isinstance(alg, str) and alg)
        )
        if invalid:
            return _Refusal("alg", "invalid", facts.errors["invalid"].render(alg=str(alg)))
        if isinstance(alg, str) and alg in allowed:
            return None
        return _Refusal("alg", "not_allowed", facts.errors["not_allowed"].render(alg=str(alg)))

    def required(self) -> _Result:
        facts = self.facts.required
        wanted = list(facts.default)
        if facts.option:
            wanted += self.expectations.required_claims
        for claim in facts.implied:
            if (claim == "aud" and self.expectations.audiences) or (claim == "iss" and self.expectations.issuers):
                wanted.append(claim)
        if facts.reverse:
            wanted.reverse()
        for claim in dict.fromkeys(wanted):
            if not _present(self.claims, claim, facts.present):
                assert facts.error is not None
                check = claim if claim in facts.implied else "required"
                return _Refusal(check, "missing", facts.error.render(claim=claim))
        return None

    def audience(self) -> _Result:
        facts = self.facts.audience
        expected = self.expectations.audiences
        if not expected:
            if facts.unconfigured == "ignore":
                if "aud" in self.claims:
                    self.notes.append("does not read aud when no audience is configured")
                return None
            if facts.unconfigured == "unknown":
                return _Unknown("aud", f"what {self.facts.name} does with no audience configured is not recorded")
            if _present(self.claims, "aud", facts.present):
                return _Refusal("aud", "unconfigured", facts.errors["unconfigured"].render())
            return None
        return self._match("aud", facts, expected, self.claims.get("aud"))

    def issuer(self) -> _Result:
        facts = self.facts.issuer
        expected = self.expectations.issuers
        if not expected:
            if facts.unconfigured == "unknown":
                return _Unknown("iss", f"what {self.facts.name} does with no issuer configured is not recorded")
            return None
        return self._match("iss", facts, expected, self.claims.get("iss"))

    def _match(self, claim: str, facts: Audience | Issuer, expected: tuple[str, ...], value: Any) -> _Result:
        name = self.facts.name
        joined = facts.expected_join.join(expected)
        if len(expected) > 1 and facts.lists == "one":
            return _Unknown(claim, f"{name} takes one expected {claim}; how several are passed is not recorded")
        if facts.present == "unknown":
            if claim not in self.claims:
                return _Unknown(claim, f"what {name} does without {claim} is not recorded")
        elif not _present(self.claims, claim, facts.present):
            if facts.missing == "unknown":
                return _Unknown(claim, f"what {name} does without {claim} is not recorded")
            kind = "missing" if facts.missing == "missing_error" else "mismatch"
            return _Refusal(claim, kind, facts.errors[kind].render(expected=joined))
        if isinstance(facts, Audience):
            well_formed = isinstance(value, str) or (
                isinstance(value, list) and all(isinstance(item, str) for item in value)
            )
            if not well_formed and facts.format == "strings":
                return _Refusal(claim, "format", facts.errors["format"].render(expected=joined))
            if not well_formed and facts.format == "unknown":
                return _Unknown(
                    claim, f"what {name} does with an aud that is not a string or a list of strings is not recorded"
                )
            values = value if isinstance(value, list) else [value]
        else:
            if not isinstance(value, str) and facts.non_string == "unknown":
                return _Unknown(claim, f"what {name} does with an iss that is not a string is not recorded")
            values = [value]
        if len(expected) > 1 and facts.lists == "whole":
            self.notes.append(f"compares {claim} with the whole list of expected values, which never matches")
            return _Refusal(claim, "mismatch", facts.errors["mismatch"].render(expected=joined))
        strings = [item for item in values if isinstance(item, str)]
        if any(item in expected for item in strings):
            if facts.match == "application":
                self.notes.append(f"has no {claim} check of its own: the application's is assumed")
            return None
        if facts.match == "unknown" and any(_near(item, wanted) for item in strings for wanted in expected):
            return _Unknown(
                claim, f"whether {name} forgives a near miss in {claim} (case, trailing slash) is not recorded"
            )
        if facts.match == "application":
            self.notes.append(f"has no {claim} check of its own: the application's is assumed")
        return _Refusal(claim, "mismatch", facts.errors["mismatch"].render(expected=joined))

    def time_claim(self, claim: str, part: str) -> _Result:
        facts = self.facts.claims[claim]
        name = self.facts.name
        if claim not in self.claims:
            if facts.missing == "unknown" and part != "type":
                return _Unknown(claim, f"what {name} does without {claim} is not recorded")
            return None
        value = self.claims[claim]
        time_checked = facts.checked in ("always", "unknown")
        type_checked = facts.checked != "never" and (time_checked or facts.type_checked == "always")
        if part in ("both", "type") and type_checked:
            converted = self.convert(facts, value)
            if not isinstance(converted, list):
                return converted
        if part == "type" or not time_checked:
            if facts.checked in ("never", "option") and part != "type" and self.beyond(claim, value):
                if facts.checked == "option":
                    self.notes.append(f"checks {claim} only with {facts.option}")
                else:
                    self.notes.append(f"never checks {claim}")
            return None
        candidates = self.convert(facts, value)
        if not isinstance(candidates, list):
            return candidates
        if facts.refused_if is None:  # checked, comparison not recorded: only a claim after the clock may be refused
            return (
                _Unknown(claim, f"whether {name} checks {claim} is not recorded") if self.beyond(claim, value) else None
            )
        verdicts = {
            facts.refused_if.refuses({"claim": candidate, "now": now, "leeway": self.leeway})
            for candidate in candidates
            for now in self.clock_readings()
        }
        if verdicts == {False}:
            return None
        if len(verdicts) > 1:
            return _Unknown(claim, f"how {name} rounds fractions of a second is not recorded, and it decides here")
        if facts.checked == "unknown":
            return _Unknown(claim, f"whether {name} checks {claim} is not recorded")
        assert facts.error is not None
        reason = {"exp": "expired", "nbf": "not_yet_valid", "iat": "issued_in_future"}[claim]
        return _Refusal(claim, reason, facts.error.render(instant=_instant(candidates[0])))

    def beyond(self, claim: str, value: Any) -> bool:
        """Whether a number claim lies on the refused side of the clock, leeway aside (for notes)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return value <= self.now if claim == "exp" else value > self.now

    def convert(self, facts: TimeClaim, value: Any) -> list[float] | _Result:
        """The values a claim may be compared as (several where the library's rounding is not recorded)."""
        numeric = self.facts.numeric_date
        kind = _kind(value)
        if kind is None:
            return _Unknown(facts.claim, "a time claim that is not a finite number is not modelled")
        rule = numeric.rules[kind]
        if kind == "floats" and isinstance(value, float) and value.is_integer():
            rule = numeric.rules["integers"]
        if rule == "type_error":
            assert facts.type_error is not None
            return _Refusal(facts.claim, "invalid_type", facts.type_error.render(claim=facts.claim))
        if rule == "crash":
            assert numeric.crash is not None
            return _Refusal(facts.claim, "crash", numeric.crash.render(type=_python_type(value)))
        if rule == "unknown":
            return _Unknown(
                facts.claim, f"what {self.facts.name} does with {_KIND_WORDS[kind]} {facts.claim} is not recorded"
            )
        try:
            number: float = int(value) if rule == "int" else value
            if numeric.numbers == "double":
                number = _double(number)
        except (OverflowError, ValueError):  # 10**400, "1e400": beyond any float, and no library models it
            return _Unknown(facts.claim, "a time claim beyond any float is not modelled")
        finite = not isinstance(number, float) or math.isfinite(number)  # JavaScript reads 1e400 as Infinity
        if self.facts.clock.claim == "unknown" and finite and isinstance(number, float) and not number.is_integer():
            return sorted({number, float(math.trunc(number)), float(math.floor(number))})
        return [number]

    def clock_readings(self) -> list[float]:
        clock = self.facts.clock.now
        if clock == "floor":
            readings: list[float] = [math.floor(self.now)]
        elif clock == "exact":
            readings = [self.now]
        else:
            readings = sorted({self.now, float(math.floor(self.now))})
        if self.facts.numeric_date.numbers == "double":
            readings = [_double(reading) for reading in readings]
        return readings


def _kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "booleans"
    if isinstance(value, int):
        return "integers"
    if isinstance(value, float):
        return "floats" if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            int(value)
        except ValueError:
            pass
        else:
            return "integer_strings"
        try:
            float(value)
        except ValueError:
            return "other_strings"
        return "decimal_strings"
    if value is None:
        return "null"
    return "containers"


_KIND_WORDS = {
    "integers": "an integer",
    "floats": "a fractional",
    "integer_strings": "a numeric-string",
    "decimal_strings": "a decimal-string",
    "other_strings": "a string",
    "booleans": "a boolean",
    "null": "a null",
    "containers": "an array or object as",
}


def _python_type(value: Any) -> str:
    return type(value).__name__


def _double(number: float) -> float:
    """The IEEE double JSON.parse makes of a JSON number (an integer past the double range is infinity)."""
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def _instant(seconds: float) -> str:
    """A time as Java's Instant.toString prints a whole second (``2023-11-20T10:00:00Z``)."""
    try:
        return datetime.fromtimestamp(math.floor(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return str(seconds)


def _present(claims: Mapping[str, Any], claim: str, rule: str) -> bool:
    if claim not in claims:
        return False
    value = claims[claim]
    if rule == "truthy":
        return bool(value)
    if rule == "nonempty":
        return value is not None and value != "" and value != []
    if rule == "not_null":
        return value is not None
    return True


def _near(value: str, wanted: str) -> bool:
    return value.casefold().rstrip("/") == wanted.casefold().rstrip("/")


def library_leeway(facts: LibraryFacts, expectations: Expectations, leeway: float | None) -> float:
    """The leeway in force: ``leeway`` when given, else the expectations' when set (not 0), else the library's."""
    if leeway is not None:
        return leeway
    if expectations.leeway:
        return expectations.leeway
    return facts.leeway.default


def accepts(
    library: str,
    header: Mapping[str, Any] | None,
    claims: Mapping[str, Any],
    expectations: Expectations,
    now: float,
    *,
    leeway: float | None = None,
    checks: Collection[str] | None = None,
    table: Mapping[str, LibraryFacts] | None = None,
) -> Outcome:
    """Whether ``library`` accepts a token with this header and these claims at ``now`` (Unix seconds).

    ``leeway``: the leeway to model; None takes ``expectations.leeway`` when it is set (not 0) and the
    library's default otherwise. ``checks``: only these groups of checks (``alg``, ``required``,
    ``time``, ``aud``, ``iss``; default all). The signature is assumed to verify.
    """
    libraries = default_libraries() if table is None else table
    facts = libraries.get(library)
    if facts is None:
        raise ValueError(f"unknown library {library!r}; known: {', '.join(libraries)}")
    if checks is not None and not set(checks) <= CHECK_GROUPS:
        raise ValueError(f"unknown checks {sorted(set(checks) - CHECK_GROUPS)}; known: {sorted(CHECK_GROUPS)}")
    in_force = library_leeway(facts, expectations, leeway)
    run = _Run(facts, header or {}, claims, expectations, now, in_force)
    refusals: list[_Refusal] = []
    unknowns: list[_Unknown] = []
    if expectations.required_claims and not facts.required.option and (checks is None or "required" in checks):
        names = ", ".join(expectations.required_claims)
        run.notes.append(f"has no option for required claims ({names}): the application checks them")
    for step in facts.order:
        group = "time" if step.split(".")[0] in TIME_CLAIMS else step
        if checks is not None and group not in checks:
            continue
        result = run.step(step)
        if isinstance(result, _Refusal):
            refusals.append(result)
            if facts.order_known:
                break
        elif isinstance(result, _Unknown):
            unknowns.append(result)
    notes = list(dict.fromkeys(run.notes))
    if refusals:
        first = refusals[0]
        error = first.error
        if len(refusals) > 1 and facts.joins and all(r.error.message.startswith(facts.joins) for r in refusals):
            inner = ", ".join(r.error.message.removeprefix(facts.joins) for r in refusals)
            error = replace(error, message=facts.joins + inner)
            notes.append("joins every failed claim into one message; the order of the joined errors is not recorded")
        elif len(refusals) > 1:
            notes.append("several checks fail; which one it reports first is not recorded")
        if unknowns and facts.order_known:
            notes.append("an earlier check it may fail first is not recorded")
        if facts.wrap is not None:
            error = LibraryError(facts.wrap.name, error.message, facts.wrap.code, error.short, inner=error.name)
        return Outcome(library, "refused", error, first.check, first.reason, tuple(notes), in_force)
    if unknowns:
        return Outcome(
            library, "unknown", None, unknowns[0].check, "not_recorded", (*notes, *(u.why for u in unknowns)), in_force
        )
    return Outcome(library, "accepted", notes=tuple(notes), leeway=in_force)


def split(
    header: Mapping[str, Any] | None,
    claims: Mapping[str, Any],
    expectations: Expectations,
    now: float,
    *,
    libraries: Iterable[str] | None = None,
    leeway: float | None = None,
    checks: Collection[str] | None = None,
    table: Mapping[str, LibraryFacts] | None = None,
) -> dict[str, Outcome]:
    """:func:`accepts` for each named library (default: every library in the table, in its order)."""
    known = default_libraries() if table is None else table
    names = list(known) if libraries is None else list(libraries)
    return {
        name: accepts(name, header, claims, expectations, now, leeway=leeway, checks=checks, table=known)
        for name in names
    }


# ------------------------------------------------------------------------------------ sentences


def _names(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def describe_split(outcomes: Mapping[str, Outcome], *, table: Mapping[str, LibraryFacts] | None = None) -> str:
    """One sentence of who accepts and who refuses, in the libraries' own words, e.g. ``PyJWT refuses it
    (ImmatureSignatureError: The token is not yet valid (iat)); jsonwebtoken (checks iat never) and jose
    accept it``."""
    libraries = default_libraries() if table is None else table

    def name(library: str) -> str:
        facts = libraries.get(library)
        return facts.name if facts is not None else library

    refused = [o for o in outcomes.values() if o.status == "refused"]
    accepted = [o for o in outcomes.values() if o.status == "accepted"]
    unknown = [o for o in outcomes.values() if o.status == "unknown"]
    parts: list[str] = []
    if len(refused) == 1:
        outcome = refused[0]
        because = f" ({outcome.error.brief})" if outcome.error else ""
        parts.append(f"{name(outcome.library)} refuses it{because}")
    elif refused:
        items = [f"{name(o.library)} ({o.error.brief})" if o.error else name(o.library) for o in refused]
        every = " all" if not accepted and not unknown else ""
        parts.append(f"{_names(items)}{every} refuse it")
    if accepted:
        items = []
        for outcome in accepted:
            why = "; ".join(note for note in outcome.notes if refused and _explains(note))
            items.append(f"{name(outcome.library)} ({why})" if why else name(outcome.library))
        verb = "accepts" if len(accepted) == 1 else "accept"
        every = " all" if len(accepted) > 1 and not refused and not unknown else ""
        parts.append(f"{_names(items)}{every} {verb} it")
    if unknown:
        parts.append(f"not recorded for {_names([name(o.library) for o in unknown])}")
    return "; ".join(parts)


def _explains(note: str) -> bool:
    """The notes that say why a library accepts what another refuses."""
    return note.startswith(("checks ", "never checks ", "does not read", "has no option"))


def describe_library(library: str, *, table: Mapping[str, LibraryFacts] | None = None) -> dict[str, str]:
    """The table's facts about one library as sentences, by topic: ``leeway``, ``clock``, ``iat``,
    ``numeric_strings``, ``audience``. Topics the table does not record are left out."""
    libraries = default_libraries() if table is None else table
    facts = libraries[library]
    name = facts.name
    sentences: dict[str, str] = {}
    applies = _names(list(facts.leeway.applies_to))
    sentences["leeway"] = (
        f"{name} allows {facts.leeway.default:g} s of clock leeway by default ({facts.leeway.option}), for {applies}"
    )
    clock = facts.clock
    checked = _names([c for c in TIME_CLAIMS if facts.claims[c].checked in ("always", "option")])
    if clock.claim == "truncate" and clock.now == "exact":
        sentences["clock"] = f"{name} truncates {checked} to whole seconds and compares them with the exact clock"
    elif clock.claim == "as_is" and clock.now == "floor":
        sentences["clock"] = f"{name} rounds the clock down to whole seconds and compares {checked} as they are"
    elif clock.claim == "as_is" and clock.now == "exact":
        sentences["clock"] = f"{name} compares {checked} with the exact clock"
    iat = facts.claims["iat"]
    if iat.checked == "always":
        sentences["iat"] = f"{name} refuses an iat in the future"
    elif iat.checked == "never":
        sentences["iat"] = f"{name} never checks iat"
    elif iat.checked == "option":
        sentences["iat"] = f"{name} checks iat only with {iat.option}"
    rules = facts.numeric_date.rules
    if rules["integer_strings"] == "int" and rules["decimal_strings"] == "type_error":
        sentences["numeric_strings"] = (
            f'{name} accepts a time claim written as an integer string ("1795003600") '
            f'but refuses a decimal one ("1795003600.5")'
        )
    elif rules["integer_strings"] == rules["decimal_strings"] == "type_error":
        sentences["numeric_strings"] = f'{name} refuses a time claim written as a string ("1795003600")'
    unconfigured = facts.audience.unconfigured
    if unconfigured == "refuse_if_present":
        sentences["audience"] = f"{name} refuses a token that has aud when no audience is configured"
    elif unconfigured == "ignore":
        sentences["audience"] = f"{name} ignores aud when no audience is configured"
    return sentences


__all__ = [
    "CHECK_GROUPS",
    "LIBRARIES_PATH",
    "ErrorText",
    "LibrariesError",
    "LibraryError",
    "LibraryFacts",
    "Outcome",
    "accepts",
    "default_libraries",
    "describe_library",
    "describe_split",
    "library_leeway",
    "load_libraries",
    "split",
]


# ------------------------------------------------------------------------------ the common case, fast

CLOCK_RESOLUTION = 1.0  # whole seconds, read as the claim or as now: libraries part ways within a second


@functools.lru_cache(maxsize=64)
def _largest_leeway(libraries: tuple[str, ...] | None, leeway: float) -> float:
    table = default_libraries()
    names = list(table) if libraries is None else [name for name in libraries if name in table]
    return max((leeway or table[name].leeway.default for name in names), default=leeway)


AUDIENCE_NOT_CONFIGURED = "audience_not_configured"


def may_differ(
    header: Mapping[str, Any] | None,
    claims: Mapping[str, Any],
    expectations: Expectations,
    now: float,
    *,
    libraries: tuple[str, ...] | None = None,
) -> bool | str:
    """Whether the named libraries *may* judge this token differently; False means they all agree.

    :func:`split` runs every library's model (a few hundred µs); most tokens of a big log are plainly
    valid, long expired or for another audience, which every library judges alike. Invariant, held by
    a property test against :func:`split` (tests/knowledge/test_libraries.py): when this returns
    False, no two of ``libraries`` (default: every library in the table) give opposite answers.

    Returns :data:`AUDIENCE_NOT_CONFIGURED` when the only reason is a token with ``aud`` judged with no
    audience configured (the commonest case in chat, where nobody said what the API expects): then the
    libraries part ways on that claim alone (see :func:`audience_split`).
    """
    if not header or not isinstance(header.get("alg"), str):
        return True
    # An exp or nbf further from now than the largest leeway in force (plus the clock's resolution) is
    # judged alike by every library: on the same side of every boundary.
    margin = _largest_leeway(libraries, expectations.leeway) + CLOCK_RESOLUTION
    second = math.floor(now)
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if (type(exp) is int and exp < second - margin - 1) or (type(nbf) is int and nbf > second + margin + 1):
        return False  # every library checks exp and nbf: they all refuse it, whatever else they think
    # exp, nbf, iat (each answer is True, so their order does not matter). Not a plain integer: each library
    # reads the rest its own way; near the boundary (in integers: a claim may be 10**400), default leeways
    # and clock resolutions differ.
    if (exp is not None or "exp" in claims) and (type(exp) is not int or abs(exp - second) <= margin + 1):
        return True
    if (nbf is not None or "nbf" in claims) and (type(nbf) is not int or abs(nbf - second) <= margin + 1):
        return True
    if "iat" in claims:
        iat = claims["iat"]
        if type(iat) is not int or iat > second:
            return True  # only some libraries check iat
    aud = claims.get("aud")
    if "aud" in claims and not (
        isinstance(aud, str) or (isinstance(aud, list) and all(isinstance(a, str) for a in aud))
    ):
        return True
    if "iss" in claims and not isinstance(claims["iss"], str):
        return True
    if len(expectations.issuers) > 1:
        return True  # PyJWT 2.8.0 compares iss with the whole list
    if expectations.required_claims and any(name not in claims for name in expectations.required_claims):
        return True
    if aud and not expectations.audiences:
        return AUDIENCE_NOT_CONFIGURED  # PyJWT refuses a token with aud when no audience is configured
    return False


def audience_split(
    alg: str,
    aud: str | tuple[str, ...],
    iss: str | None,
    expectations: Expectations,
    *,
    libraries: tuple[str, ...] | None = None,
) -> dict[str, Outcome]:
    """:func:`split` of a token that holds only this ``aud`` (and ``iss``), memoised: a channel's tokens
    share them. Valid for any token for which :func:`may_differ` returns AUDIENCE_NOT_CONFIGURED and
    that every library otherwise accepts (tested against :func:`split` in tests/knowledge)."""
    return dict(_audience_split(alg, aud, iss, expectations, libraries))


@functools.lru_cache(maxsize=256)
def _audience_split(
    alg: str,
    aud: str | tuple[str, ...],
    iss: str | None,
    expectations: Expectations,
    libraries: tuple[str, ...] | None,
) -> tuple[tuple[str, Outcome], ...]:
    claims: dict[str, Any] = {"aud": list(aud) if isinstance(aud, tuple) else aud}
    if iss is not None:
        claims["iss"] = iss
    return tuple(split({"alg": alg}, claims, expectations, 0.0, libraries=libraries).items())
