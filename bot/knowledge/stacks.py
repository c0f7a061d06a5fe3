"""The stack files (``data/stacks/<library id>.toml``): one validator each, a library, a gateway or a mesh.

A stack file holds what two loaders read: :mod:`bot.knowledge.catalogue` its error texts (``pattern``,
``context``, ``default_leeway``, ``anchors``), :mod:`bot.knowledge.loader` who it is (``stack``) and its
fixes (``snippets``). The format: ``data/stacks/README.md``.
"""

from __future__ import annotations

from pathlib import Path

from bot.diagnosis.ids import Library

STACKS_DIR = Path(__file__).with_name("data") / "stacks"


def stack_files(directory: Path = STACKS_DIR) -> tuple[Path, ...]:
    """Every stack file, in name order (the order their patterns join the catalogue's)."""
    return tuple(sorted(directory.glob("*.toml")))


def stack_library(path: Path) -> Library | None:
    """The library a stack file describes: the one it is named after (None: no such library)."""
    try:
        return Library(path.stem)
    except ValueError:
        return None


__all__ = ["STACKS_DIR", "stack_files", "stack_library"]
