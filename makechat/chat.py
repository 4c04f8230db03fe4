"""Rooms, memberships and messages: who may see what, and the message log.

Ordering without loss
---------------------
Each room has a counter, ``last_seq``. Posting a message takes the next
number with one atomic ``$inc`` and then inserts the message under a unique
``(room, seq)`` index. Two writers can finish out of order (7 inserted
before 6), so readers never look past ``committed_seq``: the highest number
below which every seq holds a message or a tombstone. Whoever sees that
the next numbers are filled moves the mark up (``$max``, so it only grows).

On FerretDB v1, which applies ``$inc`` and ``$max`` as a read then a
write, two posts may draw the same number or the mark may step back; the
unique index still gives each number to one message, the loser draws
again, and a mark that stepped back is walked forward again: slower, never
wrong.

A number whose writer died is a gap that would stall the mark forever. Once
a gap is older than ``gap_timeout`` a reader "punches" it: it inserts a
tombstone under that seq. If the writer was only slow, its insert then
hits the unique index, and it takes a new number and tries again before it
answers its client. So a follower that reads ``after`` its last seq up to
the mark sees every message exactly once, in history order, through any
number of processes, with no transactions (FerretDB has none).
"""

import logging
import random
import re
import threading
import time
from datetime import timedelta

import falcon
from bson import ObjectId
from pymongo import ReturnDocument
from mongoengine.errors import NotUniqueError
from pymongo.errors import DuplicateKeyError

from makechat.ids import parse_id
from makechat.models import Member, Message, Room, User, utcnow

log = logging.getLogger(__name__)

ROLES = ("owner", "member")
#: A post gives up after this many lost races for a seq (each one means a
#: reader punched its number because the post was slower than gap_timeout).
MAX_POST_ATTEMPTS = 20
#: The most seqs one walk of the mark looks at; a longer backlog takes more walks.
WALK_LIMIT = 1000
#: A seq as a cursor: ASCII digits only, small enough for an int64.
SEQ_TEXT = re.compile(r"[0-9]{1,15}")


# ---------------------------------------------------------------- access


def no_such(what):
    return falcon.HTTPNotFound(title="Not found", description=f"No such {what}.")


def membership(room_id, user_id):
    """Return the Member of user in room, or None."""
    return Member.objects(room=room_id, user=user_id).first()


def visible_room(user, room_id):
    """Return (room, member) if the user may see the room, else raise 404.

    A room is seen by its members, by admins, and (if is_visible) by every
    signed-in user. SECURITY: an invisible room is a 404, exactly like a
    room that does not exist, so its existence leaks nothing."""
    room = Room.objects(id=room_id).first() if room_id is not None else None
    if room is None:
        raise no_such("room")
    member = membership(room.id, user.id)
    if not (room.is_visible or member or user.is_superuser):
        raise no_such("room")
    return room, member


def member_room(user, room_id, action="read or post messages in"):
    """Return (room, member) if the user is a member, else 403 or 404."""
    room, member = visible_room(user, room_id)
    if member is None:
        raise falcon.HTTPForbidden(title="Not a member",
                                   description=f"Join the room to {action} it.")
    return room, member


def can_manage(user, member):
    """Admins and the room's owners manage a room."""
    return user.is_superuser or (member is not None and member.role == "owner")


def require_manager(user, member):
    if not can_manage(user, member):
        raise falcon.HTTPForbidden(title="Permission Denied",
                                   description="Only the room's owner or an admin may do this.")


def room_ids_of(user):
    """Return the ids of the rooms the user belongs to."""
    return [member.room for member in Member.objects(user=user.id).only("room")]


def room_json(room, member_ids, role, see_members=True):
    """A room as the API shows it. SECURITY: who is in a closed room (its
    members, its creator) and how far it has got (last_seq) are for its
    members and admins only; others see that it exists (it is visible), what
    it is called and what it is about."""
    shown = {
        "_id": room.id,
        "name": room.name,
        "topic": room.topic,
        "is_open": room.is_open,
        "is_visible": room.is_visible,
        "members": member_ids,
        "created": room.created,
        "created_by": room.created_by,
        "role": role,
        "last_seq": room.committed_seq,
    }
    if not see_members:
        del shown["members"], shown["last_seq"], shown["created_by"]
    return shown


