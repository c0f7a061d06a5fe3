"""The services TOML: the documented shape loads; every mistake is one line naming file, line and key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from bot.config import ConfigError, load_services
from bot.diagnosis.ids import Library
from bot.diagnosis.model import Expectations
from tests.keys.support import ec_key, jwk_of, pem_of, rsa_key

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
        audiences=("orders-api",),
        issuers=("https://login.acme.test/",),
        algorithms=("RS256",),
        required_claims=("exp", "sub"),
        leeway=30.0,
        skew_window=300.0,
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
        (
            "[services.orders]\naudience = ['x']\n",
            r":2: services.orders.audience: unknown key \(did you mean 'audiences'\?\)",
        ),
        ("[services.orders]\nleeway = 'thirty'\n", r":2: services.orders.leeway: must be a number of seconds"),
        ("[services.orders]\nleeway = -1\n", r":2: services.orders.leeway: must be between 0"),
        ("[services.orders]\nissuers = [1, 2]\n", r":2: services.orders.issuers: must be a list of non-empty strings"),
        ("[services.orders]\n\n\nissuers = [1,\nleeway = 3\n", r":5: not valid TOML: .*line 5"),
        ("[orders]\naudiences = []\n", r":1: orders: unknown top-level key"),
        ("[services.a]\naudiences=['x']\n[services.b]\nskew_window = true\n", r":4: services.b.skew_window: "),
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


# --- trusted key sources -----------------------------------------------------------------------------

KEYED = """\
[services.orders]
issuers = ["https://login.acme.test/"]
algorithms = ["RS256"]
jwks_uri = "https://login.acme.test/.well-known/jwks.json"
discovery = "https://login.acme.test/.well-known/openid-configuration"
keys = ["keys/orders.pem", "keys/orders.jwk.json"]
hmac_secret_env = "ORDERS_JWT_SECRET"

