"""Parts of the OpenAPI schemas (makechat.openapi) for conversations: what
replies, mentions, reactions, search and direct messages add to a message
and a room. None of it is required: a message shows each part only when it
applies (see docs/conversations.rst)."""

OBJECT_ID = {"$ref": "#/components/schemas/ObjectId"}
TIME = {"type": "string", "format": "date-time"}
OPTIONAL_ID = {"oneOf": [OBJECT_ID, {"type": "null"}]}


def _object(properties):
    return {"type": "object", "properties": properties, "required": list(properties)}


MESSAGE_EXTRA = {
    "reply_to": {"description": "The message this one replies to, as it was then (the "
                                "excerpt is emptied when that message is deleted).",
                 **_object({"_id": OBJECT_ID, "author": OPTIONAL_ID,
                            "author_username": {"type": "string"},
                            "excerpt": {"type": "string"}, "deleted": {"type": "boolean"}})},
    "thread": {"description": "A reply's thread: the id of its first message.",
               "oneOf": [OBJECT_ID]},
    "mentions": {"type": "array", "items": OBJECT_ID,
                 "description": "The members it mentions (@username)."},
    "mentions_room": {"type": "boolean", "description": "Whether it mentions @room."},
    "reply_count": {"type": "integer", "description": "A thread's replies (not deleted), "
                                                      "on its first message."},
    "last_reply_at": TIME,
    "reactions": {"type": "array", "description": "Each emoji, in the order first used.",
                  "items": _object({"emoji": {"type": "string"}, "count": {"type": "integer"},
                                    "me": {"type": "boolean",
                                           "description": "Whether you reacted so."}})},
}

MARKED = {"type": "array", "description": "The text in pieces (joined, they are the text); "
                                          "the pieces that match the query are marked.",
          "items": _object({"text": {"type": "string"}, "match": {"type": "boolean"}})}

ROOM_EXTRA = {
    "mentions_unread": {"type": "integer", "description": "Unread messages that mention you."},
    "dm": {"const": True, "description": "A direct conversation (POST /api/dms), named after "
                                         "the others."},
}
