"""Which addresses an outgoing webhook may reach (SSRF).

A webhook's URL is checked when it is registered and again before every
delivery: its host is resolved, and every address it resolves to must be a
public one (not loopback, private, link-local, shared, reserved, multicast
or unspecified) unless ``webhooks_allow_private`` says otherwise. The
delivery then connects to an address that was just checked (never resolves
again), so a name that resolves to a public address when checked and to
127.0.0.1 a moment later (DNS rebinding) reaches nothing it should not.
Only https:// is accepted, and http:// with ``webhooks_allow_http``;
redirects are never followed.
"""

import ipaddress
import socket
from typing import NamedTuple
from urllib.parse import urlsplit

from makechat.exceptions import Invalid

MAX_URL = 2000


class Refused(Invalid):
    """The URL or its address may not be reached (400 at registration; a
    failed attempt at delivery)."""

    title = "Webhook URL refused"


class Target(NamedTuple):
    scheme: str
    host: str  # as written (the Host header and TLS's server name)
    port: int
    path: str  # with the query string


def parse(url: str, allow_http: bool) -> Target:
    """Split and check a webhook URL's form (nothing resolved yet)."""
    if not isinstance(url, str) or len(url) > MAX_URL:
        raise Refused(f"The URL must be at most {MAX_URL} characters.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused("The URL is malformed.") from None
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        raise Refused("The URL must start with https://" +
                      (" or http://." if allow_http else
                       " (http:// needs the webhooks_allow_http setting)."))
    if not parts.hostname or parts.username or parts.password:
        raise Refused("The URL needs a host, and no user name or password in it.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80),
                  path)


def why_refused(address: str, allow_private: bool) -> str | None:
    """Why an address may not be reached, or None if it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    if ip.is_unspecified or ip.is_multicast:
        return f"{ip}, which is {'unspecified' if ip.is_unspecified else 'multicast'}"
    if allow_private or ip.is_global:
        return None
    kind = ("loopback" if ip.is_loopback else "link-local" if ip.is_link_local
            else "private" if ip.is_private else "not public")
    return f"{ip}, which is {kind} (allowed only with the webhooks_allow_private setting)"


def resolve(target: Target, allow_private: bool) -> list[str]:
    """The addresses to connect to, every one of them checked; Refused if
    the host does not resolve or any address may not be reached."""
    try:
        found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise Refused(f"The host {target.host!r} does not resolve ({error}).") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    for address in addresses:
        reason = why_refused(address, allow_private)
        if reason is not None:
            raise Refused(f"The host {target.host!r} resolves to {reason}.")
    if not addresses:
        raise Refused(f"The host {target.host!r} does not resolve.")
    return addresses


def check(url: str, allow_http: bool, allow_private: bool) -> tuple[Target, list[str]]:
    """Parse and resolve a URL as a delivery would; return (target, addresses)."""
    target = parse(url, allow_http)
    return target, resolve(target, allow_private)
