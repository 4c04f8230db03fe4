"""What a token may do: its scopes, and the rooms it is limited to.

A token made with ``scopes`` may call only the operations whose declared
scope (``@operation(scope=...)``) it holds; any other answers 403 naming
the missing scope. A token made with ``rooms`` acts only in those rooms:
every path that names a room goes through ``makechat.chat.access``, which
asks ``check_room`` first, so a room outside the list is refused the same
way whether it exists or not (it tells nothing). Tokens without scopes,
every token from before scopes among them, keep full access.

An admin's token acts as an admin only with the ``admin`` scope: without
it, it is the token of a plain user (``Caller.is_superuser`` is False).
"""

from collections.abc import Iterable
from typing import Any

from makechat.exceptions import Forbidden, Invalid

#: Every scope, with what it allows.
SCOPES = {
    "messages:read": "read messages and events, follow rooms, move read markers",
    "messages:write": "post, edit and delete messages",
    "rooms:read": "list and see rooms, their members and their webhooks, find users",
    "rooms:write": "change rooms, join, add and remove members, manage webhooks",
    "account": "change your profile, manage your tokens and your bots",
    "admin": "act as an admin (only on an admin's account)",
}


class MissingScope(Forbidden):
    """The token lacks the scope an operation needs (403)."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"This token lacks the scope '{scope}'.", title="Missing scope")
        self.scope = scope


class OutsideRooms(Forbidden):
    """The token is limited to rooms that do not include this one (403)."""

    def __init__(self) -> None:
        super().__init__("This token is limited to other rooms.",
                         title="Outside the token's rooms")


def check_scope(caller: Any, scope: str) -> None:
    """Raise MissingScope unless the caller's token holds ``scope`` (or every scope)."""
    scopes = getattr(caller, "scopes", None)
    if scope and scopes is not None and scope not in scopes:
        raise MissingScope(scope)


def check_room(caller: Any, room_id: Any) -> None:
    """Raise OutsideRooms if the caller's token is limited to other rooms."""
    rooms = getattr(caller, "rooms", None)
    if rooms is not None and room_id not in rooms:
        raise OutsideRooms()


def normalize_scopes(scopes: Iterable[str] | None) -> list[str] | None:
    """Return the scopes as stored (sorted, without repeats), or Invalid."""
    if scopes is None:
        return None
    wanted = sorted(set(scopes))
    unknown = [scope for scope in wanted if scope not in SCOPES]
    if unknown:
        raise Invalid(f"Unknown scope {unknown[0]!r}; the scopes are "
                      f"{', '.join(SCOPES)}.", title="Unknown scope")
    if not wanted:
        raise Invalid("Give at least one scope, or none at all for full access.")
    return wanted


def narrower(caller: Any, scopes: list[str] | None, rooms: list[Any] | None) -> None:
    """SECURITY: a token never makes a token that may do more than itself:
    its scopes and rooms are at most the maker's."""
    held, held_rooms = getattr(caller, "scopes", None), getattr(caller, "rooms", None)
    if held is not None:
        if scopes is None:
            raise Forbidden("A token with scopes can only make tokens with some of them; "
                            "name the scopes.", title="Missing scope")
        for scope in scopes:
            check_scope(caller, scope)
    if held_rooms is not None:
        if rooms is None:
            raise OutsideRooms()
        for room_id in rooms:
            check_room(caller, room_id)
