"""Mentions: ``@username`` for one member, ``@room`` for everyone in the room.

They are recognized when a message is posted and kept on it
(``Message.mentions``: the ids of the members mentioned, and ROOM_MENTION),
so they never change afterwards: an edit neither adds nor removes one.
``@name`` counts only for a member of the room (anyone else is told
nothing) and never for the author; ``@room`` in a room of more than
``mention_room_max_members`` members is for its owners and admins.

From the messages alone come: ``GET /api/mentions`` (the caller's, across
their rooms, newest first), ``mentions_unread`` in the room list (messages
after the read marker that mention the caller), and the ``mention`` event
of ``/api/events``, which the stream derives from each message event as it
passes it: a client that resumes from a cursor gets it again exactly when it
gets the message again, never otherwise.
"""

import re

from bson import ObjectId

from makechat.chat.access import can_manage, within_token
from makechat.chat.events import IS_MESSAGE, MESSAGE
from makechat.exceptions import Forbidden
from makechat.models import PENDING, ROOM_MENTION, Member, Message, User

#: ``@`` then a username (makechat.validation.USERNAME), not inside a word
#: or an address ("bob@example.com" mentions nobody).
MENTION = re.compile(r"(?<![\w@.\-])@([A-Za-z0-9_.\-]{3,32})")
#: How many messages a listing reads at a time while it skips mentions of
#: everyone from before the caller joined.
BATCH = 100


def mentioned_names(text: str) -> set[str]:
    """The lower-cased names after each ``@`` (with and without a trailing
    dot or dash, which usually ends the sentence)."""
    names = set()
    for match in MENTION.finditer(text):
        name = match.group(1).lower()
        names.add(name)
        stripped = name.rstrip(".-")
        if len(stripped) >= 3:
            names.add(stripped)
    return names


def mention_fields(user, room_id: ObjectId, member, text: str, room_max_members: int,
                   strict: bool = True) -> dict:
    """The ``mentions`` of a new message by ``user`` (whose membership is
    ``member``); Forbidden for an @room they may not use (not ``strict``:
    that @room mentions nobody)."""
    names = mentioned_names(text)
    if not names:
        return {}
    mentions: list = []
    if "room" in names:
        if can_manage(user, member) or \
                Member.objects(room=room_id).count() <= room_max_members:
            mentions.append(ROOM_MENTION)
        elif strict:
            raise Forbidden(f"Only the room's owners may mention @room in a room of more "
                            f"than {room_max_members} members.", title="Mention not allowed")
    named = [found["_id"] for found in User._get_collection().find(
        {"username_key": {"$in": sorted(names - {"room"})}}, {"_id": 1})]
    if named:
        mentions += [found["user"] for found in Member._get_collection().find(
            {"room": room_id, "user": {"$in": named}}, {"user": 1})
            if found["user"] != user.id]
    return {"mentions": mentions} if mentions else {}


def mentions_user(entry: dict, user_id: ObjectId) -> bool:
    """True if a log entry is a message (not deleted) that mentions this
    user, written by someone else."""
    mentions = entry.get("mentions") or []
    return bool(mentions) and entry.get("type", MESSAGE) == MESSAGE \
        and not entry.get("deleted") and entry.get("author") != user_id \
        and (user_id in mentions or ROOM_MENTION in mentions)


def mention_event(entry: dict, user_id: ObjectId) -> dict | None:
    """The ``mention`` stream event for a message event, if the message
    mentions this user (it follows the message, with the same cursor)."""
    if not mentions_user(entry, user_id):
        return None
    return {"seq": None, "room": entry["room"], "type": "mention", "at": entry["created"],
            "data": {"message": entry["_id"], "seq": entry["seq"],
                     "author": entry.get("author"),
                     "author_username": entry.get("author_username", ""),
                     "room_mention": user_id not in entry["mentions"]}}


def _mentioning(user) -> dict:
    return {"mentions": {"$in": [user.id, ROOM_MENTION]}, "author": {"$ne": user.id},
            "type": IS_MESSAGE, "deleted": False}


def list_mentions(user, before: ObjectId | None, limit: int) -> tuple[list, ObjectId | None]:
    """The messages that mention the caller in the rooms they belong to (and
    their token may reach), newest first: (up to ``limit`` stored messages, the cursor of the next
    page or None). @room mentions from before the caller joined a room are
    not theirs."""
    joined = {member["room"]: member.get("joined_seq") for member in
              Member._get_collection().find({"user": user.id}, {"room": 1, "joined_seq": 1})
              if within_token(user, member["room"])}  # SECURITY: a token's rooms only
    if not joined:
        return [], None
    query = {**_mentioning(user), "room": {"$in": list(joined)}}
    if before is not None:
        query["_id"] = {"$lt": before}
    found = []
    for message in Message._get_collection().find(query).sort("_id", -1).batch_size(BATCH):
        since = joined.get(message["room"])
        if since is not None and since != PENDING and message["seq"] <= since and \
                user.id not in message["mentions"]:
            continue
        found.append(message)
        if len(found) > limit:
            return found[:limit], found[limit - 1]["_id"]
    return found, None


def unread_mentions(user, positions: dict) -> dict:
    """{room id: messages that mention the user} for {room id: (after seq,
    up to seq)}: one aggregation over the rooms given."""
    wanted = [{"room": room_id, "seq": {"$gt": low, "$lte": high}}
              for room_id, (low, high) in positions.items() if high > low]
    counts = {room_id: 0 for room_id in positions}
    if wanted:
        pipeline = [{"$match": {"$or": wanted, **_mentioning(user)}},
                    {"$group": {"_id": "$room", "count": {"$sum": 1}}}]
        for row in Message._get_collection().aggregate(pipeline):
            counts[row["_id"]] = row["count"]
    return counts
