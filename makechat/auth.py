"""Passwords, API tokens and the failed-login limiter."""

import base64
import hashlib
import ipaddress
import secrets
import string
from datetime import timedelta

import bcrypt

from makechat.models import LoginFailure, Token, User, utcnow

TOKEN_ALPHABET = string.ascii_lowercase + string.digits
TOKEN_LENGTH = 32  # 36**32, about 165 bits
#: last_used is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def _prehash(password):
    # NOTE: bcrypt reads at most 72 bytes (bcrypt>=5 refuses more), so the
    # password is first reduced to a fixed 44-byte SHA-256 digest: long
    # passphrases keep all their strength.
    digest = hashlib.sha256(password.encode("utf-8")).digest()
    return base64.b64encode(digest)


def hash_password(password, rounds):
    """Return the bcrypt hash (str) of a password."""
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


def check_password(password, hashed):
    """Return True if the password matches the stored hash."""
    try:
        return bcrypt.checkpw(_prehash(password), hashed.encode("ascii"))
    except ValueError:
        return False


_DUMMY_HASHES = {}


def burn_password_check(password, rounds):
    """Spend the time of a real check, so an unknown username answers as slowly
    as a known one (no user enumeration by timing)."""
    if rounds not in _DUMMY_HASHES:
        _DUMMY_HASHES[rounds] = hash_password(secrets.token_hex(16), rounds)
    check_password(password, _DUMMY_HASHES[rounds])


def token_digest(secret):
    """Return the hex SHA-256 of a token secret: what the database stores."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_token(user, name):
    """Create a token for a user; return (document, secret). The secret is
    shown to the client once and never stored."""
    secret = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
    token = Token(owner=user.id, name=name, digest=token_digest(secret))
    token.save(force_insert=True)
    return token, secret


def user_for_token(secret):
    """Return (user, token) for a valid secret of an active user, else (None, None).

    One indexed lookup by digest, one by _id; no bcrypt per request."""
    if not isinstance(secret, str) or len(secret) != TOKEN_LENGTH:
        return None, None
    token = Token.objects(digest=token_digest(secret)).first()
    if token is None:
        return None, None
    user = User.objects(id=token.owner).first()
    if user is None or not user.is_active:
        return None, None
    now = utcnow()
    if token.last_used is None or now - token.last_used > LAST_USED_RESOLUTION:
        Token.objects(id=token.id).update_one(set__last_used=now)
        token.last_used = now
    return user, token



class TrustedProxies:
    """Decide the client address of a request, believing X-Forwarded-For only
    when the direct peer is a configured reverse proxy."""

    def __init__(self, spec):
        self.networks = [ipaddress.ip_network(part.strip(), strict=False)
                         for part in spec.split(",") if part.strip()]

    def _trusted(self, address):
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client_address(self, req):
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
    """Count failed logins in the database (so every process and machine
    shares the count) per username and per client address."""

    def __init__(self, config):
        self.window = timedelta(seconds=config.login_window)
        self.limits = {"user": config.login_max_failures_per_user,
                       "addr": config.login_max_failures_per_address}

    def retry_after(self, username_key, address):
        """Return seconds to wait if either counter is at its limit, else 0."""
        since = utcnow() - self.window
        wait = 0
        for kind, value in (("user", username_key), ("addr", address)):
            failures = LoginFailure.objects(key=f"{kind}:{value}", at__gte=since)
            if failures.count() >= self.limits[kind]:
                oldest = failures.order_by("at").only("at").first()
                remaining = (oldest.at + self.window - utcnow()).total_seconds()
                wait = max(wait, int(remaining) + 1)
        return wait

    def record_failure(self, username_key, address):
        now = utcnow()
        LoginFailure.objects.insert([
            LoginFailure(key=f"user:{username_key}", at=now),
            LoginFailure(key=f"addr:{address}", at=now),
        ], load_bulk=False)
        # NOTE: no TTL indexes on FerretDB v1, so expired entries are pruned here.
        LoginFailure.objects(at__lt=now - self.window).delete()

    def record_success(self, username_key):
        LoginFailure.objects(key=f"user:{username_key}").delete()
