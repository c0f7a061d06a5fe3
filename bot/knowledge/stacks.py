"""The stack files (``data/stacks/<library id>.toml``): one validator each, a library, a gateway or a mesh.

A stack file holds what two loaders read: :mod:`bot.knowledge.catalogue` its error texts (``pattern``,
``context``, ``default_leeway``, ``anchors``), :mod:`bot.knowledge.loader` who it is (``stack``) and its
fixes (``snippets``). The format: ``data/stacks/README.md``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from bot.datafiles import read_toml
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


def stack_document(path: Path) -> dict[str, Any]:
    """The parsed stack file, read once per process while its bytes' size and time are unchanged.

    Both loaders read every stack file at start-up; parsing (or loading the cached parse of) twenty files
    twice cost a short ``jwtcheck`` run a tenth of its time. Invariant, tested in
    tests/knowledge/test_stacks.py: neither loader changes the document it is handed. Raises what
    ``read_toml`` raises (OSError, tomllib.TOMLDecodeError).
    """
    stat = path.stat()
    return _document(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _document(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    return read_toml(path)


__all__ = ["STACKS_DIR", "stack_document", "stack_files", "stack_library"]