def may_see_members(user, room, member):
    """Members and admins see a room's members; so does anyone who may see an
    open room, since they could join it and see them anyway."""
    return member is not None or user.is_superuser or room.is_open


def rooms_json(rooms, user):
    """Serialize rooms with their member ids, in two queries for the page."""
    ids = [room.id for room in rooms]
    members, roles = {room_id: [] for room_id in ids}, {}
    for member in Member.objects(room__in=ids).order_by("joined").only("room", "user", "role"):
        members[member.room].append(member.user)
        if member.user == user.id:
            roles[member.room] = member.role
    return [room_json(room, members[room.id], roles.get(room.id),
                      see_members=room.is_open or room.id in roles or user.is_superuser)
            for room in rooms]


def member_json(member):
    return {"_id": member.id, "room": member.room, "user": member.user,
            "username": member.username, "role": member.role, "joined": member.joined}


def add_member(room, user, role="member"):
    """Add a user to a room; return (member, created). Idempotent: the unique
    (room, user) index makes a second join return the first membership."""
    member = Member(room=room.id, user=user.id, username=user.username, role=role)
    try:
        member.save(force_insert=True)
    except NotUniqueError:
        return membership(room.id, user.id), False
    return member, True


def ensure_an_owner(room_id):
    """If members remain but no owner does, promote the longest-standing member.

    Run after every removal *and* every demotion: the last-owner checks count
    and then write, so two owners demoting or removing each other at the same
    moment can both pass them. Whatever ran last, its own call here sees the
    room as it ended up and gives it an owner again. Looping covers an heir
    who leaves while being promoted."""
    for _ in range(10):
        if Member.objects(room=room_id, role="owner").first() is not None:
            return None
        heir = Member.objects(room=room_id).order_by("joined", "id").first()
        if heir is None:
            return None
        Member.objects(id=heir.id).update_one(set__role="owner")
        log.info("room %s: promoted %s to owner: no owner was left", room_id, heir.username)
    return None


def delete_room(room):
    """Delete a room with its members and messages."""
    Message.objects(room=room.id).delete()
    Member.objects(room=room.id).delete()
    room.delete()
    # NOTE: a post that took its seq before the room vanished may still land;
    # sweep once more so no orphan survives.
    Message.objects(room=room.id).delete()


def active_user(user_id):
    user = User.objects(id=user_id).first() if user_id is not None else None
    if user is None or not user.is_active:
        raise no_such("user")
    return user


# ---------------------------------------------------------------- messages


def message_json(message):
    return {
        "_id": message["_id"],
        "room": message["room"],
        "seq": message["seq"],
        "author": message.get("author"),
        "author_username": message.get("author_username", ""),
        "text": message.get("text", ""),
        "created": message["created"],
        "edited": message.get("edited"),
    }


class SingleFlight:
    """Run one call per key at a time; callers arriving meanwhile get its result."""

    class _Call:
        def __init__(self):
            self.done = threading.Event()
            self.result = None
            self.error = None

    def __init__(self):
        self._lock = threading.Lock()
        self._calls = {}

    def do(self, key, function):
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if leader:
                call = self._calls[key] = self._Call()
        if leader:
            try:
                call.result = function()
            except Exception as error:  # noqa: BLE001 - handed to every caller
                call.error = error
            finally:
                with self._lock:
                    del self._calls[key]
                call.done.set()
        else:
            call.done.wait()
        if call.error is not None:
            raise call.error
        return call.result


class IdempotencyConflict(Exception):
    """An Idempotency-Key was reused for a different message."""


class PostFailed(Exception):
    """A post lost the race for a sequence number too many times."""


