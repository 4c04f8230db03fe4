"""The log of each room: gapless, ordered, without transactions.

NOTE: longer than most modules: allocation, commit, the walk and the reads
share invariants that are easiest to check side by side.

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
import time
from datetime import timedelta
from typing import NamedTuple

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from makechat.chat.events import DELETED, EDITED, GAP, IS_MESSAGE, MESSAGE, apply_effect
from makechat.chat.singleflight import SingleFlight
from makechat.exceptions import Busy, Conflict, no_such
from makechat.ids import parse_id
from makechat.models import Message, Room, utcnow

log = logging.getLogger(__name__)

#: A post gives up after this many lost races for a seq (each one means a
#: reader punched its number because the post was slower than gap_timeout).
MAX_POST_ATTEMPTS = 20
#: The most seqs one walk of the mark looks at; a longer backlog takes more walks.
WALK_LIMIT = 1000
#: A seq as a cursor: ASCII digits only, small enough for an int64.
SEQ_TEXT = re.compile(r"[0-9]{1,15}")



class IdempotencyConflict(Conflict):
    """An Idempotency-Key was reused for a different message."""

    def __init__(self):
        super().__init__("This Idempotency-Key was already used for a different message.",
                         title="Idempotency-Key reused")


class PostFailed(Busy):
    """A post lost the race for a sequence number too many times."""

    def __init__(self):
        super().__init__("The room is too busy right now; retry.", retry_after=1)


class Posted(NamedTuple):
    """What a post stored (or replayed), and the room's mark after it."""

    message: dict
    replayed: bool
    mark: int


