"""Channel bindings: the file wins, an inline service= wins over a binding, every id is checked."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.chat import bindings
from bot.chat.bindings import FROM_COMMAND, FROM_FILE, Binding, BindRefused, bindings_key, for_place
from bot.config import ServicesConfig, load_services
from bot.diagnosis import Expectations
from bot.slack.options import OptionError, parse_request
from bot.store import MemoryStore
from tests.support.tokens import make_token, signature_of

TEAM, HERE, ELSEWHERE, FILED = "T0ACME001", "C0INCIDENT", "C0OTHER01", "C0ORDERS1"


@pytest.fixture
def services(tmp_path: Path) -> ServicesConfig:
    path = tmp_path / "services.toml"
    path.write_text(
        f'[services.orders]\naudiences = ["orders-api"]\nleeway = 30\nchannels = ["{FILED}"]\n'
        '[services.billing]\naudiences = ["billing-api"]\nissuers = ["https://billing.acme.test/"]\n',
        encoding="utf-8",
    )
    return load_services(path)


async def test_a_bound_channel_is_judged_against_its_service_and_no_other(services: ServicesConfig) -> None:
    store = MemoryStore()
    bound = await bindings.bind(store, services, TEAM, HERE, "billing", user="UALICE01")
    assert bound == Binding(HERE, "billing", FROM_COMMAND)
    here = await for_place(store, services, TEAM, HERE, parse_request("t"))
    assert here.expectations == services.services["billing"].expectations and here.service == "billing"
    assert here.keys is services.services["billing"].keys and here.binding == bound
    other = await for_place(store, services, TEAM, ELSEWHERE, parse_request("t"))
    assert other.expectations == Expectations() and other.service is None and other.binding is None
    another_team = await for_place(store, services, "T0OTHER01", HERE, parse_request("t"))
    assert another_team.binding is None


async def test_inline_options_win_over_the_binding(services: ServicesConfig) -> None:
    store = MemoryStore()
    await bindings.bind(store, services, TEAM, HERE, "billing", user="UALICE01")
    chosen = await for_place(store, services, TEAM, HERE, parse_request("t service=orders"))
    assert chosen.service == "orders" and chosen.expectations == services.services["orders"].expectations
    overridden = await for_place(store, services, TEAM, HERE, parse_request("t aud=orders-api"))
    assert overridden.service == "billing"
    assert overridden.expectations.audiences == ("orders-api",)  # aud= wins; the rest is the binding's
    assert overridden.expectations.issuers == ("https://billing.acme.test/",)
    with pytest.raises(OptionError, match="no service named 'nope'"):
        await for_place(store, services, TEAM, HERE, parse_request("t service=nope"))


async def test_the_file_wins_over_a_command(services: ServicesConfig) -> None:
    store = MemoryStore()
    with pytest.raises(BindRefused, match="the services file binds this channel to orders"):
        await bindings.bind(store, services, TEAM, FILED, "billing", user="UALICE01")
    assert await bindings.bind(store, services, TEAM, FILED, "orders", user="UALICE01") == Binding(
        FILED, "orders", FROM_FILE
    )
    with pytest.raises(BindRefused, match="remove it there"):
        await bindings.unbind(store, services, TEAM, FILED, user="UALICE01")
    assert await store.kept(bindings_key(TEAM)) == {}  # nothing written for the file's channel
    await store.keep(bindings_key(TEAM), FILED, "billing")  # written before the file said otherwise
    judged = await for_place(store, services, TEAM, FILED, parse_request("t"))
    assert judged.service == "orders" and judged.binding == Binding(FILED, "orders", FROM_FILE)
    assert await bindings.bindings(store, services, TEAM) == [Binding(FILED, "orders", FROM_FILE)]


async def test_bindings_lists_both_sources_and_unbind_removes(services: ServicesConfig) -> None:
    store = MemoryStore()
    await bindings.bind(store, services, TEAM, HERE, "billing", user="UALICE01")
    assert await bindings.bindings(store, services, TEAM) == [
        Binding(HERE, "billing", FROM_COMMAND),
        Binding(FILED, "orders", FROM_FILE),
    ]
    assert await bindings.unbind(store, services, TEAM, HERE, user="UALICE01") == Binding(HERE, "billing", FROM_COMMAND)
    assert await bindings.unbind(store, services, TEAM, HERE, user="UALICE01") is None
    assert await bindings.bindings(store, services, TEAM) == [Binding(FILED, "orders", FROM_FILE)]


async def test_a_binding_to_a_service_the_file_no_longer_has_is_ignored(services: ServicesConfig) -> None:
    store = MemoryStore()
    await store.keep(bindings_key(TEAM), HERE, "retired")
    judged = await for_place(store, services, TEAM, HERE, parse_request("t"))
    assert judged.service is None and judged.expectations == Expectations()
    assert judged.binding == Binding(HERE, "retired", FROM_COMMAND, known=False)
    assert Binding(HERE, "retired", FROM_COMMAND, known=False) in await bindings.bindings(store, services, TEAM)


async def test_an_unknown_service_is_one_line_listing_the_known_ones(services: ServicesConfig) -> None:
    store = MemoryStore()
    with pytest.raises(BindRefused) as refused:
        await bindings.bind(store, services, TEAM, HERE, "nope", user="UALICE01")
    assert str(refused.value) == "no service named 'nope' (services: billing, orders)"
    token = make_token()
    for hostile in (token, "x" * 500, "<!channel>", "a\nb"):
        with pytest.raises(BindRefused) as refused:
            await bindings.bind(store, services, TEAM, HERE, hostile, user="UALICE01")
        assert str(refused.value) == "no service named that (services: billing, orders)"
    assert signature_of(token) not in str(refused.value)
    assert await store.kept(bindings_key(TEAM)) == {}


@pytest.mark.parametrize(("team", "channel"), [("T0ACME001", "#incident"), ("T0ACME001", ""), ("x y", HERE)])
async def test_a_place_that_is_not_a_channel_is_refused_without_repeating_it(
    services: ServicesConfig, team: str, channel: str
) -> None:
    with pytest.raises(BindRefused) as refused:
        await bindings.bind(MemoryStore(), services, team, channel, "orders", user="UALICE01")
    assert "#incident" not in str(refused.value) and "x y" not in str(refused.value)


async def test_without_a_services_file_there_is_nothing_to_bind(services: ServicesConfig) -> None:
    store = MemoryStore()
    with pytest.raises(BindRefused, match="no services are configured"):
        await bindings.bind(store, None, TEAM, HERE, "orders", user="UALICE01")
    judged = await for_place(store, None, TEAM, HERE, parse_request("t aud=x"))
    assert judged.expectations == Expectations(audiences=("x",)) and judged.binding is None
    assert await bindings.bindings(store, None, TEAM) == []


async def test_a_workspace_has_a_bounded_number_of_bindings(
    services: ServicesConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bindings, "MAX_BINDINGS", 2)
    store = MemoryStore()
    await bindings.bind(store, services, TEAM, "C0ONE0001", "orders", user="UALICE01")
    await bindings.bind(store, services, TEAM, "C0TWO0001", "orders", user="UALICE01")
    await bindings.bind(store, services, TEAM, "C0TWO0001", "billing", user="UALICE01")  # a rebind is no new one
    with pytest.raises(BindRefused, match="already has 2 bindings"):
        await bindings.bind(store, services, TEAM, "C0THREE01", "orders", user="UALICE01")


async def test_who_bound_what_is_one_info_line_of_ids(
    services: ServicesConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.chat.bindings")
    store = MemoryStore()
    await bindings.bind(store, services, TEAM, HERE, "billing", user="UALICE01")
    await bindings.bind(store, services, TEAM, ELSEWHERE, "billing", user="<!channel>")
    first, second = (record.getMessage() for record in caplog.records)
    assert first == f"channel bound: team={TEAM} channel={HERE} user=UALICE01 service=billing"
    assert second.endswith("user=? service=billing") and caplog.records[0].levelno == logging.INFO
