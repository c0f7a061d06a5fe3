"""The services TOML: what each API expects of its tokens. Validated once, with one-line errors.

```toml
[services.orders]
issuers = ["https://login.acme.test/"]
audiences = ["orders-api"]
algorithms = ["RS256"]
required_claims = ["exp", "sub"]
leeway = 30          # seconds
skew_window = 300    # seconds
```
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.diagnosis.model import Expectations

CONFIG_ENV = "JWTCHECK_CONFIG"
_LIST_KEYS = frozenset({"issuers", "audiences", "algorithms", "required_claims"})
_NUMBER_KEYS = frozenset({"leeway", "skew_window"})
_SINGULAR_HINTS = {"issuer": "issuers", "audience": "audiences", "algorithm": "algorithms", "iss": "issuers",
                   "aud": "audiences", "alg": "algorithms", "require": "required_claims"}
_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
MAX_LEEWAY = 86400.0 * 366


class ConfigError(Exception):
    """A one-line, user-facing description of what is wrong with a config file and where."""


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    expectations: Expectations


@dataclass(frozen=True, slots=True)
class ServicesConfig:
    path: Path
    services: Mapping[str, Service]

    def pick(self, name: str | None) -> Service | None:
        """The named service; with no name, the only service if there is exactly one."""
        if name is None:
            return next(iter(self.services.values())) if len(self.services) == 1 else None
        if name not in self.services:
            known = ", ".join(sorted(self.services)) or "none"
            raise ConfigError(f"{self.path}: no service named {name!r} (services: {known})")
        return self.services[name]


def config_path_from_env(explicit: str | None) -> Path | None:
    value = explicit or os.environ.get(CONFIG_ENV)
    return Path(value) if value else None


def load_services(path: Path) -> ServicesConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: the config file is not UTF-8 text") from exc
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    unknown = sorted(set(document) - {"services"})
    if unknown:
        raise ConfigError(f"{path}:{_line_of(text, unknown[0])}: unknown top-level key {unknown[0]!r} "
                          "(expected [services.NAME] tables)")
    services_table = document.get("services", {})
    if not isinstance(services_table, dict):
        raise ConfigError(f"{path}:{_line_of(text, 'services')}: 'services' must be a table of [services.NAME]")
    services = {}
    for name, table in services_table.items():
        services[name] = _service(path, text, name, table)
    return ServicesConfig(path, services)


def _service(path: Path, text: str, name: str, table: Any) -> Service:
    where = f"services.{name}"
    if not _NAME.fullmatch(name):
        raise ConfigError(f"{path}:{_line_of(text, name)}: service name {name!r} must be 1-64 letters, digits, . _ -")
    if not isinstance(table, dict):
        raise ConfigError(f"{path}:{_line_of(text, name)}: {where} must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        line = _line_of(text, key, after=f"[{where}]")
        if key in _LIST_KEYS:
            values[key] = _strings(path, line, where, key, value)
        elif key in _NUMBER_KEYS:
            values[key] = _seconds(path, line, where, key, value)
        else:
            hint = f" (did you mean {_SINGULAR_HINTS[key]!r}?)" if key in _SINGULAR_HINTS else ""
            raise ConfigError(f"{path}:{line}: unknown key {where}.{key}{hint}")
    return Service(name, Expectations(**values))


def _strings(path: Path, line: int, where: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(f"{path}:{line}: {where}.{key} must be a list of non-empty strings")
    return tuple(value)


def _seconds(path: Path, line: int, where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{path}:{line}: {where}.{key} must be a number of seconds")
    if not 0 <= value <= MAX_LEEWAY:
        raise ConfigError(f"{path}:{line}: {where}.{key} must be between 0 and {int(MAX_LEEWAY)} seconds")
    return float(value)


def _line_of(text: str, key: str, after: str | None = None) -> int:
    """The 1-based line where ``key`` is set (after the ``after`` header when given); 1 if not found."""
    lines = text.splitlines()
    start = 0
    if after:
        for index, line in enumerate(lines):
            if line.strip().replace(" ", "") == after.replace(" ", ""):
                start = index
                break
    pattern = re.compile(rf"^\s*(\[\s*services\.)?[\"']?{re.escape(key)}[\"']?\s*(=|\]|\.)")
    for index in range(start, len(lines)):
        if pattern.match(lines[index]):
            return index + 1
    return 1
