"""Passwords, API tokens and the failed-login limiter."""

import base64
import hashlib
import ipaddress
import secrets
import string
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol, TypeVar

import bcrypt
from bson import ObjectId
from mongoengine.errors import NotUniqueError

from makechat.config import Config
from makechat.exceptions import Conflict, no_such
from makechat.models import KnownAddress, Token, User, signal_user, utcnow
from makechat.paging import Page, page_by_id
from makechat.throttle import Claims, Rule, Throttle

TOKEN_ALPHABET = string.ascii_lowercase + string.digits
TOKEN_LENGTH = 32  # 36**32, about 165 bits
#: last_used is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(seconds=60)

T = TypeVar("T")


class Request(Protocol):
    """What the core reads of an HTTP request (a falcon.Request, which the
    core may not import): the peer's address and the headers."""

    remote_addr: str | None

    def get_header(self, name: str) -> str | None: ...


def _prehash(password):
    # NOTE: bcrypt reads at most 72 bytes (bcrypt>=5 refuses more), so the
    # password is first reduced to a fixed 44-byte SHA-256 digest: long
    # passphrases keep all their strength.
    digest = hashlib.sha256(password.encode("utf-8")).digest()
    return base64.b64encode(digest)


def offload(function: Callable[..., T], *args: Any) -> T:
    """Run CPU-bound work (a bcrypt hash) off the event loop.

    Under gunicorn's gevent worker a bcrypt check would stop every other
    request of the process for its whole duration (about 0.2 s at cost 12),
    so it runs in gevent's thread pool (bcrypt releases the GIL); under
    gthread or without gevent the caller is already a thread of its own."""
    try:
        import gevent.monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return function(*args)
    if gevent.monkey.is_module_patched("threading"):
        import gevent
        return gevent.get_hub().threadpool.apply(function, args)
    return function(*args)


def _hash(password, rounds):
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


def _check(password, hashed):
    try:
        return bcrypt.checkpw(_prehash(password), hashed.encode("ascii"))
    except ValueError:
        return False


def hash_password(password: str, rounds: int) -> str:
    """Return the bcrypt hash (str) of a password."""
    return offload(_hash, password, rounds)


def check_password(password: str, hashed: str) -> bool:
    """Return True if the password matches the stored hash."""
    return offload(_check, password, hashed)


_DUMMY_HASHES: dict[int, str] = {}


def burn_password_check(password: str, rounds: int) -> None:
    """Spend the time of a real check, so an unknown username answers as slowly
    as a known one (no user enumeration by timing)."""
    if rounds not in _DUMMY_HASHES:
        _DUMMY_HASHES[rounds] = hash_password(secrets.token_hex(16), rounds)
    check_password(password, _DUMMY_HASHES[rounds])


def token_digest(secret: str) -> str:
    """Return the hex SHA-256 of a token secret: what the database stores."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class TooManyTokens(Conflict):
    """The user already holds max_tokens_per_user tokens."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"You hold {limit} tokens, the most allowed; revoke some with "
                         "DELETE /api/tokens/{token_id}.", title="Too many tokens")
        self.limit = limit


def _free_slot(user_id, limit, now):
    """Return the lowest token slot of a user not in use, or None."""
    collection = Token._get_collection()
    # Expired tokens give their slots back.
    collection.delete_many({"owner": user_id, "expires": {"$lte": now}})
    used = {doc.get("slot") for doc in collection.find({"owner": user_id}, {"slot": 1})}
    return next((slot for slot in range(limit) if slot not in used), None)


def issue_token(user: User, name: str, *, max_tokens: int, expires_in: float | None = None,
                make_room: bool = False) -> tuple[Token, str]:
    """Create a token for a user; return (document, secret). The secret is
    shown to the client once and never stored.

    A user holds at most ``max_tokens``: each token takes one of that many
    numbered slots under the unique (owner, slot) index, so parallel
    requests cannot exceed the cap. With ``make_room`` (logging in) the
    least recently used login token is revoked to make room; otherwise a
    full set raises TooManyTokens."""
    secret = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
    now = utcnow()
    expires = now + timedelta(seconds=expires_in) if expires_in else None
    for _ in range(max_tokens + 5):
        slot = _free_slot(user.id, max_tokens, now)
        if slot is None:
            if not (make_room and _revoke_stalest_login(user.id)):
                raise TooManyTokens(max_tokens)
            continue
        token = Token(owner=user.id, name=name, digest=token_digest(secret), slot=slot,
                      created=now, expires=expires)
        try:
            token.save(force_insert=True)
        except NotUniqueError:
            continue  # a parallel request took this slot
        return token, secret
    raise TooManyTokens(max_tokens)


def list_tokens(user: User, after: ObjectId | None, limit: int) -> Page:
    """Return a Page of a user's tokens as shown to them (never a secret)."""
    page = page_by_id(Token.objects(owner=user.id), after, limit)
    return Page([token.to_public() for token in page.items], page.next_after)


def revoke_token(user: User, token_id: ObjectId | None) -> None:
    """Revoke one of the user's tokens; another user's token is no such token."""
    if token_id is None or not Token.objects(id=token_id, owner=user.id).delete():
        raise no_such("token")
    signal_user(user.id)  # a stream running on it ends


def _revoke_stalest_login(user_id):
    stalest = Token.objects(owner=user_id, name__in=("login", "register")) \
        .order_by("last_used", "created").first()
    if stalest is None:
        return False
    stalest.delete()
    return True


def token_from_headers(req_get_header: Callable[[str], str | None]) -> str | None:
    """Return the secret of ``X-Auth-Token``, else of ``Authorization: Bearer``."""
    secret = req_get_header("X-Auth-Token")
    if secret:
        return secret.strip()
    authorization = req_get_header("Authorization") or ""
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def user_for_token(secret: object) -> tuple[User, Token] | tuple[None, None]:
    """Return (user, token) for a valid, unexpired secret of an active user,
    else (None, None).

    One indexed lookup by digest, one by _id; no bcrypt per request."""
    if not isinstance(secret, str) or len(secret) != TOKEN_LENGTH:
        return None, None
    token = Token.objects(digest=token_digest(secret)).first()
    if token is None:
        return None, None
    now = utcnow()
    if token.expires is not None and token.expires <= now:
        return None, None
    user = User.objects(id=token.owner).first()
    if user is None or not user.is_active:
        return None, None
    if token.last_used is None or now - token.last_used > LAST_USED_RESOLUTION:
        Token.objects(id=token.id).update_one(set__last_used=now)
        token.last_used = now
    return user, token


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
