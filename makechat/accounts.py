"""Creating and changing accounts, shared by the API and the CLI."""

from collections.abc import Iterable, Mapping
from typing import Any

from bson import ObjectId
from mongoengine.errors import NotUniqueError, OperationError

from makechat.auth import hash_password, sync_tokens
from makechat.db import is_duplicate_key
from makechat.exceptions import Conflict, Forbidden, Invalid, no_such
from makechat.models import Token, User, signal_user
from makechat.names import skeleton
from makechat.paging import Page, page_by_id
from makechat.validation import EMAIL, PASSWORD, USERNAME, conforms


class AccountError(Invalid):
    """An account cannot be created or changed as asked; str() says why."""


class AccountConflict(Conflict, AccountError):
    """The username or email is already taken (a Conflict first: 409)."""

    title = "Already exists"


def check_username(username: object) -> None:
    if not isinstance(username, str) or not conforms(username, USERNAME):
        raise AccountError(f"The username must be {USERNAME['x-rule']}.")


def check_email(email: object) -> None:
    if not isinstance(email, str) or not conforms(email, EMAIL):
        raise AccountError(f"The email must be {EMAIL['x-rule']}.")


def check_password_rules(password: object) -> None:
    if not isinstance(password, str) or not conforms(password, PASSWORD):
        raise AccountError(f"The password must be {PASSWORD['x-rule']}.")


def find_user(username: object) -> User | None:
    """Return the user with this username (any case), or None."""
    if not isinstance(username, str):
        return None
    return User.objects(username_key=username.lower()).first()


def create_user(username: str, email: str, password: str, *, rounds: int,
                is_superuser: bool = False, is_active: bool = True) -> User:
    """Create and return a user; AccountError if a rule fails, AccountConflict
    if the name or email is taken (the unique indexes decide, so two
    simultaneous requests cannot both win)."""
    check_username(username)
    check_email(email)
    check_password_rules(password)
    if User.objects(username_key=username.lower()).first():
        raise AccountConflict(f"Username {username!r} is already taken.")
    look_alike = User.objects(username_skeleton=skeleton(username)).first()
    if look_alike:
        raise AccountConflict(f"Username {username!r} looks too much like "
                              f"{look_alike.username!r}, which is taken.")
    if User.objects(email_key=email.lower()).first():
        raise AccountConflict(f"Email {email!r} is already in use.")
    user = User(username=username, username_key=username.lower(),
                username_skeleton=skeleton(username),
                email=email, email_key=email.lower(),
                password=hash_password(password, rounds),
                is_superuser=bool(is_superuser), is_active=bool(is_active))
    try:
        user.save(force_insert=True)
    except NotUniqueError:
        raise AccountConflict("The username or email is already taken.") from None
    return user


def set_password(user: User, password: str, *, rounds: int,
                 keep_token: Token | None = None) -> None:
    """Change a password and revoke every token but ``keep_token``: whoever
    held the old password loses their sessions. A bot has none (it acts
    only with tokens: makechat.bots.accounts)."""
    if getattr(user, "is_bot", False):
        raise AccountError("A bot has no password; it acts only with tokens.")
    check_password_rules(password)
    user.password = hash_password(password, rounds)
    user.save()
    tokens = Token.objects(owner=user.id)
    if keep_token is not None:
        tokens = tokens.filter(id__ne=keep_token.id)
    tokens.delete()
    signal_user(user.id)  # streams on the revoked tokens end


def set_email(user: User, email: str) -> None:
    check_email(email)
    if email.lower() != user.email_key and User.objects(email_key=email.lower()).first():
        raise AccountConflict(f"Email {email!r} is already in use.")
    user.email, user.email_key = email, email.lower()
    try:
        user.save()
    except (NotUniqueError, OperationError) as error:
        if not is_duplicate_key(error):
            raise
        raise AccountConflict(f"Email {email!r} is already in use.") from None


def lookup(username: str) -> dict[str, Any]:
    """Return {_id, username} of the active user with this exact username (any
    case), for any signed-in user: nothing else about them."""
    user = find_user(username)
    if user is None or not user.is_active:
        raise no_such("user")
    return {"_id": user.id, "username": user.username}


def list_users(after: ObjectId | None, limit: int) -> Page:
    """Return a Page of every account's profile (for admins)."""
    page = page_by_id(User.objects, after, limit)
    return Page([user.to_public() for user in page.items], page.next_after)


def get_user(user_id: ObjectId | None) -> User:
    user = User.objects(id=user_id).first() if user_id is not None else None
    if user is None:
        raise no_such("user")
    return user


def update_user(admin: User, user_id: ObjectId | None, changes: Mapping[str, Any], *,
                rounds: int) -> User:
    """Enable, disable, promote, demote or reset an account (an admin's act).

    An admin cannot disable or demote themselves (someone must stay admin);
    disabling an account revokes its tokens at once."""
    user = get_user(user_id)
    if user.id == admin.id and (changes.get("is_active") is False
                                or changes.get("is_superuser") is False):
        raise Conflict("An admin cannot disable or demote their own account; ask another admin.",
                       title="Not allowed on yourself")
    if "email" in changes:
        set_email(user, changes["email"])
    if "password" in changes:
        set_password(user, changes["password"], rounds=rounds)
    if "is_superuser" in changes:
        set_superuser(user, changes["is_superuser"])
    if "is_active" in changes:
        set_active(user, changes["is_active"])
    return user


def require_admin(user: User) -> None:
    if not user.is_superuser:
        raise Forbidden("Admin required.")


def all_users() -> Iterable[User]:
    """Return every account, by username (any case)."""
    return User.objects.order_by("username_key")


def set_active(user: User, active: bool) -> None:
    """Enable or disable an account; disabling revokes its tokens."""
    user.is_active = bool(active)
    user.save()
    if not active:
        # SECURITY: a disabled account's tokens are revoked, not just refused.
        Token.objects(owner=user.id).delete()
        signal_user(user.id)


def set_superuser(user: User, is_superuser: bool) -> None:
    """Make an account an admin, or a plain user again; its tokens, which
    requests authenticate from, say so at once."""
    user.is_superuser = bool(is_superuser)
    user.save()
    sync_tokens(user)


def active_admins() -> int:
    """Return how many enabled admin accounts there are."""
    return User.objects(is_superuser=True, is_active=True).count()
