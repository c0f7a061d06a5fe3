"""The App Home over HTTP: signed ``app_home_opened`` events, the view published with ``views.publish`` to the
mock Web API, real Redis. What a workspace's Home shows, what it never shows, its limits, and Redis down."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from slack_sdk.models.views import View

from bot.config import ServicesConfig, load_services
from bot.diagnosis.ids import CauseId
from bot.knowledge import default_knowledge, percent
from bot.render.blocks import Message
from bot.slack import home
from tests.render.test_blocks import assert_slack_limits
from tests.slack.conftest import Bot, BotFactory
from tests.support.slack_api import TEAM, MockSlack
from tests.support.tcp_proxy import TcpProxy, via
from tests.support.tokens import T, claims, make_token

KNOWLEDGE = default_knowledge()
BOUND, FILED = "CINCIDENT", "C0ORDERS1"  # bound with /jwtcheck bind; bound in the services file
SECRET_ENV, SECRET_VALUE = "ORDERS_JWT_SECRET", "hunter2-not-for-slack-0123456789"
JWKS_PATH, DISCOVERY_PATH = "/tenant-7/keys.json", "/tenant-7/.well-known/openid-configuration"
CHANNEL = re.compile(r"<#[CG][A-Z0-9]+>")
RATED = next(w for w in KNOWLEDGE.workarounds.values() if w.success_rate is not None)  # the card's rate shows
UNRATED = next((w for w in KNOWLEDGE.workarounds.values() if w.success_rate is None), None)


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ServicesConfig:
    monkeypatch.setenv(SECRET_ENV, SECRET_VALUE)
    path = tmp_path / "services.toml"
    path.write_text(
        "[services.orders]\n"
        'issuers = ["https://login.acme.test/"]\naudiences = ["orders-api"]\nalgorithms = ["RS256", "HS256"]\n'
        f'jwks_uri = "https://keys.acme.test{JWKS_PATH}"\n'
        f'discovery = "https://login.acme.test{DISCOVERY_PATH}"\n'
        f'hmac_secret_env = "{SECRET_ENV}"\nchannels = ["{FILED}"]\n'
        '[services.billing]\naudiences = ["billing-api"]\n',
        encoding="utf-8",
    )
    return load_services(path)


def opened(tab: str = "home", user: str = "UALICE01") -> dict[str, Any]:
    """``app_home_opened`` as Slack sends it (docs.slack.dev/reference/events/app_home_opened); ``view`` is
    there once a Home was published before."""
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D0JWTHOME",
        "tab": tab,
        "event_ts": "1795899990.000200",
        "view": {"id": "V0HOME001", "team_id": TEAM, "type": "home", "blocks": [], "hash": "1795899980.abc"},
    }


async def open_home(bot: Bot, slack: MockSlack, event_id: str = "EvHome1", **changes: Any) -> dict[str, Any]:
    before = len(slack.of("views.publish"))
    reply = await bot.event(opened(**changes), event_id)
    assert reply.status == 200
    await bot.settle()
    calls = slack.of("views.publish")
    assert len(calls) == before + 1
    params = calls[-1].params
    assert params["user_id"] == changes.get("user", "UALICE01")
    view = params["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


def texts(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def section(view: dict[str, Any], block_id: str) -> str:
    [block] = [b for b in view["blocks"] if b.get("block_id") == block_id]
    text: str = block["text"]["text"] if "text" in block else block["elements"][0]["text"]
    return text


def within_limits(view: dict[str, Any]) -> None:
    """slack_sdk's own validation of a home view (100 blocks…), then every per-block limit of a card,
    50 blocks at a time; channel mentions are the Home's one intended markup, so they are set aside."""
    assert view["type"] == "home" and len(view["blocks"]) <= home.MAX_HOME_BLOCKS
    View(type="home", blocks=view["blocks"]).to_dict()  # raises SlackObjectFormationError past a limit
    ids = [block["block_id"] for block in view["blocks"]]
    assert len(set(ids)) == len(ids)
    blocks = json.loads(CHANNEL.sub("#channel", json.dumps(view["blocks"])))
    assert "<" not in json.dumps(blocks), "mrkdwn escaped: a bare < would start a link"
    for start in range(0, len(blocks), 50):
        assert_slack_limits(Message("jwtcheck Home", blocks[start : start + 50]))


