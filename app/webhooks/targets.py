"""Where a webhook may be sent: URL rules, and the SSRF guard that refuses non-public addresses."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

MAX_URL_LENGTH = 2048


class InvalidTarget(ValueError):
    """The URL cannot be a webhook target; the message says why, for the person who typed it."""


class BlockedTarget(Exception):
    """The target resolves to an address the server must not call (private, loopback, link-local...)."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int


def parse_target(url: str) -> Target:
    """Check the shape of a webhook URL: http(s), a host, no credentials, not too long."""
    url = (url or "").strip()
    if not url:
        raise InvalidTarget("Enter the URL that should receive the events.")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidTarget(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidTarget("The URL is not valid.") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidTarget("The URL must start with https:// (or http://).")
    if not parts.hostname:
        raise InvalidTarget("The URL has no host name.")
    if parts.username or parts.password:
        raise InvalidTarget("The URL must not contain a user name or password.")
    if parts.fragment:
        raise InvalidTarget("The URL must not contain a #fragment.")
    return Target(
        url=url, scheme=parts.scheme, host=parts.hostname, port=port or (443 if parts.scheme == "https" else 80)
    )


def is_public(address: str) -> bool:
    """True for a globally routable unicast address; private, loopback, link-local, shared (CGNAT),
    reserved, documentation, unspecified and multicast addresses are not."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public(str(embedded)):
            return False
    return ip.is_global and not ip.is_multicast


def literal_address(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (a literal resolves to itself)."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise BlockedTarget(f"the host name {host} does not resolve ({exc.strerror})") from exc
    return list(dict.fromkeys(info[4][0] for info in infos))


async def public_address(target: Target) -> str:
    """The address to connect to, after checking that every address the host resolves to is public."""
    addresses = await resolve(target.host, target.port)
    refused = [a for a in addresses if not is_public(a)]
    if refused or not addresses:
        raise BlockedTarget(
            f"{target.host} resolves to a private or reserved address ({', '.join(refused)}); "
            "webhooks are only sent to public addresses"
        )
    return addresses[0]


def refuse_private_literal(target: Target) -> None:
    """At registration: refuse an obviously internal target (an IP literal or localhost) at once."""
    literal = literal_address(target.host)
    if target.host.lower().rstrip(".") == "localhost" or target.host.lower().endswith(".localhost"):
        raise InvalidTarget("Webhooks cannot be sent to localhost.")
    if literal is not None and not is_public(literal):
        raise InvalidTarget("Webhooks can only be sent to public addresses, not private or reserved ones.")
