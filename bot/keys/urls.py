"""Key source URLs: where the bot may fetch from. Only URLs from the services config (or a ``--jwks`` flag)
are fetched, and a discovery document's ``jwks_uri`` once it passes the same rules; nothing a token says
(``iss``, ``jku``, ``x5u``, ``x5c``, ``jwk``, ``kid``) ever becomes a URL. Pure: no network.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048


class UrlRefused(ValueError):
    """A URL the rules refuse. ``reason`` is ``http_refused`` or ``bad_url``; the message is one sentence."""

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
    """True when the URL's host is an IP literal in a loopback, private, link-local or reserved range.

    Applied to URLs that come from a network response (a discovery document's ``jwks_uri``), so a hostile
    or compromised issuer cannot point the bot at 169.254.169.254 or 10.0.0.1. Host names are not
    resolved: the names are the issuer's, and the configured issuer is trusted as far as its names go.
    """
    host = urlsplit(url).hostname or ""
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )
