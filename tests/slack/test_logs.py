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


def _cut(token: str, into: int) -> tuple[str, str]:
    at = len(token) - into
    return token[:at], token[at:]


def test_the_tail_of_a_token_wrapped_over_lines_is_redacted_in_every_record(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    caplog.set_level(logging.DEBUG)
    head, tail = _cut(make_token(), 25)
    logger = logging.getLogger("bot.answer")
    logger.info("error text: 401 Unauthorized: jwt expired token=%s\n  %s jwt expired", head, tail)
    try:
        raise RuntimeError(f"cannot parse\n> {head}\r\n> {tail}")
    except RuntimeError:
        logging.getLogger("slack_bolt.App").exception("failed")
    assert tail not in caplog.text and tail[:12] not in caplog.text
    assert "jwt expired" in caplog.text and "cannot parse" in caplog.text


def test_a_refused_requests_form_body_logged_by_bolt_keeps_no_tail(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    caplog.set_level(logging.DEBUG)
    head, tail = _cut(make_token(), 30)
    body = f"token=x&command=%2Fjwtcheck&text={head}%0A%3E+{tail}+jwt+expired&response_url=https%3A%2F%2Fhooks"
    logging.getLogger("slack_bolt.AsyncApp").warning("Invalid request signature detected (body: %s)", body)
    assert tail[:12] not in caplog.text and "jwt+expired" in caplog.text


def test_scrub_is_idempotent_and_json_lines_hold_no_tail() -> None:
    install_redaction()
    head, tail = _cut(make_token(), 20)
    text = f"{head}\n{tail}"
    assert scrub(scrub(text)) == scrub(text) and tail not in scrub(text)
    record = logging.getLogger("bot").makeRecord("bot", logging.INFO, __file__, 1, "%s", (text,), None)
    assert tail not in JsonFormatter().format(record)
