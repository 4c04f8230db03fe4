"""Rooms and memberships: listing, creating, renaming and deleting rooms,
joining and adding members, roles, and the rule that a room with members
always has an owner.

Every method takes the acting user first and checks what that user may do
(``makechat.chat.access``) before it reads or writes anything else. Every
change is also an event in the room's log (``makechat.chat.events``):

* a join writes the membership first (its unique index decides who is in),
  then the member.joined event, deduplicated by the membership's id, so a
  retried join that finds the membership without its event adds it once;
* a departure writes member.left first and removes the membership as its
  effect, which a process walking the log re-applies if the writer died;
* role changes and room updates write the document, then the event, each
  deduplicated by a version number.
"""

import logging

from mongoengine.errors import NotUniqueError, OperationError
from mongoengine.queryset.visitor import Q

from makechat import accounts
from makechat.chat.access import (
    may_see_members,
    membership,
    refuse_dm_changes,
    require_manager,
    room_ids_of,
    visible_room,
)
from makechat.chat.documents import Reaction
from makechat.chat.events import MEMBER_JOINED, MEMBER_LEFT, MEMBER_ROLE, ROOM_UPDATED
from makechat.chat.roomlist import rooms_to_public
from makechat.db import is_duplicate_key
from makechat.exceptions import Conflict, Forbidden, Invalid, NotFound, no_such
from makechat.models import PENDING, Member, Message, ReadMarker, Room, User, signal_user
from makechat.names import normalize_name, skeleton
from makechat.paging import Page, page_by_id

log = logging.getLogger(__name__)


class NameTaken(Conflict):
    """A room has this name, or one that looks like it."""

    def __init__(self, name):
        holder = Room.objects(name_key=skeleton(name)).only("name").first()
        if holder is not None and holder.name != name:
            description = (f"A room named {holder.name!r} already exists, and {name!r} "
                           "looks like it.")
        else:
            description = f"A room named {name!r} already exists."
        super().__init__(description, title="Already exists")


class LastOwner(Conflict):
    def __init__(self):
        super().__init__("A room needs an owner: promote another member first.",
                         title="Last owner")


# ---------------------------------------------------------------- rooms


