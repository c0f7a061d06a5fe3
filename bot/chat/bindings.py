"""Channel bindings: a channel whose tokens and error texts are judged against one configured service.

Two sources, and the services file wins: a service's ``channels = ["C…"]`` in the TOML (for teams that
keep their config in git), then the bindings made in chat (``/jwtcheck bind <service>``), kept durably in
the store, one map per workspace: ``bindings:{TEAM}`` (``jwtcheck:bindings:{TEAM}`` in Redis, a hash of
channel id → service name, no TTL, the workspace's hash tag). A binding to a service the file no longer
has is ignored (and listed as such).

:func:`for_place` is the one way every front door (command, message, mention, shortcut) turns a place and a
parsed request into the expectations and keys to judge with: an inline ``service=`` wins over the
binding, and inline options (``aud=`` …) override whichever service was chosen, as on the command line.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal, Protocol, Self

from bot.config import CHANNEL_ID, TEAM_ID, USER_ID, ServicesConfig
from bot.diagnosis import Expectations
from bot.diagnosis.redact import credential_shaped
from bot.keys.config import KeyConfig
from bot.store import Store

log = logging.getLogger(__name__)

MAX_BINDINGS = 1000  # per workspace: the durable map stays small enough to read whole at every message
Source = Literal["file", "command"]
FROM_FILE: Source = "file"
FROM_COMMAND: Source = "command"
_SERVICE_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")  # bot.config's rule for service names


class Asked(Protocol):
    """A parsed request, as a front door read it (``bot.slack.options.Request``)."""

    @property
    def service(self) -> str | None: ...

    def expectations(self, services: ServicesConfig | None) -> Expectations:
        """The expectations of :attr:`service` (or the only service), inline options applied; raises a
        one-line ``ValueError`` for an unknown service."""
        ...

    def keys(self, services: ServicesConfig | None) -> KeyConfig | None: ...

    def bound_to(self, service: str) -> Self:
        """The same request, as if ``service=<service>`` had been typed."""
        ...


class BindRefused(ValueError):
    """Why a bind or unbind cannot be done, in one line that quotes nothing the user typed unchecked."""


@dataclass(frozen=True, slots=True)
class Binding:
    channel: str
    service: str
    source: Source
    known: bool = True  # False: a binding made in chat to a service the file no longer has (ignored)


@dataclass(frozen=True, slots=True)
class Judging:
    """What to judge a place's text with."""

    expectations: Expectations
    keys: KeyConfig | None
    service: str | None  # the service named, inline or by the channel's binding: the card's "judged against"
    binding: Binding | None  # the channel's binding, applied or not (an inline service= wins)


def bindings_key(team: str) -> str:
    return f"bindings:{{{team}}}"


async def for_place(store: Store, services: ServicesConfig | None, team: str, channel: str, request: Asked) -> Judging:
    """The expectations and keys for ``request`` typed in ``channel`` of ``team``, the channel's binding
    applied unless the request names a service itself. Raises what ``request.expectations`` raises (an
    unknown inline service); a stale binding is ignored."""
    binding = await binding_of(store, services, team, channel)
    chosen = request
    if request.service is None and binding is not None and binding.known:
        chosen = request.bound_to(binding.service)
    return Judging(chosen.expectations(services), chosen.keys(services), chosen.service, binding)


async def binding_of(store: Store, services: ServicesConfig | None, team: str, channel: str) -> Binding | None:
    """The channel's binding: the services file's, else the one made in chat (None without a services file)."""
    if services is None or not CHANNEL_ID.fullmatch(channel):
        return None
    in_file = services.bound_in(channel)
    if in_file is not None:
        return Binding(channel, in_file.name, FROM_FILE)
    if not TEAM_ID.fullmatch(team):
        return None
    name = await store.recall(bindings_key(team), channel)  # one field: every message of the channel asks
    return None if name is None else Binding(channel, name, FROM_COMMAND, name in services.services)


async def bindings(store: Store, services: ServicesConfig | None, team: str) -> list[Binding]:
    """Every binding of the workspace, the file's and those made in chat, by channel. A channel the file
    binds is listed once, from the file: that is the binding that applies."""
    if services is None:
        return []
    found = {
        channel: Binding(channel, service.name, FROM_FILE)
        for service in services.services.values()
        for channel in service.channels
    }
    if TEAM_ID.fullmatch(team):
        for channel, name in (await store.kept(bindings_key(team))).items():
            if channel not in found and CHANNEL_ID.fullmatch(channel):
                found[channel] = Binding(channel, name, FROM_COMMAND, name in services.services)
    return [found[channel] for channel in sorted(found)]


async def bind(
    store: Store, services: ServicesConfig | None, team: str, channel: str, name: str, *, user: str
) -> Binding:
    """Bind ``channel`` to the service ``name``; refused (:class:`BindRefused`) for an unknown service, a
    channel the services file binds to another one, or a place that is not a channel."""
    if services is None:
        raise BindRefused("no services are configured on this bot (JWTCHECK_CONFIG), so there is nothing to bind to")
    place_refusal(team, channel)
    if name not in services.services:
        known = ", ".join(sorted(services.services)) or "none"
        shown = f"{name!r}" if _SERVICE_NAME.fullmatch(name) and not credential_shaped(name) else "that"
        raise BindRefused(f"no service named {shown} (services: {known})")
    in_file = services.bound_in(channel)
    if in_file is not None:
        if in_file.name == name:
            return Binding(channel, name, FROM_FILE)
        raise BindRefused(
            f"the services file binds this channel to {in_file.name} (services.{in_file.name}.channels), "
            "and the file wins: change it there"
        )
    key = bindings_key(team)
    current = await store.kept(key)
    if channel not in current and len(current) >= MAX_BINDINGS:
        raise BindRefused(f"this workspace already has {MAX_BINDINGS} bindings: unbind one first")
    await store.keep(key, channel, name)
    log.info(
        "channel bound: team=%s channel=%s user=%s service=%s",
        team,
        channel,
        user if USER_ID.fullmatch(user) else "?",
        name,
    )
    return Binding(channel, name, FROM_COMMAND)


async def unbind(
    store: Store, services: ServicesConfig | None, team: str, channel: str, *, user: str
) -> Binding | None:
    """Remove the channel's binding made in chat: the one removed, or None when there was none. Refused
    for a channel the services file binds."""
    place_refusal(team, channel)
    if services is not None:
        in_file = services.bound_in(channel)
        if in_file is not None:
            raise BindRefused(
                f"the services file binds this channel to {in_file.name} (services.{in_file.name}.channels): "
                "remove it there"
            )
    key = bindings_key(team)
    name = await store.recall(key, channel)
    if name is None or not await store.forget(key, channel):
        return None
    log.info(
        "channel unbound: team=%s channel=%s user=%s service=%s",
        team,
        channel,
        user if USER_ID.fullmatch(user) else "?",
        name if _SERVICE_NAME.fullmatch(name) else "?",
    )
    return Binding(channel, name, FROM_COMMAND, services is not None and name in services.services)


def place_refusal(team: str, channel: str) -> None:
    """Refuse a place whose ids are not Slack's shapes (a forged payload), without repeating them."""
    if not TEAM_ID.fullmatch(team) or not CHANNEL_ID.fullmatch(channel):
        raise BindRefused("only a channel can be bound, and this does not look like one")
