"""Webhook URLs are chosen by customers: never let one make the worker call into our own
network (loopback, private ranges, link-local cloud metadata, ...).

The check resolves the host and refuses when any address is not public, at subscription time
and again before every delivery (DNS can change). Redirects are never followed. What remains is
DNS rebinding between our check and the connection; running the worker with an egress firewall
closes that too (see docs/operations.md).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from tuition.core.errors import ValidationError


class UnsafeWebhookUrlError(ValidationError):
    message = "Webhook URLs must be public http(s) addresses."


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_webhook_url(url: str, *, resolve: bool = True) -> None:
    """Refuse a URL that is not http(s) or that points at a non-public address.

    Raises:
        UnsafeWebhookUrlError: a bad scheme, no host, or a private/loopback/link-local address
            (unless TUITION["WEBHOOKS_ALLOW_PRIVATE"]).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeWebhookUrlError(details={"field": "url"})
    if parts.username or parts.password:
        raise UnsafeWebhookUrlError(
            "Webhook URLs must not carry credentials.", details={"field": "url"}
        )
    if settings.TUITION.get("WEBHOOKS_ALLOW_PRIVATE", False):
        return
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    elif not resolve:
        return
    else:
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except (OSError, ValueError):
            # Unresolvable now: the delivery checks again, and fails, until it resolves.
            return
        addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if any(_forbidden(address) for address in addresses):
        raise UnsafeWebhookUrlError(
            "Webhook URLs must not point at private, loopback or link-local addresses.",
            details={"field": "url"},
        )
