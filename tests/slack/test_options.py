"""Options around the text of /jwtcheck or a mention."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_services
from bot.diagnosis.model import Expectations
from bot.slack.options import OptionError, Request, parse_request
from tests.support.tokens import make_token, signature_of


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


TOKEN = make_token()


@pytest.mark.parametrize("option", ["service", "require", "aud", "iss", "alg", "leeway", "skew"])
@pytest.mark.parametrize(
    "value",
    [
        TOKEN,
        f"orders-api,{TOKEN}",
        TOKEN.rsplit(".", 1)[0],
        f"<{TOKEN}>",
        f"&lt;{TOKEN}&gt;",
        "xoxb-1234-5678-abcdefgh",
        "Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTBhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ekFCQ0RFRkc",
    ],
)
def test_a_token_given_as_an_option_value_is_refused_without_being_repeated(option: str, value: str) -> None:
    with pytest.raises(OptionError) as refused:
        parse_request(f"Signature has expired {option}={value}")
    message = str(refused.value)
    assert f"{option}=" in message and "looks like a token or a secret" in message
    assert signature_of(TOKEN) not in message and TOKEN.split(".")[0] not in message and "xoxb" not in message


def test_names_that_look_nothing_like_a_token_are_kept() -> None:
    request = parse_request(
        "t aud=00000003-0000-0000-c000-000000000000,AbCdEf1234567890AbCdEf1234567890 "
        "iss=https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0 require=exp,sub alg=RS256"
    )
    assert request.audiences == ("00000003-0000-0000-c000-000000000000", "AbCdEf1234567890AbCdEf1234567890")
    assert request.required_claims == ("exp", "sub") and request.algorithms == ("RS256",)


def test_what_an_error_quotes_of_a_value_is_redacted_and_short(tmp_path: Path) -> None:
    path = tmp_path / "services.toml"
    path.write_text('[services.orders]\naudiences = ["orders-api"]\n', encoding="utf-8")
    request = parse_request("t")
    long_name = "n" * 5000
    with pytest.raises(OptionError) as refused:
        Request(text="t", service=long_name).expectations(load_services(path))
    assert long_name not in str(refused.value) and len(str(refused.value)) < 200
    with pytest.raises(OptionError) as refused:
        Request(text="t", service=f"x {TOKEN}").expectations(load_services(path))  # made elsewhere: still redacted
    assert signature_of(TOKEN) not in str(refused.value)
    assert request.service is None
