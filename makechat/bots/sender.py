"""One HTTP delivery of an outgoing webhook, to an address just checked.

The standard library's http.client, with a connection that connects to the
checked IP address (makechat.bots.targets) while the Host header, TLS's
server name (SNI) and the certificate check keep the URL's host name. No
redirect is followed; the answer's body is read up to a bound, for a bot's
reply.
"""

import http.client
import json
import socket
import ssl
import time
from typing import Any, NamedTuple

from makechat.bots.targets import Refused, Target, check

#: The most of a receiver's answer read (for its reply), in bytes.
MAX_REPLY = 65536


class Outcome(NamedTuple):
    """How one attempt went: ``ok`` for a 2xx; ``reply`` the answer's JSON
    object, if it was one."""

    ok: bool
    status: int | None
    latency_ms: int
    error: str | None
    reply: Any = None


class _Pinned(http.client.HTTPConnection):
    """Connects to ``address`` whatever ``host`` resolves to now."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedTLS(_Pinned):
    default_port = 443

    def __init__(self, host, port, address, timeout, context):
        super().__init__(host, port, address, timeout)
        self.context = context

    def connect(self):
        super().connect()
        # SNI and the certificate's name are the URL's host, not the address.
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.host)


_TLS = ssl.create_default_context()


def _connection(target: Target, address: str, timeout: float):
    if target.scheme == "https":
        return _PinnedTLS(target.host, target.port, address, timeout, _TLS)
    return _Pinned(target.host, target.port, address, timeout)


def send(url: str, headers: dict[str, str], body: bytes, *, timeout: float,
         allow_http: bool, allow_private: bool) -> Outcome:
    """POST ``body`` to ``url``, checked again now (SSRF, DNS rebinding)."""
    started = time.monotonic()

    def took():
        return int((time.monotonic() - started) * 1000)
    try:
        target, addresses = check(url, allow_http, allow_private)
    except Refused as error:
        return Outcome(False, None, took(), f"refused: {error.description}")
    connection = _connection(target, addresses[0], timeout)
    try:
        connection.request("POST", target.path, body=body, headers={
            **headers, "Content-Type": "application/json", "User-Agent": "makechat-webhooks",
            "Connection": "close"})
        response = connection.getresponse()
        raw = response.read(MAX_REPLY + 1)
        status = response.status
    except (OSError, http.client.HTTPException) as error:
        kind = "timed out" if isinstance(error, TimeoutError | socket.timeout) else \
            f"{type(error).__name__}: {error}"
        return Outcome(False, None, took(), kind[:300])
    finally:
        connection.close()
    ok = 200 <= status < 300
    reply = None
    if ok and raw and len(raw) <= MAX_REPLY:
        try:
            reply = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            reply = None
    return Outcome(ok, status, took(), None if ok else f"HTTP {status}", reply)