class MessageStore:
    """The message log of every room (see the module docstring)."""

    def __init__(self, gap_timeout, on_commit=None):
        self.gap_timeout = timedelta(seconds=gap_timeout)
        self.on_commit = on_commit or (lambda room_id, mark: None)
        self._flights = SingleFlight()

    @property
    def messages(self):
        return Message._get_collection()

    @property
    def rooms(self):
        return Room._get_collection()

    # -- writing

    def post(self, room_id, author, text, idempotency_key=None):
        """Store a message; return (document, replayed)."""
        dedupe = f"{author.id}:{idempotency_key}" if idempotency_key else None
        if dedupe:
            existing = self.messages.find_one({"dedupe": dedupe})
            if existing is not None:
                return self._replay(existing, room_id, text), True
        for _ in range(MAX_POST_ATTEMPTS):
            seq = self._allocate(room_id)
            document = {
                "_id": ObjectId(), "room": room_id, "seq": seq, "author": author.id,
                "author_username": author.username, "text": text, "created": utcnow(),
                "edited": None, "deleted": False,
            }
            document["dedupe"] = dedupe or f"id:{document['_id']}"
            try:
                self.messages.insert_one(document)
            except DuplicateKeyError:
                if dedupe:
                    existing = self.messages.find_one({"dedupe": dedupe})
                    if existing is not None:
                        # A twin request with the same key won; give our
                        # number back as a tombstone and answer with theirs.
                        self._punch(room_id, seq)
                        self._commit(room_id, seq)
                        return self._replay(existing, room_id, text), True
                # Someone else holds this number: a reader punched it while we
                # were slow, or (FerretDB only) the counter lost an update.
                log.info("room %s: seq %s is taken; posting under a new one", room_id, seq)
                self._catch_up(room_id)
                continue
            except Exception:
                # SECURITY: the number is spent but nothing was stored (the
                # database refused the document, or went away): fill it with
                # a tombstone now, so followers never wait gap_timeout on it.
                self._give_back(room_id, seq)
                raise
            self._commit(room_id, seq)
            return document, False
        raise PostFailed(f"could not post in room {room_id}")

    def _replay(self, existing, room_id, text):
        if existing["room"] != room_id or existing.get("text") != text:
            raise IdempotencyConflict()
        return existing

    def _allocate(self, room_id):
        room = self.rooms.find_one_and_update(
            {"_id": room_id}, {"$inc": {"last_seq": 1}, "$set": {"seq_at": utcnow()}},
            return_document=ReturnDocument.AFTER)  # NOTE: FerretDB v1 has no projection here
        if room is None:
            raise no_such("room")
        return room["last_seq"]

    def _catch_up(self, room_id):
        """Raise the counter to the highest seq in use.

        NOTE: MongoDB applies $inc atomically, so this only matters after a
        punched gap. FerretDB v1 applies $inc and findAndModify as read then
        write, so concurrent posts can draw the same number; the unique
        (room, seq) index still lets only one of them have it, and this
        moves the losers past every number already taken."""
        top = self.messages.find_one({"room": room_id}, {"seq": 1}, sort=[("seq", -1)])
        if top is not None:
            self.rooms.update_one({"_id": room_id}, {"$max": {"last_seq": top["seq"]}})
        time.sleep(random.uniform(0, 0.005))

    def _commit(self, room_id, seq):
        """Move the mark past seq if seq was next; else let a walk sort it out."""
        before = self.rooms.find_one_and_update(
            {"_id": room_id, "committed_seq": seq - 1}, {"$set": {"committed_seq": seq}})
        mark = seq
        if before is None or before.get("last_seq", 0) > seq:
            # Out of order (an earlier number is still being written) or later
            # numbers already landed: walk to find how far the mark may go.
            mark = self.advance(room_id)
        self.on_commit(room_id, mark)

    def _give_back(self, room_id, seq):
        """Tombstone a seq whose insert failed, if the database lets us."""
        try:
            self._punch(room_id, seq)
            self._commit(room_id, seq)
        except Exception:  # noqa: BLE001 - readers punch it after gap_timeout
            log.warning("room %s: could not give back seq %s", room_id, seq, exc_info=True)

    def _punch(self, room_id, seq):
        """Fill seq with a tombstone; return False if a message got there first."""
        try:
            self.messages.insert_one({
                "_id": ObjectId(), "room": room_id, "seq": seq, "author": None,
                "author_username": "", "text": "", "created": utcnow(), "edited": None,
                "deleted": True, "dedupe": f"gap:{room_id}:{seq}"})
            return True
        except DuplicateKeyError:
            return False

    # -- the committed mark

    def mark(self, room_id):
        """Return committed_seq, advancing it first if messages lie beyond it."""
        room = self.rooms.find_one({"_id": room_id},
                                   {"last_seq": 1, "committed_seq": 1, "seq_at": 1})
        if room is None:
            raise no_such("room")
        # NOTE: always walk (an indexed range that is usually empty) rather
        # than trust last_seq, which FerretDB may leave behind (see _catch_up).
        return self.advance(room_id, room)

    def advance(self, room_id, room=None):
        """Walk the seqs past committed_seq, punching gaps older than
        gap_timeout; raise the mark as far as they are filled; return it."""
        if room is None:
            room = self.rooms.find_one({"_id": room_id},
                                       {"last_seq": 1, "committed_seq": 1, "seq_at": 1})
            if room is None:
                return 0
        committed, last = room.get("committed_seq", 0), room.get("last_seq", 0)
        stale_before = utcnow() - self.gap_timeout
        mark = committed
        # NOTE: no upper bound at last_seq: on FerretDB the counter can lag
        # behind the numbers in use (see _catch_up).
        cursor = self.messages.find(
            {"room": room_id, "seq": {"$gt": committed}},
            {"seq": 1, "created": 1}).sort("seq", 1).limit(WALK_LIMIT)
        stalled = False
        for message in cursor:
            if message["seq"] > mark + 1:
                # Gap before this message: older than gap_timeout means its
                # writer is gone (it took its number before this one).
                if message["created"] > stale_before:
                    stalled = True
                    break
                for seq in range(mark + 1, message["seq"]):
                    self._punch(room_id, seq)
            mark = message["seq"]
        if not stalled and mark < last and mark - committed < WALK_LIMIT:
            seq_at = room.get("seq_at")
            if seq_at is not None and seq_at <= stale_before:
                for seq in range(mark + 1, last + 1):
                    self._punch(room_id, seq)
                mark = last
        if mark > committed:
            self.rooms.update_one({"_id": room_id}, {"$max": {"committed_seq": mark}})
        return mark

    # -- reading

    def seq_of(self, room_id, value):
        """Resolve a cursor (a message id of this room, or a seq number)."""
        # NOTE: str.isdigit() also accepts "²" and other digits int() refuses.
        if isinstance(value, str) and SEQ_TEXT.fullmatch(value):
            return int(value)
        message_id = parse_id(value)
        message = self.messages.find_one({"_id": message_id, "room": room_id}, {"seq": 1}) \
            if message_id else None
        if message is None:
            raise no_such("message")
        return message["seq"]

    def latest(self, room_id, limit):
        return self.before(room_id, None, limit)

    def before(self, room_id, seq, limit):
        """Return up to limit messages just before seq (None: the latest), oldest first."""
        mark = self.mark(room_id)
        upper = mark if seq is None else min(seq - 1, mark)
        # PERF: a range on the unique (room, seq) index with a limit; no skip().
        found = list(self.messages.find(
            {"room": room_id, "seq": {"$lte": upper}, "deleted": False}
        ).sort("seq", -1).limit(limit))
        found.reverse()
        return found

    def after(self, room_id, seq, limit, mark=None):
        """Return up to limit messages just after seq, up to the mark, oldest first."""
        mark = self.mark(room_id) if mark is None else mark
        if mark <= seq:
            return []
        return list(self.messages.find(
            {"room": room_id, "seq": {"$gt": seq, "$lte": mark}, "deleted": False}
        ).sort("seq", 1).limit(limit))

    def shared_mark(self, room_id):
        """mark(), with simultaneous callers in this process sharing one walk."""
        return self._flights.do(("mark", room_id), lambda: self.mark(room_id))

    def shared_after(self, room_id, seq, limit, mark):
        """after() for a known mark, with identical simultaneous calls sharing one
        query: a post wakes every follower of a room at once, and they mostly
        hold the same cursor (PERF: 1,000 waiters cost one query, not 1,000)."""
        return self._flights.do(("after", room_id, seq, limit, mark),
                                lambda: self.after(room_id, seq, limit, mark=mark))

    def get(self, message_id):
        return self.messages.find_one({"_id": message_id, "deleted": False})

    def edit(self, message_id, text):
        now = utcnow()
        self.messages.update_one({"_id": message_id, "deleted": False},
                                 {"$set": {"text": text, "edited": now}})
        return self.get(message_id)

    def delete(self, message_id):
        """Turn a message into a tombstone: its seq stays, its text goes."""
        self.messages.update_one({"_id": message_id}, {"$set": {
            "deleted": True, "text": "", "author_username": "", "edited": utcnow()}})
