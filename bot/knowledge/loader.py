"""Load and validate the failure cards in ``data/*.toml`` at start-up.

Every problem is reported as one line naming the file, the line and the key (the format of every data
file, see :mod:`bot.datafiles`), e.g.
``broken.toml:129: workarounds.clock_leeway.success_rate: 1.5 is outside 0..1``; all of them are
collected and raised together as one ``KnowledgeError``.

A card file has these top-level tables (see ``data/jwt-claims-validation-failed.toml``):
``card`` (the source card's facts and its library versions), ``other_libraries`` (libraries outside
the card that have snippets), ``leeway`` (what a small clock leeway is: ``small = [low, high]``),
``snippets`` (``defaults`` for the placeholders, the key style of each algorithm, each library's key
styles), ``causes.<cause id>``, ``workarounds.<id>`` (with ``snippets.<library id>``) and
``dead_ends.<id>`` (with ``reasons.<cause id>``: why it fails for that cause in particular). Several
files may describe the same cause, leeway or snippet value, as long as they describe it identically.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from bot.datafiles import DataFile, DataFileError, problem, read_toml
from bot.diagnosis.advice import TITLE_PLACEHOLDERS, fill, placeholders
from bot.diagnosis.ids import CauseId, Library
from bot.knowledge.model import (
    ANY_LIBRARY,
    KEY_STYLES,
    PLACEHOLDER_NAMES,
    Card,
    CauseInfo,
    DeadEnd,
    Knowledge,
    LibraryVersion,
    RateSource,
    SmallLeeway,
    Snippet,
    SnippetData,
    Stack,
    StackKind,
    Workaround,
)
from bot.knowledge.stacks import stack_document, stack_files, stack_library

DATA_DIR = Path(__file__).with_name("data")
TITLE_MAX = 80

_CAUSE_IDS = frozenset(c.value for c in CauseId)
_LIBRARY_IDS = frozenset(lib.value for lib in Library)
_SOURCES: frozenset[str] = frozenset({"card", "jwtcheck"})
_ID = re.compile(r"[a-z][a-z0-9_]*\Z")

_TOP_KEYS = frozenset({"card", "other_libraries", "leeway", "snippets", "causes", "workarounds", "dead_ends"})
_CARD_KEYS = frozenset({"id", "title", "domain", "category", "verification", "fix_rate", "root_cause", "versions"})
_LIBRARY_KEYS = frozenset({"library", "display", "version"})
_CAUSE_KEYS = frozenset({"title", "explanation"})
_WORKAROUND_KEYS = frozenset(
    {"title", "title_beyond", "detail", "success_rate", "source", "causes", "snippets", "only_for"}
)
_SNIPPET_KEYS = frozenset({"version", "language", "code", "note"})
_STACK_KEYS = frozenset({"library", "display", "version", "kind", "language", "source", "no_leeway"})
_STACK_SNIPPET_KEYS = frozenset({"language", "code", "note"})
# The languages a snippet may be written in: tests/knowledge/test_snippet_syntax.py parses each.
LANGUAGES = frozenset(
    {"python", "javascript", "typescript", "java", "kotlin", "go", "ruby", "php", "rust", "csharp"}
    | {"yaml", "json", "xml", "nginx", "shell"}
)
_DEAD_END_KEYS = frozenset({"title", "why", "fail_rate", "source", "causes", "same_as", "reasons"})
_LEEWAY_KEYS = frozenset({"small"})
_SNIPPETS_KEYS = frozenset({"defaults", "algorithms", "keys"})
_DEFAULTS_REQUIRED = ("alg", "audience", "issuer", "jwks_url", "secret_env")  # the placeholders with no bar
_STYLE_NAME = re.compile(r"[a-z][a-z_]*\Z")

_MISSING = object()
_Item = TypeVar("_Item", Workaround, DeadEnd)


class KnowledgeError(DataFileError):
    """The card files are invalid. ``problems`` holds one line per problem."""


class _File:
    """Reads one parsed card file, recording problems instead of stopping at the first."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.name = path.name
        self.problems = problems
        self.data = DataFile(path.name, path, KnowledgeError)  # reads the text for the lines of problems

    def problem(self, key: str, message: str) -> None:
        self.problems.append(self.data.problem(key, message))

    def keys(self, table: Mapping[str, Any], key: str, allowed: frozenset[str]) -> None:
        for unknown in sorted(set(table) - allowed):
            self.problem(f"{key}.{unknown}" if key else unknown, "unknown key")

    def table(self, parent: Mapping[str, Any], name: str, key: str, *, required: bool) -> dict[str, Any]:
        value = parent.get(name, _MISSING)
        if value is _MISSING:
            if required:
                self.problem(key, "missing")
            return {}
        if not isinstance(value, dict):
            self.problem(key, "must be a table")
            return {}
        return value

    def text(
        self,
        table: Mapping[str, Any],
        name: str,
        key: str,
        *,
        required: bool = True,
        limit: int | None = None,
    ) -> str:
        value = table.get(name, _MISSING)
        if value is _MISSING:
            if required:
                self.problem(f"{key}.{name}", "missing")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(f"{key}.{name}", "must be a non-empty string")
            return ""
        if limit is not None and len(value) > limit:
            self.problem(f"{key}.{name}", f"is {len(value)} characters, more than {limit}")
        return value

    def rate(self, table: Mapping[str, Any], name: str, key: str, *, required: bool = False) -> float | None:
        value = table.get(name, _MISSING)
        if value is _MISSING:
            if required:
                self.problem(f"{key}.{name}", "missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(f"{key}.{name}", f"{value!r} is not a number")
            return None
        if not 0.0 <= value <= 1.0:
            self.problem(f"{key}.{name}", f"{value!r} is outside 0..1")
            return None
        return float(value)

    def source(self, table: Mapping[str, Any], key: str) -> RateSource:
        value = self.text(table, "source", key)
        if value == "jwtcheck":
            return "jwtcheck"
        if value and value != "card":
            self.problem(f"{key}.source", f"{value!r} is not one of {sorted(_SOURCES)}")
        return "card"

    def causes(self, table: Mapping[str, Any], key: str) -> tuple[CauseId, ...]:
        value = table.get("causes", _MISSING)
        if value is _MISSING:
            self.problem(f"{key}.causes", "missing")
            return ()
        if not isinstance(value, list) or not value:
            self.problem(f"{key}.causes", "must be a non-empty list of cause ids")
            return ()
        found: dict[CauseId, None] = {}
        for item in value:
            if item not in _CAUSE_IDS:
                self.problem(f"{key}.causes", f"unknown cause id {item!r}")
            elif CauseId(item) in found:
                self.problem(f"{key}.causes", f"cause id {item!r} listed twice")
            else:
                found[CauseId(item)] = None
        return tuple(found)

    def library_list(self, table: Mapping[str, Any], name: str, key: str) -> tuple[str, ...]:
        value = table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.problem(f"{key}.{name}", "must be a list of library ids")
            return ()
        for item in value:
            if item not in _LIBRARY_IDS:
                self.problem(f"{key}.{name}", f"unknown library {item!r}")
        return tuple(item for item in value if item in _LIBRARY_IDS)

    def versions(self, parent: Mapping[str, Any], name: str, key: str) -> tuple[LibraryVersion, ...]:
        value = parent.get(name, [])
        if not isinstance(value, list):
            self.problem(key, "must be a list of tables")
            return ()
        result: dict[str, LibraryVersion] = {}
        for index, item in enumerate(value):
            where = f"{key}[{index}]"
            if not isinstance(item, dict):
                self.problem(where, "must be a table")
                continue
            self.keys(item, where, _LIBRARY_KEYS)
            library = self.text(item, "library", where)
            version = LibraryVersion(library, self.text(item, "display", where), self.text(item, "version", where))
            if library and library not in _LIBRARY_IDS:
                self.problem(f"{where}.library", f"unknown library {library!r}")
            elif library in result:
                self.problem(f"{where}.library", f"library {library!r} listed twice")
            elif library:
                result[library] = version
        return tuple(result.values())


class _Cards:
    """Collects the items of every file, then checks what spans files."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.cards: list[Card] = []
        self.card_files: dict[str, str] = {}
        self.other_libraries: dict[str, LibraryVersion] = {}
        self.causes: dict[CauseId, tuple[CauseInfo, str]] = {}
        self.workarounds: dict[str, tuple[Workaround, str]] = {}
        self.dead_ends: dict[str, tuple[DeadEnd, str]] = {}
        self.references: list[tuple[_File, str, str]] = []  # (file, key, workaround id)
        self.small: tuple[SmallLeeway, str] | None = None  # and the file that said it
        self.defaults: dict[str, tuple[str, str]] = {}  # placeholder -> (value, file)
        self.algorithms: dict[str, tuple[str, str]] = {}  # alg -> (key style, file)
        self.styles: dict[str, dict[str, dict[str, str]]] = {}  # library -> style -> name -> text
        self.style_files: dict[tuple[str, str], str] = {}  # (library, style) -> file
        self.uses: list[tuple[_File, str, str, set[str]]] = []  # (file, key, library, placeholders in code)
        self.stacks: dict[str, Stack] = {}
        self.stack_snippets: list[tuple[_File, str, str, Snippet]] = []  # (file, key, workaround id, snippet)

    def _open(self, path: Path, stack: bool = False) -> tuple[_File, dict[str, Any]] | None:
        """The file and its document, or None when it cannot be read or parsed (the problem is recorded).
        A stack file's document is the one the catalogue read (``stack_document``)."""
        file = _File(path, self.problems)
        try:
            return file, stack_document(path) if stack else read_toml(path)
        except tomllib.TOMLDecodeError as exc:
            self.problems.append(file.data.decode_error(exc))
        except OSError as exc:
            self.problems.append(problem(path.name, f"cannot be read: {exc}"))
        return None

    def read(self, path: Path) -> None:
        opened = self._open(path)
        if opened is None:
            return
        file, data = opened
        file.keys(data, "", _TOP_KEYS)
        card = self._card(file, data)
        if card is None:
            return
        libraries = {v.library: v for v in file.versions(data, "other_libraries", "other_libraries")}
        for library, version in libraries.items():
            known = self.other_libraries.setdefault(library, version)
            if known != version:
                file.problem("other_libraries", f"library {library!r} differs from another file's entry")
        libraries.update({v.library: v for v in card.versions})
        self._leeway(file, data)
        self._snippet_data(file, data)
        self._causes(file, data)
        self._workarounds(file, data, card.id, libraries)
        self._dead_ends(file, data, card.id)

    def read_stack(self, path: Path) -> None:
        """A stack file's ``stack`` and ``snippets`` (its error texts are the catalogue's)."""
        opened = self._open(path, stack=True)
        if opened is None:
            return
        file, data = opened
        table = file.table(data, "stack", "stack", required=True)
        if not table:
            return
        file.keys(table, "stack", _STACK_KEYS)
        library = file.text(table, "library", "stack")
        if stack_library(path) is None or library != path.stem:
            file.problem("stack.library", f"{library!r} must be a library id and the file's name")
            return
        kind = table.get("kind")
        if kind not in {k.value for k in StackKind}:
            file.problem("stack.kind", f"{kind!r} is not one of {sorted(k.value for k in StackKind)}")
            return
        stack = Stack(
            library=library,
            display=file.text(table, "display", "stack"),
            version=file.text(table, "version", "stack"),
            kind=StackKind(kind),
            language=self._language(file, table, "stack"),
            source=file.text(table, "source", "stack"),
            no_leeway=file.text(table, "no_leeway", "stack", required=False) or None,
        )
        if len(stack.display) > 30:
            file.problem("stack.display", "is longer than 30 characters (a button's label)")
        self.stacks[library] = stack
        version = LibraryVersion(library, stack.display, stack.version)
        if self.other_libraries.setdefault(library, version) != version:
            file.problem("stack", f"{library!r} is also an other_libraries entry of a card: say it once")
        for workaround_id, snippet in file.table(data, "snippets", "snippets", required=False).items():
            key = f"snippets.{workaround_id}"
            if not isinstance(snippet, dict):
                file.problem(key, "must be a table")
                continue
            file.keys(snippet, key, _STACK_SNIPPET_KEYS)
            code = file.text(snippet, "code", key)
            self.uses.append((file, f"{key}.code", library, placeholders(code)))
            found = Snippet(
                library=library,
                version=stack.version,
                language=self._language(file, snippet, key),
                code=code,
                note=file.text(snippet, "note", key, required=False),
            )
            self.stack_snippets.append((file, key, workaround_id, found))

    @staticmethod
    def _language(file: _File, table: Mapping[str, Any], key: str) -> str:
        language = file.text(table, "language", key)
        if language and language not in LANGUAGES:
            file.problem(f"{key}.language", f"{language!r} is not one of {sorted(LANGUAGES)}")
        return language

    def add_stack_snippets(self) -> None:
        """Each stack file's snippets into the workarounds the cards define."""
        for file, key, workaround_id, snippet in self.stack_snippets:
            if workaround_id not in self.workarounds:
                file.problem(key, f"workaround {workaround_id!r} is not defined by any card")
                continue
            workaround, where = self.workarounds[workaround_id]
            if workaround.sets_leeway and self.stacks[snippet.library].no_leeway:
                file.problem(key, "the stack has no leeway setting (stack.no_leeway): its cards never offer this fix")
                continue
            if snippet.library in workaround.snippets:
                file.problem(key, f"{where} already has a {snippet.library} snippet for it")
                continue
            snippets = MappingProxyType({**workaround.snippets, snippet.library: snippet})
            self.workarounds[workaround_id] = (replace(workaround, snippets=snippets), where)

    def _card(self, file: _File, data: Mapping[str, Any]) -> Card | None:
        table = file.table(data, "card", "card", required=True)
        if not table:
            return None
        file.keys(table, "card", _CARD_KEYS)
        card = Card(
            id=file.text(table, "id", "card"),
            title=file.text(table, "title", "card"),
            domain=file.text(table, "domain", "card"),
            category=file.text(table, "category", "card"),
            verification=file.text(table, "verification", "card"),
            fix_rate=file.rate(table, "fix_rate", "card", required=True) or 0.0,
            root_cause=file.text(table, "root_cause", "card"),
            versions=file.versions(table, "versions", "card.versions"),
        )
        if "versions" not in table:
            file.problem("card.versions", "missing")
        if card.id in self.card_files:
            file.problem("card.id", f"duplicate card id {card.id!r} (also in {self.card_files[card.id]})")
        elif card.id:
            self.card_files[card.id] = file.name
        self.cards.append(card)
        return card

    def _items(self, file: _File, data: Mapping[str, Any], section: str) -> list[tuple[str, str, dict[str, Any]]]:
        items = []
        for item_id, table in file.table(data, section, section, required=False).items():
            key = f"{section}.{item_id}"
            if not isinstance(table, dict):
                file.problem(key, "must be a table")
            elif not _ID.match(item_id):
                file.problem(key, "ids are lower-case letters, digits and underscores")
            else:
                items.append((item_id, key, table))
        return items

    def _leeway(self, file: _File, data: Mapping[str, Any]) -> None:
        table = file.table(data, "leeway", "leeway", required=False)
        if not table:
            return
        file.keys(table, "leeway", _LEEWAY_KEYS)
        small = table.get("small", _MISSING)
        if small is _MISSING:
            file.problem("leeway.small", "missing")
            return
        if (
            not isinstance(small, list)
            or len(small) != 2
            or not all(type(item) is int for item in small)
            or not 0 < small[0] <= small[1]
        ):
            file.problem("leeway.small", f"{small!r} is not [low, high], whole seconds with 0 < low <= high")
            return
        found = SmallLeeway(small[0], small[1])
        if self.small is not None and self.small[0] != found:
            file.problem("leeway.small", f"differs from the small leeway in {self.small[1]}")
        elif self.small is None:
            self.small = (found, file.name)

    def _snippet_data(self, file: _File, data: Mapping[str, Any]) -> None:
        table = file.table(data, "snippets", "snippets", required=False)
        if not table:
            return
        file.keys(table, "snippets", _SNIPPETS_KEYS)
        for name, value in file.table(table, "defaults", "snippets.defaults", required=False).items():
            key = f"snippets.defaults.{name}"
            if name not in PLACEHOLDER_NAMES or name in ("leeway", "alg_bits"):
                file.problem(key, "not a placeholder with a default of the knowledge base's")
            elif not isinstance(value, str) or not value or "{{" in value:
                file.problem(key, "must be a non-empty string without placeholders")
            else:
                self._agree(file, key, self.defaults, name, value)
        for style, algorithms in file.table(table, "algorithms", "snippets.algorithms", required=False).items():
            key = f"snippets.algorithms.{style}"
            if style not in KEY_STYLES or style == "jwks":
                file.problem(key, f"not a key style an algorithm has (one of {sorted(set(KEY_STYLES) - {'jwks'})})")
            elif not isinstance(algorithms, list) or not all(isinstance(a, str) and a for a in algorithms):
                file.problem(key, "must be a list of algorithm names")
            else:
                for alg in algorithms:
                    self._agree(file, key, self.algorithms, alg, style)
        for library, styles in file.table(table, "keys", "snippets.keys", required=False).items():
            where = f"snippets.keys.{library}"
            if library not in _LIBRARY_IDS:
                file.problem(where, f"unknown library {library!r}")
                continue
            if not isinstance(styles, dict):
                file.problem(where, "must be a table of key styles")
                continue
            for style, names in styles.items():
                key = f"{where}.{style}"
                if style not in KEY_STYLES:
                    file.problem(key, f"unknown key style (one of {list(KEY_STYLES)})")
                elif not isinstance(names, dict) or not all(
                    _STYLE_NAME.match(n) and isinstance(v, str) for n, v in names.items()
                ):
                    file.problem(key, "must be a table of placeholder names and their text")
                elif (library, style) in self.style_files:
                    if self.styles[library][style] != names:
                        file.problem(key, f"differs from the same key style in {self.style_files[library, style]}")
                else:
                    clash = sorted(set(names) & PLACEHOLDER_NAMES)
                    if clash:
                        file.problem(key, f"{clash[0]!r} is filled from the card, not by a key style")
                    self.styles.setdefault(library, {})[style] = dict(names)
                    self.style_files[library, style] = file.name

    @staticmethod
    def _agree(file: _File, key: str, into: dict[str, tuple[str, str]], name: str, value: str) -> None:
        known = into.setdefault(name, (value, file.name))
        if known[0] != value:
            file.problem(key, f"{name!r} differs from {known[1]}")

    def _causes(self, file: _File, data: Mapping[str, Any]) -> None:
        for cause_id, key, table in self._items(file, data, "causes"):
            if cause_id not in _CAUSE_IDS:
                file.problem(key, f"unknown cause id {cause_id!r}")
                continue
            file.keys(table, key, _CAUSE_KEYS)
            info = CauseInfo(
                CauseId(cause_id),
                file.text(table, "title", key, limit=TITLE_MAX),
                file.text(table, "explanation", key),
            )
            known = self.causes.setdefault(info.id, (info, file.name))
            if known[0] != info:
                file.problem(key, f"differs from the same cause in {known[1]}")

    def _workarounds(
        self, file: _File, data: Mapping[str, Any], card_id: str, libraries: Mapping[str, LibraryVersion]
    ) -> None:
        for item_id, key, table in self._items(file, data, "workarounds"):
            file.keys(table, key, _WORKAROUND_KEYS)
            source = file.source(table, key)
            rate = file.rate(table, "success_rate", key)
            if source == "jwtcheck" and "success_rate" in table:
                file.problem(f"{key}.success_rate", "jwtcheck entries carry no rate: rates come from a card")
            title = file.text(table, "title", key, limit=TITLE_MAX)
            named = placeholders(title)
            for unknown in sorted(named - TITLE_PLACEHOLDERS):
                file.problem(f"{key}.title", f"unknown placeholder {{{{{unknown}}}}} (a title may name {{{{leeway}}}})")
            beyond = file.text(table, "title_beyond", key, required=bool(named), limit=TITLE_MAX)
            if beyond and not named:
                file.problem(f"{key}.title_beyond", "only for a title that names the {{leeway}}")
            workaround = Workaround(
                id=item_id,
                title=title,
                title_template=title if named else "",
                title_beyond=beyond if named else "",
                detail=file.text(table, "detail", key),
                success_rate=rate,
                source=source,
                card_id=card_id,
                causes=file.causes(table, key),
                snippets=self._snippets(file, table, key, libraries),
                only_for=file.library_list(table, "only_for", key),
            )
            self._add(file, key, self.workarounds, workaround, "workaround")

    def _snippets(
        self, file: _File, workaround: Mapping[str, Any], key: str, libraries: Mapping[str, LibraryVersion]
    ) -> Mapping[str, Snippet]:
        snippets: dict[str, Snippet] = {}
        for library, table in file.table(workaround, "snippets", f"{key}.snippets", required=False).items():
            where = f"{key}.snippets.{library}"
            if library != ANY_LIBRARY and library not in _LIBRARY_IDS:
                file.problem(where, f"snippet for unknown library {library!r}")
                continue
            if not isinstance(table, dict):
                file.problem(where, "must be a table")
                continue
            file.keys(table, where, _SNIPPET_KEYS)
            pinned = libraries.get(library)
            version = file.text(table, "version", where, required=pinned is None and library != ANY_LIBRARY)
            if pinned is not None and version and version != pinned.version:
                file.problem(f"{where}.version", f"{version!r} differs from the card's {pinned.version!r}")
            code = file.text(table, "code", where)
            self.uses.append((file, f"{where}.code", library, placeholders(code)))
            snippets[library] = Snippet(
                library=library,
                version=version or (pinned.version if pinned else ""),
                language=file.text(table, "language", where),
                code=code,
                note=file.text(table, "note", where, required=False),
            )
        return MappingProxyType(snippets)

    def _dead_ends(self, file: _File, data: Mapping[str, Any], card_id: str) -> None:
        for item_id, key, table in self._items(file, data, "dead_ends"):
            file.keys(table, key, _DEAD_END_KEYS)
            source = file.source(table, key)
            if source == "jwtcheck" and "fail_rate" in table:
                file.problem(f"{key}.fail_rate", "jwtcheck entries carry no rate: rates come from a card")
            same_as = file.text(table, "same_as", key, required=False) or None
            if same_as is not None:
                self.references.append((file, f"{key}.same_as", same_as))
            causes = file.causes(table, key)
            dead_end = DeadEnd(
                id=item_id,
                title=file.text(table, "title", key, limit=TITLE_MAX),
                why=file.text(table, "why", key),
                fail_rate=file.rate(table, "fail_rate", key),
                source=source,
                card_id=card_id,
                causes=causes,
                same_as=same_as,
                reasons=self._reasons(file, table, key, causes),
            )
            self._add(file, key, self.dead_ends, dead_end, "dead end")

    @staticmethod
    def _reasons(
        file: _File, dead_end: Mapping[str, Any], key: str, causes: tuple[CauseId, ...]
    ) -> Mapping[CauseId, str]:
        """``reasons.<cause id>``: why the dead end fails for that cause in particular (one of its causes)."""
        reasons: dict[CauseId, str] = {}
        table = file.table(dead_end, "reasons", f"{key}.reasons", required=False)
        for cause, _ in table.items():
            if cause not in _CAUSE_IDS:
                file.problem(f"{key}.reasons.{cause}", f"unknown cause id {cause!r}")
            elif CauseId(cause) not in causes:
                file.problem(f"{key}.reasons.{cause}", "not one of this dead end's causes")
            else:
                why = file.text(table, cause, f"{key}.reasons")
                if why:
                    reasons[CauseId(cause)] = why
        return MappingProxyType(reasons)

    @staticmethod
    def _add(file: _File, key: str, into: dict[str, tuple[_Item, str]], item: _Item, kind: str) -> None:
        if item.id in into:
            file.problem(key, f"duplicate {kind} id {item.id!r} (also in {into[item.id][1]})")
        else:
            into[item.id] = (item, file.name)

    def check_across(self, directory: Path) -> None:
        if self.small is None:
            self.problems.append(problem(directory, "no card says what a small clock leeway is", key="leeway.small"))
        for name in _DEFAULTS_REQUIRED:
            if name not in self.defaults:
                self.problems.append(
                    problem(directory, "no card gives this placeholder's default", key=f"snippets.defaults.{name}")
                )
        alg = self.defaults.get("alg")
        if alg is not None and alg[0] not in self.algorithms:
            self.problems.append(
                problem(directory, f"{alg[0]!r} has no key style in snippets.algorithms", key="snippets.defaults.alg")
            )
        for file, key, library, names in self.uses:
            styles = self.styles.get(library, {})
            known = {name for style in styles.values() for name in style}
            unknown = sorted(names - PLACEHOLDER_NAMES - known)
            if unknown:
                file.problem(key, f"unknown placeholder {{{{{unknown[0]}|…}}}}")
            for name in sorted((names & known) - PLACEHOLDER_NAMES):
                for style in ("hmac", "public"):
                    if name not in styles.get(style, {}):
                        file.problem(key, f"{{{{{name}}}}} has no text in snippets.keys.{library}.{style}")
        for file, key, workaround_id in self.references:
            if workaround_id not in self.workarounds:
                self.problems.append(file.data.problem(key, f"workaround {workaround_id!r} is not defined"))
        covered = {cause for workaround, _ in self.workarounds.values() for cause in workaround.causes}
        for cause in CauseId:
            key = f"causes.{cause.value}"
            if cause not in self.causes:
                self.problems.append(problem(directory, "no card describes this cause", key=key))
            if cause not in covered:
                self.problems.append(problem(directory, "no workaround applies to this cause", key=key))


def load_knowledge(directory: Path | None = None) -> Knowledge:
    """Load every ``*.toml`` card in ``directory`` (default: the packaged data), in file-name order."""
    directory = DATA_DIR if directory is None else directory
    paths = sorted(directory.glob("*.toml"))
    if not paths:
        raise KnowledgeError([problem(directory, "no *.toml card files")])
    cards = _Cards()
    for path in paths:
        cards.read(path)
    for path in stack_files(directory / "stacks"):
        cards.read_stack(path)
    cards.add_stack_snippets()
    cards.check_across(directory)
    if cards.problems or cards.small is None:
        raise KnowledgeError(cards.problems)
    small = cards.small[0]
    data = _snippet_data(cards)
    return Knowledge(
        cards=cards.cards,
        causes={cause: cards.causes[cause][0] for cause in CauseId},
        workarounds=[_fitted(item, small, data) for item, _ in cards.workarounds.values()],
        dead_ends=[item for item, _ in cards.dead_ends.values()],
        extra_libraries=tuple(cards.other_libraries.values()),
        small_leeway=small,
        snippet_data=data,
        stacks=tuple(cards.stacks.values()),
    )


def _snippet_data(cards: _Cards) -> SnippetData:
    defaults = {name: value for name, (value, _) in cards.defaults.items()}
    defaults["alg_bits"] = "".join(ch for ch in defaults.get("alg", "") if ch.isdigit())
    styles = {
        library: MappingProxyType(
            {
                style: MappingProxyType({**found.get("public", {}), **names} if style == "jwks" else dict(names))
                for style, names in {**{"jwks": {}}, **found}.items()
            }
        )
        for library, found in cards.styles.items()
    }
    return SnippetData(
        defaults=MappingProxyType(defaults),
        algorithms=MappingProxyType({alg: style for alg, (style, _) in cards.algorithms.items()}),
        styles=MappingProxyType(styles),
    )


def _fitted(workaround: Workaround, small: SmallLeeway, data: SnippetData) -> Workaround:
    """The workaround as every face shows it without a leeway figure (its title names the small range),
    its snippets holding the knowledge base's defaults and their library's key styles."""
    title = fill(workaround.title_template, {"leeway": f"{small.low}–{small.high}"}) or workaround.title
    snippets = {
        library: replace(snippet, defaults=data.defaults, styles=data.styles.get(library, MappingProxyType({})))
        for library, snippet in workaround.snippets.items()
    }
    return replace(workaround, title=title, snippets=MappingProxyType(snippets))


@functools.cache
def default_knowledge() -> Knowledge:
    """The packaged knowledge, loaded and validated once per process."""
    return load_knowledge()
