"""The services TOML: what each API expects of its tokens, and the keys it trusts. Validated once,
with one-line errors.

```toml
[services.orders]
issuers = ["https://login.acme.test/"]
audiences = ["orders-api"]
algorithms = ["RS256"]
required_claims = ["exp", "sub"]
leeway = 30          # seconds
skew_window = 300    # seconds
# trusted key sources (any of them)
jwks_uri = "https://login.acme.test/.well-known/jwks.json"
discovery = "https://login.acme.test/.well-known/openid-configuration"
keys = ["keys/orders.pem", "keys/orders.jwk.json"]   # relative to this file
hmac_secret_env = "ORDERS_JWT_SECRET"                # the variable's name, never the secret
allow_http = false                                   # true only for a local issuer in development
probe_url = "https://orders.acme.test/health"        # its Date header tells the service's clock
channels = ["C0123ORDERS"]                           # Slack channels judged against this service
stacks = ["envoy", "jjwt"]                           # its validators: their fixes get buttons on a card
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

from bot.datafiles import DataFile, DataFileError, KeyPath, key_name, problem
from bot.diagnosis.expectations import MAX_SECONDS
from bot.diagnosis.ids import Library
from bot.diagnosis.model import Expectations
from bot.diagnosis.redact import last_pass
from bot.diagnosis.signature import TrustedKey
from bot.keys.config import ENV_NAME, NO_KEYS, KeyConfig

CONFIG_ENV = "JWTCHECK_CONFIG"
_LIST_KEYS = frozenset({"issuers", "audiences", "algorithms", "required_claims"})
_NUMBER_KEYS = frozenset({"leeway", "skew_window"})
_KEY_SOURCE_KEYS = frozenset({"jwks_uri", "discovery", "keys", "hmac_secret_env", "allow_http"})
_SINGULAR_HINTS = {
    "issuer": "issuers",
    "audience": "audiences",
    "algorithm": "algorithms",
    "iss": "issuers",
    "aud": "audiences",
    "alg": "algorithms",
    "require": "required_claims",
    "jwks": "jwks_uri",
    "jwks_url": "jwks_uri",
    "jwk_uri": "jwks_uri",
    "key": "keys",
    "key_files": "keys",
    "discovery_url": "discovery",
    "openid_configuration": "discovery",
    "secret_env": "hmac_secret_env",
    "channel": "channels",
    "stack": "stacks",
    "library": "stacks",
    "libraries": "stacks",
}
_SECRET_KEYS = frozenset({"secret", "hmac_secret", "hmac_key", "shared_secret", "jwt_secret"})
_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
# Slack's id shapes (fullmatch), checked before an id from a payload reaches a key, a log line or a mention.
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,30}")  # a channel: public, private or direct
TEAM_ID = re.compile(r"[TE][A-Z0-9]{2,30}")  # a workspace (or an Enterprise Grid org)
USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
MESSAGE_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,8}")  # a message's ts, as Slack writes it
MAX_LEEWAY = MAX_SECONDS  # the one limit of every front door (bot.diagnosis.expectations)


class ConfigError(DataFileError):
    """A one-line, user-facing description of what is wrong with a config file and where."""


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    expectations: Expectations
    keys: KeyConfig = NO_KEYS  # trusted key sources: not expectations, carried alongside them
    probe_url: str | None = None  # a URL of the service whose Date header tells its clock (allowlisted)
    channels: tuple[str, ...] = ()  # Slack channel ids whose tokens are judged against this service
    stacks: tuple[Library, ...] = ()  # the validators in front of and inside it (gateway, library)


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
            shown = last_pass(name)[:40]  # a pasted token must not come back in the error
            raise ConfigError(problem(self.path, f"no service named {shown!r} (services: {known})"))
        return self.services[name]

    def bound_in(self, channel: str) -> Service | None:
        """The service whose ``channels`` list ``channel`` (at most one: :func:`load_services` checks)."""
        return next((s for s in self.services.values() if channel in s.channels), None)

    def keys_for(self, name: str | None) -> KeyConfig | None:
        """The key sources of the service :meth:`pick` chooses (None when it chooses none)."""
        service = self.pick(name)
        return service.keys if service is not None else None


def config_path_from_env(explicit: str | None) -> Path | None:
    value = explicit or os.environ.get(CONFIG_ENV)
    return Path(value) if value else None


def load_services(path: Path) -> ServicesConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(problem(path, f"cannot read the config file ({exc.strerror or exc})")) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(problem(path, "the config file is not UTF-8 text")) from exc
    file = DataFile(path, text, ConfigError)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file.decode_error(exc)) from exc
    unknown = [key for key in document if key != "services"]
    if unknown:
        file.fail((unknown[0],), "unknown top-level key (expected [services.NAME] tables)")
    services_table = document.get("services", {})
    if not isinstance(services_table, dict):
        file.fail(("services",), "must be a table of [services.NAME]")
    services: dict[str, Service] = {}
    bound: dict[str, str] = {}
    for name, table in services_table.items():
        services[name] = _service(file, path, name, table)
        for channel in services[name].channels:
            if channel in bound:
                file.fail(("services", name, "channels"), f"{channel} is already bound to services.{bound[channel]}")
            bound[channel] = name
    return ServicesConfig(path, services)


def _service(file: DataFile, path: Path, name: str, table: Any) -> Service:
    where: KeyPath = ("services", name)
    if not _NAME.fullmatch(name):
        file.fail(where, "a service name must be 1-64 letters, digits, . _ -")
    if not isinstance(table, dict):
        file.fail(where, "must be a table")
    values: dict[str, Any] = {}
    sources: dict[str, Any] = {}
    for key, value in table.items():
        if key in _LIST_KEYS:
            values[key] = _strings(file, (*where, key), value)
        elif key in _NUMBER_KEYS:
            values[key] = _seconds(file, (*where, key), value)
        elif key in _KEY_SOURCE_KEYS or key == "probe_url":
            sources[key] = value
        elif key == "channels":
            values[key] = _channels(file, (*where, key), value)
        elif key == "stacks":
            values[key] = _stacks(file, (*where, key), value)
        elif key.lower() in _SECRET_KEYS:
            file.fail(
                (*where, key),
                "secrets are never written in the config file; put the secret in an environment variable and "
                "give its name as hmac_secret_env",
            )
        else:
            hint = f" (did you mean {_SINGULAR_HINTS[key]!r}?)" if key in _SINGULAR_HINTS else ""
            file.fail((*where, key), f"unknown key{hint}")
    channels = values.pop("channels", ())
    stacks = values.pop("stacks", ())
    expectations = Expectations(**values)
    probe = sources.pop("probe_url", None)
    keys = _key_config(file, path, where, sources, expectations.issuers)
    probe_url = _probe_url(file, where, probe, "probe_url" in table, keys.allow_http)
    return Service(name, expectations, keys, probe_url, channels, stacks)


def _stacks(file: DataFile, key: KeyPath, value: Any) -> tuple[Library, ...]:
    stacks = _strings(file, key, value)
    known = {library.value: library for library in Library}
    for stack in stacks:
        if stack not in known:
            file.fail(key, f"{last_pass(stack)[:40]!r} is not a stack jwtcheck knows; known: {', '.join(known)}")
    return tuple(dict.fromkeys(known[stack] for stack in stacks))


def _channels(file: DataFile, key: KeyPath, value: Any) -> tuple[str, ...]:
    channels = _strings(file, key, value)
    for channel in channels:
        if not CHANNEL_ID.fullmatch(channel):
            # Not quoted: whatever was pasted here (a channel name, a URL, a token) is not repeated.
            file.fail(key, "must list Slack channel ids (C…, G… or D…, as in the channel's details), not names")
    return tuple(dict.fromkeys(channels))


def _probe_url(file: DataFile, where: KeyPath, value: Any, given: bool, allow_http: bool) -> str | None:
    from bot.keys.urls import UrlRefused, check_url

    if not given:
        return None
    if not isinstance(value, str):
        file.fail((*where, "probe_url"), "must be one URL (a string)")
    try:
        return check_url(value, allow_http=allow_http, what="probe_url")
    except UrlRefused as refused:
        file.fail((*where, "probe_url"), str(refused))


def _key_config(
    file: DataFile, path: Path, where: KeyPath, sources: dict[str, Any], issuers: tuple[str, ...]
) -> KeyConfig:
    """The service's trusted key sources, checked (URLs, names) and loaded (key files) now."""
    from bot.keys.urls import UrlRefused, check_url

    if not sources:
        return NO_KEYS
    allow_http = sources.get("allow_http", False)
    if not isinstance(allow_http, bool):
        file.fail((*where, "allow_http"), "must be true or false")
    urls: dict[str, str] = {}
    for key in ("jwks_uri", "discovery"):
        if key not in sources:
            continue
        value = sources[key]
        if not isinstance(value, str):
            file.fail((*where, key), "must be one URL (a string)")
        try:
            urls[key] = check_url(value, allow_http=allow_http, what=key)
        except UrlRefused as refused:
            file.fail((*where, key), str(refused))
    if "discovery" in urls and not issuers:
        file.fail(
            (*where, "discovery"),
            f"needs {key_name((*where, 'issuers'))}: the discovery document's issuer must equal one of them",
        )
    secret_env: str | None = None
    if "hmac_secret_env" in sources:
        value = sources["hmac_secret_env"]
        if not isinstance(value, str) or not ENV_NAME.fullmatch(value):
            file.fail(
                (*where, "hmac_secret_env"),
                "must be the NAME of an environment variable (letters, digits, _), never the secret itself",
            )
        secret_env = value
    static: list[TrustedKey] = []
    files: list[str] = []
    if "keys" in sources:
        from bot.keys.static import KeyFileError, load_key_file

        for name in _strings(file, (*where, "keys"), sources["keys"]):
            try:
                static.extend(load_key_file(path.parent / name, name))
            except KeyFileError as refused:
                file.fail((*where, "keys"), str(refused))
            files.append(name)
    return KeyConfig(
        jwks_uri=urls.get("jwks_uri"),
        discovery=urls.get("discovery"),
        static_keys=tuple(static),
        key_files=tuple(files),
        hmac_secret_env=secret_env,
        allow_http=allow_http,
        issuers=issuers,
    )


def _strings(file: DataFile, key: KeyPath, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        file.fail(key, "must be a list of non-empty strings")
    return tuple(value)


def _seconds(file: DataFile, key: KeyPath, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        file.fail(key, "must be a number of seconds")
    if not 0 <= value <= MAX_LEEWAY:
        file.fail(key, f"must be between 0 and {int(MAX_LEEWAY)} seconds")
    return float(value)
