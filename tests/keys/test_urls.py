"""The pure rules of where a fetch may go: every spelling of an internal address, and no false alarm."""

from __future__ import annotations

import ipaddress

import pytest

from bot.keys.urls import UrlRefused, check_host, explicit_loopback, is_internal_address, legacy_ipv4


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("0x7f000001", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.01", "127.0.0.1"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("169.254.43518", "169.254.169.254"),
        ("0", "0.0.0.0"),  # noqa: S104
        ("93.184.216.34", "93.184.216.34"),
    ],
)
def test_numbers_are_read_as_the_c_library_reads_them(host: str, address: str) -> None:
    assert legacy_ipv4(host) == ipaddress.IPv4Address(address)


@pytest.mark.parametrize("host", ["login.acme.test", "256.1.1.1", "1.2.3.4.5", "0x100.1", "08", "1.2.3.4a", ""])
def test_what_is_no_such_number(host: str) -> None:
    assert legacy_ipv4(host) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://0x7f000001/",
        "https://2130706433/",
        "https://0x7f.1/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/",
        "https://[2002:a9fe:a9fe::]/",
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo: its client is 127.0.0.1
        "https://100.100.100.200/",
        "https://100.64.0.1/",
        "https://169.254.169.254/",
        "https://192.0.0.192/",
        "https://metadata.google.internal/",
        "https://METADATA.GOOGLE.INTERNAL./",
        "https://instance-data/",
        "https://localhost./",
        "https://db.cluster.local/",
        "https://intranet/",
        "https://10.0.0.1/",
        "https://[fc00::1]/",
    ],
)
def test_internal_hosts_in_every_spelling(url: str) -> None:
    assert is_internal_address(url)
    with pytest.raises(UrlRefused) as caught:
        check_host(url, loopback=True)  # which lets only a literal 127.0.0.1, [::1] or localhost pass
    assert caught.value.reason == "internal_address" and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://login.acme.test/",
        "https://93.184.216.34/",
        "https://[2606:4700::1111]/",
        "https://[::ffff:93.184.216.34]/",
        "https://[64:ff9b::5db8:d822]/",  # NAT64 of a public address: what DNS64 answers on IPv6-only hosts
    ],
)
def test_public_hosts_pass(url: str) -> None:
    assert not is_internal_address(url)
    check_host(url)


@pytest.mark.parametrize("url", ["https://0x5db8d822/", "https://08.1.2.3/", "https://a_b%2e/"])
def test_a_host_in_no_usable_form_is_a_bad_url(url: str) -> None:
    with pytest.raises(UrlRefused) as caught:
        check_host(url)
    assert caught.value.reason == "bad_url"


def test_only_a_literal_loopback_host_is_explicit() -> None:
    for url in ("http://127.0.0.1:8080/", "http://[::1]:8080/", "http://localhost:8080/", "http://LOCALHOST/"):
        assert explicit_loopback(url)
        check_host(url, loopback=True)
        with pytest.raises(UrlRefused):
            check_host(url)
    for url in ("http://127.0.0.2/", "http://localhost./", "http://0x7f000001/", "http://[::ffff:127.0.0.1]/"):
        assert not explicit_loopback(url)
        with pytest.raises(UrlRefused):
            check_host(url, loopback=True)
