"""Who is logging in from where: the client address behind trusted proxies,
and the limiter that throttles password guessing without locking the owner
out."""

import ipaddress
from datetime import timedelta
from typing import Protocol

from makechat.config import Config
from makechat.models import KnownAddress, User, utcnow
from makechat.throttle import Claims, Rule, Throttle


class Request(Protocol):
    """What the core reads of an HTTP request (a falcon.Request, which the
    core may not import): the peer's address and the headers."""

    remote_addr: str | None

    def get_header(self, name: str) -> str | None: ...


class TrustedProxies:
    """Decide the client address of a request, believing X-Forwarded-For only
    when the direct peer is a configured reverse proxy."""

    def __init__(self, spec: str) -> None:
        self.networks = [ipaddress.ip_network(part.strip(), strict=False)
                         for part in spec.split(",") if part.strip()]

    def _trusted(self, address):
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client_address(self, req: Request) -> str:
        address = req.remote_addr or "unknown"
        if not self._trusted(address):
            return address
        forwarded = req.get_header("X-Forwarded-For") or ""
        # Walk from the nearest hop back; the first untrusted one is the client.
        for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
            if not self._trusted(hop):
                return hop
            address = hop
        return address


class LoginLimiter:
    """Throttle password guessing without letting an attacker lock the owner
    out (OWASP's authentication guidance):

    - per username *and* client address, strict (``login_max_failures_per_user_address``);
    - per client address, over all usernames (``login_max_failures_per_address``);
    - per username over all addresses, looser (``login_max_failures_per_user``),
      and *not* applied to an address the user logged in from before
      (``login_known_address_days``): others' failures cannot block the owner.

    Each attempt claims its slots before the password is checked (see
    makechat.throttle), so the limits hold exactly under parallel requests;
    a successful login gives its slots back and clears its pair's count."""

    def __init__(self, config: Config, throttle: Throttle) -> None:
        self.throttle = throttle
        window = config.login_window
        title = "Too many failed logins"
        self.pair = Rule("login-pair", config.login_max_failures_per_user_address, window, title)
        self.account = Rule("login-user", config.login_max_failures_per_user, window, title)
        self.address = Rule("login-addr", config.login_max_failures_per_address, window, title)
        self.known_for = timedelta(days=config.login_known_address_days)

    def begin(self, username_key: str, address: str, user: User | None = None) -> Claims:
        """Claim this attempt's slots; return Claims, or raise throttle.Refused."""
        pairs = [(self.pair, f"{username_key}|{address}"), (self.address, address)]
        if not (user is not None and self.is_known(user, address)):
            pairs.append((self.account, username_key))
        return self.throttle.claim(pairs)

    def is_known(self, user: User, address: str) -> bool:
        since = utcnow() - self.known_for
        return KnownAddress.objects(user=user.id, address=address, last__gte=since).first() \
            is not None

    def succeeded(self, claims: Claims, user: User, username_key: str, address: str) -> None:
        """The password was right: the attempt does not count, and the address
        becomes (or stays) known for the user."""
        claims.release()
        self.throttle.forget(self.pair, f"{username_key}|{address}")
        KnownAddress.objects(user=user.id, address=address).update_one(
            set__last=utcnow(), upsert=True)
