"""Which of a fixed set of literals occur in a text, in as few passes as possible: the bot's cheap test for chat.

The bot scans every message of its channels, and almost none holds a token or an error message, so
the question "which of these literals are in this text" is asked of nearly every message and nearly
always answered "none". :class:`LiteralSet` answers it with one of two backends:

``hyperscan`` (the default, when the ``hyperscan`` package imports)
    One Hyperscan/Vectorscan literal database per set of literals (``HS_FLAG_SINGLEMATCH``: each
    literal is reported once; sets with the same literals share it), one ``hs_scan`` of the text's
    UTF-8 bytes per question, whatever the number of literals: a SIMD multi-literal search, about as
    fast as one ``re`` search for a single literal over chat (short, common-letter literals make it
    slower: more false candidates to confirm). Exact because the literals are ASCII without NUL (checked)
    and UTF-8 never produces an ASCII byte inside the encoding of another character, so a literal's
    bytes occur in the encoded text exactly where the literal occurs in the text; lone surrogates are
    encoded with ``surrogatepass`` so that any ``str`` can be scanned. A scratch space may serve one
    scan at a time and the scan releases the GIL, so every thread gets its own (a clone, made on its
    first scan). The import and the compilation happen on first use, not at import time: the CLI's
    start-up does not pay for them. Hyperscan's block scan takes a 32-bit length; a longer text goes
    to the Python backend.

``python`` (the fallback: no ``hyperscan`` wheel for the interpreter or platform, a literal that is
not ASCII or holds a NUL, or ``backend="python"``)
    The literals are grouped by their *gate*, the character of each that chat holds least often (see
    ``CHAT_LETTERS``): a group whose gate character is not in the text is skipped after one ``memchr``
    (``in`` on a single character); otherwise one regular expression that starts with the gate
    character tells in one pass whether any literal of the group is there (the regex engine's
    literal-prefix search), each literal written as a look-behind for what precedes the gate and the
    text that follows it; only a group that matches is resolved literal by literal. Exact: a literal
    in the text puts its gate character in the text, and its group's expression matches where it
    stands. The expressions hold literals and fixed look-behinds only, so every search is linear in
    the text; but ordinary chat holds the common gate letters, so a message costs several passes.

Both backends give the same answers in the same order (see :meth:`LiteralSet.present`); the tests
check them against ``literal in text``.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

if TYPE_CHECKING:
    import hyperscan

Backend = Literal["hyperscan", "python"]
BackendChoice = Literal["auto", "hyperscan", "python"]

# Characters by how common they are in English chat, most common first (the capitals that start
# sentences, "I", a few digits and punctuation included). Any character not listed (another capital, digit
# or punctuation) counts as rarer than all of them.
CHAT_LETTERS = " etaoinshrdlcumwfgypb.,vITAS'0:12-WHCBMkOPDNEFRLGjxqz"

_HYPERSCAN_MAX_BYTES = 2**32 - 1  # hs_scan takes the length as an unsigned int


class _Rarity(dict[str, int]):
    """How rarely chat holds a character: its place in CHAT_LETTERS, past the end for any other."""

    def __missing__(self, char: str) -> int:
        return len(CHAT_LETTERS)


_RARITY = _Rarity({char: CHAT_LETTERS.index(char) for char in dict.fromkeys(CHAT_LETTERS)})


def gate_of(literal: str) -> str:
    """The character of ``literal`` that chat holds least often (the first such, on a tie).

    Called for every literal of a set when it is built (a few thousand characters at start-up): the rank
    is one dict lookup in C (``_RARITY.__getitem__``), not a Python lambda per character."""
    return max(literal, key=_RARITY.__getitem__)


@functools.cache
def hyperscan_available() -> bool:
    """Whether the ``hyperscan`` package imports here (tried once, on first call: it costs a few ms)."""
    try:
        import hyperscan  # noqa: F401
    except ImportError:
        return False
    return True


def hyperscan_can_scan(literal: str) -> bool:
    """Whether the hyperscan backend finds ``literal`` exactly: ASCII (see the module docstring) and no NUL
    (the literal compiler takes C strings)."""
    return literal.isascii() and "\0" not in literal


class LiteralSet:
    """A fixed set of non-empty literals; :meth:`present` says which of them occur in a text.

    ``gates`` may name the gate of some literals (a character of theirs), so that literals that share a
    character share one pass of the Python backend; the others get :func:`gate_of`. The gates also fix
    the order of :meth:`present`'s answer, whichever the backend.

    ``backend``: ``"auto"`` (hyperscan when it imports and can scan every literal, else Python),
    ``"hyperscan"`` (ValueError for a literal it cannot scan, ImportError on first use without the
    package) or ``"python"``. The engine is built on first use; building it twice, when two threads
    race to it, is harmless.
    """

    __slots__ = ("_choice", "_engine", "_gates", "_members", "_order", "_resolved", "_unions", "literals")

    def __init__(
        self,
        literals: Iterable[str],
        gates: Mapping[str, str] | Callable[[str], str] = gate_of,
        *,
        backend: BackendChoice = "auto",
    ) -> None:
        self.literals: tuple[str, ...] = tuple(dict.fromkeys(literals))
        if not all(self.literals):
            raise ValueError("literals must be non-empty")
        if backend not in ("auto", "hyperscan", "python"):
            raise ValueError(f"unknown backend {backend!r}")
        if backend == "hyperscan" and not all(map(hyperscan_can_scan, self.literals)):
            raise ValueError("the hyperscan backend takes ASCII literals without NUL only")
        grouped: dict[str, list[str]] = {}
        for literal in self.literals:
            gate = gates(literal) if callable(gates) else gates.get(literal) or gate_of(literal)
            if gate not in literal:
                raise ValueError(f"the gate of {literal!r} must be one of its characters")
            grouped.setdefault(gate, []).append(literal)
        self._gates: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
            (gate, tuple(members)) for gate, members in grouped.items()
        )
        self._order: tuple[str, ...] = tuple(literal for _, members in self._gates for literal in members)
        self._members = frozenset(self.literals)
        self._choice: BackendChoice = backend
        self._resolved: Backend | None = None
        self._engine: _PythonEngine | _HyperscanEngine | None = None
        self._unions: dict[LiteralSet, LiteralSet] = {}

    @property
    def backend(self) -> Backend:
        """The backend that answers for this set (imports hyperscan to find out, but compiles nothing).

        An empty set has nothing to scan for: it answers from Python."""
        resolved = self._resolved
        if resolved is None:
            fast = self._choice == "hyperscan" or (
                self._choice == "auto" and all(map(hyperscan_can_scan, self.literals)) and hyperscan_available()
            )
            resolved = self._resolved = "hyperscan" if fast and self.literals else "python"
        return resolved

    def present(self, text: str) -> list[str]:
        """The literals that occur in ``text``: exactly those for which ``literal in text``.

        Order: grouped by gate, the groups in the order of their first literal, the literals of a group in
        the order given. (With the default gates and distinct gate characters, that is the order given.)
        """
        engine = self._engine or self._build()
        return engine.present(text)

    def any_present(self, text: str) -> bool:
        """Whether any literal occurs in ``text``; stops at the first one found."""
        engine = self._engine or self._build()
        return engine.any_present(text)

    def __contains__(self, literal: object) -> bool:
        return literal in self._members

    def union(self, other: LiteralSet) -> LiteralSet:
        """One set holding the literals of ``self``, then those of ``other`` (each with the gate it had, the
        one of ``self`` for a literal in both; the backend choice of ``self``), so that one scan answers for
        both. Asked again with the same ``other``, the same object: it is built, and compiled, once (a
        dictionary look-up per call, for a caller that asks on every message)."""
        union = self._unions.get(other)
        if union is None:
            gates = {literal: gate for gate, members in (*other._gates, *self._gates) for literal in members}
            union = LiteralSet(dict.fromkeys((*self.literals, *other.literals)), gates=gates, backend=self._choice)
            self._unions[other] = union  # a race builds it twice: harmless
        return union

    def _build(self) -> _PythonEngine | _HyperscanEngine:
        engine: _PythonEngine | _HyperscanEngine
        if self.backend == "hyperscan":
            engine = _hyperscan_engine(self._order, self._gates)
        else:
            engine = _PythonEngine(self._gates)
        self._engine = engine
        return engine


# ------------------------------------------------------------------------------------------- python


@dataclass(frozen=True, slots=True)
class _Group:
    gate: str
    search: re.Pattern[str]
    literals: tuple[str, ...]


class _PythonEngine:
    """The gate groups of the module docstring: a ``memchr`` per group, a regex pass per group present."""

    __slots__ = ("_groups",)

    def __init__(self, gates: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
        self._groups = tuple(_Group(gate, _group_expression(gate, members), members) for gate, members in gates)

    def present(self, text: str) -> list[str]:
        found: list[str] = []
        for group in self._groups:
            if group.gate in text and group.search.search(text) is not None:
                found.extend(literal for literal in group.literals if literal in text)
        return found

    def any_present(self, text: str) -> bool:
        return any(group.gate in text and group.search.search(text) is not None for group in self._groups)


def _group_expression(gate: str, literals: Iterable[str]) -> re.Pattern[str]:
    """``g(?:(?<=abg)(?:cd|ef)|xy)``: the gate, then per text before it (a look-behind) the texts after it."""
    after_by_before: dict[str, list[str]] = {}
    for literal in literals:
        at = literal.index(gate)
        after_by_before.setdefault(literal[:at], []).append(literal[at + 1 :])
    branches = []
    for before, afters in after_by_before.items():
        behind = f"(?<={re.escape(before + gate)})" if before else ""
        branches.append(behind + "(?:" + "|".join(re.escape(after) for after in afters) + ")")
    return re.compile(re.escape(gate) + "(?:" + "|".join(branches) + ")")


# ---------------------------------------------------------------------------------------- hyperscan


def _collect(literal_id: int, start: int, end: int, flags: int, found: object) -> None:
    """Match handler of :meth:`_HyperscanEngine.present`: note the literal, scan on."""
    cast("list[int]", found).append(literal_id)


def _stop(literal_id: int, start: int, end: int, flags: int, context: object) -> bool:
    """Match handler of :meth:`_HyperscanEngine.any_present`: one is enough (hs_scan then reports
    HS_SCAN_TERMINATED, which python-hyperscan raises as ``ScanTerminated``)."""
    return True


@functools.lru_cache(maxsize=64)
def _hyperscan_engine(order: tuple[str, ...], gates: tuple[tuple[str, tuple[str, ...]], ...]) -> _HyperscanEngine:
    """One compiled database per distinct set of literals (in one order), shared by the sets that hold them."""
    return _HyperscanEngine(order, gates)


class _HyperscanEngine:
    """One literal database; literal ``i`` of ``order`` has id ``i``, so sorting the ids found gives
    :meth:`LiteralSet.present`'s order."""

    __slots__ = ("_database", "_gates", "_local", "_order", "_python", "_terminated")

    def __init__(self, order: tuple[str, ...], gates: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
        import hyperscan

        database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        database.compile(
            expressions=[literal.encode("ascii") for literal in order],
            ids=list(range(len(order))),
            elements=len(order),
            flags=hyperscan.HS_FLAG_SINGLEMATCH,
            literal=True,
        )
        self._database: hyperscan.Database = database
        self._terminated: type[Exception] = hyperscan.ScanTerminated
        self._order = order
        self._gates = gates
        self._local = threading.local()  # .scratch: this thread's scratch space, see _new_scratch
        self._python: _PythonEngine | None = None

    # present and any_present are the hot path of every chat message: the steps are written out, and the
    # scan's arguments passed by position (data, handler, flags, context, scratch).

    def present(self, text: str) -> list[str]:
        data = text.encode("utf-8", "surrogatepass")
        if len(data) > _HYPERSCAN_MAX_BYTES:
            return self._fallback().present(text)
        try:
            scratch = self._local.scratch
        except AttributeError:
            scratch = self._new_scratch()
        found: list[int] = []
        self._database.scan(data, _collect, 0, found, scratch)
        if not found:
            return []
        found.sort()
        order = self._order
        return [order[literal_id] for literal_id in found]

    def any_present(self, text: str) -> bool:
        data = text.encode("utf-8", "surrogatepass")
        if len(data) > _HYPERSCAN_MAX_BYTES:
            return self._fallback().any_present(text)
        try:
            scratch = self._local.scratch
        except AttributeError:
            scratch = self._new_scratch()
        try:
            self._database.scan(data, _stop, 0, None, scratch)
        except self._terminated:
            return True
        return False

    def _new_scratch(self) -> hyperscan.Scratch:
        """This thread's scratch space: a clone of the database's own, which no scan uses (cloning reads it)."""
        scratch: hyperscan.Scratch = self._database.scratch.clone()
        self._local.scratch = scratch
        return scratch

    def _fallback(self) -> _PythonEngine:
        python = self._python
        if python is None:
            python = self._python = _PythonEngine(self._gates)
        return python
