"""MongoDB documents. Each document keeps its indexes in ``meta``.

Timestamps are timezone-aware UTC. Indexes are created by
``makechat.db.ensure_indexes`` at start (never implicitly on first use), and
only with options both MongoDB and FerretDB v1 support (plain and unique).
"""

from datetime import datetime, timezone

from mongoengine import (
    BooleanField, DateTimeField, Document, IntField, ObjectIdField,
    StringField,
)


def utcnow():
    """Return the current time in UTC, at the millisecond precision BSON keeps."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class User(Document):
    """An account. ``username_key``/``email_key`` hold the lower-cased forms
    so that uniqueness ignores case ("Admin" cannot impersonate "admin")."""

    username = StringField(required=True)
    username_key = StringField(required=True, unique=True)
    email = StringField(required=True)
    email_key = StringField(required=True, unique=True)
    password = StringField(required=True)  # bcrypt hash, never the password
    is_superuser = BooleanField(default=False)
    is_active = BooleanField(default=True)
    created = DateTimeField(default=utcnow)

    meta = {"collection": "users", "auto_create_index": False}

    def to_public(self):
        """Return the profile a user or an admin sees (never the hash)."""
        return {
            "_id": self.id,
            "username": self.username,
            "email": self.email,
            "is_superuser": self.is_superuser,
            "is_active": self.is_active,
            "created": self.created,
        }


class Token(Document):
    """An API token. Only the SHA-256 of the secret is stored: a database dump
    leaks no usable token."""

    owner = ObjectIdField(required=True)
    name = StringField(required=True)
    digest = StringField(required=True, unique=True)
    created = DateTimeField(default=utcnow)
    last_used = DateTimeField()

    meta = {"collection": "tokens", "auto_create_index": False,
            "indexes": ["owner"]}

    def to_public(self):
        return {
            "_id": self.id,
            "name": self.name,
            "created": self.created,
            "last_used": self.last_used,
        }


class LoginFailure(Document):
    """One failed login, counted per username and per client address."""

    key = StringField(required=True)  # "user:<username_key>" or "addr:<address>"
    at = DateTimeField(required=True, default=utcnow)

    meta = {"collection": "login_failures", "auto_create_index": False,
            "indexes": [("key", "at"), "at"]}


class Room(Document):
    """A chat room. ``last_seq`` is the per-room message counter; every seq up
    to ``committed_seq`` is known to hold a message or a tombstone."""

    name = StringField(required=True)
    name_key = StringField(required=True, unique=True)
    topic = StringField(default="")
    is_open = BooleanField(default=True)
    is_visible = BooleanField(default=True)
    created = DateTimeField(default=utcnow)
    created_by = ObjectIdField()
    last_seq = IntField(default=0)
    committed_seq = IntField(default=0)
    seq_at = DateTimeField()

    meta = {"collection": "rooms", "auto_create_index": False,
            "indexes": ["is_visible"]}


class Member(Document):
    """A user's membership of a room, with a role: 'owner' or 'member'."""

    room = ObjectIdField(required=True)
    user = ObjectIdField(required=True)
    username = StringField(required=True)
    role = StringField(required=True, choices=("owner", "member"), default="member")
    joined = DateTimeField(default=utcnow)

    meta = {"collection": "members", "auto_create_index": False,
            "indexes": [{"fields": ("room", "user"), "unique": True},
                        ("user", "room"), ("room", "joined")]}


class Message(Document):
    """A message, ordered in its room by ``seq``. A deleted message stays as
    a tombstone (``deleted``, no text) so the sequence never has holes."""

    room = ObjectIdField(required=True)
    seq = IntField(required=True)
    author = ObjectIdField()
    author_username = StringField(default="")
    text = StringField(default="")
    created = DateTimeField(default=utcnow)
    edited = DateTimeField()
    deleted = BooleanField(default=False)
    # "<author id>:<Idempotency-Key>" or a value unique to this document.
    dedupe = StringField(required=True, unique=True)

    meta = {"collection": "messages", "auto_create_index": False,
            "indexes": [{"fields": ("room", "seq"), "unique": True}]}


ALL_DOCUMENTS = (User, Token, LoginFailure, Room, Member, Message)