async def diagnose_and_vote(bot: Bot) -> None:
    """Bind the billing channel, then three diagnoses there (billing has no keys: no fetch, no signature cause)."""
    await bot.command("bind billing", response="bind")
    await bot.settle()
    await bot.command(f"{make_token(claims(aud='billing-api', exp=T - 3600))} private", response="expired")
    await bot.command(f"{make_token(claims(aud='billing-api', exp=T - 7200))} private", response="expired2")
    await bot.command(f"{make_token()} private", response="aud")  # made for orders-api
    await bot.settle()
    cards = bot.runtime.deps.chat.cards
    await cards.vote(TEAM, RATED.id, "UALICE01", "fixed")
    await cards.vote(TEAM, RATED.id, "UBOB0001", "didnt_help")
    await cards.vote("T0OTHER01", RATED.id, "UCAROL01", "fixed")  # another workspace
    if UNRATED is not None:
        await cards.vote(TEAM, UNRATED.id, "UALICE01", "didnt_help")


async def test_the_home_shows_services_bindings_and_the_workspaces_figures(
    make_bot: BotFactory, slack: MockSlack, services: ServicesConfig
) -> None:
    bot = await make_bot(services=services)
    await diagnose_and_vote(bot)
    view = await open_home(bot, slack)
    within_limits(view)
    [button] = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == "open_private_check" and button["text"]["text"] == "Check a token privately"
    reach = section(view, "reach")
    assert "/jwtcheck" in reach and "mention" in reach and "paste" in reach and "Diagnose with jwtcheck" in reach

    billing, orders = section(view, "service-0"), section(view, "service-1")
    assert billing.startswith("*billing*") and f"<#{BOUND}> (/jwtcheck bind)" in billing and FILED not in billing
    assert orders.startswith("*orders*") and f"<#{FILED}> (services file)" in orders
    assert "`https://login.acme.test/`" in orders and "`orders-api`" in orders and "`RS256`, `HS256`" in orders
    assert "Keys: JWKS at keys.acme.test, discovery at login.acme.test, a shared secret" in orders
    everything = texts(view) + slack.everything_sent()
    for never in (SECRET_ENV, SECRET_VALUE, JWKS_PATH, DISCOVERY_PATH, "tenant-7", "keys.json"):
        assert never not in texts(view), never
    assert SECRET_VALUE not in everything

    causes = section(view, "causes")
    assert causes.startswith("*3 diagnoses* by cause:")
    assert f"• {KNOWLEDGE.titles[CauseId.EXPIRED]}: 2" in causes
    assert f"• {KNOWLEDGE.titles[CauseId.AUDIENCE_MISMATCH]}: 1" in causes
    fixes = section(view, "fixes")
    assert RATED.success_rate is not None
    assert f"• {RATED.title}: {percent(RATED.success_rate)} · 1 of 2 fixed it here (50%)" in fixes
    if UNRATED is not None:
        assert f"• {UNRATED.title}: unrated · 0 of 1 fixed it here (0%)" in fixes
    assert section(view, "rates").startswith(KNOWLEDGE.provenance)


async def test_a_burst_of_opens_publishes_each_time_from_one_computation(
    make_bot: BotFactory, slack: MockSlack, services: ServicesConfig, redis_raw: Any
) -> None:
    bot = await make_bot(services=services)
    first = await open_home(bot, slack, "EvHome1")
    assert section(first, "no-diagnoses") == "No diagnoses yet in this workspace."
    assert await redis_raw.ttl(f"jwtcheck:home:{{{TEAM}}}") > 0
    await diagnose_and_vote(bot)
    again = await open_home(bot, slack, "EvHome2", user="UBOB0001")
    assert section(again, "no-diagnoses") == "No diagnoses yet in this workspace."  # figures: a minute old at most
    assert f"<#{BOUND}> (/jwtcheck bind)" in section(again, "service-0")  # bindings: read at each open
    await redis_raw.delete(f"jwtcheck:home:{{{TEAM}}}")
    assert "*3 diagnoses*" in section(await open_home(bot, slack, "EvHome3"), "causes")


