"""The name resolution behind every fetch: each address a name resolves to is checked, and the connection
goes to those checked addresses only.

aiohttp hands an IP literal straight to the connector, and a name to its resolver. A URL's host is first
checked by itself (:func:`bot.keys.urls.check_host`: IP literals in any spelling, internal names); then
:class:`CheckedResolver` resolves each name once, refuses it when ANY of its addresses is internal
(loopback, private, link-local, shared, reserved, multicast, unspecified, or one of those inside IPv6),
and returns only the addresses it checked, in numeric form, so the connector does not look the name up
again: a second answer from DNS (rebinding) cannot change where the connection goes.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import NoReturn

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.keys.urls import LOOPBACK_HOSTS, UrlRefused, address_problem, host_problem

_NUMERIC = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV


class AddressRefused(OSError):
    """Raised inside aiohttp's connector (which wraps an ``OSError`` as a DNS error); the fetch reads
    :attr:`CheckedResolver.refused` for the sentence."""


class CheckedResolver(AbstractResolver):
    """``lookup`` does the resolving (aiohttp's threaded ``getaddrinfo`` by default; tests inject a double).

    ``loopback``: the fetched URL is a configured one that literally names a loopback host with
    ``allow_http`` (see :func:`bot.keys.urls.loopback_allowed`): the name ``localhost`` may then resolve to
    loopback addresses, and to nothing else internal."""

    def __init__(self, *, what: str, loopback: bool = False, lookup: AbstractResolver | None = None) -> None:
        self._what = what
        self._loopback = loopback
        self._lookup = lookup
        self.refused: UrlRefused | None = None
        self.lookups = 0

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups += 1
        loopback = self._loopback and host.lower() in LOOPBACK_HOSTS
        try:
            problem = None if loopback else host_problem(host)
        except UrlRefused as refused:
            self._refuse(refused)
        if problem is not None:
            self._refuse(
                UrlRefused("internal_address", f"the {self._what} {problem}: internal addresses are never fetched")
            )
        if self._lookup is None:
            self._lookup = aiohttp.ThreadedResolver()
        answers = await self._lookup.resolve(host, port, family)
        if not answers:
            raise OSError(f"{host} resolved to no address")
        checked: list[ResolveResult] = []
        for answer in answers:
            try:
                address = ipaddress.ip_address(str(answer["host"]).split("%", 1)[0])
            except ValueError:
                self._refuse(UrlRefused("bad_url", f"the {self._what} host resolved to something that is no address"))
            kind = address_problem(address)
            if kind is not None and not (loopback and _is_loopback(address)):
                self._refuse(
                    UrlRefused(
                        "internal_address",
                        f"the {self._what} host {host} resolves to {address}, {kind}: internal addresses are never "
                        "fetched",
                    )
                )
            checked.append(
                ResolveResult(
                    hostname=host,
                    host=str(address),
                    port=int(answer["port"]),
                    family=socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                    proto=int(answer["proto"]),
                    flags=_NUMERIC,
                )
            )
        return checked

    def _refuse(self, refused: UrlRefused) -> NoReturn:
        self.refused = refused
        raise AddressRefused(str(refused))

    async def close(self) -> None:
        if self._lookup is not None:
            await self._lookup.close()


def _is_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback
