"""MongoDB documents. Each document keeps its indexes in ``meta``.

Timestamps are timezone-aware UTC. Indexes are created by
``makechat.db.ensure_indexes`` at start (never implicitly on first use), and
only with options both MongoDB and FerretDB v1 support (plain and unique).
"""


from mongoengine import (
    BooleanField,
    DateTimeField,
    DictField,
    Document,
    DynamicField,
    IntField,
    ListField,
    ObjectIdField,
    StringField,
    queryset_manager,
)

from makechat.clock import utcnow


class User(Document):
    """An account. ``username_key``/``email_key`` hold the lower-cased forms
    so that uniqueness ignores case ("Admin" cannot impersonate "admin");
    ``username_skeleton`` is the look-alike key (makechat.names.skeleton), so
    "adrnin" cannot sit next to "admin" either. Logins look up username_key."""

    username = StringField(required=True)
    username_key = StringField(required=True, unique=True)
    username_skeleton = StringField(required=True, unique=True)
    email = StringField(required=True)
    email_key = StringField(required=True, unique=True)
    password = StringField(required=True)  # bcrypt hash, never the password
    is_superuser = BooleanField(default=False)
    is_active = BooleanField(default=True)
    created = DateTimeField(default=utcnow)
    # Changes whenever something a user's event streams must notice happens
    # (a membership, a read marker, a revoked token): see signal_user.
    stream_token = StringField()
    # A bot account (makechat.bots.accounts): no password, tokens only.
    # ``bot_owner`` is the user who manages it besides the admins.
    is_bot = BooleanField()
    bot_owner = ObjectIdField()

    meta = {"collection": "users", "auto_create_index": False}

    def to_public(self):
        """Return the profile a user or an admin sees (never the hash)."""
        shown = {
            "_id": self.id,
            "username": self.username,
            "email": self.email,
            "is_superuser": self.is_superuser,
            "is_active": self.is_active,
            "created": self.created,
        }
        return mark_bot(shown, self.is_bot, owner=self.bot_owner)


class Token(Document):
    """An API token. Only the SHA-256 of the secret is stored: a database dump
    leaks no usable token."""

    owner = ObjectIdField(required=True)
    name = StringField(required=True)
    digest = StringField(required=True, unique=True)
    # One of the owner's max_tokens_per_user numbered slots (see issue_token).
    slot = IntField(required=True)
    created = DateTimeField(default=utcnow)
    last_used = DateTimeField()
    expires = DateTimeField()  # None: until revoked
    # What a request needs of the token's user, so authenticating is one read
    # (makechat.auth.user_for_token); kept in step by set_superuser, and a
    # disabled user's tokens are deleted. Missing on tokens from before 0.3.
    username = StringField()
    is_superuser = BooleanField()
    #: What the token may do (makechat.scopes): None, as on every token from
    #: before scopes, is every scope.
    scopes = ListField(StringField(), default=None)
    #: The only rooms the token may act in; None is every room.
    rooms = ListField(ObjectIdField(), default=None)
    is_bot = BooleanField()

    meta = {"collection": "tokens", "auto_create_index": False,
            "indexes": [{"fields": ("owner", "slot"), "unique": True}]}

    def to_public(self):
        return {
            "_id": self.id,
            "name": self.name,
            "created": self.created,
            "last_used": self.last_used,
            "expires": self.expires,
            "scopes": self.scopes,
            "rooms": self.rooms,
        }


class Attempt(Document):
    """One counted attempt (a failed login, a registration, a password check)
    holding numbered slot ``slot`` of its ``key`` until it is older than the
    key's window. The unique (key, slot) index is what makes a limit exact
    under parallel requests: a slot has one holder, whatever the backend."""

    key = StringField(required=True)  # e.g. "login-user:alice", "register:10.0.0.1"
    slot = IntField(required=True)
    at = DateTimeField(required=True, default=utcnow)

    meta = {"collection": "attempts", "auto_create_index": False,
            "indexes": [{"fields": ("key", "slot"), "unique": True}, "at"]}


class KnownAddress(Document):
    """A client address a user logged in from: others' failed logins do not
    lock the account out for it (see makechat.auth.LoginLimiter)."""

    user = ObjectIdField(required=True)
    address = StringField(required=True)
    last = DateTimeField(required=True, default=utcnow)

    meta = {"collection": "login_addresses", "auto_create_index": False,
            "indexes": [{"fields": ("user", "address"), "unique": True}]}


class ReadMarker(Document):
    """A user has read a room up to ``seq``. A user's marker in a room is the
    highest ``seq`` of their ReadMarker documents there: moving it forward
    inserts one (the unique index makes a repeat a no-op) and drops the lower
    ones, so concurrent moves can never take it back, even where updates are
    a read then a write (FerretDB v1)."""

    user = ObjectIdField(required=True)
    room = ObjectIdField(required=True)
    seq = IntField(required=True, default=0)
    at = DateTimeField(default=utcnow)

    meta = {"collection": "read_markers", "auto_create_index": False,
            "indexes": [{"fields": ("user", "room", "seq"), "unique": True}, "room"]}


class Room(Document):
    """A chat room. ``name_key`` is the name's look-alike key
    (makechat.names.skeleton): "\u0440ublic" and "Public" collide with
    "public". ``last_seq`` is the per-room message counter; every seq up to
    ``committed_seq`` is known to hold a message or a tombstone."""

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
    version = IntField(default=0)  # counts room.updated events
    # A direct conversation (makechat.chat.dms): closed, invisible, its
    # members fixed; its name_key is derived from its members' ids.
    is_dm = BooleanField(default=False)

    meta = {"collection": "rooms", "auto_create_index": False,
            "indexes": ["is_visible"]}

    def to_public(self, member_ids, role, see_members=True):
        """The room as the API shows it. SECURITY: who is in a closed room (its
        members, its creator) and how far it has got (last_seq) are for its
        members and admins only (``see_members``); others see that it exists,
        what it is called and what it is about."""
        shown = {
            "_id": self.id,
            "name": self.name,
            "topic": self.topic,
            "is_open": self.is_open,
            "is_visible": self.is_visible,
            "members": member_ids,
            "created": self.created,
            "created_by": self.created_by,
            "role": role,
            "last_seq": self.committed_seq,
        }
        if not see_members:
            del shown["members"], shown["last_seq"], shown["created_by"]
        return shown


#: Member.joined_seq of a membership whose member.joined event is not written yet.
PENDING = -1


class Member(Document):
    """A user's membership of a room, with a role: 'owner' or 'member'.
    ``joined_seq`` is the seq of its member.joined event: PENDING until that
    event is in the room's log, None for memberships older than membership
    events (0.3). ``version`` counts its role changes."""

    room = ObjectIdField(required=True)
    user = ObjectIdField(required=True)
    username = StringField(required=True)
    role = StringField(required=True, choices=("owner", "member"), default="member")
    joined = DateTimeField(default=utcnow)
    joined_seq = IntField()
    version = IntField(default=0)
    is_bot = BooleanField()  # the member is a bot account

    meta = {"collection": "members", "auto_create_index": False,
            "indexes": [{"fields": ("room", "user"), "unique": True},
                        ("user", "room"), ("room", "joined")]}

    def to_public(self):
        return mark_bot({"_id": self.id, "room": self.room, "user": self.user,
                         "username": self.username, "role": self.role, "joined": self.joined},
                        self.is_bot)


class Message(Document):
    """An entry of a room's log, ordered by ``seq``: a message (``type``
    "message", or none before 0.3) or another event of the room (an edit, a
    deletion, a membership or room change: ``actor`` and ``data``; see
    makechat.chat.events). A deleted message stays as a tombstone
    (``deleted``, no text) so the sequence never has holes.
    ``Message.posted`` is the messages alone."""

    room = ObjectIdField(required=True)
    seq = IntField(required=True)
    kind = StringField(db_field="type")  # the stored key is "type"
    author = ObjectIdField()
    author_username = StringField(default="")
    text = StringField(default="")
    created = DateTimeField(default=utcnow)
    edited = DateTimeField()
    deleted = BooleanField(default=False)
    edit_seq = IntField()  # the seq of the last edit applied
    actor = ObjectIdField()
    actor_username = StringField()
    data = DictField()
    # "<author id>:<Idempotency-Key>" or a value unique to this document.
    dedupe = StringField(required=True, unique=True)
    # Conversations (docs/conversations.rst), set when posted. A reply: the
    # message replied to as it was ({_id, author, author_username, excerpt,
    # deleted}) and its thread's first message. Hints, only ever set: it has
    # replies, it had a reaction once.
    #: The search keys of its text (makechat.words), for the multikey index.
    words = ListField(StringField())
    reply_to, thread = DictField(), ObjectIdField()
    #: The ids of the members it mentions, and ROOM_MENTION for everyone.
    mentions = ListField(DynamicField())
    has_replies, has_reactions = BooleanField(), BooleanField()

    meta = {"collection": "messages", "auto_create_index": False, "strict": False,
            "indexes": [{"fields": ("room", "seq"), "unique": True},
                        ("words", "-id"), ("mentions", "-id"), ("thread", "seq")]}

    @queryset_manager
    def posted(doc_cls, queryset):  # noqa: N805 - mongoengine's signature
        return queryset.filter(kind__in=["message", None])


def signal_user(user_id):
    """Tell the user's event streams, in every process, to look again (their
    rooms, read markers or token changed): a new random stream_token, which
    the watchers' poll notices."""
    import secrets
    User.objects(id=user_id).update_one(set__stream_token=secrets.token_hex(8))


def mark_bot(shown, is_bot, owner=None, **extra):
    """Add ``is_bot: true`` (and what else is given and set) to a user, a
    membership or a message that is a bot's; people's stay as they were."""
    if is_bot:
        shown["is_bot"] = True
        if owner is not None:
            shown["bot_owner"] = owner
        shown.update({key: value for key, value in extra.items() if value})
    return shown


def message_to_public(message):
    """A stored message (a raw document: the log reads with pymongo) as the
    API shows it. A reply also shows ``reply_to`` and ``thread``; a message
    that mentions someone ``mentions`` (user ids) and ``mentions_room``; a
    bot's ``is_bot`` (and its display name and icon, if any)."""
    shown = mark_bot({
        "_id": message["_id"],
        "room": message["room"],
        "seq": message["seq"],
        "author": message.get("author"),
        "author_username": message.get("author_username", ""),
        "text": message.get("text", ""),
        "created": message["created"],
        "edited": message.get("edited"),
    }, message.get("bot"), display_name=message.get("display_name"),
        icon_url=message.get("icon_url"))
    if message.get("reply_to"):
        shown["reply_to"], shown["thread"] = message["reply_to"], message.get("thread")
    mentions = message.get("mentions")
    if mentions:
        shown["mentions"] = [item for item in mentions if item != ROOM_MENTION]
        shown["mentions_room"] = ROOM_MENTION in mentions
    return shown


# NOTE: imported here, at the end: makechat.bots.documents and
# makechat.chat.documents import nothing of makechat but makechat.clock, so
# there is no cycle.
from makechat.bots.documents import BOT_DOCUMENTS  # noqa: E402
from makechat.chat.documents import CONVERSATION_DOCUMENTS, ROOM_MENTION  # noqa: E402

ALL_DOCUMENTS = (User, Token, Attempt, KnownAddress, Room, Member, Message, ReadMarker,
                 *CONVERSATION_DOCUMENTS, *BOT_DOCUMENTS)