async def test_the_lists_are_capped_within_slacks_limits(
    make_bot: BotFactory, slack: MockSlack, tmp_path: Path
) -> None:
    many = "".join(
        f"[services.svc{n:03d}]\naudiences = [{', '.join(f'{chr(34)}aud-{n}-{a}{chr(34)}' for a in range(12))}]\n"
        f"channels = [{', '.join(f'{chr(34)}C{n:03d}X{c:03d}{chr(34)}' for c in range(30))}]\n"
        for n in range(60)
    )
    path = tmp_path / "many.toml"
    path.write_text(many, encoding="utf-8")
    bot = await make_bot(services=load_services(path))
    store = bot.runtime.deps.store
    today = bot.runtime.deps.chat.clock().date()
    # the retired causes counted most, so that they are among those shown
    counts = {cause.value: 1 for cause in CauseId} | {f"retired_cause_{n}": 2 for n in range(40)}
    await store.count(f"stats:{{{TEAM}}}:{today:%Y%m%d}", counts | {"all": len(counts)}, 60)
    for workaround in KNOWLEDGE.workarounds:
        await bot.runtime.deps.chat.cards.vote(TEAM, workaround, "UALICE01", "fixed")
    view = await open_home(bot, slack)
    within_limits(view)
    shown = len([b for b in view["blocks"] if b["block_id"].startswith("service-")])
    assert 1 < shown <= home.MAX_SERVICES and f"and {60 - shown} more services" in section(view, "services-notes")
    first = section(view, "service-0")
    assert first.startswith("*svc000*") and "and 4 more" in first and f"and {30 - home.MAX_CHANNELS} more" in first
    causes = section(view, "causes")
    assert causes.count("\n• ") == home.MAX_CAUSES + 1 and f"and {len(counts) - home.MAX_CAUSES} more causes" in causes
    assert "retired_cause_" in causes  # a cause this version does not know is named by its id
    fixes = section(view, "fixes")
    assert f"and {len(KNOWLEDGE.workarounds) - home.MAX_FIXES} more fixes" in fixes


async def test_redis_down_the_home_is_still_published_with_what_is_known(
    make_bot: BotFactory, slack: MockSlack, services: ServicesConfig, redis_url: str
) -> None:
    parts = urlsplit(redis_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    await proxy.start()
    bot = await make_bot(services=services, redis_url=via(redis_url, proxy.port))
    await diagnose_and_vote(bot)
    await proxy.stop()
    view = await open_home(bot, slack)
    within_limits(view)
    assert section(view, "no-figures").startswith("Figures are unavailable right now (Redis is down)")
    assert f"<#{FILED}> (services file)" in section(view, "service-1")  # the file's binding is known
    assert BOUND not in texts(view)  # the one made in chat lives in Redis
    assert "`/jwtcheck bind` are unavailable right now" in section(view, "services-notes")
    assert "open_private_check" in texts(view)


async def test_no_services_file_says_how_tokens_are_judged(bot: Bot, slack: MockSlack) -> None:
    view = await open_home(bot, slack)
    within_limits(view)
    assert "No services file is configured" in section(view, "no-services")


@pytest.mark.parametrize("tab", ["messages", "about"])
async def test_other_tabs_publish_nothing(bot: Bot, slack: MockSlack, tab: str) -> None:
    reply = await bot.event(opened(tab=tab), "EvTab1")
    await bot.settle()
    assert reply.status == 200 and slack.of("views.publish") == []
