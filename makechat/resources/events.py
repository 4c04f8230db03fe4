"""/api/events (one stream for all of a user's rooms, as Server-Sent Events
or as long-poll JSON), /api/rooms/{room_id}/events and /api/rooms/{room_id}/read."""

import logging

import falcon

from makechat.db import UNAVAILABLE_ERRORS
from makechat.ids import parse_id
from makechat.media import dumps
from makechat.resources.operation import LIMIT, integer, operation, seconds, string
from makechat.validation import object_schema

log = logging.getLogger(__name__)

EVENT_STREAM = "text/event-stream"
READ_SCHEMA = object_schema({"seq": {"type": "integer", "minimum": 0,
                                     "x-rule": "a seq of the room (0 or more)"}},
                            required=("seq",))
CURSOR = string("cursor", "Where to resume: the `cursor` of an earlier answer (or the `id` "
                          "of the last Server-Sent Event). Without it, the stream starts now.",
                pattern="^1\\.[A-Za-z0-9_-]*$", maxLength=20000)


def sse_message(event, cursor):
    """One Server-Sent Event: its id is the cursor after it."""
    return (f"id: {cursor}\nevent: {event['type']}\ndata: {dumps(event)}\n\n").encode()


class EventsResource:
    """GET /api/events: every event of every room the caller belongs to."""

    produces = ("application/json", EVENT_STREAM)

    def __init__(self, config, streams, quota):
        self.streams = streams
        self.quota = quota
        self.heartbeat = config.stream_heartbeat
        self.poll_query = (CURSOR, seconds("wait", "Seconds to wait for an event (at most "
                                                   "`max_wait`).", maximum=config.max_wait))

    @operation(
        "One stream of every event of your rooms: Server-Sent Events, or long-poll JSON",
        query="poll_query",
        responses={200: "with `Accept: text/event-stream`: a stream of events, each with "
                        "`id:` (a cursor), `event:` (its type) and `data:` (the event as "
                        "JSON), and a `: keepalive` comment every `stream_heartbeat` "
                        "seconds; otherwise `{\"events\": [...], \"cursor\"}` (an empty list "
                        "if nothing came within `wait`)",
                   400: "the cursor (or Last-Event-ID) is not one this server gave out, or "
                        "`wait` is out of range",
                   429: "you already hold `max_waiting_per_user` waiting requests or streams "
                        "in this process"},
        schemas={200: "EventPage"},
        headers={"Last-Event-ID": {
            "description": "Where to resume (sent by EventSource on reconnecting): the `id` "
                           "of the last event received; wins over `cursor`.",
            "schema": {"type": "string"}}},
        description="Every event of every room you belong to, in each room's order, "
                    "resumable: reconnect with the last `id` (Last-Event-ID or `cursor`) and "
                    "nothing is lost or repeated. Joining a room adds it to the stream, "
                    "leaving it ends it there (`stream.removed`); your read markers come as "
                    "`read` events.",
        tag="events", scope="messages:read")
    def on_get(self, req, resp):
        """Stream (or long-poll) the events of all the caller's rooms."""
        user, query = req.context.user, req.context.query
        cursor = req.get_header("Last-Event-ID") or query["cursor"]
        if cursor == "":
            cursor = None
        if _wants_stream(req):
            self._stream(req, resp, user, cursor)
            return
        wait = query["wait"] or 0
        if wait:
            with self.quota.slot(user.id):
                events, state = self._poll(user, req.context.token.id, cursor, wait)
        else:
            events, state = self._poll(user, req.context.token.id, cursor, 0)
        resp.media = {"events": [event for event, _ in events], "cursor": state.cursor}

    def _poll(self, user, token_id, cursor, wait):
        state, events = self.streams.open(user, token_id, cursor)
        events += self.streams.step(user, state)
        if events or not wait:
            return events, state
        woke = self.streams.wait(user, state, wait)
        if woke is False:
            return events, state
        if woke is None:
            refreshed = self.streams.refresh(user, state)
            if refreshed is None:
                raise falcon.HTTPUnauthorized(title="Not authenticated",
                                              description="This token is no longer valid.")
            events += refreshed
        return events + self.streams.step(user, state, woke), state

    def _stream(self, req, resp, user, cursor):
        state, first = self.streams.open(user, req.context.token.id, cursor)
        slot = self.quota.acquire(user.id)
        resp.content_type = EVENT_STREAM
        resp.set_header("X-Accel-Buffering", "no")  # nginx: pass each event at once
        resp.stream = _Stream(self._events(user, state, first), slot)

    def _events(self, user, state, first):
        # The first event: where the stream starts, so a client that gets
        # nothing else still has an id to resume from.
        yield b"retry: 2000\n\n" + sse_message(
            {"type": "stream.ready", "rooms": list(state.positions)}, state.cursor)
        try:
            for event, cursor in first + self.streams.step(user, state):
                yield sse_message(event, cursor)
            while True:
                woke = self.streams.wait(user, state, self.heartbeat)
                if self.streams.closing:
                    # The worker is stopping: close; the client reconnects with
                    # its last id (retry: 2000) to a worker that runs.
                    return
                if woke is False:
                    yield b": keepalive\n\n"
                    continue
                events = []
                if woke is None:
                    refreshed = self.streams.refresh(user, state)
                    if refreshed is None:
                        yield sse_message({"type": "stream.end",
                                           "reason": "the token is no longer valid"},
                                          state.cursor)
                        return
                    events = refreshed
                for event, cursor in events + self.streams.step(user, state, woke):
                    yield sse_message(event, cursor)
        except UNAVAILABLE_ERRORS as error:
            # Headers are sent: no 503 now. Close; the client reconnects with
            # its last id and loses nothing (stream.end would mean log in again).
            log.warning("event stream of %s closed: the database did not answer: %s",
                        user.username, str(error).split(",")[0][:200])


