"""What each user has read: a marker per room, in the room's own sequence.

A marker only moves forward (an older or equal ``seq`` changes nothing), so
two tabs, a retry or a late request can never move it back: see
``makechat.models.ReadMarker`` for how that holds without atomic updates. Unread counts
are counted from the log when asked for, never kept as counters that could
drift: the messages after the marker, up to the room's committed mark, that
are not deleted and not the user's own.
"""

from pymongo.errors import DuplicateKeyError

from makechat.chat.access import member_room
from makechat.chat.events import IS_MESSAGE
from makechat.exceptions import Invalid
from makechat.models import Message, ReadMarker, signal_user, utcnow


class ReadState:
    def __init__(self, log):
        self.log = log

    @property
    def markers(self):
        return ReadMarker._get_collection()

    def mark_read(self, user, room_id, seq):
        """Move the user's marker in a room forward to seq; return
        ``{"room", "read_seq", "unread"}`` as it is afterwards."""
        room, _ = member_room(user, room_id, action="mark messages read in")
        mark = self.log.mark(room.id)
        if seq > mark:
            raise Invalid(f"The 'seq' parameter is beyond the room's latest event ({mark}).")
        read_seq = self.read_seqs(user, [room.id]).get(room.id, 0)
        if seq > read_seq:
            try:
                self.markers.insert_one({"user": user.id, "room": room.id, "seq": seq,
                                         "at": utcnow()})
            except DuplicateKeyError:
                pass  # a parallel request moved it here too
            # The lower ones say nothing any more (the highest counts).
            self.markers.delete_many({"user": user.id, "room": room.id, "seq": {"$lt": seq}})
            signal_user(user.id)  # the user's other tabs clear their badges
            read_seq = self.read_seqs(user, [room.id]).get(room.id, 0)
        return {"room": room.id, "read_seq": read_seq,
                "unread": self.unread(user, {room.id: (read_seq, mark)})[room.id]}

    def read_seqs(self, user, room_ids):
        """Return {room id: read seq} for the rooms given (0 where never read)."""
        found = {}
        for doc in self.markers.find({"user": user.id, "room": {"$in": list(room_ids)}},
                                     {"room": 1, "seq": 1}):
            found[doc["room"]] = max(doc["seq"], found.get(doc["room"], 0))
        return {room_id: found.get(room_id, 0) for room_id in room_ids}

    def unread(self, user, positions):
        """Return {room id: unread count} for {room id: (read_seq, mark)}, in
        one aggregation over every room asked for."""
        wanted = [{"room": room_id, "seq": {"$gt": read_seq, "$lte": mark}}
                  for room_id, (read_seq, mark) in positions.items() if mark > read_seq]
        counts = {room_id: 0 for room_id in positions}
        if wanted:
            pipeline = [{"$match": {"$or": wanted, "type": IS_MESSAGE, "deleted": False,
                                    "author": {"$ne": user.id}}},
                        {"$group": {"_id": "$room", "unread": {"$sum": 1}}}]
            for row in Message._get_collection().aggregate(pipeline):
                counts[row["_id"]] = row["unread"]
        return counts
