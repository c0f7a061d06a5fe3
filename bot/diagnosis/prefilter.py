"""Which of a fixed set of literals occur in a text, in few passes: the bot's cheap test for chat.

The bot scans every message of its channels, and almost none holds a token or an error message. One
``str.find`` per literal would cost one pass over the text per literal; here the literals are
grouped by their *gate*, the character of each that chat holds least often (see ``CHAT_LETTERS``):

* a group whose gate character is not in the text is skipped after one ``memchr`` (``in`` on a single
  character);
* otherwise one regular expression that starts with the gate character tells in one pass whether any
  literal of the group is there (the regex engine's literal-prefix search), each literal written as
  a look-behind for what precedes the gate and the text that follows it;
* only a group that matches is resolved literal by literal.

The answer is exact: a literal in the text puts its gate character in the text, and its group's
expression matches where it stands. The expressions hold literals and fixed look-behinds only, so
every search is linear in the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

# Characters by how common they are in English chat, most common first (the capitals that start
# sentences, "I", a few digits and punctuation included). Any character not listed (another capital, digit
# or punctuation) counts as rarer than all of them.
CHAT_LETTERS = " etaoinshrdlcumwfgypb.,vITAS'0:12-WHCBMkOPDNEFRLGjxqz"


def gate_of(literal: str) -> str:
    """The character of ``literal`` that chat holds least often (the first such, on a tie)."""
    rarest = len(CHAT_LETTERS)
    return max(literal, key=lambda char: CHAT_LETTERS.find(char) if char in CHAT_LETTERS else rarest)


@dataclass(frozen=True, slots=True)
class _Group:
    gate: str
    search: re.Pattern[str]
    literals: tuple[str, ...]


class LiteralSet:
    """A fixed set of non-empty literals; :meth:`present` says which of them occur in a text.

    ``gates`` may name the gate of some literals (a character of theirs), so that literals that share a
    character share one pass; the others get :func:`gate_of`.
    """

    __slots__ = ("_groups", "literals")

    def __init__(self, literals: Iterable[str], gates: Mapping[str, str] | Callable[[str], str] = gate_of) -> None:
        self.literals: tuple[str, ...] = tuple(dict.fromkeys(literals))
        if not all(self.literals):
            raise ValueError("literals must be non-empty")
        grouped: dict[str, list[str]] = {}
        for literal in self.literals:
            gate = gates(literal) if callable(gates) else gates.get(literal) or gate_of(literal)
            if gate not in literal:
                raise ValueError(f"the gate of {literal!r} must be one of its characters")
            grouped.setdefault(gate, []).append(literal)
        self._groups = tuple(_Group(gate, _group_expression(gate, members), tuple(members))
                             for gate, members in grouped.items())

    def present(self, text: str) -> list[str]:
        """The literals that occur in ``text``, in the order they were given per gate."""
        found: list[str] = []
        for group in self._groups:
            if group.gate in text and group.search.search(text) is not None:
                found.extend(literal for literal in group.literals if literal in text)
        return found

    def any_present(self, text: str) -> bool:
        return any(group.gate in text and group.search.search(text) is not None for group in self._groups)


def _group_expression(gate: str, literals: list[str]) -> re.Pattern[str]:
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
