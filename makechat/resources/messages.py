"""/api/messages and /api/messages/{message_id}."""

import math
import re
import time

import falcon

from makechat import chat
from makechat.hooks import require_token
from makechat.ids import ID_SCHEMA, parse_id
from makechat.paging import get_limit, set_next_link
from makechat.names import text_schema
from makechat.validation import object_schema, validate

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def message_schemas(max_length):
    """Return (create, update) schemas for a configured maximum text length."""
    text = text_schema(max_length)
    return (object_schema({"room": ID_SCHEMA, "text": text}, required=("room", "text")),
            object_schema({"text": text}, required=("text",)))


MESSAGE_CREATE_SCHEMA, MESSAGE_UPDATE_SCHEMA = message_schemas(4000)


def idempotency_key(req):
    key = req.get_header("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise falcon.HTTPBadRequest(
            title="Invalid header",
            description="Idempotency-Key must be 1 to 255 visible ASCII characters.")
    return key


@falcon.before(require_token)
class MessagesResource:
    def __init__(self, config, store, watcher, waiting):
        self.store = store
        self.watcher = watcher
        self.waiting = waiting
        self.max_wait = config.max_wait
        self.create_schema, _ = message_schemas(config.max_message_length)

    def on_post(self, req, resp):
        """Post a message in a room the caller belongs to."""
        body = validate(req.context.body, self.create_schema)
        key = idempotency_key(req)
        room, _ = chat.member_room(req.context.user, parse_id(body["room"]))
        try:
            message, replayed = self.store.post(room.id, req.context.user, body["text"], key)
        except chat.IdempotencyConflict:
            raise falcon.HTTPConflict(
                title="Idempotency-Key reused",
                description="This Idempotency-Key was already used for a different message.")
        except chat.PostFailed:
            raise falcon.HTTPServiceUnavailable(
                title="Busy", description="The room is too busy right now; retry.", retry_after=1)
        if replayed:
            resp.set_header("Idempotent-Replayed", "true")
        resp.status = falcon.HTTP_201
        resp.location = f"/api/messages/{message['_id']}"
        resp.media = chat.message_json(message)

    def on_get(self, req, resp):
        """List a room's messages, oldest first: the latest, before or after a
        cursor, optionally waiting for new ones."""
        room, _ = chat.member_room(req.context.user, parse_id(req.get_param("room", required=True)))
        limit = get_limit(req)
        before, after = req.get_param("before"), req.get_param("after")
        wait = req.get_param_as_float("wait", min_value=0, max_value=self.max_wait)
        if wait is not None and not math.isfinite(wait):
            raise falcon.HTTPInvalidParam("The value must be a number of seconds.", "wait")
        if before is not None and after is not None:
            raise falcon.HTTPBadRequest(title="Invalid parameter",
                                        description="Use either 'before' or 'after', not both.")
        if wait and after is None:
            raise falcon.HTTPBadRequest(title="Invalid parameter",
                                        description="'wait' needs an 'after' cursor.")
        if after is not None:
            seq = self.store.seq_of(room.id, after)
            if wait:
                with self.waiting.slot(req.context.user.id):
                    messages = self._after(room.id, seq, limit + 1, wait)
            else:
                messages = self._after(room.id, seq, limit + 1, 0)
            if len(messages) > limit:
                messages = messages[:limit]
                set_next_link(req, resp, after=str(messages[-1]["seq"]), limit=limit)
        else:
            seq = self.store.seq_of(room.id, before) if before is not None else None
            messages = self.store.before(room.id, seq, limit + 1)
            if len(messages) > limit:
                # History pages run backwards: the next page is the older one.
                messages = messages[1:]
                set_next_link(req, resp, before=str(messages[0]["seq"]), limit=limit,
                              drop=("after", "wait"))
        resp.media = [chat.message_json(message) for message in messages]

    def _after(self, room_id, seq, limit, wait):
        deadline = time.monotonic() + wait
        mark = None
        while True:
            if mark is None:
                mark = self.store.shared_mark(room_id)
            messages = self.store.shared_after(room_id, seq, limit, mark)
            remaining = deadline - time.monotonic()
            if messages or remaining <= 0:
                return messages
            woke = self.watcher.wait(room_id, mark, remaining)
            if woke is False:
                return []
            mark = woke  # the waker's mark, or None to look it up


@falcon.before(require_token)
class MessageResource:
    def __init__(self, config, store):
        self.store = store
        _, self.update_schema = message_schemas(config.max_message_length)

    def _load(self, user, message_id):
        """Return (message, room, caller's membership) or 404 if not theirs to see."""
        object_id = parse_id(message_id)
        message = self.store.get(object_id) if object_id else None
        if message is None:
            raise chat.no_such("message")
        try:
            room, member = chat.visible_room(user, message["room"])
        except falcon.HTTPNotFound:
            raise chat.no_such("message") from None
        return message, room, member

    def on_get(self, req, resp, message_id):
        """Return one message (to the room's members)."""
        message, room, member = self._load(req.context.user, message_id)
        if member is None:
            raise chat.no_such("message")
        resp.media = chat.message_json(message)

    def on_patch(self, req, resp, message_id):
        """Edit one's own message, while a member of its room."""
        user = req.context.user
        message, _, member = self._load(user, message_id)
        if member is None:
            # SECURITY: someone who left or was removed cannot see the room's
            # messages any more (GET is 404), nor change them.
            raise chat.no_such("message")
        if message.get("author") != user.id:
            raise falcon.HTTPForbidden(title="Permission Denied",
                                       description="Only its author may edit a message.")
        body = validate(req.context.body, self.update_schema)
        resp.media = chat.message_json(self.store.edit(message["_id"], body["text"]))

    def on_delete(self, req, resp, message_id):
        """Delete a message (its author while a member, the room's owner, or an admin)."""
        user = req.context.user
        message, _, member = self._load(user, message_id)
        if member is None and not user.is_superuser:
            raise chat.no_such("message")  # left the room: as for GET, it is gone
        if message.get("author") != user.id:
            chat.require_manager(user, member)
        self.store.delete(message["_id"])
        resp.status = falcon.HTTP_204
