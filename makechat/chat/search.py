"""Searching messages by their words, in the rooms the caller belongs to.

A message matches when its ``words`` (``makechat.words``, computed when
it is posted or edited) hold every key of the query. Results come newest
first (by ``_id``), a page at a time; the cursor is the ``_id`` of the last
result. Each result is the message with ``marked``: its text in pieces, the
ones that match marked. Only rooms the caller is a member of are searched,
admins included: a search never reveals a room one does not belong to.

NOTE: on MongoDB the multikey index on ``(words, _id)`` finds the messages
holding the query's first key in ``_id`` order; FerretDB v1 reads the whole
collection for every search (bench/search.py measures both).
"""

from bson import ObjectId

from makechat.chat.access import member_room, room_ids_of
from makechat.chat.events import IS_MESSAGE
from makechat.chat.views import present
from makechat.exceptions import Invalid
from makechat.models import Message
from makechat.words import marked, query_keys, words_of

#: The most keys a query may have by default (``search_max_words``; a query
#: of CJK text has one per pair).
MAX_QUERY_KEYS = 16


def search(user, text: str, room_id: ObjectId | None = None, *, before: ObjectId | None = None,
           limit: int, max_keys: int = MAX_QUERY_KEYS) -> tuple[list, ObjectId | None]:
    """Return (results, cursor of the next page or None) for a query."""
    keys = query_keys(text)
    if not keys:
        raise Invalid("The query 'q' has no word to look for (letters or digits).")
    if len(keys) > max_keys:
        raise Invalid(f"The query 'q' has more than {max_keys} words (`search_max_words`).")
    if room_id is not None:
        room, _ = member_room(user, room_id, action="search")
        rooms = [room.id]
    else:
        rooms = room_ids_of(user)
    if not rooms:
        return [], None
    # PERF: equality on the room and the first key, where one will do: FerretDB
    # pushes equality filters down to SQLite.
    query: dict = {"room": rooms[0] if len(rooms) == 1 else {"$in": rooms},
                   "words": keys[0] if len(keys) == 1 else {"$all": keys},
                   "type": IS_MESSAGE, "deleted": False}
    if before is not None:
        query["_id"] = {"$lt": before}
    found = list(Message._get_collection().find(query).sort("_id", -1).limit(limit + 1))
    cursor = found[limit - 1]["_id"] if len(found) > limit else None
    found = found[:limit]
    results = present(user, found)
    for result, document in zip(results, found, strict=True):
        result["marked"] = marked(document.get("text", ""), keys)
    return results, cursor


def index_words(everything: bool = False, progress=None) -> int:
    """Give messages their search keys: those stored without any (posted
    before search existed, or restored from such a backup), or
    (``everything``) all of them, after the rules of makechat.words
    changed. Return how many were written (``makechat search-index``)."""
    messages = Message._get_collection()
    query: dict = {"type": IS_MESSAGE, "deleted": False}
    if not everything:
        query["words"] = {"$exists": False}
    written = 0
    for message in messages.find(query, {"text": 1}):
        messages.update_one({"_id": message["_id"]},
                            {"$set": {"words": words_of(message.get("text", ""))}})
        written += 1
        if progress is not None and written % 1000 == 0:
            progress(written)
    return written
