"""Client addresses: where a call comes from, and IP allowlists (CIDR blocks).

A REST call reaches the server through Envoy, whose Lua filter puts the
client's address in `x-bank-client-ip` (dropping any client-sent value). That
value is believed only when the gRPC peer is a trusted proxy; otherwise the
caller is the gRPC peer itself, whatever it sent.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
ADDRESS_LENGTH_MAX = 64


# Every call parses its peer (and Envoy's forwarded address): the same few
# strings again and again, and ipaddress is slow, so answers are remembered
# (addresses are immutable; the cache is bounded).
@functools.lru_cache(maxsize=4096)
def parse_ip(text: str) -> IpAddress | None:
    """An IP address from `1.2.3.4`, `::1` or `[::1]`; IPv4-mapped IPv6 becomes IPv4."""
    text = text.strip()
    if not text or len(text) > ADDRESS_LENGTH_MAX:
        return None
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def peer_ip(peer: str) -> IpAddress | None:
    """The address of a gRPC peer string (`ipv4:1.2.3.4:5678`, `ipv6:[::1]:5678`)."""
    family, _, rest = peer.partition(":")
    if family not in ("ipv4", "ipv6") or not rest:
        return None
    host, _, port = rest.rpartition(":")
    if not port.isdigit():
        return None
    return parse_ip(host)


def networks(cidrs: Iterable[str]) -> tuple[IpNetwork, ...]:
    """The CIDR blocks that parse (`10.0.0.0/8`, `2001:db8::/32`, a bare address).

    An entry that does not parse is left out: it allows nothing, so a typo
    can never widen an allowlist.
    """
    found: list[IpNetwork] = []
    for cidr in cidrs:
        try:
            found.append(ipaddress.ip_network(str(cidr).strip(), strict=False))
        except ValueError:
            continue
    return tuple(found)


def contains(blocks: Iterable[IpNetwork], address: IpAddress | None) -> bool:
    """True when `address` is in one of `blocks` (an unknown address is in none)."""
    if address is None:
        return False
    if isinstance(blocks, tuple):
        return _contains(blocks, address)
    return any(address.version == block.version and address in block for block in blocks)


@functools.lru_cache(maxsize=4096)
def _contains(blocks: tuple[IpNetwork, ...], address: IpAddress) -> bool:
    return any(address.version == block.version and address in block for block in blocks)


def client_ip(
    peer: str, forwarded: str | None, trusted_proxies: Iterable[IpNetwork]
) -> IpAddress | None:
    """The caller's address: Envoy's `forwarded` value when the peer is trusted, else the peer."""
    direct = peer_ip(peer)
    if forwarded and contains(trusted_proxies, direct):
        return parse_ip(forwarded)
    return direct
