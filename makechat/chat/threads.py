"""Replies and threads.

A message may reply to another message of its room (``reply_to``). Threads
are flat: a reply to a reply joins the thread of the first message (its
``thread``), as in most chats. A reply keeps the message it answers as it
was then (``reply_to``: its id, author and an excerpt), so showing it costs
nothing; the excerpt goes when that message is deleted
(``makechat.chat.events.apply_effect``).

A thread's first message shows ``reply_count`` and ``last_reply_at``,
counted from the log when read (the replies not deleted), never kept as a
counter that concurrent replies could make drift (FerretDB v1 loses
``$inc`` updates). ``has_replies`` on the first message is only a hint, set
before its first reply is stored, that saves the count's query for pages
without threads.
"""

import re

from bson import ObjectId

from makechat.chat.events import IS_MESSAGE
from makechat.exceptions import NotFound, no_such

#: The most characters of the replied-to text a reply keeps.
EXCERPT_LENGTH = 100


def excerpt(text: str) -> str:
    """The start of a text on one line, cut at EXCERPT_LENGTH characters."""
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= EXCERPT_LENGTH:
        return flat
    return flat[:EXCERPT_LENGTH - 1].rstrip() + "\u2026"


def reply_fields(messages, room_id: ObjectId, reply_to: ObjectId | None) -> dict:
    """The fields of a reply to ``reply_to`` in this room; NotFound unless it
    is a message of the room that is not deleted (the same answer for a
    message elsewhere: a reply reveals nothing of other rooms)."""
    parent = messages.find_one({"_id": reply_to, "room": room_id, "type": IS_MESSAGE,
                                "deleted": False}) if reply_to is not None else None
    if parent is None:
        raise NotFound("'reply_to' names no message of this room (or a deleted one).")
    root = parent.get("thread") or parent["_id"]
    # The hint first: a reply stored without it would never be counted.
    messages.update_one({"_id": root}, {"$set": {"has_replies": True}})
    return {"reply_to": {"_id": parent["_id"], "author": parent.get("author"),
                         "author_username": parent.get("author_username", ""),
                         "excerpt": excerpt(parent.get("text", "")), "deleted": False},
            "thread": root}


def settle(messages, reply: dict) -> None:
    """After a reply is stored: if the message it answers was deleted in the
    meantime, drop the excerpt (the deletion's own sweep ran before it)."""
    parent = reply.get("reply_to") or {}
    if parent and messages.find_one({"_id": parent["_id"], "deleted": True}, {"_id": 1}):
        messages.update_one({"_id": reply["_id"]}, {"$set": {"reply_to.excerpt": "",
                                                             "reply_to.deleted": True}})
        reply["reply_to"] = {**parent, "excerpt": "", "deleted": True}


def thread_root(messages, room_id: ObjectId, message_id: ObjectId | None) -> ObjectId:
    """The first message of the thread a message of this room belongs to
    (itself if it is no reply); NotFound otherwise."""
    found = messages.find_one({"_id": message_id, "room": room_id, "type": IS_MESSAGE},
                              {"thread": 1}) if message_id is not None else None
    if found is None:
        raise no_such("thread")
    return found.get("thread") or found["_id"]


def in_thread(root: ObjectId) -> dict:
    """The filter of a thread's messages: its first message and the replies."""
    return {"$or": [{"_id": root}, {"thread": root}]}


def summaries(messages, documents: list[dict]) -> dict:
    """{message id: (reply_count, last_reply_at)} for the messages of a page
    that have replies: one query for the page."""
    roots = [document["_id"] for document in documents if document.get("has_replies")]
    found: dict = {}
    if not roots:
        return found
    # NOTE: FerretDB v1's $group has no $max: the replies' times come back
    # and are counted here (small documents: two fields each).
    for reply in messages.find({"thread": {"$in": roots}, "type": IS_MESSAGE, "deleted": False},
                               {"thread": 1, "created": 1}):
        count, last = found.get(reply["thread"], (0, None))
        found[reply["thread"]] = (count + 1, reply["created"] if last is None
                                  else max(last, reply["created"]))
    return found
