"""Options around the text of /jwtcheck or a mention."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_services
from bot.diagnosis.model import Expectations
from bot.slack.options import OptionError, parse_request


def test_options_are_whole_words_around_the_text() -> None:
    request = parse_request(
        "Bearer eyJx.eyJy.sig aud=orders-api,billing iss=<https://login.acme.test/> alg=RS256 leeway=30 private"
    )
    assert request.text == "Bearer eyJx.eyJy.sig"
    assert request.audiences == ("orders-api", "billing") and request.issuers == ("https://login.acme.test/",)
    assert request.algorithms == ("RS256",) and request.leeway == 30 and request.private


def test_a_url_with_a_query_inside_the_text_is_not_an_option() -> None:
    request = parse_request("curl 'https://api.acme.test/orders?aud=x' -H 'Authorization: Bearer eyJ.a.b'")
    assert request.audiences == () and "aud=x" in request.text


def test_mentions_are_dropped_and_slack_escapes_undone_in_values() -> None:
    request = parse_request("<@U0BOT123> iss=https://a.test/?x=1&amp;y=2 eyJ.a.b")
    assert request.text == "eyJ.a.b" and request.issuers == ("https://a.test/?x=1&y=2",)


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", "?"])
def test_empty_or_help_asks_for_usage(text: str) -> None:
    assert parse_request(text).wants_help


@pytest.mark.parametrize("text", ["x leeway=soon", "x leeway=-5", "x skew=1e999", "x leeway=nan"])
def test_bad_numbers_are_one_line_errors(text: str) -> None:
    with pytest.raises(OptionError):
        parse_request(text)


def test_service_picks_expectations_and_options_override(tmp_path: Path) -> None:
    path = tmp_path / "services.toml"
    path.write_text(
        '[services.orders]\naudiences = ["orders-api"]\nleeway = 30\n[services.billing]\naudiences = ["billing-api"]\n',
        encoding="utf-8",
    )
    services = load_services(path)
    assert parse_request("t service=billing").expectations(services) == Expectations(audiences=("billing-api",))
    assert parse_request("t service=orders leeway=0").expectations(services) == Expectations(
        audiences=("orders-api",), leeway=0.0
    )
    with pytest.raises(OptionError, match="no service named 'nope'"):
        parse_request("t service=nope").expectations(services)
    assert parse_request("t").expectations(services) == Expectations()  # two services: none is the default


def test_service_without_a_config_is_explained() -> None:
    with pytest.raises(OptionError, match="no services are configured"):
        parse_request("t service=orders").expectations(None)


def test_the_leeway_limit_is_the_command_lines() -> None:
    from bot.diagnosis.expectations import MAX_SECONDS, seconds_problem

    assert parse_request("x leeway=90000").leeway == 90000.0  # over a day: the command line accepts it too
    with pytest.raises(OptionError) as refused:
        parse_request(f"x leeway={MAX_SECONDS + 1:.0f}")
    assert str(refused.value) == f"leeway= {seconds_problem(MAX_SECONDS + 1)}"
