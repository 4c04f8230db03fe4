"""Bot accounts, and tokens with scopes for any account.

A bot is a user (``User.is_bot``) that cannot log in with a password: its
stored password is no bcrypt hash, so no password ever matches it, and
setting one is refused. It acts only through tokens, which an admin, or the
bot's owner (``bot_owner``), makes for it. It is marked as a bot in the
users, members and messages the API shows (``is_bot``); room owners add it
to their rooms like anyone else (POST /api/members).
"""

import secrets
from typing import Any

from bson import ObjectId

from makechat import accounts
from makechat.auth import issue_token
from makechat.chat.access import visible_room
from makechat.exceptions import Forbidden, Invalid, no_such
from makechat.models import Token, User
from makechat.paging import Page, page_by_id
from makechat.scopes import narrower, normalize_scopes

#: What a bot's password field holds: not a bcrypt hash, so no password matches.
NO_PASSWORD = "!bot"
#: Bots' addresses: a reserved domain (RFC 2606), so no mail ever goes anywhere.
BOT_EMAIL_DOMAIN = "bots.invalid"


def create_bot(username: str, owner: User | None = None) -> User:
    """Create a bot account (an admin's act); AccountError or AccountConflict
    as for people (the same names are taken, look-alikes included)."""
    accounts.check_username(username)
    email = f"{username.lower()}@{BOT_EMAIL_DOMAIN}"
    # Made as a user with a throwaway password, then left with none.
    user = accounts.create_user(username, email, secrets.token_urlsafe(24), rounds=4)
    User.objects(id=user.id).update_one(set__password=NO_PASSWORD, set__is_bot=True,
                                        set__bot_owner=owner.id if owner else None)
    user.reload()
    return user


def is_bot(user: Any) -> bool:
    return bool(getattr(user, "is_bot", False))


def may_manage_bot(caller: Any, bot: User) -> bool:
    """Admins and the bot's owner manage a bot (make its tokens, give it webhooks)."""
    return bool(caller.is_superuser or (bot.bot_owner is not None and bot.bot_owner == caller.id))


def get_bot(caller: Any, bot_id: ObjectId | None) -> User:
    """Return a bot the caller manages; any other id is no such bot."""
    bot = User.objects(id=bot_id, is_bot=True).first() if bot_id is not None else None
    if bot is None or not may_manage_bot(caller, bot):
        raise no_such("bot")
    return bot


def list_bots(caller: Any, after: ObjectId | None, limit: int) -> Page:
    """A Page of the bots the caller manages (an admin: every bot)."""
    bots = User.objects(is_bot=True)
    if not caller.is_superuser:
        bots = bots.filter(bot_owner=caller.id)
    page = page_by_id(bots, after, limit)
    return Page([bot.to_public() for bot in page.items], page.next_after)


def token_rooms(caller: Any, holder: Any, rooms: list[ObjectId | None] | None
                ) -> list[ObjectId] | None:
    """The rooms a new token is limited to, each one the caller and the
    token's holder may see (else no such room)."""
    if rooms is None:
        return None
    found: list[ObjectId] = []
    for room_id in rooms:
        room, _ = visible_room(caller, room_id)
        if holder.id != caller.id:
            visible_room(holder, room_id)
        found.append(room.id)
    if not found:
        raise Invalid("Give at least one room, or none at all for every room.")
    return sorted(set(found), key=str)


def grant_token(caller: Any, holder: User, name: str, *, max_tokens: int,
                scopes: list[str] | None = None, rooms: list[ObjectId | None] | None = None,
                expires_in: float | None = None) -> tuple[Token, str]:
    """Make a token for ``holder`` (the caller, or a bot the caller manages)
    limited to ``scopes`` and ``rooms`` (None: all); never more than the
    caller's own token may do. ``caller`` None is the operator's command line."""
    scopes = normalize_scopes(scopes)
    limited: list[ObjectId] | None
    if scopes is not None and "admin" in scopes and not holder.is_superuser:
        raise Forbidden("The 'admin' scope is for admins' tokens only.", title="Missing scope")
    if caller is not None:
        narrower(caller, scopes, rooms)
        if holder.id != caller.id and not (is_bot(holder) and may_manage_bot(caller, holder)):
            raise Forbidden("Only an admin or the bot's owner may make its tokens.")
        limited = token_rooms(caller, holder, rooms)
    else:
        limited = token_rooms(holder, holder, rooms)
    return issue_token(holder, name, max_tokens=max_tokens, expires_in=expires_in,
                       scopes=scopes, rooms=limited)

