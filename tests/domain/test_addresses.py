"""Client addresses and allowlists (server/domain/addresses.py); no network, no DB."""

from __future__ import annotations

import ipaddress

import pytest

from server.domain import addresses

LOOPBACK = addresses.networks(["127.0.0.0/8", "::1/128"])


@pytest.mark.parametrize(
    ("peer", "expected"),
    [
        ("ipv4:127.0.0.1:50000", "127.0.0.1"),
        ("ipv4:203.0.113.9:1", "203.0.113.9"),
        ("ipv6:[::1]:50000", "::1"),
        ("ipv6:[2001:db8::5]:443", "2001:db8::5"),
        ("ipv6:[::ffff:10.1.2.3]:443", "10.1.2.3"),
        ("unix:/tmp/socket", None),
        ("ipv4:127.0.0.1", None),
        ("ipv4:not-an-ip:5", None),
        ("", None),
    ],
)
def test_peer_addresses(peer: str, expected: str | None) -> None:
    found = addresses.peer_ip(peer)
    assert (str(found) if found else None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.1.2.3", "10.1.2.3"),
        (" 10.1.2.3 ", "10.1.2.3"),
        ("[::1]", "::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("10.1.2.3, 10.9.9.9", None),  # a list is not an address
        ("1.2.3", None),
        ("x" * 100, None),
        ("", None),
    ],
)
def test_parse_ip(text: str, expected: str | None) -> None:
    found = addresses.parse_ip(text)
    assert (str(found) if found else None) == expected


def test_networks_skip_what_does_not_parse() -> None:
    blocks = addresses.networks(["10.0.0.0/8", "bogus", "2001:db8::/32", "10.1.2.3", "1.2.3.4/33"])
    assert [str(block) for block in blocks] == ["10.0.0.0/8", "2001:db8::/32", "10.1.2.3/32"]


def test_contains() -> None:
    blocks = addresses.networks(["10.0.0.0/8", "2001:db8::/32"])
    assert addresses.contains(blocks, ipaddress.ip_address("10.200.0.1"))
    assert addresses.contains(blocks, ipaddress.ip_address("2001:db8::1"))
    assert not addresses.contains(blocks, ipaddress.ip_address("11.0.0.1"))
    assert not addresses.contains(blocks, ipaddress.ip_address("::1"))
    assert not addresses.contains(blocks, None)
    assert not addresses.contains((), ipaddress.ip_address("10.0.0.1"))


def test_the_forwarded_address_counts_only_from_a_trusted_proxy() -> None:
    assert str(addresses.client_ip("ipv4:127.0.0.1:5", "203.0.113.7", LOOPBACK)) == "203.0.113.7"
    assert str(addresses.client_ip("ipv6:[::1]:5", "2001:db8::7", LOOPBACK)) == "2001:db8::7"
    # Not a trusted proxy: its claim is ignored, the peer is the caller.
    assert str(addresses.client_ip("ipv4:198.51.100.1:5", "10.0.0.1", LOOPBACK)) == "198.51.100.1"
    # A trusted proxy that sends no address: the peer itself.
    assert str(addresses.client_ip("ipv4:127.0.0.1:5", None, LOOPBACK)) == "127.0.0.1"
    assert str(addresses.client_ip("ipv4:127.0.0.1:5", "", LOOPBACK)) == "127.0.0.1"
    # Trusting nobody.
    assert str(addresses.client_ip("ipv4:127.0.0.1:5", "10.0.0.1", ())) == "127.0.0.1"
    # A trusted proxy sending garbage: no address at all (allowlists then refuse).
    assert addresses.client_ip("ipv4:127.0.0.1:5", "garbage", LOOPBACK) is None
