"""Packaged TOML data (the knowledge cards, the error-text catalogue), parsed once per install.

``tomllib`` is pure Python: parsing the packaged files took a tenth of a short ``jwtcheck`` run. Like
the interpreter with bytecode, the parsed document is kept beside its file, in ``__pycache__`` (or
under ``sys.pycache_prefix``), as JSON, which the standard library reads in C, and used again while
the file's bytes are unchanged (their hash is stored with it). The cache is a copy of our own
packaged data, never of user input; it is not written when bytecode is not
(``PYTHONDONTWRITEBYTECODE``, ``-B``), and any problem reading or writing it falls back to parsing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

_MAGIC = b"jwtcheck-toml-json-1\n"


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML document at ``path``. Raises OSError and tomllib.TOMLDecodeError as ``tomllib`` does."""
    raw = path.read_bytes()
    digest = hashlib.blake2b(raw, digest_size=16).digest()
    cache = cache_path(path)
    cached = _load(cache, digest)
    if cached is not None:
        return cached
    document = tomllib.loads(raw.decode("utf-8"))
    if not sys.dont_write_bytecode:
        _store(cache, digest, document)
    return document


def cache_path(path: Path) -> Path:
    """Where the parsed form of ``path`` is kept, by the rules Python uses for bytecode."""
    name = f"{path.name}.json"
    if sys.pycache_prefix:
        absolute = path.resolve()
        return Path(sys.pycache_prefix, *absolute.parent.parts[1:], name)
    return path.parent / "__pycache__" / name


def _load(cache: Path, digest: bytes) -> dict[str, Any] | None:
    try:
        blob = cache.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + len(digest)
    if blob[:head] != _MAGIC + digest:
        return None
    try:
        document = json.loads(blob[head:])
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _store(cache: Path, digest: bytes, document: dict[str, Any]) -> None:
    try:
        payload = json.dumps(document, ensure_ascii=False, check_circular=False).encode("utf-8")
    except TypeError:  # a TOML date or time has no JSON form: that file is parsed every time
        return
    temporary = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(_MAGIC + digest + payload)
        os.replace(temporary, cache)  # readers see the old file or the new one, never half of one
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
