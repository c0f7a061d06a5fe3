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
    work: str = "inline"  # "process": the work after each ack runs in a worker process (bot/slack/work.py)

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    def as_env(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` with these settings in it: the environment of the worker process, which reads its settings
        as ``serve`` does. A services config reaches it through JWTCHECK_CONFIG only."""
        env = dict(base)
        env.update(
            {
                "SLACK_BOT_TOKEN": self.bot_token,
                "PORT": str(self.port or 3000),  # unused by the worker, which serves no HTTP
                "LOG_FORMAT": self.log_format,
                "LOG_LEVEL": self.log_level,
                "JWTCHECK_WORK": "inline",
            }
        )
        for name, value in (
            ("SLACK_SIGNING_SECRET", self.signing_secret),
            ("SLACK_APP_TOKEN", self.app_token),
            ("REDIS_URL", self.redis_url),
            ("SLACK_API_URL", self.slack_api_url),
        ):
            if value:
                env[name] = value
            else:
                env.pop(name, None)
        return env

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
        work = (_value(env, "JWTCHECK_WORK") or "process").lower()
        if work not in {"process", "inline"}:
            raise SettingsError("JWTCHECK_WORK must be process (a worker process does the work) or inline")
        return cls(
            work=work,
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
