"""Key sources that need no network: static key files and an HMAC secret from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from bot.diagnosis.signature import HmacSecret, KeyResolution, SourceFailure
from bot.keys.config import KeyConfig


def resolve_local(config: KeyConfig, environ: Mapping[str, str] | None = None) -> KeyResolution:
    """The static keys, and the HMAC secret read (by name) from the environment at this moment."""
    env = os.environ if environ is None else environ
    secrets: tuple[HmacSecret, ...] = ()
    failures: tuple[SourceFailure, ...] = ()
    name = config.hmac_secret_env
    if name:
        value = env.get(name)
        if value is None:
            failures = (
                SourceFailure(
                    f"${name}",
                    "not_set",
                    f"the environment variable {name}, which should hold the HMAC secret, is not set",
                    secret=True,
                ),
            )
        elif not value.strip():
            failures = (
                SourceFailure(
                    f"${name}",
                    "empty",
                    f"the environment variable {name}, which should hold the HMAC secret, is empty",
                    secret=True,
                ),
            )
        else:
            secrets = (HmacSecret(name, value),)
    return KeyResolution(keys=config.static_keys, secrets=secrets, failures=failures)
