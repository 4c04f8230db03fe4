"""Reactions: a user's emoji on a message.

One ``Reaction`` document per (message, user, emoji), under a unique index:
adding one twice, from two tabs or two servers at once, stores it once, so
every count is exact even where updates are a read then a write (FerretDB
v1). Counts are counted when read, never kept.

Each change is an event in the room's log, deduplicated by the reaction
document's id: ``reaction.added`` after the document is stored (a retried
PUT finds the document and writes the event if an earlier try died before
it), ``reaction.removed`` before the document goes (its removal is the
event's effect, which whoever walks past the event re-applies), after
making sure the ``reaction.added`` is in the log (a PUT may still be
between its insert and its event), so the log never takes back a reaction
it has not shown.

One user puts at most ``max_reactions_per_user`` different emoji on one
message. The cap is checked after the document is stored, before its event:
a reaction that finds the user over the cap takes itself back, so even
concurrent ones never leave more than the cap (at worst both of two racing
ones are refused, and one retry succeeds).

An emoji is 1 to MAX_CODE_POINTS code points, each a pictograph (the
Unicode emoji blocks and the older symbols used as emoji), a regional
indicator (flags), a skin-tone modifier, a variation selector, a zero-width
joiner, a keycap or a tag character, with at least one pictograph, regional
indicator or keycap; sent as is (``👍`` and ``👍\ufe0f`` are two emoji).
"""

import unicodedata

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from makechat.chat.access import visible_message
from makechat.chat.documents import Reaction
from makechat.chat.events import IS_MESSAGE, REACTION_ADDED, REACTION_REMOVED
from makechat.exceptions import Conflict, Invalid, no_such
from makechat.models import Message, utcnow

MAX_CODE_POINTS = 16
EMOJI_RULE = (f"1 to {MAX_CODE_POINTS} code points of one emoji (pictographs, flags, "
              "skin tones, keycaps, joined with U+200D)")

# Pictographs: the emoji blocks, and the older symbols emoji use.
_PICTOGRAPHS = ((0x1F000, 0x1F1E5), (0x1F200, 0x1F3FA), (0x1F400, 0x1FAFF),
                (0x1FC00, 0x1FFFD), (0x2600, 0x27BF), (0x2190, 0x21FF), (0x2300, 0x23FF),
                (0x2460, 0x24FF), (0x25A0, 0x25FF), (0x2900, 0x297F), (0x2B00, 0x2BFF),
                (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297), (0x3299, 0x3299),
                (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049),
                (0x2122, 0x2122), (0x2139, 0x2139))
_FLAGS = ((0x1F1E6, 0x1F1FF),)
_JOINERS = ((0x200D, 0x200D), (0xFE0E, 0xFE0F), (0x1F3FB, 0x1F3FF), (0xE0020, 0xE007F),
            (0x20E3, 0x20E3))
_KEYCAP_BASES = set("0123456789#*")


def _within(code, ranges):
    return any(low <= code <= high for low, high in ranges)


def check_emoji(text: object) -> str:
    """Return the emoji if it is one (see the module docstring), else Invalid."""
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_CODE_POINTS:
        raise Invalid(f"The emoji must be {EMOJI_RULE}.", title="Invalid emoji")
    text = unicodedata.normalize("NFC", text)
    based = False
    for index, char in enumerate(text):
        code = ord(char)
        if _within(code, _PICTOGRAPHS) or _within(code, _FLAGS):
            based = True
        elif char in _KEYCAP_BASES and "\u20e3" in text[index + 1:index + 3]:
            based = True
        elif not _within(code, _JOINERS):
            raise Invalid(f"The emoji must be {EMOJI_RULE}.", title="Invalid emoji")
    if not based:
        raise Invalid(f"The emoji must be {EMOJI_RULE}.", title="Invalid emoji")
    return text


