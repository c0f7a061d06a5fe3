"""The knowledge base as data: the failure cards (causes, workarounds with rates and snippets, dead
ends), the error-text catalogue and the stack files (one validator each: its texts and its fixes),
each loaded and checked at start-up."""

from bot.knowledge.catalogue import CATALOGUE_PATH, CatalogueError, default_catalogue, load_catalogue
from bot.knowledge.loader import DATA_DIR, KnowledgeError, default_knowledge, load_knowledge
from bot.knowledge.model import (
    ANY_LIBRARY,
    Card,
    CauseInfo,
    DeadEnd,
    Knowledge,
    LibraryVersion,
    Snippet,
    Stack,
    StackKind,
    Workaround,
    percent,
)

__all__ = [
    "ANY_LIBRARY",
    "CATALOGUE_PATH",
    "DATA_DIR",
    "Card",
    "CatalogueError",
    "CauseInfo",
    "DeadEnd",
    "Knowledge",
    "KnowledgeError",
    "LibraryVersion",
    "Snippet",
    "Stack",
    "StackKind",
    "Workaround",
    "default_catalogue",
    "default_knowledge",
    "load_catalogue",
    "load_knowledge",
    "percent",
]
