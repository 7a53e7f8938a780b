"""Where an event webhook may be sent: an https:// address; plain http only to this machine
and only outside production (a local receiver while developing). In production the host,
an IP literal or every address its name resolves to, must be on the public internet: never
a private, loopback, link-local, multicast, reserved or unspecified address (a receiver
address must not reach into the network the service runs in).

Pure: the resolver is passed in, as `resolve(host, port) -> [address, ...]` (raising
OSError when the name cannot be found)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_LENGTH = 500
SHAPE = "The address must be an https:// URL (at most 500 characters)."

Resolver = Callable[[str, int], Iterable[str]]


@dataclass(frozen=True)
class Target:
    """Where to connect for a checked address: `address` is the IP to connect to (None:
    the host name, left to the system, as for a local receiver)."""

    scheme: str
    host: str
    port: int
    address: str | None = None


def is_public(address: str) -> bool:
    """True for an address on the public internet (an IPv4-mapped IPv6 address counts as
    the IPv4 address it carries)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # (an IPv6 zone id is not part of it)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def shape_refusal(url: str, *, production: bool, allow_local: bool) -> str | None:
    """Why `url` cannot be a receiver's address by its shape alone, or None."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        return SHAPE
    local = (
        allow_local and not production and parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
    )
    if not (parts.scheme == "https" or local) or not parts.hostname or len(url) > MAX_LENGTH:
        return SHAPE
    return None


def address_refusal(host: str, addresses: Iterable[str]) -> str | None:
    """Why a receiver whose `host` has these addresses must not be sent to, or None."""
    found = list(addresses)
    if not found:
        return f"The receiver's host {host} cannot be found."
    for address in found:
        if not is_public(address):
            if _literal(host) is not None:
                return f"The receiver's address {host} is not on the public internet."
            return f"The receiver's host {host} points at {address}, not on the public internet."
    return None


def check(url: str, *, production: bool, allow_local: bool, resolve: Resolver):
    """(Target, None) for an address that may be sent to now, or (None, why not in words).
    In production the name is resolved here, and the target is pinned to an address that
    was checked (so a name that changes between the check and the connection is refused
    too, not followed)."""
    why = shape_refusal(url, production=production, allow_local=allow_local)
    if why:
        return None, why
    parts = urlsplit(url)
    host, scheme = parts.hostname, parts.scheme
    port = parts.port or (443 if scheme == "https" else 80)
    if not production:
        return Target(scheme, host, port), None
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = list(resolve(host, port))
        except (OSError, UnicodeError):
            return None, f"The receiver's host {host} cannot be found."
    why = address_refusal(host, addresses)
    if why:
        return None, why
    return Target(scheme, host, port, addresses[0]), None