def summaries(reactions, user, documents: list[dict]) -> dict:
    """{message id: [{"emoji", "count", "me"}]} for the messages of a page
    that had reactions, each emoji in the order it was first used: one query."""
    ids = [document["_id"] for document in documents if document.get("has_reactions")]
    found: dict = {}
    if not ids:
        return found
    for reaction in reactions.find({"message": {"$in": ids}},
                                   {"message": 1, "emoji": 1, "user": 1}).sort("_id", 1):
        emojis = found.setdefault(reaction["message"], {})
        shown = emojis.setdefault(reaction["emoji"], {"emoji": reaction["emoji"], "count": 0,
                                                      "me": False})
        shown["count"] += 1
        shown["me"] = shown["me"] or reaction["user"] == user.id
    return {message: list(emojis.values()) for message, emojis in found.items()}


class Reactions:
    """Adding and removing one's reactions, as events of the room's log."""

    def __init__(self, store, watcher, max_per_user: int = 20):
        self.store = store
        self.watcher = watcher
        self.max_per_user = max_per_user

    @property
    def reactions(self):
        return Reaction._get_collection()

    def _load(self, user, message_id):
        """The message, if the caller is a member of its room; else NotFound."""
        message, member = visible_message(self.store, user, message_id)
        if member is None:
            raise no_such("message")
        return message

    def add(self, user, message_id, emoji) -> dict:
        """React to a message of a room one belongs to; return the message."""
        emoji = check_emoji(emoji)
        message = self._load(user, message_id)
        # The hint first: a reaction stored without it would not be shown.
        Message._get_collection().update_one({"_id": message["_id"], "type": IS_MESSAGE},
                                             {"$set": {"has_reactions": True}})
        key = {"message": message["_id"], "user": user.id, "emoji": emoji}
        for _ in range(3):
            document = {"_id": ObjectId(), **key, "room": message["room"],
                        "username": user.username, "created": utcnow()}
            try:
                self.reactions.insert_one(document)
            except DuplicateKeyError:
                document = self.reactions.find_one(key)
                if document is None:
                    continue  # removed in between: add it again
            else:
                self._within_cap(user, message, emoji, document)
            self._event(message, user, REACTION_ADDED, emoji, document["_id"])
            if self.reactions.find_one({"_id": document["_id"]}, {"_id": 1}) is None:
                # Taken back meanwhile (a DELETE, or the cap for a twin PUT):
                # the log takes it back too.
                self._event(message, user, REACTION_REMOVED, emoji, document["_id"])
            break
        return self._shown(user, message)

    def remove(self, user, message_id, emoji) -> None:
        """Take back one's reaction (nothing happens if there is none)."""
        emoji = check_emoji(emoji)
        message = self._load(user, message_id)
        document = self.reactions.find_one({"message": message["_id"], "user": user.id,
                                            "emoji": emoji})
        if document is not None:
            # The addition's event first, should a PUT still be between its
            # insert and its event (one read when it is there): the log never
            # shows a removal before the addition it takes back.
            self._event(message, user, REACTION_ADDED, emoji, document["_id"])
            # The event first; removing the document is its effect.
            self._event(message, user, REACTION_REMOVED, emoji, document["_id"])
            self.reactions.delete_one({"_id": document["_id"]})

    def _within_cap(self, user, message, emoji, document):
        """Take back a reaction just stored that puts the user over the cap
        (and its event, should a twin PUT have written it)."""
        mine = self.reactions.count_documents({"message": message["_id"], "user": user.id},
                                               limit=self.max_per_user + 1)
        if mine > self.max_per_user:
            self.reactions.delete_one({"_id": document["_id"]})
            if self.store.messages.find_one({"dedupe": f"reaction:{document['_id']}:added"},
                                            {"_id": 1}) is not None:
                self._event(message, user, REACTION_REMOVED, emoji, document["_id"])
            raise Conflict(f"You already put {self.max_per_user} different emoji on this "
                           "message (`max_reactions_per_user`); take one back first.",
                           title="Too many reactions")

    def _event(self, message, user, kind, emoji, reaction_id):
        verb = "added" if kind == REACTION_ADDED else "removed"
        posted = self.store.append(message["room"], {
            "type": kind, "actor": user.id, "actor_username": user.username,
            "data": {"message": message["_id"], "emoji": emoji, "reaction": reaction_id}},
            dedupe=f"reaction:{reaction_id}:{verb}")
        self.watcher.notify(message["room"], posted.mark)

    def _shown(self, user, message):
        from makechat.chat.views import present
        current = self.store.get(message["_id"]) or message
        return present(user, [current])[0]