class _Stream:
    """The response body of a stream: its events, and the waiting slot it holds,
    given back when the server closes the body, even one never read (a client
    gone before the first byte)."""

    def __init__(self, events, slot):
        self.events, self.slot = events, slot

    def __iter__(self):
        return self

    def __next__(self):
        return next(self.events)

    def close(self):
        try:
            self.events.close()
        finally:
            if self.slot is not None:
                self.slot.__exit__(None, None, None)
                self.slot = None


def _wants_stream(req):
    """Server-Sent Events when the client asks for them over JSON."""
    return req.client_prefers(["application/json", EVENT_STREAM]) == EVENT_STREAM


class RoomEventsResource:
    """GET /api/rooms/{room_id}/events: one room's events after a seq."""

    def __init__(self, config, messaging):
        self.messaging = messaging
        self.events_query = (
            integer("after", "The seq after which to list events (0: from the start).",
                    required=True, minimum=0),
            LIMIT,
            seconds("wait", "Seconds to wait for an event (at most `max_wait`).",
                    maximum=config.max_wait))

    @operation(
        "A room's events after a seq: messages, edits, deletions, membership and room changes",
        query="events_query",
        responses={200: "`{\"events\": [...], \"cursor\"}`: the events after `after`, oldest "
                        "first; ask again with `after=<cursor>` (an empty list if none came "
                        "within `wait`)",
                   400: "'after' is missing or not a seq, or 'limit' or 'wait' is out of "
                        "range",
                   403: "you are not a member of the room",
                   404: "no such room, or an invisible room you are not in",
                   429: "you already hold `max_waiting_per_user` waiting requests in this "
                        "process"},
        schemas={200: "RoomEventPage"}, tag="events", scope="messages:read")
    def on_get(self, req, resp, room_id):
        """List (or wait for) a room's events after a seq, to its members."""
        query = req.context.query
        events, cursor = self.messaging.room_events(
            req.context.user, parse_id(room_id), after=query["after"], limit=query["limit"],
            wait=query["wait"] or 0)
        resp.media = {"events": events, "cursor": cursor}


class ReadResource:
    """PUT /api/rooms/{room_id}/read: how far the caller has read a room."""

    def __init__(self, read_state):
        self.read_state = read_state

    @operation(
        "Mark a room read up to a seq (it only moves forward)", body=READ_SCHEMA,
        responses={200: "`{\"room\", \"read_seq\", \"unread\"}` as it is now (an older seq "
                        "changes nothing)",
                   400: "'seq' is missing, not a seq, or beyond the room's latest event",
                   403: "you are not a member of the room",
                   404: "no such room, or an invisible room you are not in"},
        schemas={200: "ReadState"}, tag="events", scope="messages:read")
    def on_put(self, req, resp, room_id):
        """Move the caller's read marker in a room forward."""
        resp.media = self.read_state.mark_read(req.context.user, parse_id(room_id),
                                               req.context.body["seq"])

