"""Key source URLs: where the bot may fetch from. Only URLs from the services config (or a ``--jwks`` flag)
are fetched, and a discovery document's ``jwks_uri`` once it passes the same rules; nothing a token says
(``iss``, ``jku``, ``x5u``, ``x5c``, ``jwk``, ``kid``) ever becomes a URL. Pure: no network.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from bot.diagnosis.checks.values import printable

MAX_URL_LENGTH = 2048


class UrlRefused(ValueError):
    """A URL the rules refuse. ``reason`` is ``http_refused``, ``bad_url`` or ``internal_address``; the message
    is one sentence."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_url(url: str, *, allow_http: bool, what: str = "key source URL") -> str:
    """``url`` if it is an absolute https URL (http only with ``allow_http``) with a host, no credentials and
    no fragment; :class:`UrlRefused` otherwise."""
    if (
        not isinstance(url, str)
        or not url
        or len(url) > MAX_URL_LENGTH
        or not url.isascii()
        or not url.isprintable()
        or any(char.isspace() for char in url)
    ):
        raise UrlRefused("bad_url", f"the {what} must be one absolute URL of at most {MAX_URL_LENGTH} ASCII characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise UrlRefused("bad_url", f"the {what} is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme == "http" and not allow_http:
        raise UrlRefused(
            "http_refused",
            f"the {what} {host_of(url)} is http: only https is fetched, unless the "
            "service sets allow_http = true (a local issuer in development)",
        )
    if scheme not in ("https", "http"):
        raise UrlRefused("bad_url", f"the {what} must start with https://")
    if not parts.hostname:
        raise UrlRefused("bad_url", f"the {what} has no host")
    if "@" in parts.netloc:
        raise UrlRefused("bad_url", f"the {what} must not carry a user name or password")
    if parts.fragment:
        raise UrlRefused("bad_url", f"the {what} must not have a #fragment")
    return url


def host_of(url: str) -> str:
    """``host`` or ``host:port`` (when not the scheme's default): how a key source is named in outputs."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "?", parts.port
    except ValueError:
        return "?"
    default = {"https": 443, "http": 80}.get(parts.scheme.lower())
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}" if port is not None and port != default else shown


def same_origin(a: str, b: str) -> bool:
    """Same host and port (a redirect may upgrade http to https, never the other way)."""
    first, second = urlsplit(a), urlsplit(b)
    if (first.hostname or "").lower() != (second.hostname or "").lower():
        return False
    default = {"https": 443, "http": 80}
    port_a = first.port or default.get(first.scheme.lower())
    port_b = second.port or default.get(second.scheme.lower())
    if first.scheme.lower() == "http" and second.scheme.lower() == "https":
        return True  # an upgrade to https on the same host
    return port_a == port_b and first.scheme.lower() == second.scheme.lower()


def is_internal_address(url: str) -> bool:
    """True when the URL's host is internal by itself: an IP literal in any spelling (``0x7f000001``,
    ``2130706433``, ``[::ffff:127.0.0.1]``…) in an internal range, or an internal name (``localhost``,
    ``metadata.google.internal``, a single-label name…). Names are resolved, and every address checked,
    when they are fetched (:class:`bot.keys.resolver.CheckedResolver`)."""
    try:
        return host_problem(urlsplit(url).hostname or "") is not None
    except UrlRefused:
        return True


def explicit_loopback(url: str) -> bool:
    """The URL literally names a loopback host: ``127.0.0.1``, ``[::1]`` or ``localhost``."""
    try:
        return (urlsplit(url).hostname or "").lower() in LOOPBACK_HOSTS
    except ValueError:
        return False


def loopback_allowed(url: str, *, allow_http: bool) -> bool:
    """Whether a configured URL may reach loopback: only a literal loopback host with ``allow_http``
    (a local issuer in development, and the tests' key servers). Never for a URL from a response."""
    return allow_http and explicit_loopback(url)


def check_host(url: str, *, loopback: bool = False, what: str = "key source URL") -> None:
    """:class:`UrlRefused` (``internal_address`` or ``bad_url``) when the URL's host is internal by itself.

    ``loopback``: the URL is a configured one that may reach loopback (see :func:`loopback_allowed`), so
    its literal loopback host passes; anything else internal is refused all the same."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        raise UrlRefused("bad_url", f"the {what} is not a valid URL") from None
    if loopback and host.lower() in LOOPBACK_HOSTS:
        return
    problem = host_problem(host)
    if problem is not None:
        raise UrlRefused("internal_address", f"the {what} {problem}: internal addresses are never fetched")


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_INTERNAL_NAMES = frozenset(
    {
        "localhost",
        "ip6-localhost",
        "ip6-loopback",
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_INTERNAL_SUFFIXES = (".localhost", ".localdomain", ".internal", ".local", ".home.arpa", ".intranet", ".lan")
_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*")
_NUMERIC_PART = re.compile(r"0[xX][0-9a-fA-F]*|[0-9]+")
_NOT_GLOBAL = (
    ("shared address space (carrier-grade NAT, Alibaba Cloud metadata)", ipaddress.ip_network("100.64.0.0/10")),
    ("IETF protocol assignment", ipaddress.ip_network("192.0.0.0/24")),
    ("local-use NAT64", ipaddress.ip_network("64:ff9b:1::/48")),
)
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254", "192.0.0.192")
)
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def host_problem(host: str) -> str | None:
    """Why a host is internal by itself, as the end of a sentence (``is 127.0.0.1, a loopback address``);
    None for a public IP literal or a name that must be resolved to tell. :class:`UrlRefused`
    ``bad_url`` for a host that is no valid name or address."""
    shown = _shown(host)
    name = host.lower()
    if not name:
        raise UrlRefused("bad_url", "the URL has no host")
    if ":" in name:
        try:
            address: Address = ipaddress.IPv6Address(name)
        except ValueError:
            raise UrlRefused("bad_url", f"the host {shown} is not a valid IPv6 address") from None
        kind = address_problem(address)
        return None if kind is None else f"host {shown} is {kind}"
    legacy = legacy_ipv4(name)
    if legacy is not None:
        kind = address_problem(legacy)
        if kind is not None:
            return f"host {shown} is {kind}" if str(legacy) == name else f"host {shown} is {legacy}, {kind}"
        if str(legacy) != name:
            raise UrlRefused("bad_url", f"the host {shown} is an IPv4 address in a non-standard form: write {legacy}")
        return None
    name = name[:-1] if name.endswith(".") else name
    if _NUMERIC_PART.fullmatch(name.rsplit(".", 1)[-1]):  # no top-level domain is a number
        raise UrlRefused("bad_url", f"the host {shown} is not a valid IPv4 address")
    if not _NAME.fullmatch(name):
        raise UrlRefused("bad_url", f"the host {shown} is not a valid host name")
    if name in _INTERNAL_NAMES or name.endswith(_INTERNAL_SUFFIXES):
        return f"host {shown} is an internal name"
    if "." not in name:
        return f"host {shown} is a single-label name, resolved through the local network's search domains"
    return None


def address_problem(address: Address) -> str | None:
    """What makes an address internal, as ``a loopback address``; None for a public address.

    An IPv6 address that embeds an IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``,
    6to4 ``2002::/16``, Teredo, NAT64 ``64:ff9b::/96``) is judged by the IPv4 address it leads to."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded:
            for inner in embedded:
                kind = address_problem(inner)
                if kind is not None:
                    return f"{kind} ({inner} inside IPv6)"
            return None
    if address in _METADATA:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_link_local:
        return "a link-local address"
    for label, network in _NOT_GLOBAL:
        if address.version == network.version and address in network:
            return f"in the {label} range"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if not address.is_global:
        return "not a public address"
    return None


def legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``host`` read as the C library's ``inet_aton`` reads it (``0x7f000001``, ``2130706433``, ``0x7f.1``,
    ``0177.0.0.1``, ``127.1``), which name resolution accepts; None when it is no such number."""
    parts = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_PART.fullmatch(part) for part in parts):
        return None
    values = []
    for part in parts:
        if part[:2].lower() == "0x":
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if not all(char in "01234567" for char in part):
                return None
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *head, last = values
    if any(value > 255 for value in head) or last >= 256 ** (4 - len(head)):
        return None
    number = last
    for index, value in enumerate(head):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    found: list[ipaddress.IPv4Address] = []
    value = int(address)
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    elif value >> 32 == 0 and value > 1:  # IPv4-compatible ::a.b.c.d (:: and ::1 are themselves)
        found.append(ipaddress.IPv4Address(value))
    elif value >> 32 == 0xFFFF0000:  # IPv4-translated ::ffff:0:a.b.c.d
        found.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if value >> 32 == 0x0064FF9B << 64:  # NAT64 well-known prefix 64:ff9b::/96
        found.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    return tuple(found)


def _shown(host: str) -> str:
    text = printable(host)[:80]
    return f"[{text}]" if ":" in text else text
