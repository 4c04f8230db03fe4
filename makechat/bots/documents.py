"""The documents of bots and webhooks, with their indexes.

Every write that must be race-safe is an insert under a unique index (the
one write FerretDB v1 makes atomic): a webhook's delivery of an event is
one ``Delivery`` per (webhook, seq), and each attempt at it is one
``DeliveryAttempt`` per (webhook, seq, number), whose insert is the claim that
lets one worker, in one process, make that attempt. See
``makechat.bots.outbox``.

NOTE: this module imports nothing of makechat but ``makechat.clock``, so
``makechat.models`` can list these documents among its own (backups, indexes) without a cycle.
"""

from mongoengine import (
    BooleanField,
    DateTimeField,
    Document,
    IntField,
    ListField,
    ObjectIdField,
    StringField,
)

from makechat.clock import utcnow


class IncomingWebhook(Document):
    """A URL that posts in ``room`` as ``bot``: ``/hooks/<id>/<secret>``.
    Only the SHA-256 of the secret is stored, as for tokens."""

    room = ObjectIdField(required=True)
    bot = ObjectIdField(required=True)
    bot_username = StringField(required=True)
    name = StringField(required=True)
    digest = StringField(required=True)
    created = DateTimeField(default=utcnow)
    created_by = ObjectIdField()
    last_used = DateTimeField()

    meta = {"collection": "incoming_webhooks", "auto_create_index": False,
            "indexes": ["room"]}

    def to_public(self):
        return {"_id": self.id, "room": self.room, "bot": self.bot,
                "bot_username": self.bot_username, "name": self.name,
                "created": self.created, "created_by": self.created_by,
                "last_used": self.last_used}


class OutgoingWebhook(Document):
    """A URL that receives the events of ``room``, signed, from the outbox.

    ``cursor`` is the seq of the room's log up to which the outbox has
    decided, for each event, whether this webhook gets it (and if so wrote
    its Delivery). It only moves forward in intent; a step back (FerretDB v1
    may lose a conditional update's race) re-reads events whose Deliveries
    exist already, which the unique index then ignores. ``secret_nonce``
    with the server's key derives the signing secret (the database holds no
    secret: makechat.bots.signing)."""

    room = ObjectIdField(required=True)
    bot = ObjectIdField(required=True)
    bot_username = StringField(required=True)
    name = StringField(required=True)
    url = StringField(required=True)
    #: The types of events delivered (makechat.chat.events.PUBLIC_TYPES).
    events = ListField(StringField(), default=lambda: ["message"])
    mentions_only = BooleanField(default=False)
    #: Words one of which must begin a message for it to be delivered (none: any).
    triggers = ListField(StringField(), default=list)
    cursor = IntField(default=0)
    secret_nonce = StringField(required=True)
    created = DateTimeField(default=utcnow)
    created_by = ObjectIdField()

    meta = {"collection": "outgoing_webhooks", "auto_create_index": False,
            "indexes": ["room"]}


#: Delivery.state values.
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


class Delivery(Document):
    """One event (``seq`` of the webhook's room) owed to one webhook. The
    unique (hook, seq) index makes it once per event, whoever writes it.
    ``cycle`` counts replays: an attempt of an earlier cycle that succeeded
    does not stop a replay. ``since`` starts the give-up clock of the cycle."""

    hook = ObjectIdField(required=True)
    seq = IntField(required=True)
    room = ObjectIdField(required=True)
    state = StringField(required=True, default=PENDING)
    attempts = IntField(default=0)
    cycle = IntField(default=0)
    next_at = DateTimeField(required=True, default=utcnow)
    since = DateTimeField(required=True, default=utcnow)
    delivered = DateTimeField()
    last_status = IntField()
    last_error = StringField()

    meta = {"collection": "deliveries", "auto_create_index": False,
            "indexes": [{"fields": ("hook", "seq"), "unique": True},
                        ("state", "next_at")]}


class DeliveryAttempt(Document):
    """One attempt at a Delivery: inserting it under the unique (hook, seq,
    number) index is the claim that lets one worker make attempt ``number``;
    it then records how it went (``finished``, ``status``, ``latency_ms``,
    ``error``)."""

    hook = ObjectIdField(required=True)
    seq = IntField(required=True)
    number = IntField(required=True)
    cycle = IntField(default=0)
    at = DateTimeField(required=True, default=utcnow)
    finished = DateTimeField()
    ok = BooleanField()
    status = IntField()
    latency_ms = IntField()
    error = StringField()

    meta = {"collection": "delivery_attempts", "auto_create_index": False,
            "indexes": [{"fields": ("hook", "seq", "number"), "unique": True}]}


class ServerKey(Document):
    """A random key made once per database (the first process to insert it
    wins), from which signing secrets are derived when the ``webhook_key``
    setting is empty."""

    name = StringField(primary_key=True)
    key = StringField(required=True)

    meta = {"collection": "server_keys", "auto_create_index": False}


BOT_DOCUMENTS = (IncomingWebhook, OutgoingWebhook, Delivery, DeliveryAttempt, ServerKey)