class MessageStore:
    """The message log of every room (see the module docstring)."""

    def __init__(self, gap_timeout, mark_ttl=0.0):
        self.gap_timeout = timedelta(seconds=gap_timeout)
        self._flights = SingleFlight()
        # Marks this process learnt (its own commits, the watcher's polls):
        # reading up to a mark that lags is safe (it only grows), so a fresh
        # enough one saves the room's read on a busy room. PERF.
        self.mark_ttl = mark_ttl
        self._marks = {}
        # Whether the room's counter (last_seq) can be trusted: MongoDB applies
        # $inc atomically; FerretDB v1 may lose an increment, so a number in
        # use can lie beyond it and readers always walk (set by the app once
        # it knows which server it talks to; False, the safe way, until then).
        self.trust_counter = False

    @property
    def messages(self):
        return Message._get_collection()

    @property
    def rooms(self):
        return Room._get_collection()

    # -- writing

    def post(self, room_id, author, text, idempotency_key=None, extra=None):
        """Store a message (with ``extra`` fields: words, mentions, a reply's);
        return Posted(document, replayed, mark)."""
        dedupe = f"{author.id}:{idempotency_key}" if idempotency_key else None
        fields = {"type": MESSAGE, "author": author.id, "author_username": author.username,
                  "text": text, "edited": None, "deleted": False, "edit_seq": 0, **(extra or {})}
        if getattr(author, "is_bot", False):
            fields["bot"] = True  # shown as is_bot (makechat.models.message_to_public)
        posted = self.append(room_id, fields, dedupe)
        if posted.replayed:
            self._replay(posted.message, room_id, text)
        return posted

    def append(self, room_id, fields, dedupe=None):
        """Give ``fields`` the room's next seq and store them; return
        Posted(document, replayed, mark). With ``dedupe``, at most one
        document ever holds that key: a second append with it replays the
        first (an Idempotency-Key retry, or an event appended twice)."""
        if dedupe:
            existing = self.messages.find_one({"dedupe": dedupe})
            if existing is not None:
                return Posted(existing, True, existing["seq"])
        for _ in range(MAX_POST_ATTEMPTS):
            seq = self._allocate(room_id)
            document = {"_id": ObjectId(), "room": room_id, "seq": seq, "created": utcnow(),
                        **fields}
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
                        mark = self._commit(room_id, seq)
                        return Posted(existing, True, mark)
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
            apply_effect(self.messages, document)
            return Posted(document, False, self._commit(room_id, seq))
        log.warning("room %s: gave up posting after %s lost races", room_id, MAX_POST_ATTEMPTS)
        raise PostFailed()

    def _replay(self, existing, room_id, text):
        if existing["room"] != room_id or existing.get("type", MESSAGE) != MESSAGE \
                or existing.get("text") != text:
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
        """Move the mark past seq if seq was next, else let a walk sort it out;
        return the mark."""
        before = self.rooms.find_one_and_update(
            {"_id": room_id, "committed_seq": seq - 1}, {"$set": {"committed_seq": seq}})
        mark = seq
        if before is None or before.get("last_seq", 0) > seq:
            # Out of order (an earlier number is still being written) or later
            # numbers already landed: walk to find how far the mark may go.
            mark = self.advance(room_id)
        else:
            self.remember_mark(room_id, mark)
        return mark

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
                "_id": ObjectId(), "room": room_id, "seq": seq, "type": GAP, "author": None,
                "author_username": "", "text": "", "created": utcnow(), "edited": None,
                "deleted": True, "dedupe": f"gap:{room_id}:{seq}"})
            return True
        except DuplicateKeyError:
            return False

    # -- the committed mark

    def mark(self, room_id):
        """Return committed_seq, advancing it first if numbers were given out
        beyond it (a post in flight, or one whose writer died)."""
        room = self.rooms.find_one({"_id": room_id},
                                   {"last_seq": 1, "committed_seq": 1, "seq_at": 1})
        if room is None:
            raise no_such("room")
        committed = room.get("committed_seq", 0)
        if self.trust_counter and room.get("last_seq", 0) <= committed:
            # PERF: nothing was given out beyond the mark: no walk (MongoDB).
            self.remember_mark(room_id, committed)
            return committed
        # NOTE: on FerretDB the counter can lag behind the numbers in use (see
        # _catch_up): walk (an indexed range that is usually empty).
        return self.advance(room_id, room)

    def remember_mark(self, room_id, mark):
        """Note a mark known to be committed now (it only ever grows)."""
        known = self._marks.get(room_id)
        if known is None or mark >= known[0]:
            self._marks[room_id] = (mark, time.monotonic())

    def forget_mark(self, room_id):
        self._marks.pop(room_id, None)

    def known_mark(self, room_id):
        """A mark this process learnt less than mark_ttl ago, else None."""
        known = self._marks.get(room_id)
        if known is not None and time.monotonic() - known[1] < self.mark_ttl:
            return known[0]
        return None

    def read_mark(self, room_id):
        """The mark to read up to: a fresh one this process knows, else mark()."""
        known = self.known_mark(room_id)
        return known if known is not None else self.shared_mark(room_id)

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
            {"seq": 1, "created": 1, "type": 1, "data": 1}).sort("seq", 1).limit(WALK_LIMIT)
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
            # An event's effect is in place before the mark passes it: its
            # writer applies it first, but may have died in between.
            apply_effect(self.messages, message)
            mark = message["seq"]
        if not stalled and mark < last and mark - committed < WALK_LIMIT:
            seq_at = room.get("seq_at")
            if seq_at is not None and seq_at <= stale_before:
                for seq in range(mark + 1, last + 1):
                    self._punch(room_id, seq)
                mark = last
        if mark > committed:
            self.rooms.update_one({"_id": room_id}, {"$max": {"committed_seq": mark}})
        self.remember_mark(room_id, mark)
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

    def before(self, room_id, seq, limit, where=None):
        """Return up to limit messages just before seq (None: the latest), oldest
        first (only those matching ``where``, a filter: a thread's)."""
        mark = self.read_mark(room_id)
        upper = mark if seq is None else min(seq - 1, mark)
        # PERF: a range on the unique (room, seq) index with a limit; no skip().
        found = list(self.messages.find(
            {"room": room_id, "seq": {"$lte": upper}, "type": IS_MESSAGE, "deleted": False,
             **(where or {})}
        ).sort("seq", -1).limit(limit))
        found.reverse()
        return found

    def after(self, room_id, seq, limit, mark=None, where=None):
        """Return up to limit messages just after seq, up to the mark, oldest
        first (only those matching ``where``)."""
        mark = self.mark(room_id) if mark is None else mark
        if mark <= seq:
            return []
        return list(self.messages.find(
            {"room": room_id, "seq": {"$gt": seq, "$lte": mark}, "type": IS_MESSAGE,
             "deleted": False, **(where or {})}
        ).sort("seq", 1).limit(limit))

    def events(self, room_id, seq, limit, mark=None):
        """Return up to limit log entries (of every type, gap fillers too) just
        after seq, up to the mark, oldest first."""
        mark = self.mark(room_id) if mark is None else mark
        if mark <= seq:
            return []
        return list(self.messages.find(
            {"room": room_id, "seq": {"$gt": seq, "$lte": mark}}).sort("seq", 1).limit(limit))

    def shared_events(self, room_id, seq, limit, mark):
        """events() for a known mark, shared like shared_after."""
        return self._flights.do(("events", room_id, seq, limit, mark),
                                lambda: self.events(room_id, seq, limit, mark=mark))

    def shared_mark(self, room_id):
        """mark(), with simultaneous callers in this process sharing one walk."""
        return self._flights.do(("mark", room_id), lambda: self.mark(room_id))

    def shared_after(self, room_id, seq, limit, mark, where=None):
        """after() for a known mark, with identical simultaneous calls sharing one
        query: a post wakes every follower of a room at once, and they mostly
        hold the same cursor (PERF: 1,000 waiters cost one query, not 1,000)."""
        return self._flights.do(("after", room_id, seq, limit, mark, repr(where)),
                                lambda: self.after(room_id, seq, limit, mark=mark, where=where))

    def get(self, message_id):
        return self.messages.find_one({"_id": message_id, "type": IS_MESSAGE, "deleted": False})

    def edit(self, message, actor, text):
        """Change a message's text: an event in its room's log (applied to the
        message before the mark passes it); return the message as it is now."""
        self.append(message["room"], {
            "type": EDITED, "actor": actor.id, "actor_username": actor.username,
            "data": {"message": message["_id"], "text": text, "edited": utcnow()}})
        return self.messages.find_one({"_id": message["_id"]})

    def delete(self, message, actor):
        """Turn a message into a tombstone (its seq stays, its text goes), by
        an event in its room's log."""
        self.append(message["room"], {
            "type": DELETED, "actor": actor.id, "actor_username": actor.username,
            "data": {"message": message["_id"]}}, dedupe=f"deleted:{message['_id']}")
