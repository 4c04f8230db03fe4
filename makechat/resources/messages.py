"""/api/messages and /api/messages/{message_id}."""

import re

import falcon

from makechat.ids import ID_SCHEMA, parse_id
from makechat.names import text_schema
from makechat.resources.operation import (
    ID_TEXT,
    LIMIT,
    LINK,
    ROOM,
    Query,
    location,
    operation,
    seconds,
    set_next_link,
)
from makechat.validation import object_schema

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
MESSAGE_CURSOR = {"type": "string", "pattern": f"^({ID_TEXT}|[0-9]{{1,15}})$"}
ELSEWHERE = "no such message in a room you belong to"


def message_schemas(max_length):
    """Return (create, update) schemas for a configured maximum text length."""
    text = text_schema(max_length)
    return (object_schema({"room": ID_SCHEMA, "text": text, "reply_to": ID_SCHEMA},
                          required=("room", "text")),
            object_schema({"text": text}, required=("text",)))


def cursor(name, description):
    return Query(name, MESSAGE_CURSOR, description, False,
                 lambda param, req: req.get_param(param.name))


def idempotency_key(req):
    key = req.get_header("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise falcon.HTTPBadRequest(
            title="Invalid header",
            description="Idempotency-Key must be 1 to 255 visible ASCII characters.")
    return key


class MessagesResource:
    def __init__(self, config, messaging):
        self.messaging = messaging
        self.create_schema, _ = message_schemas(config.max_message_length)
        self.history_query = (
            LIMIT,
            seconds("wait", "Seconds to wait for a new message after 'after' (at most "
                            "`max_wait`).", maximum=config.max_wait),
            cursor("before", "Only messages before this one (a message id or a `seq`); not "
                             "with `after`."),
            cursor("after", "Only messages after this one (a message id or a `seq`); not with "
                            "`before`."),
            ROOM,
            Query("thread", {"type": "string", "pattern": f"^({ID_TEXT})$"},
                  "Only this message's thread: its first message and the replies (any "
                  "message of the thread names it).", False,
                  lambda param, req: req.get_param(param.name)))

    @operation(
        "Post a message in a room you belong to", body="create_schema",
        responses={201: "posted (or replayed: the same Idempotency-Key and text as an earlier "
                        "post); Location names the message",
                   400: "a parameter is missing, unknown or breaks its rule, or the "
                        "Idempotency-Key header is malformed",
                   403: "you are not a member of the room; or you may not mention @room "
                        "here (see `mention_room_max_members`)",
                   404: "no such room, or an invisible room you are not in; or 'reply_to' is "
                        "no message of the room (or a deleted one)",
                   409: "this Idempotency-Key was already used for a different message"},
        schemas={201: "Message"},
        headers={"Idempotency-Key": {
            "description": "Retry-safe posting: a repeated POST with the same key returns the "
                           "first message instead of a duplicate (1 to 255 visible ASCII "
                           "characters).",
            "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"}}},
        response_headers={**location("message"),
                          "Idempotent-Replayed": {"description": "`true` when the response "
                                                  "replays an earlier post.",
                                                  "schema": {"type": "string"}}},
        tag="messages", scope="messages:write", rate="post")
    def on_post(self, req, resp):
        """Post a message in a room the caller belongs to."""
        body = req.context.body
        key = idempotency_key(req)
        message, replayed = self.messaging.post(req.context.user, parse_id(body["room"]),
                                                body["text"], key,
                                                reply_to=body.get("reply_to"))
        if replayed:
            resp.set_header("Idempotent-Replayed", "true")
        resp.status = falcon.HTTP_201
        resp.location = f"/api/messages/{message['_id']}"
        resp.media = message

    @operation(
        "Read a room's messages, oldest first; optionally wait for new ones",
        query="history_query",
        responses={200: "the messages (an empty list if none came within 'wait')",
                   400: "'room' is missing; 'limit' or 'wait' is out of range; both 'before' "
                        "and 'after' given; or 'wait' without 'after'",
                   403: "you are not a member of the room",
                   404: "no such room (or invisible to you), or the cursor is no message of "
                        "the room; or the thread is no message of the room",
                   429: "you already hold `max_waiting_per_user` waiting requests in this "
                        "process"},
        schemas={200: "Message[]"},
        description="Without a cursor: the latest `limit` messages. With `after` and `wait`, "
                    "the request is held until a message is posted (answered at once) or "
                    "`wait` seconds pass (an empty list): a long poll. When there is more, "
                    "`Link` names the next page: older messages (`before`) for history, "
                    "newer ones (`after`) after a cursor.",
        response_headers=LINK, tag="messages", scope="messages:read")
    def on_get(self, req, resp):
        """List a room's messages, oldest first: the latest, before or after a
        cursor, optionally waiting for new ones."""
        query = req.context.query
        history = self.messaging.history(req.context.user, query["room"], limit=query["limit"],
                                         before=query["before"], after=query["after"],
                                         wait=query["wait"] or 0, thread=query["thread"])
        if history.next_page is not None:
            name, seq = history.next_page
            set_next_link(req, resp, limit=query["limit"], **{name: str(seq)},
                          drop=("after", "wait") if name == "before" else ())
        resp.media = history.messages


class MessageResource:
    def __init__(self, config, messaging):
        self.messaging = messaging
        _, self.update_schema = message_schemas(config.max_message_length)

    @operation("One message (the room's members)",
               responses={200: "the message", 404: "no such message in a room of yours"},
               schemas={200: "Message"}, tag="messages", scope="messages:read")
    def on_get(self, req, resp, message_id):
        """Return one message (to the room's members)."""
        resp.media = self.messaging.get(req.context.user, message_id)

    @operation(
        "Edit your own message (while a member of its room)", body="update_schema",
        responses={200: "edited; `edited` holds the time",
                   400: "'text' is missing or breaks its rule",
                   403: "it is not your message", 404: ELSEWHERE},
        schemas={200: "Message"}, tag="messages", scope="messages:write")
    def on_patch(self, req, resp, message_id):
        """Edit one's own message, while a member of its room."""
        resp.media = self.messaging.edit(req.context.user, message_id, req.context.body["text"])

    @operation(
        "Delete a message (its author, an owner of the room, or an admin)",
        responses={204: "deleted",
                   403: "not your message, and you are neither an owner nor an admin",
                   404: ELSEWHERE}, tag="messages", scope="messages:write")
    def on_delete(self, req, resp, message_id):
        """Delete a message (its author while a member, the room's owner, or an admin)."""
        self.messaging.delete(req.context.user, message_id)
        resp.status = falcon.HTTP_204
