"""One stream of events for all of a user's rooms, resumable from a cursor.

The cursor says, for every room of the stream, the last seq delivered. A
client that reconnects with it (SSE's Last-Event-ID, or ``?cursor=``) gets
exactly the events it has not seen: nothing lost, nothing repeated, however
long it was away (the log keeps everything; a cursor the log cannot honour,
one beyond a room's end after a restore from an older backup, gets an
explicit ``stream.reset`` for that room, never a silent gap).

The rooms of a stream are the user's memberships, looked at again whenever
the user's stream token changes (a join, a departure, a read marker, a
revoked token: ``makechat.models.signal_user``). A room joined while away
starts just before the user's own member.joined event; a room left while
away is followed up to the user's member.left event, then dropped.

Besides the rooms' events a stream carries the user's own read markers
(``read``: a state, sent when it changes and once on connecting),
``stream.removed`` when a room leaves the stream (deleted, or left), and
``mention`` right after each message that mentions the user
(``makechat.chat.mentions``).
"""

import base64
import binascii
from dataclasses import dataclass, field

from bson import ObjectId

from makechat.chat.access import within_token
from makechat.chat.events import MEMBER_LEFT, event_to_public
from makechat.chat.mentions import mention_event
from makechat.exceptions import Invalid
from makechat.models import PENDING, Member, Message, ReadMarker, Room, Token, User, utcnow

CURSOR_VERSION = "1"
#: The most log entries read from one room in one step.
BATCH = 200


def encode_cursor(positions):
    """The text of a cursor: a version, then each room's id and seq, compact."""
    raw = bytearray()
    for room_id in sorted(positions, key=lambda oid: oid.binary):
        raw += room_id.binary
        seq = positions[room_id]
        while True:  # unsigned LEB128
            byte, seq = seq & 0x7F, seq >> 7
            raw.append(byte | (0x80 if seq else 0))
            if not seq:
                break
    return f"{CURSOR_VERSION}.{base64.urlsafe_b64encode(bytes(raw)).decode().rstrip('=')}"


def decode_cursor(text):
    """Return {room id: seq} of a cursor, or raise Invalid."""
    version, _, body = (text or "").partition(".")
    if version != CURSOR_VERSION or len(text) > 20000:
        raise Invalid("The cursor is not one this server gave out.", title="Invalid cursor")
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("The cursor is not one this server gave out.",
                      title="Invalid cursor") from None
    positions, index = {}, 0
    while index < len(raw):
        if index + 13 > len(raw):
            raise Invalid("The cursor is cut short.", title="Invalid cursor")
        room_id, index = ObjectId(raw[index:index + 12]), index + 12
        seq, shift = 0, 0
        while True:
            if index >= len(raw) or shift > 56:
                raise Invalid("The cursor is cut short.", title="Invalid cursor")
            byte = raw[index]
            index += 1
            seq |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        positions[room_id] = seq
    return positions


@dataclass
class StreamState:
    """Where a stream stands: each room's last delivered seq, the read markers
    last sent, the rooms followed only up to the user's departure (room ->
    the seq of their member.left), the user's stream token last seen, and the
    id of the auth token the stream runs on (it ends when that is revoked)."""

    positions: dict
    reads: dict = field(default_factory=dict)
    leaving: dict = field(default_factory=dict)
    token: str | None = None
    token_id: object = None

    @property
    def cursor(self):
        return encode_cursor(self.positions)


