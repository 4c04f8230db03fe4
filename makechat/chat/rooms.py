"""Rooms and memberships: listing, creating, renaming and deleting rooms,
joining and adding members, roles, and the rule that a room with members
always has an owner.

Every function takes the acting user first and checks what that user may do
(``makechat.chat.access``) before it reads or writes anything else.
"""

import logging

from mongoengine.errors import NotUniqueError, OperationError
from mongoengine.queryset.visitor import Q

from makechat import accounts
from makechat.chat.access import (may_see_members, membership, require_manager, room_ids_of,
                                  visible_room)
from makechat.db import is_duplicate_key
from makechat.exceptions import Conflict, Forbidden, Invalid, NotFound, no_such
from makechat.models import Member, Message, Room, User
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


def rooms_to_public(rooms, user):
    """Serialize rooms with their member ids, in one query for the page."""
    ids = [room.id for room in rooms]
    members, roles = {room_id: [] for room_id in ids}, {}
    for member in Member.objects(room__in=ids).order_by("joined").only("room", "user", "role"):
        members[member.room].append(member.user)
        if member.user == user.id:
            roles[member.room] = member.role
    return [room.to_public(members[room.id], roles.get(room.id),
                           see_members=room.is_open or room.id in roles or user.is_superuser)
            for room in rooms]


def list_rooms(user, after, limit):
    """Return a Page of the rooms the user may see: visible ones and their own
    (an admin sees every room)."""
    rooms = Room.objects
    if not user.is_superuser:
        rooms = rooms.filter(Q(is_visible=True) | Q(id__in=room_ids_of(user)))
    page = page_by_id(rooms, after, limit)
    return Page(rooms_to_public(page.items, user), page.next_after)


def create_room(user, name, topic="", is_open=True, is_visible=True):
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
    add_membership(room, user, role="owner")
    return rooms_to_public([room], user)[0]


def get_room(user, room_id):
    room, _ = visible_room(user, room_id)
    return rooms_to_public([room], user)[0]


def update_room(user, room_id, changes):
    """Change name, topic, is_open or is_visible (owners and admins)."""
    room, member = visible_room(user, room_id)
    require_manager(user, member)
    updates = {f"set__{field}": value for field, value in changes.items()}
    if "name" in changes:
        name = normalize_name(changes["name"])
        updates["set__name"], updates["set__name_key"] = name, skeleton(name)
    if updates:
        try:
            Room.objects(id=room.id).update_one(**updates)
        except (NotUniqueError, OperationError) as error:
            if not is_duplicate_key(error):
                raise
            raise NameTaken(normalize_name(changes["name"])) from None
    room.reload()
    return rooms_to_public([room], user)[0]


def delete_room(user, room_id):
    """Delete a room with its members and messages (owners and admins)."""
    room, member = visible_room(user, room_id)
    require_manager(user, member)
    Message.objects(room=room.id).delete()
    Member.objects(room=room.id).delete()
    room.delete()
    # NOTE: a post that took its seq before the room vanished may still land;
    # sweep once more so no orphan survives.
    Message.objects(room=room.id).delete()


# ---------------------------------------------------------------- members


def add_membership(room, user, role="member"):
    """Add a user to a room; return (member, created). Idempotent: the unique
    (room, user) index makes a second join return the first membership."""
    member = Member(room=room.id, user=user.id, username=user.username, role=role)
    try:
        member.save(force_insert=True)
    except NotUniqueError:
        return membership(room.id, user.id), False
    return member, True


def list_members(user, room_id, after, limit):
    """Return a Page of a room's members, to whoever may see them."""
    room, member = visible_room(user, room_id)
    if not may_see_members(user, room, member):
        raise Forbidden("Join the room to see its members.", title="Not a member")
    page = page_by_id(Member.objects(room=room.id), after, limit)
    return Page([item.to_public() for item in page.items], page.next_after)


def add_member(user, room_id, target_id=None, username=None, role=None):
    """Join an open room (no target), or, as an owner or admin, add someone by
    id or username; return (membership, created)."""
    if target_id is not None and username is not None:
        raise Invalid("Give either 'user' or 'username', not both.")
    room, caller = visible_room(user, room_id)
    if username is not None:
        named = accounts.find_user(username)
        if named is None:
            require_manager(user, caller)  # a stranger learns nothing of names
            raise no_such("user")
        target_id = named.id
    if target_id is None:
        target_id = user.id
    if target_id == user.id and role is None:
        if caller is not None:
            return caller.to_public(), False
        if not room.is_open and not user.is_superuser:
            raise Forbidden("This room is closed; ask its owner or an admin to add you.",
                            title="Room closed")
        member, created = add_membership(room, user)
        return member.to_public(), created
    require_manager(user, caller)
    target = User.objects(id=target_id).first()
    if target is None or not target.is_active:
        raise no_such("user")
    member, created = add_membership(room, target, role=role or "member")
    return member.to_public(), created


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


def get_member(user, member_id):
    return _membership_for(user, member_id)[0].to_public()


def change_role(user, member_id, role):
    """Make a member an owner or a plain member (owners and admins)."""
    member, caller = _membership_for(user, member_id)
    require_manager(user, caller)
    if role == "member" and member.role == "owner" and \
            Member.objects(room=member.room, role="owner").count() == 1:
        raise LastOwner()
    Member.objects(id=member.id).update_one(set__role=role)
    if role == "member":
        ensure_an_owner(member.room)  # a parallel demotion may have passed the check
    member.reload()
    return member.to_public()


def remove_member(user, member_id):
    """Leave a room (one's own membership) or remove someone (owners and admins)."""
    member, caller = _membership_for(user, member_id)
    if member.user != user.id:
        require_manager(user, caller)
    member.delete()
    ensure_an_owner(member.room)


def ensure_an_owner(room_id):
    """If members remain but no owner does, promote the longest-standing member.

    Run after every removal *and* every demotion: the last-owner checks count
    and then write, so two owners demoting or removing each other at the same
    moment can both pass them. Whatever ran last, its own call here sees the
    room as it ended up and gives it an owner again. Looping covers an heir
    who leaves while being promoted."""
    for _ in range(10):
        if Member.objects(room=room_id, role="owner").first() is not None:
            return
        heir = Member.objects(room=room_id).order_by("joined", "id").first()
        if heir is None:
            return
        Member.objects(id=heir.id).update_one(set__role="owner")
        log.info("room %s: promoted %s to owner: no owner was left", room_id, heir.username)