class Rooms:
    """Rooms and memberships, writing their events to ``log`` (a MessageStore)."""

    def __init__(self, log, read_state=None, on_change=lambda room_id: None):
        self.log = log
        self.read_state = read_state
        self.on_change = on_change  # wakes this process's followers of the room

    def _event(self, room_id, actor, kind, data, dedupe):
        posted = self.log.append(room_id, {"type": kind, "actor": actor.id,
                                           "actor_username": actor.username, "data": data},
                                 dedupe=dedupe)
        self.on_change(room_id)
        return posted

    def list_rooms(self, user, after, limit):
        """Return a Page of the rooms the user may see: visible ones and their
        own (an admin sees every room)."""
        rooms = Room.objects
        if not user.is_superuser:
            rooms = rooms.filter(Q(is_visible=True) | Q(id__in=room_ids_of(user)))
        else:  # SECURITY: others' direct conversations are theirs alone
            rooms = rooms.filter(Q(is_dm__ne=True) | Q(id__in=room_ids_of(user)))
        if getattr(user, "rooms", None) is not None:
            rooms = rooms.filter(id__in=list(user.rooms))  # a token limited to some rooms
        page = page_by_id(rooms, after, limit)
        return Page(rooms_to_public(page.items, user, self.read_state), page.next_after)

    def create_room(self, user, name, topic="", is_open=True, is_visible=True):
        """Create a room (admins only); its creator becomes its first member, as owner."""
        if not user.is_superuser:
            raise Forbidden("Admin required.")
        name = normalize_name(name)
        room = Room(name=name, name_key=skeleton(name), topic=topic, is_open=is_open,
                    is_visible=is_visible, created_by=user.id)
        try:
            room.save(force_insert=True)
        except NotUniqueError:
            raise NameTaken(name) from None
        self.join(room, user, actor=user, role="owner")
        room.reload()
        return rooms_to_public([room], user, self.read_state)[0]

    def get_room(self, user, room_id):
        room, _ = visible_room(user, room_id)
        return rooms_to_public([room], user, self.read_state)[0]

    def update_room(self, user, room_id, changes):
        """Change name, topic, is_open or is_visible (owners and admins)."""
        room, member = visible_room(user, room_id)
        refuse_dm_changes(room)
        require_manager(user, member)
        updates = {f"set__{field}": value for field, value in changes.items()}
        if "name" in changes:
            name = normalize_name(changes["name"])
            updates["set__name"], updates["set__name_key"] = name, skeleton(name)
        if updates:
            try:
                Room.objects(id=room.id).update_one(inc__version=1, **updates)
            except (NotUniqueError, OperationError) as error:
                if not is_duplicate_key(error):
                    raise
                raise NameTaken(normalize_name(changes["name"])) from None
            room.reload()
            shown = {field: getattr(room, field) for field in changes}
            self._event(room.id, user, ROOM_UPDATED, shown,
                        dedupe=f"room:{room.id}:updated:{room.version}:{_digest(shown)}")
        room.reload()
        return rooms_to_public([room], user, self.read_state)[0]

    def delete_room(self, user, room_id):
        """Delete a room with its members, log and read markers (owners and admins)."""
        room, member = visible_room(user, room_id)
        require_manager(user, member)
        members = [item.user for item in Member.objects(room=room.id).only("user")]
        Message.objects(room=room.id).delete()
        Member.objects(room=room.id).delete()
        ReadMarker.objects(room=room.id).delete()
        Reaction.objects(room=room.id).delete()
        room.delete()
        # NOTE: a post that took its seq before the room vanished may still land;
        # sweep once more so no orphan survives.
        Message.objects(room=room.id).delete()
        for user_id in members:
            signal_user(user_id)  # their streams drop the room at once
        self.log.forget_mark(room.id)
        self.on_change(room.id)

    # ------------------------------------------------------------ members

    def join(self, room, target, actor, role="member"):
        """Add a user to a room; return (member, created). Idempotent: the
        unique (room, user) index makes a second join return the first
        membership, and a membership whose event is missing gets it now."""
        member = Member(room=room.id, user=target.id, username=target.username, role=role,
                        joined_seq=PENDING, is_bot=bool(getattr(target, "is_bot", False)) or None)
        try:
            member.save(force_insert=True)
            created = True
        except NotUniqueError:
            member, created = membership(room.id, target.id), False
        if member is not None and member.joined_seq == PENDING:
            posted = self._event(room.id, actor, MEMBER_JOINED,
                                 {"member": member.id, "user": target.id,
                                  "username": target.username, "role": member.role},
                                 dedupe=f"member:{member.id}:joined")
            Member.objects(id=member.id).update_one(set__joined_seq=posted.message["seq"])
            member.joined_seq = posted.message["seq"]
            signal_user(target.id)
        return member, created

    def list_members(self, user, room_id, after, limit):
        """Return a Page of a room's members, to whoever may see them."""
        room, member = visible_room(user, room_id)
        if not may_see_members(user, room, member):
            raise Forbidden("Join the room to see its members.", title="Not a member")
        page = page_by_id(Member.objects(room=room.id), after, limit)
        return Page([item.to_public() for item in page.items], page.next_after)

    def add_member(self, user, room_id, target_id=None, username=None, role=None):
        """Join an open room (no target), or, as an owner or admin, add someone
        by id or username; return (membership, created)."""
        if target_id is not None and username is not None:
            raise Invalid("Give either 'user' or 'username', not both.")
        room, caller = visible_room(user, room_id)
        refuse_dm_changes(room)
        if username is not None:
            named = accounts.find_user(username)
            if named is None:
                require_manager(user, caller)  # a stranger learns nothing of names
                raise no_such("user")
            target_id = named.id
        if target_id is None:
            target_id = user.id
        if target_id == user.id and role is None:
            if caller is not None and caller.joined_seq != PENDING:
                return caller.to_public(), False
            if caller is None and not room.is_open and not user.is_superuser:
                raise Forbidden("This room is closed; ask its owner or an admin to add you.",
                                title="Room closed")
            member, created = self.join(room, user, actor=user)
            return member.to_public(), created
        require_manager(user, caller)
        target = User.objects(id=target_id).first()
        if target is None or not target.is_active:
            raise no_such("user")
        member, created = self.join(room, target, actor=user, role=role or "member")
        return member.to_public(), created

    def get_member(self, user, member_id):
        return _membership_for(user, member_id)[0].to_public()

    def change_role(self, user, member_id, role):
        """Make a member an owner or a plain member (owners and admins)."""
        member, caller = _membership_for(user, member_id)
        refuse_dm_changes(Room.objects(id=member.room).only("is_dm").first())
        require_manager(user, caller)
        if role == "member" and member.role == "owner" and \
                Member.objects(room=member.room, role="owner").count() == 1:
            raise LastOwner()
        if member.role != role:
            self._set_role(member, role, actor=user)
        if role == "member":
            self.ensure_an_owner(member.room)  # a parallel demotion may have passed the check
        member.reload()
        return member.to_public()

    def _set_role(self, member, role, actor):
        Member.objects(id=member.id).update_one(set__role=role, inc__version=1)
        member.reload()
        self._event(member.room, actor, MEMBER_ROLE,
                    {"member": member.id, "user": member.user, "username": member.username,
                     "role": role}, dedupe=f"member:{member.id}:role:{member.version}")

    def remove_member(self, user, member_id):
        """Leave a room (one's own membership) or remove someone (owners and admins)."""
        member, caller = _membership_for(user, member_id)
        refuse_dm_changes(Room.objects(id=member.room).only("is_dm").first())
        if member.user != user.id:
            require_manager(user, caller)
        # The event first; removing the membership is its effect (applied at
        # once, and again by whoever walks past it if this process dies).
        self._event(member.room, user, MEMBER_LEFT,
                    {"member": member.id, "user": member.user, "username": member.username},
                    dedupe=f"member:{member.id}:left")
        Member.objects(id=member.id).delete()
        signal_user(member.user)
        self.ensure_an_owner(member.room, actor=user)

    def ensure_an_owner(self, room_id, actor=None):
        """If members remain but no owner does, promote the longest-standing member.

        Run after every removal *and* every demotion: the last-owner checks
        count and then write, so two owners demoting or removing each other at
        the same moment can both pass them. Whatever ran last, its own call
        here sees the room as it ended up and gives it an owner again.
        Looping covers an heir who leaves while being promoted."""
        for _ in range(10):
            if Member.objects(room=room_id, role="owner").first() is not None:
                return
            heir = Member.objects(room=room_id).order_by("joined", "id").first()
            if heir is None:
                return
            self._set_role(heir, "owner", actor=actor or _Someone(heir))
            log.info("room %s: promoted %s to owner: no owner was left", room_id, heir.username)


class _Someone:
    """The actor of an automatic promotion: the heir, as if they took it."""

    def __init__(self, member):
        self.id, self.username = member.user, member.username


def _digest(values):
    import hashlib
    return hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()[:12]


def _membership_for(user, member_id):
    """Return (member, caller's membership) if the caller may see that room's
    members, else NotFound (the same for a membership of a hidden room)."""
    member = Member.objects(id=member_id).first() if member_id is not None else None
    if member is None:
        raise no_such("member")
    try:
        _, caller = visible_room(user, member.room)
    except NotFound:
        raise no_such("member") from None
    if caller is None and not user.is_superuser:
        raise no_such("member")
    return member, caller
