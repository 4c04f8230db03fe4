"""The events of a room's log: their types, what each changes, and how the
API shows them.

Every change of a room takes the room's next seq (makechat.chat.messagelog):
a message is its own entry, and edits, deletions, membership and room
changes are entries after it. Clients that read the log after a cursor see
every change exactly once, in order; GET /api/messages keeps showing only
the messages, as they are now.
"""

from makechat.models import Member, message_to_public
from makechat.words import words_of

#: The types of log entries. A message is its own entry (its seq is its place
#: in history); every other change of a room is an event after it.
MESSAGE = "message"
#: How a query asks for messages: entries written before 0.3 have no type.
IS_MESSAGE = {"$in": [MESSAGE, None]}
GAP = "gap"  # a seq whose writer died: nothing happened there
EDITED = "message.edited"
DELETED = "message.deleted"
MEMBER_JOINED = "member.joined"
MEMBER_LEFT = "member.left"
MEMBER_ROLE = "member.role"
ROOM_UPDATED = "room.updated"
REACTION_ADDED = "reaction.added"  # makechat.chat.reactions
REACTION_REMOVED = "reaction.removed"

#: What the API calls each entry type (gap fillers are never shown).
PUBLIC_TYPES = (MESSAGE, EDITED, DELETED, MEMBER_JOINED, MEMBER_LEFT, MEMBER_ROLE, ROOM_UPDATED,
                REACTION_ADDED, REACTION_REMOVED)


def apply_effect(messages, event):
    """Bring the state an event changes in line with it; idempotent, so any
    process walking past the event may (re)do it.

    An edit only lands on a message whose last applied edit is older (the
    log's order decides between two edits, whichever process applies them);
    an edit of a deleted message keeps no text, nor do earlier edits once
    their message is deleted."""
    kind, data = event.get("type"), event.get("data") or {}
    if kind == EDITED:
        changed = messages.update_one(
            {"_id": data["message"], "type": IS_MESSAGE, "deleted": False,
             "$or": [{"edit_seq": {"$lt": event["seq"]}}, {"edit_seq": {"$exists": False}}]},
            {"$set": {"text": data["text"], "edited": data["edited"],
                      "edit_seq": event["seq"], "words": words_of(data["text"])}})
        if not changed.matched_count and messages.find_one(
                {"_id": data["message"], "deleted": True}, {"_id": 1}):
            messages.update_one({"_id": event["_id"]}, {"$set": {"data.text": ""}})
    elif kind == DELETED:
        messages.update_one({"_id": data["message"]}, {"$set": {
            "deleted": True, "text": "", "author_username": "", "edited": event["created"],
            "words": []}})
        messages.update_many({"type": EDITED, "data.message": data["message"]},
                             {"$set": {"data.text": ""}})
        # Replies keep an excerpt of the message they answer: it goes too.
        messages.update_many({"reply_to._id": data["message"]},
                             {"$set": {"reply_to.excerpt": "", "reply_to.deleted": True}})
    elif kind == MEMBER_LEFT:
        Member.objects(id=data["member"]).delete()
    elif kind == REACTION_REMOVED:
        messages.database["reactions"].delete_one({"_id": data["reaction"]})


def event_to_public(entry):
    """A log entry as the API shows it: ``{seq, room, type, at, actor, data}``;
    None for a gap filler (a seq where nothing happened)."""
    kind = entry.get("type", MESSAGE)
    if kind == GAP or (kind == MESSAGE and entry.get("author") is None and entry.get("deleted")):
        return None  # NOTE: gap fillers written before 0.3 had no type
    if kind == MESSAGE:
        actor = {"_id": entry.get("author"), "username": entry.get("author_username", "")}
        data = {**message_to_public(entry), "deleted": bool(entry.get("deleted"))}
    else:
        actor = {"_id": entry.get("actor"), "username": entry.get("actor_username", "")}
        data = dict(entry.get("data") or {})
    return {"seq": entry["seq"], "room": entry["room"], "type": kind, "at": entry["created"],
            "actor": actor, "data": data}
