"""Slack's text conventions, undone at the edge before the core sees any text.

Slack escapes ``&``, ``<`` and ``>`` in the text of messages, commands and events (its own markup,
``<@U123>`` or ``<https://…|label>``, uses the bare characters). Every text the Slack edge hands on is
unescaped here, once: the core and the command line take text as it is.
"""

from __future__ import annotations


def unescape_slack(text: str) -> str:
    """Undo Slack's escaping of ``&``, ``<`` and ``>`` (and only those, as Slack does)."""
    if "&" not in text:
        return text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
