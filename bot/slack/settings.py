"""Environment settings for ``python -m bot serve``, validated once with one-line errors."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.config import CONFIG_ENV, ServicesConfig, load_services


class SettingsError(Exception):
    """One line naming the setting that is missing or wrong."""


@dataclass(frozen=True, slots=True)
class Settings:
    bot_token: str
    signing_secret: str | None
    app_token: str | None
    port: int
    redis_url: str | None
    slack_api_url: str | None
    services: ServicesConfig | None
    log_format: str
    log_level: str

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        bot_token = _value(env, "SLACK_BOT_TOKEN")
        app_token = _value(env, "SLACK_APP_TOKEN")
        signing_secret = _value(env, "SLACK_SIGNING_SECRET")
        if not bot_token:
            raise SettingsError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-…, from the app's OAuth page)")
        if not bot_token.startswith("xoxb-"):
            raise SettingsError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
        if app_token and not app_token.startswith("xapp-"):
            raise SettingsError("SLACK_APP_TOKEN must be an app-level token starting with xapp- (Socket Mode)")
        if not app_token and not signing_secret:
            raise SettingsError(
                "SLACK_SIGNING_SECRET is not set (needed in HTTP mode; set SLACK_APP_TOKEN for Socket Mode instead)"
            )
        port_text = _value(env, "PORT") or "3000"
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SettingsError(f"PORT must be a TCP port number, not {port_text[:20]!r}")
        api_url = _value(env, "SLACK_API_URL")
        if api_url and not api_url.startswith(("https://", "http://")):
            raise SettingsError("SLACK_API_URL must be an http(s) URL ending in /api/")
        config_path = _value(env, CONFIG_ENV)
        services = load_services(Path(config_path)) if config_path else None
        log_format = (_value(env, "LOG_FORMAT") or "text").lower()
        if log_format not in {"text", "json"}:
            raise SettingsError("LOG_FORMAT must be text or json")
        return cls(
            bot_token=bot_token,
            signing_secret=signing_secret,
            app_token=app_token,
            port=int(port_text),
            redis_url=_value(env, "REDIS_URL"),
            slack_api_url=(api_url.rstrip("/") + "/") if api_url else None,
            services=services,
            log_format=log_format,
            log_level=(_value(env, "LOG_LEVEL") or "INFO").upper(),
        )


def _value(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None
