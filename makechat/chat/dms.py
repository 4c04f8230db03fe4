"""Direct messages: the one conversation between exactly some users.

A direct conversation is a room (``is_dm``) that is closed and invisible,
whose members are fixed when it is made: nobody adds, removes, promotes or
renames anyone in it, and it has no owner. Its ``name_key`` (the unique key
that keeps room names apart) is derived from its members' sorted ids, so
there is one room per set of people: two first messages sent at the same
moment, from any number of servers, make one room, whatever the backend
(the unique index decides; the loser uses the winner's room).

Each member sees it in the room list named after the others
(``rooms_to_public``). Admins have no view into conversations they are not
in. ``allow_dms = false`` stops new ones; those that exist stay readable.
"""

from bson import ObjectId
from mongoengine.errors import NotUniqueError

from makechat.chat.access import within_token
from makechat.exceptions import Forbidden, Invalid, no_such
from makechat.models import PENDING, Member, Room, User
from makechat.scopes import OutsideRooms

#: The name_key of a direct conversation starts with this: no room name's
#: skeleton can (names hold no control characters).
KEY_PREFIX = "\x00dm:"


def dm_key(user_ids) -> str:
    """The key of the conversation between exactly these users."""
    return KEY_PREFIX + ",".join(sorted(str(user_id) for user_id in set(user_ids)))


class DirectMessages:
    def __init__(self, rooms, allow: bool = True, max_users: int = 8):
        self.rooms = rooms  # makechat.chat.rooms.Rooms: joins write their events
        self.allow = allow
        self.max_users = max_users

    def open(self, user, others: list[ObjectId | None]) -> tuple[dict, bool]:
        """Return (the room between the caller and ``others``, created now?)."""
        if not self.allow:
            raise Forbidden("Direct messages are turned off on this server.",
                            title="Direct messages disabled")
        if any(other is None for other in others):
            raise no_such("user")
        wanted = {other for other in others if other is not None} - {user.id}
        if not wanted:
            raise Invalid("Name at least one other user.")
        if len(wanted) + 1 > self.max_users:
            raise Invalid(f"A direct conversation has at most {self.max_users} people, "
                          "you included.")
        people = list(User.objects(id__in=sorted(wanted), is_active=True))
        if len(people) != len(wanted):
            raise no_such("user")
        people.insert(0, user)
        key = dm_key(person.id for person in people)
        room, created = Room.objects(name_key=key).first(), False
        if not within_token(user, room.id if room is not None else None):
            # SECURITY: a token limited to rooms makes none, nor reaches others.
            raise OutsideRooms()
        if room is None:
            room = Room(name=", ".join(sorted(person.username for person in people)),
                        name_key=key, is_open=False, is_visible=False, is_dm=True,
                        created_by=user.id)
            try:
                room.save(force_insert=True)
                created = True
            except NotUniqueError:
                room = Room.objects(name_key=key).first()
                if room is None:
                    raise
        # Every member, each time: a maker that died half-way is completed by
        # the next call (joins are idempotent).
        joined = {member.user: member.joined_seq for member in
                  Member.objects(room=room.id).only("user", "joined_seq")}
        for person in people:
            if joined.get(person.id, PENDING) == PENDING:
                self.rooms.join(room, person, actor=user)
        return self.rooms.get_room(user, room.id), created

