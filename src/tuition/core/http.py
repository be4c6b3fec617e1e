"""Who is on the other end of a request: the client's real IP behind trusted reverse proxies.

Behind nginx every request comes from the proxy's address, so rate limits keyed on
`REMOTE_ADDR` would see every user as one. `X-Forwarded-For` is only believed when the peer
that sent it is one of `TUITION_TRUSTED_PROXIES`: anyone else can write any address there.
The chain is read from the right (the hop nearest to us) and the first address that is not a
trusted proxy is the client; spoofed entries a client puts on the left are never reached.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry)


def trusted_networks() -> tuple[Network, ...]:
    """The trusted proxies from settings (IPs or CIDRs; empty means no proxy is trusted)."""
    return _networks(tuple(settings.TUITION.get("TRUSTED_PROXIES", ())))


def parse_ip(value: str | None) -> Address | None:
    """An address from a header or REMOTE_ADDR, or None when it is not one."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.9:5123"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(address: Address | None) -> bool:
    return address is not None and any(address in net for net in trusted_networks())


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP: REMOTE_ADDR, or from X-Forwarded-For when REMOTE_ADDR is trusted."""
    peer = parse_ip(request.META.get("REMOTE_ADDR"))
    if not is_trusted_proxy(peer):
        return str(peer) if peer else None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    client = peer
    for hop in reversed([part for part in forwarded.split(",") if part.strip()]):
        address = parse_ip(hop)
        if address is None:
            break  # a malformed hop: trust nothing further left
        client = address
        if not is_trusted_proxy(address):
            break
    return str(client) if client else None


def peer_is_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the direct peer is a trusted proxy (whose headers may be believed)."""
    return is_trusted_proxy(parse_ip(request.META.get("REMOTE_ADDR")))
