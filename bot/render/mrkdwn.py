"""Slack mrkdwn helpers: escaping, entity-aware clipping, and the one pipeline for untrusted text.

Slack treats only ``&``, ``<`` and ``>`` as control characters, so only those are escaped (to
``&amp;``, ``&lt;``, ``&gt;``); nothing else is HTML-encoded. Clipping always happens *after*
escaping and never cuts an entity in half. Lengths are counted in UTF-16 code units, which is never
less than Python's ``len`` and is how Slack's clients count, so a clipped text fits either way.
"""

from __future__ import annotations

import re

from bot.diagnosis.checks.values import printable
from bot.diagnosis.redact import redact_text

ELLIPSIS = "…"
_ENTITIES = ("&amp;", "&lt;", "&gt;")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_LONGEST_ENTITY = max(len(entity) for entity in _ENTITIES)


def escape(text: str) -> str:
    """Escape the three mrkdwn control characters, and nothing else."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """The text as a reader sees it (for measuring); the inverse of ``escape``."""
    return _ENTITY.sub(lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], text)


def ulen(text: str) -> int:
    """Length in UTF-16 code units (an astral character such as an emoji counts twice)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clip(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """``text`` cut to at most ``limit`` UTF-16 units, ending in ``ellipsis`` when cut.

    Entity-aware: an ``&amp;``/``&lt;``/``&gt;`` is kept whole or dropped whole. Prefers to cut at a
    space when one is near the end.
    """
    if limit <= 0:
        return ""
    if ulen(text) <= limit:
        return text
    budget = limit - ulen(ellipsis)
    if budget <= 0:
        return ellipsis[:limit] if ulen(ellipsis[:limit]) <= limit else ""
    cut, used = 0, 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > budget:
            break
        used += width
        cut += 1
    amp = text.rfind("&", max(0, cut - _LONGEST_ENTITY + 1), cut)
    if amp != -1 and any(text.startswith(e, amp) and amp + len(e) > cut for e in _ENTITIES):
        cut = amp
    space = text.rfind(" ", max(0, cut - 12), cut)
    if space > 0 and cut - space < 12 and cut < len(text) and text[cut] != " ":
        cut = space
    return text[:cut].rstrip() + ellipsis


def safe(text: str, limit: int | None = None) -> str:
    """The one pipeline for untrusted text (claims, error texts, user text, evidence built from them).

    Redacts anything shaped like a signed token, escapes control and format characters (newlines
    included, so the result is one line), escapes mrkdwn, then clips entity-aware.
    """
    escaped = escape(printable(redact_text(text)))
    return escaped if limit is None else clip(escaped, limit)


def code_span(escaped: str) -> str:
    """Wrap already-escaped text in a code span; a backtick inside would end it, so it is swapped."""
    return "`" + escaped.replace("`", "ʹ") + "`"


def code_block(escaped: str) -> str:
    """Wrap already-escaped (possibly multi-line) text in a fenced block that cannot be closed early."""
    return "```\n" + escaped.replace("```", "ʹʹʹ").strip("\n") + "\n```"
