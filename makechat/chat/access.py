"""Who may see and manage a room: the rules every id-bearing request goes through.

SECURITY: a room the caller may not see is "no such room", exactly like a
room that does not exist, so its existence leaks nothing.
"""

from typing import NamedTuple

from bson import ObjectId

from makechat.exceptions import Forbidden, NotFound, no_such
from makechat.ids import parse_id
from makechat.models import Member, Room
from makechat.scopes import check_room

ROLES = ("owner", "member")


def membership(room_id, user_id):
    """Return the Member of user in room, or None."""
    return Member.objects(room=room_id, user=user_id).first()


def visible_room(user, room_id):
    """Return (room, the caller's membership or None) if the user may see the
    room, else raise NotFound.

    A room is seen by its members, by admins (but a direct conversation
    only by its members), and (if is_visible) by every signed-in user. A
    token limited to other rooms is refused first (makechat.scopes.check_room),
    whether the room exists or not."""
    check_room(user, room_id)
    room = Room.objects(id=room_id).first() if room_id is not None else None
    if room is None:
        raise no_such("room")
    member = membership(room.id, user.id)
    # SECURITY: admins see every room but others' direct conversations.
    if not (room.is_visible or member or (user.is_superuser and not room.is_dm)):
        raise no_such("room")
    return room, member


class RoomRef(NamedTuple):
    """A room known to exist by a membership of it: its id is all there is."""

    id: ObjectId


def member_room(user, room_id, action="read or post messages in"):
    """Return (room, member) if the user is a member, else Forbidden or NotFound.

    PERF: the membership alone answers for a member (one read; the room is
    then a RoomRef with its id); only a non-member costs the room's read,
    to tell 403 (a room they may see) from 404."""
    check_room(user, room_id)
    if room_id is not None:
        found = Member._get_collection().find_one({"room": room_id, "user": user.id})
        if found is not None:
            return RoomRef(room_id), Member._from_son(found)
    room, member = visible_room(user, room_id)
    if member is None:
        raise Forbidden(f"Join the room to {action} it.", title="Not a member")
    return room, member


def can_manage(user, member):
    """Admins and the room's owners manage a room."""
    return user.is_superuser or (member is not None and member.role == "owner")


def require_manager(user, member):
    if not can_manage(user, member):
        raise Forbidden("Only the room's owner or an admin may do this.")


def refuse_dm_changes(room):
    """Forbidden for any change of a direct conversation's members or name
    (makechat.chat.dms)."""
    if room is not None and room.is_dm:
        raise Forbidden("A direct conversation's members and name cannot be changed.",
                        title="Direct conversation")


def may_see_members(user, room, member):
    """Members and admins see a room's members; so does anyone who may see an
    open room, since they could join it and see them anyway."""
    return member is not None or user.is_superuser or room.is_open


def room_ids_of(user):
    """Return the ids of the rooms the user belongs to (those of them its
    token may reach)."""
    return [member.room for member in Member.objects(user=user.id).only("room")
            if within_token(user, member.room)]


def within_token(user, room_id):
    """Whether the caller's token may reach the room (makechat.scopes)."""
    rooms = getattr(user, "rooms", None)
    return rooms is None or room_id in rooms


def visible_message(store, user, message_id):
    """Return (message, the caller's membership or None) of a message the
    caller may see (its room is visible to them), else raise NotFound: a
    message of a room one cannot see is no such message."""
    object_id = parse_id(message_id) if isinstance(message_id, str) else message_id
    message = store.get(object_id) if object_id is not None else None
    if message is None:
        raise no_such("message")
    try:
        _, member = visible_room(user, message["room"])
    except NotFound:
        raise no_such("message") from None
    return message, member