class Streams:
    def __init__(self, log, watcher):
        self.log = log
        self.watcher = watcher

    @staticmethod
    def _memberships(user):
        return {member.room: member for member in
                Member.objects(user=user.id).only("room", "joined_seq")
                if within_token(user, member.room)}

    def _marks(self, room_ids, walked=False):
        """Each existing room's mark: a fresh one this process knows (the
        watcher's polls and local posts keep them), else (or when ``walked``)
        walked forward (the committed_seq stored may lag, or on FerretDB v1
        step back, never the walked mark). PERF: a stream woken by a post reads
        no mark, as GET /api/messages does not; the rooms not known are read in
        one query. A deleted room has no mark (a known one lasts at most
        mark_ttl). A known mark may be behind: use ``walked`` to tell whether
        a cursor is beyond a room's end."""
        marks, unknown = {}, []
        for room_id in room_ids:
            known = None if walked else self.log.known_mark(room_id)
            if known is None:
                unknown.append(room_id)
            else:
                marks[room_id] = known
        if unknown:
            for room in Room._get_collection().find(
                    {"_id": {"$in": unknown}}, {"last_seq": 1, "committed_seq": 1, "seq_at": 1}):
                marks[room["_id"]] = self.log.advance(room["_id"], room)
        return marks

    def open(self, user, token_id, cursor=None):
        """Return (StreamState, first events): from now on without a cursor,
        else from the cursor's positions. Each event is a pair (event, the
        cursor after it)."""
        memberships = self._memberships(user)
        state = StreamState(positions={}, token=_token_of(user), token_id=token_id)
        events = []
        if cursor is None:
            marks = self._marks(memberships)
            state.positions = {room_id: marks.get(room_id, 0) for room_id in memberships}
        else:
            state.positions = decode_cursor(cursor)
            events += self._resync(user, state, memberships)
        events += self._reads(user, state)
        return state, [(event, state.cursor) for event in events]

    def _resync(self, user, state, memberships):
        """Bring the stream's rooms in line with the memberships; return the
        stream.removed and stream.reset events that says so."""
        events = []
        # NOTE: walked marks: a cursor made on another process may be
        # ahead of what this one knows, and is not "beyond the end" for that.
        marks = self._marks(set(memberships) | set(state.positions), walked=True)
        for room_id, member in memberships.items():
            if room_id not in state.positions:
                joined = member.joined_seq
                state.positions[room_id] = marks.get(room_id, 0) if joined is None or \
                    joined == PENDING else joined - 1
            elif state.positions[room_id] > marks.get(room_id, 0):
                # Beyond the room's end: the log was restored from an older
                # backup. Say so; the client reloads the room.
                state.positions[room_id] = marks.get(room_id, 0)
                events.append(_synthetic("stream.reset", room_id,
                                         {"reason": "the room's log is shorter than the cursor; "
                                                    "reload its history"}))
        for room_id in [room for room in state.positions if room not in memberships]:
            if room_id in state.leaving:
                continue
            left = Message._get_collection().find_one(
                {"room": room_id, "type": MEMBER_LEFT, "data.user": user.id,
                 "seq": {"$gt": state.positions[room_id]}}, {"seq": 1}, sort=[("seq", 1)])
            if left is not None and room_id in marks:
                state.leaving[room_id] = left["seq"]  # follow it up to the departure
            else:
                del state.positions[room_id]
                state.reads.pop(room_id, None)
                events.append(_synthetic("stream.removed", room_id, {}))
        return events

    def _reads(self, user, state):
        """read events for the markers that changed since last sent."""
        events, highest = [], {}
        for marker in ReadMarker._get_collection().find(
                {"user": user.id, "room": {"$in": list(state.positions)}},
                {"room": 1, "seq": 1}):
            highest[marker["room"]] = max(marker["seq"], highest.get(marker["room"], 0))
        for room_id, seq in highest.items():
            if state.reads.get(room_id) != seq:
                state.reads[room_id] = seq
                events.append(_synthetic("read", room_id, {"seq": seq}))
        return events

    def step(self, user, state, rooms=None):
        """Return the events after the state (of ``rooms``, or all), advancing
        it: pairs (event, the cursor after it)."""
        wanted = state.positions if rooms is None else \
            {room: state.positions[room] for room in rooms if room in state.positions}
        marks = self._marks(wanted)
        events = []
        for room_id, seq in list(wanted.items()):
            mark = marks.get(room_id)
            if mark is None:  # the room was deleted
                self._drop(state, room_id, events)
                continue
            end = min(mark, state.leaving.get(room_id, mark))
            while seq < end and room_id in state.positions:
                entries = self.log.shared_events(room_id, seq, BATCH, end)
                if not entries:
                    break
                for entry in entries:
                    seq = state.positions[room_id] = entry["seq"]
                    shown = event_to_public(entry)
                    if shown is not None:
                        events.append((shown, state.cursor))
                        mention = mention_event(entry, user.id)
                        if mention is not None:  # derived from the entry: resumes with it
                            events.append((mention, state.cursor))
                    if entry.get("type") == MEMBER_LEFT and \
                            (entry.get("data") or {}).get("user") == user.id:
                        # SECURITY: the user's own departure is the last event
                        # of the room they see.
                        self._drop(state, room_id, events)
                        break
            if room_id in state.leaving and state.positions.get(room_id, 0) >= \
                    state.leaving[room_id]:
                self._drop(state, room_id, events)
        return events

    @staticmethod
    def _drop(state, room_id, events):
        state.positions.pop(room_id, None)
        state.leaving.pop(room_id, None)
        state.reads.pop(room_id, None)
        events.append((_synthetic("stream.removed", room_id, {}), state.cursor))

    @property
    def closing(self):
        """The process is stopping: streams should end (clients come back)."""
        return self.watcher.closing

    def wait(self, user, state, timeout):
        """Wait for news (a room's mark, or the user's token); return the rooms
        to step through (None: every room, the memberships may have changed),
        or False when the time is up with nothing new."""
        seen = {room: state.positions[room] for room in state.positions}
        woke = self.watcher.wait_any(seen, timeout, user=user.id, token=state.token)
        if woke is False:
            return False
        room_id, _ = woke
        if room_id is not None:
            return [room_id]
        return None

    def refresh(self, user, state):
        """After the user's stream token changed: is the auth token still good,
        and what do the memberships and read markers say now? Return the
        events (pairs, as step does), or None when the stream must end (its
        token was revoked or expired, or the user disabled)."""
        current = User._get_collection().find_one({"_id": user.id},
                                                  {"stream_token": 1, "is_active": 1})
        if current is None or not current.get("is_active", True):
            return None
        token = Token._get_collection().find_one({"_id": state.token_id}, {"expires": 1})
        if token is None or (token.get("expires") is not None and token["expires"] <= utcnow()):
            return None
        state.token = current.get("stream_token")
        events = self._resync(user, state, self._memberships(user))
        events += self._reads(user, state)
        return [(event, state.cursor) for event in events]


def _token_of(user):
    found = User._get_collection().find_one({"_id": user.id}, {"stream_token": 1})
    return (found or {}).get("stream_token")


def _synthetic(kind, room_id, data):
    """An event of the stream itself, outside any room's sequence (no seq)."""
    return {"seq": None, "room": room_id, "type": kind, "data": data}