[services.local]
jwks_uri = "http://127.0.0.1:8080/jwks"
allow_http = true
"""


def write_keys(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "orders.pem").write_bytes(pem_of(rsa_key()))
    (tmp_path / "keys" / "orders.jwk.json").write_text(json.dumps(jwk_of(ec_key(), "k-ec")), encoding="utf-8")


def test_key_sources_load_beside_the_expectations(tmp_path: Path) -> None:
    write_keys(tmp_path)
    config = load_services(write(tmp_path, KEYED))
    orders = config.services["orders"]
    assert orders.expectations.algorithms == ("RS256",)  # key sources are not expectations
    keys = orders.keys
    assert keys.jwks_uri == "https://login.acme.test/.well-known/jwks.json"
    assert keys.discovery == "https://login.acme.test/.well-known/openid-configuration"
    assert keys.issuers == ("https://login.acme.test/",) and keys.hmac_secret_env == "ORDERS_JWT_SECRET"
    assert [k.origin for k in keys.static_keys] == ["keys/orders.pem", "keys/orders.jwk.json"]
    assert keys.static_keys[0].jwk == jwk_of(rsa_key()) and keys.static_keys[1].kid == "k-ec"
    assert keys.configured and keys.fetches and not keys.allow_http
    assert config.services["local"].keys.allow_http
    assert config.keys_for("orders") is keys
    assert config.services["orders"].keys.cache_key() != config.services["local"].keys.cache_key()


def test_a_service_without_key_sources_has_none(tmp_path: Path) -> None:
    keys = load_services(write(tmp_path, GOOD)).services["orders"].keys
    assert not keys.configured and not keys.fetches


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[services.o]\njwks_uri = 'http://login.acme.test/jwks'\n",
            r":2: services.o.jwks_uri: the jwks_uri login.acme.test is http: only https is fetched, unless the service "
            r"sets allow_http = true",
        ),
        (
            "[services.o]\nallow_http = 'yes'\njwks_uri = 'http://x/jwks'\n",
            r":2: services.o.allow_http: must be true or",
        ),
        ("[services.o]\njwks_uri = ['https://x/']\n", r":2: services.o.jwks_uri: must be one URL"),
        ("[services.o]\njwks_uri = 'https://user:pw@x/jwks'\n", r":2: services.o.jwks_uri: .* user name or password"),
        (
            "[services.o]\ndiscovery = 'https://x/.well-known/openid-configuration'\n",
            r":2: services.o.discovery: needs services.o.issuers",
        ),
        (
            "[services.o]\nhmac_secret_env = 'c2VjcmV0 with spaces='\n",
            r":2: services.o.hmac_secret_env: must be the NAME of an environment variable",
        ),
        (
            "[services.o]\naudiences = ['a']\nhmac_secret = 'hunter2'\n",
            r":3: services.o.hmac_secret: secrets are never",
        ),
        ("[services.o]\njwks = 'https://x/jwks'\n", r":2: services.o.jwks: unknown key \(did you mean 'jwks_uri'\?\)"),
        ("[services.o]\nkeys = ['absent.pem']\n", r":2: services.o.keys: absent.pem: cannot read the key file"),
    ],
)
def test_a_broken_key_source_is_one_line_naming_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_services(path)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_private_key_file_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "private.pem").write_bytes(
        rsa_key().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(ConfigError, match=r":2: services.o.keys: private.pem: a private key; give the public key"):
        load_services(write(tmp_path, "[services.o]\nkeys = ['private.pem']\n"))


def test_probe_url_follows_the_key_source_rules(tmp_path: Path) -> None:
    good = load_services(write(tmp_path, '[services.orders]\nprobe_url = "https://orders.acme.test/health"\n'))
    assert good.services["orders"].probe_url == "https://orders.acme.test/health"
    with pytest.raises(ConfigError, match=r":2: services.orders.probe_url: .*only https is fetched"):
        load_services(write(tmp_path, '[services.orders]\nprobe_url = "http://orders.acme.test/health"\n'))
    text = '[services.orders]\nprobe_url = "http://127.0.0.1:8080/"\nallow_http = true\n'
    local = load_services(write(tmp_path, text))
    assert local.services["orders"].probe_url == "http://127.0.0.1:8080/"


# --- channels: the Slack channels judged against a service -------------------------------------------


def test_channels_bind_slack_channels_to_a_service(tmp_path: Path) -> None:
    text = "[services.orders]\naudiences = ['orders-api']\nchannels = ['C0ORDERS1', 'G0PRIVATE', 'C0ORDERS1']\n"
    config = load_services(write(tmp_path, text + "[services.billing]\naudiences = ['b']\n"))
    assert config.services["orders"].channels == ("C0ORDERS1", "G0PRIVATE")  # once each
    assert config.services["billing"].channels == ()
    bound = config.bound_in("G0PRIVATE")
    assert bound is not None and bound.name == "orders"
    assert config.bound_in("C0ELSEWHERE") is None
    assert config.services["orders"].expectations == Expectations(audiences=("orders-api",))  # not an expectation


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[services.o]\nchannels = ['#incident']\n", r":2: services.o.channels: must list Slack channel ids"),
        ("[services.o]\nchannels = ['c0lower']\n", r":2: services.o.channels: must list Slack channel ids"),
        ("[services.o]\nchannels = [42]\n", r":2: services.o.channels: must be a list of non-empty strings"),
        (
            "[services.a]\nchannels = ['C0SHARED']\n[services.b]\nchannels = ['C0SHARED']\n",
            r":4: services.b.channels: C0SHARED is already bound to services.a",
        ),
        (
            "[services.o]\nchannel = ['C0ORDERS1']\n",
            r":2: services.o.channel: unknown key \(did you mean .channels.\?\)",
        ),
    ],
)
def test_a_broken_channels_list_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_services(path)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_a_token_pasted_into_channels_is_not_repeated(tmp_path: Path) -> None:
    from tests.support.tokens import make_token, signature_of

    token = make_token()
    with pytest.raises(ConfigError) as caught:
        load_services(write(tmp_path, f"[services.o]\nchannels = ['{token}']\n"))
    assert signature_of(token) not in str(caught.value) and token.split(".")[0] not in str(caught.value)


# --- stacks: the validators in front of and inside a service ------------------------------------------


def test_stacks_name_the_services_validators(tmp_path: Path) -> None:
    text = "[services.orders]\naudiences = ['orders-api']\nstacks = ['envoy', 'jjwt', 'envoy']\n"
    config = load_services(write(tmp_path, text))
    assert config.services["orders"].stacks == (Library.ENVOY, Library.JJWT)  # once each, in order
    assert config.services["orders"].expectations == Expectations(audiences=("orders-api",))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[services.o]\nstacks = ['istio-gizmo']\n",
            r":2: services.o.stacks: 'istio-gizmo' is not a stack jwtcheck knows",
        ),
        ("[services.o]\nstacks = [1]\n", r":2: services.o.stacks: must be a list of non-empty strings"),
        ("[services.o]\nstack = ['envoy']\n", r":2: services.o.stack: unknown key \(did you mean .stacks.\?\)"),
    ],
)
def test_a_broken_stacks_list_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_services(write(tmp_path, text))
