"""Host allowlists (stream sources, alarm webhooks): hostnames match literally, never resolved;
IP literals match a listed address or fall in a listed CIDR network."""

from __future__ import annotations

import ipaddress

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def host_allowed(host: str, allowed: list[str]) -> bool:
    """Whether ``host`` is listed (an IPv4-mapped IPv6 address counts as its IPv4 address)."""
    if "%" in host:
        return False
    address = _address(host)
    if address is None:
        return host.lower() in (entry.lower() for entry in allowed)
    for entry in allowed:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if address.version == network.version and address in network:
            return True
    return False


def _address(host: str) -> _Address | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
