"""Logging that cannot leak a token: every record of every logger is redacted when it is created.

Bolt itself logs a refused request's whole body ("Invalid request signature detected … body: …"),
and third-party exceptions may quote what they were given. A log record factory sees all of them,
whatever logger or handler is involved, before any formatter or test capture does.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.diagnosis.redact import last_pass

_installed_factory: Callable[..., logging.LogRecord] | None = None


def scrub(text: str) -> str:
    """Redact JWT signatures and Slack tokens from a piece of log text (the one last pass)."""
    return last_pass(text)


def install_redaction() -> None:
    """Wrap the log record factory once; idempotent."""
    global _installed_factory
    current = logging.getLogRecordFactory()
    if current is _installed_factory:
        return
    previous = current

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not take the log line (or the caller) down
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = scrub(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub("".join(traceback.format_exception(*record.exc_info)).rstrip())
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return record

    logging.setLogRecordFactory(factory)
    _installed_factory = factory


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (+ exception)."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        if record.exc_info:
            document["exception"] = scrub(record.exc_text or self.formatException(record.exc_info))
        for key in ("event", "method", "error", "team", "channel"):
            value = record.__dict__.get(key)
            if value is not None:
                document[key] = scrub(str(value))
        return json.dumps(document, ensure_ascii=False)


class ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def configure_logging(log_format: str = "text", level: str = "INFO") -> None:
    install_redaction()
    handler = logging.StreamHandler(sys.stderr)
    text_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(JsonFormatter() if log_format == "json" else ScrubbingFormatter(text_format))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")
