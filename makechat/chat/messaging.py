"""Reading and writing a room's messages as a user: access first, then the log.

``Messaging`` joins the three parts of a conversation: the access rules, the
message log (``MessageStore``) and the watcher that wakes waiting readers.
It is the one place that tells the watcher about a post of this process, so
neither the store nor the watcher needs to know the other's callers.
"""

import contextlib
import time
from typing import NamedTuple

from makechat.chat import threads
from makechat.chat.access import member_room, require_manager, visible_message
from makechat.chat.events import event_to_public
from makechat.chat.mentions import mention_fields
from makechat.chat.views import present
from makechat.exceptions import Forbidden, Invalid, no_such
from makechat.ids import parse_id
from makechat.models import message_to_public
from makechat.words import words_of


class History(NamedTuple):
    """A page of messages (oldest first) and where the next page starts:
    ``("before", seq)`` for older history, ``("after", seq)`` for newer
    messages, or None when there is no more."""

    messages: list
    next_page: tuple | None = None


class Messaging:
    def __init__(self, store, watcher, quota, mention_room_max_members=20):
        self.store = store
        self.watcher = watcher
        self.quota = quota
        self.mention_room_max_members = mention_room_max_members

    def post(self, user, room_id, text, idempotency_key=None, reply_to=None):
        """Post in a room the user belongs to, optionally as a reply to a
        message of that room; return (message, replayed)."""
        room, member = member_room(user, room_id)
        extra = {"words": words_of(text),
                 **mention_fields(user, room.id, member, text, self.mention_room_max_members)}
        if reply_to is not None:
            extra.update(threads.reply_fields(self.store.messages, room.id, parse_id(reply_to)))
        posted = self.store.post(room.id, user, text, idempotency_key, extra=extra)
        if reply_to is not None and not posted.replayed:
            threads.settle(self.store.messages, posted.message)
        self.watcher.notify(room.id, posted.mark)
        return message_to_public(posted.message), posted.replayed

    def history(self, user, room_id, *, limit, before=None, after=None, wait=0.0,
                thread=None):
        """Return History: the latest ``limit`` messages, or those just
        before or after a cursor (a message id of the room or a seq); with
        ``after`` and ``wait``, wait up to ``wait`` seconds for new ones.
        With ``thread`` (a message id), only that message's thread."""
        if before is not None and after is not None:
            raise Invalid("Use either 'before' or 'after', not both.")
        if wait and after is None:
            raise Invalid("'wait' needs an 'after' cursor.")
        room, _ = member_room(user, room_id)
        where = None
        if thread is not None:
            where = threads.in_thread(threads.thread_root(self.store.messages, room.id,
                                                          parse_id(thread)))
        if after is not None:
            seq = self.store.seq_of(room.id, after)
            if wait:
                with self.quota.slot(user.id):
                    found = self._after(room.id, seq, limit + 1, wait, where)
            else:
                found = self._after(room.id, seq, limit + 1, 0, where)
            more = len(found) > limit
            found = found[:limit]
            next_page = ("after", found[-1]["seq"]) if more else None
        else:
            seq = self.store.seq_of(room.id, before) if before is not None else None
            found = self.store.before(room.id, seq, limit + 1, where)
            more = len(found) > limit
            # History pages run backwards: the next page is the older one.
            found = found[1:] if more else found
            next_page = ("before", found[0]["seq"]) if more else None
        return History(present(user, found), next_page)

    def room_events(self, user, room_id, *, after, limit, wait=0.0):
        """Return (events, cursor): a room's events after seq ``after`` (every
        type, in order; gap fillers skipped), and the seq to ask after next;
        with ``wait``, wait up to that many seconds for the first one."""
        room, _ = member_room(user, room_id, action="read the events of")
        if after < 0:
            raise Invalid("The 'after' parameter must be a seq (0 or more).")
        deadline = time.monotonic() + (wait or 0)
        with self.quota.slot(user.id) if wait else contextlib.nullcontext():
            mark = self.store.read_mark(room.id)
            while True:
                entries = self.store.shared_events(room.id, after, limit, mark)
                if entries:
                    shown = [event_to_public(entry) for entry in entries]
                    return [event for event in shown if event is not None], entries[-1]["seq"]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return [], after
                woke = self.watcher.wait(room.id, mark, remaining)
                if woke is False:
                    return [], after
                mark = woke if woke is not None else self.store.shared_mark(room.id)

    def _after(self, room_id, seq, limit, wait, where=None):
        deadline = time.monotonic() + wait
        mark = None
        while True:
            if mark is None:
                mark = self.store.read_mark(room_id)
            found = self.store.shared_after(room_id, seq, limit, mark, where)
            remaining = deadline - time.monotonic()
            if found or remaining <= 0:
                return found
            woke = self.watcher.wait(room_id, mark, remaining)
            if woke is False:
                return []
            mark = woke  # the waker's mark, or None to look it up

    def _load(self, user, message_id):
        """Return (message, caller's membership); NotFound unless the caller may
        see the room the message is in."""
        return visible_message(self.store, user, message_id)

    def get(self, user, message_id):
        """Return one message, to the members of its room."""
        message, member = self._load(user, message_id)
        if member is None:
            raise no_such("message")
        return present(user, [message])[0]

    def edit(self, user, message_id, text):
        """Edit one's own message, while a member of its room."""
        message, member = self._load(user, message_id)
        if member is None:
            # SECURITY: someone who left or was removed cannot see the room's
            # messages any more (GET is 404), nor change them.
            raise no_such("message")
        if message.get("author") != user.id:
            raise Forbidden("Only its author may edit a message.")
        edited = self.store.edit(message, user, text)
        self.watcher.notify(message["room"])
        return present(user, [edited])[0]

    def delete(self, user, message_id):
        """Delete a message: its author while a member, the room's owner, an admin."""
        message, member = self._load(user, message_id)
        if member is None and not user.is_superuser:
            raise no_such("message")  # left the room: as for GET, it is gone
        if message.get("author") != user.id:
            require_manager(user, member)
        self.store.delete(message, user)
        self.watcher.notify(message["room"])
