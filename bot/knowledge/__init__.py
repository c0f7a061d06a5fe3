"""The failure cards as data: causes, workarounds with rates and snippets, dead ends."""

from bot.knowledge.loader import DATA_DIR, KnowledgeError, default_knowledge, load_knowledge
from bot.knowledge.model import (
    ANY_LIBRARY,
    Card,
    CauseInfo,
    DeadEnd,
    Knowledge,
    LibraryVersion,
    Snippet,
    Workaround,
    percent,
)

__all__ = [
    "ANY_LIBRARY",
    "DATA_DIR",
    "Card",
    "CauseInfo",
    "DeadEnd",
    "Knowledge",
    "KnowledgeError",
    "LibraryVersion",
    "Snippet",
    "Workaround",
    "default_knowledge",
    "load_knowledge",
    "percent",
]
