"""Every record of every logger is redacted, exceptions included; JSON lines when asked."""

from __future__ import annotations

import json
import logging

import pytest

from bot.slack.logs import JsonFormatter, install_redaction, scrub
from tests.support.tokens import make_token, signature_of


def test_scrub_hides_jwt_signatures_and_slack_tokens() -> None:
    token = make_token()
    text = scrub(f"body=token%3D{token}&x=1 Authorization: Bearer xoxb-1234-5678-abcdefgh xapp-1-A0-123456")
    assert signature_of(token) not in text and "xoxb-1234" not in text and "xapp-1-A0" not in text


def test_any_logger_any_argument_and_any_exception_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    token = make_token()
    caplog.set_level(logging.DEBUG)
    logging.getLogger("some.library").info("got %s", {"token": token})
    try:
        raise ValueError(f"cannot parse {token}")
    except ValueError:
        logging.getLogger("slack_bolt.App").exception("failed")
    logging.getLogger("x").warning("broken %s %s", "format")  # a bad format string is logged, not raised
    assert signature_of(token) not in caplog.text
    assert "cannot parse" in caplog.text and "[redacted]" in caplog.text


def test_json_lines(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    record = logging.getLogger("bot").makeRecord("bot", logging.INFO, __file__, 1, "hello %s", (make_token(),), None)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "INFO" and line["logger"] == "bot" and line["message"].endswith("[redacted]")
