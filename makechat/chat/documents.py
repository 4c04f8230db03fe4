"""The documents of conversations (docs/conversations.rst), with their indexes.

``Reaction``: one user's reaction to a message with one emoji. The unique
(message, user, emoji) index makes adding it twice a no-op and every count
exact, whatever the backend (makechat.chat.reactions).

NOTE: this module imports nothing of makechat but ``makechat.clock``, so
``makechat.models`` can list these documents among its own (backups, indexes) without a cycle.
"""

from mongoengine import DateTimeField, Document, ObjectIdField, StringField

from makechat.clock import utcnow


class Reaction(Document):
    """One user's reaction to a message with one emoji (see the module)."""

    message = ObjectIdField(required=True)
    room = ObjectIdField(required=True)
    user = ObjectIdField(required=True)
    username = StringField(default="")
    emoji = StringField(required=True)
    created = DateTimeField(default=utcnow)

    meta = {"collection": "reactions", "auto_create_index": False,
            "indexes": [{"fields": ("message", "user", "emoji"), "unique": True}, "room"]}


CONVERSATION_DOCUMENTS = (Reaction,)

#: Message.mentions holds this for an @room mention (everyone in the room).
ROOM_MENTION = "@room"
