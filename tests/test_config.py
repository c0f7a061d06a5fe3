"""The services TOML: the documented shape loads; every mistake is one line naming file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_services
from bot.diagnosis.model import Expectations

GOOD = """\
[services.orders]
issuers = ["https://login.acme.test/"]
audiences = ["orders-api"]
algorithms = ["RS256"]
required_claims = ["exp", "sub"]
leeway = 30          # seconds
skew_window = 300    # seconds

[services.billing]
audiences = "billing-api"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "services.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_documented_shape_loads(tmp_path: Path) -> None:
    config = load_services(write(tmp_path, GOOD))
    assert config.services["orders"].expectations == Expectations(
        audiences=("orders-api",), issuers=("https://login.acme.test/",), algorithms=("RS256",),
        required_claims=("exp", "sub"), leeway=30.0, skew_window=300.0,
    )
    assert config.services["billing"].expectations.audiences == ("billing-api",)


def test_a_single_service_is_the_default(tmp_path: Path) -> None:
    config = load_services(write(tmp_path, "[services.only]\naudiences = ['a']\n"))
    picked = config.pick(None)
    assert picked is not None and picked.name == "only"


def test_an_unknown_service_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no service named 'nope' \(services: billing, orders\)"):
        load_services(write(tmp_path, GOOD)).pick("nope")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[services.orders]\naudience = ['x']\n",
         r":2: unknown key services.orders.audience \(did you mean 'audiences'\?\)"),
        ("[services.orders]\nleeway = 'thirty'\n", r":2: services.orders.leeway must be a number of seconds"),
        ("[services.orders]\nleeway = -1\n", r":2: services.orders.leeway must be between 0"),
        ("[services.orders]\nissuers = [1, 2]\n", r":2: services.orders.issuers must be a list of non-empty strings"),
        ("[services.orders]\n\n\nissuers = [1,\nleeway = 3\n", r"line 5"),
        ("[orders]\naudiences = []\n", r":1: unknown top-level key 'orders'"),
        ("[services.a]\naudiences=['x']\n[services.b]\nskew_window = true\n", r":4: services.b.skew_window"),
    ],
)
def test_a_broken_file_gives_one_line_naming_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_services(path)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_services(tmp_path / "absent.toml")
