"""Passwords, API tokens and the failed-login limiter."""

import base64
import hashlib
import secrets
import string
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import bcrypt
from bson import ObjectId
from mongoengine.errors import NotUniqueError

from makechat.exceptions import Conflict, no_such
from makechat.models import Token, User, signal_user, utcnow
from makechat.paging import Page, page_by_id

TOKEN_ALPHABET = string.ascii_lowercase + string.digits
TOKEN_LENGTH = 32  # 36**32, about 165 bits
#: last_used is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(seconds=60)

T = TypeVar("T")




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
                make_room: bool = False, scopes: list[str] | None = None,
                rooms: list[ObjectId] | None = None) -> tuple[Token, str]:
    """Create a token for a user; return (document, secret). The secret is
    shown to the client once and never stored.

    A user holds at most ``max_tokens``: each token takes one of that many
    numbered slots under the unique (owner, slot) index, so parallel
    requests cannot exceed the cap. With ``make_room`` (logging in) the
    least recently used login token is revoked to make room; otherwise a
    full set raises TooManyTokens. ``scopes`` and ``rooms`` limit what it
    may do (makechat.scopes); None is everything."""
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
                      created=now, expires=expires, username=user.username,
                      is_superuser=user.is_superuser, scopes=scopes, rooms=rooms,
                      is_bot=bool(getattr(user, "is_bot", False)) or None)
        try:
            token.save(force_insert=True)
        except NotUniqueError:
            continue  # a parallel request took this slot
        _recheck(token)
        return token, secret
    raise TooManyTokens(max_tokens)


def _recheck(token):
    """SECURITY: a demotion or a disabling may have run while this token was
    being made, and updated (or deleted) the tokens it found, not this one:
    look at the account again, after the token is written."""
    user = User._get_collection().find_one({"_id": token.owner},
                                           {"is_superuser": 1, "is_active": 1})
    if user is None or not user.get("is_active", True):
        token.delete()
        raise no_such("user")
    if bool(user.get("is_superuser")) != bool(token.is_superuser):
        Token.objects(id=token.id).update_one(set__is_superuser=bool(user.get("is_superuser")))
        token.is_superuser = bool(user.get("is_superuser"))


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


class Caller:
    """The user a request acts for, as its token knows them: id, username,
    whether an admin. ``full()`` reads the whole account (its email, its
    password hash) for the few operations that need it.

    ``scopes`` and ``rooms`` are what the token may do (None: everything;
    makechat.scopes); ``is_superuser`` is True only for an admin's token
    that holds the admin scope, ``is_admin_account`` for any admin's."""

    __slots__ = ("id", "username", "is_superuser", "is_active", "_full", "scopes", "rooms",
                 "is_bot", "is_admin_account")

    def __init__(self, user_id, username, is_superuser, full=None, scopes=None, rooms=None,
                 is_bot=False):
        self.is_admin_account = bool(is_superuser)
        self.scopes = frozenset(scopes) if scopes is not None else None
        self.rooms = frozenset(rooms) if rooms is not None else None
        self.id, self.username = user_id, username
        self.is_superuser = self.is_admin_account and (self.scopes is None
                                                       or "admin" in self.scopes)
        self.is_bot = bool(is_bot)
        self.is_active = True  # a disabled user's tokens are deleted
        self._full = full

    def full(self) -> User:
        if self._full is None:
            self._full = User.objects(id=self.id).first()
            if self._full is None:
                raise no_such("user")
        return self._full

    def to_public(self) -> dict:
        return self.full().to_public()


class AuthToken:
    """The token a request came with: its id, and how to revoke it."""

    __slots__ = ("id", "owner")

    def __init__(self, token_id, owner):
        self.id, self.owner = token_id, owner

    def delete(self) -> None:
        Token.objects(id=self.id).delete()


def user_for_token(secret: object) -> tuple[Caller, AuthToken] | tuple[None, None]:
    """Return (caller, token) for a valid, unexpired secret of an active user,
    else (None, None).

    PERF: one read by digest (the token carries what a request needs of its
    user), and a last_used write at most once a minute; no bcrypt."""
    if not isinstance(secret, str) or len(secret) != TOKEN_LENGTH:
        return None, None
    token = Token._get_collection().find_one(
        {"digest": token_digest(secret)},
        {"owner": 1, "expires": 1, "last_used": 1, "username": 1, "is_superuser": 1,
         "scopes": 1, "rooms": 1, "is_bot": 1})
    if token is None:
        return None, None
    now = utcnow()
    if token.get("expires") is not None and token["expires"] <= now:
        return None, None
    if token.get("username") is None:
        # A token from before 0.3: read the user once, and remember.
        user = User.objects(id=token["owner"]).first()
        if user is None or not user.is_active:
            return None, None
        Token.objects(id=token["_id"]).update_one(set__username=user.username,
                                                  set__is_superuser=user.is_superuser,
                                                  set__is_bot=user.is_bot or None)
        caller = Caller(user.id, user.username, user.is_superuser, full=user,
                        scopes=token.get("scopes"), rooms=token.get("rooms"),
                        is_bot=user.is_bot)
    else:
        caller = Caller(token["owner"], token["username"], token.get("is_superuser"),
                        scopes=token.get("scopes"), rooms=token.get("rooms"),
                        is_bot=token.get("is_bot"))
    last_used = token.get("last_used")
    if last_used is None or now - last_used > LAST_USED_RESOLUTION:
        Token.objects(id=token["_id"]).update_one(set__last_used=now)
    return caller, AuthToken(token["_id"], token["owner"])


def sync_tokens(user: User) -> None:
    """Bring the user's tokens in line with the account (after a promotion or
    a demotion): requests authenticate from what the token says."""
    Token.objects(owner=user.id).update(set__username=user.username,
                                        set__is_superuser=user.is_superuser,
                                        set__is_bot=user.is_bot or None)
    signal_user(user.id)
