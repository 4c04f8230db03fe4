"""Waking requests that wait for new events (GET /api/messages?wait=S, a
room's events, and each user's event stream).

One poller per process asks the database, every poll_interval, for the
committed marks of all the rooms its requests wait on: one query however
many clients wait, and nothing at all when none do. Fan-out goes through
the database, so a post in any process on any machine wakes the waiters
everywhere within one interval; a post in this process wakes its own
waiters at once. Under gunicorn's gevent worker the threading primitives
are gevent's, so each waiting request costs a greenlet, not a thread.
"""

import contextlib
import logging
import threading
import weakref

from makechat.exceptions import TooMany
from makechat.models import Room, User

log = logging.getLogger(__name__)


class _Waiter:
    """One waiting request: the rooms it follows, with the mark it has seen in
    each, and (for a user's event stream) the user's stream token."""

    __slots__ = ("seen", "user", "token", "event", "mark", "room_id")

    def __init__(self, seen, user=None, token=None):
        self.seen = seen
        self.user = user
        self.token = token
        self.event = threading.Event()
        self.mark = None     # the waker's mark of the room that woke it (None: unknown)
        self.room_id = None  # the room that woke it (None: the user's token changed)


class RoomWatcher:
    """Block callers until a room's committed mark passes what they have seen
    (or, for a stream, until the user's stream token changes)."""

    def __init__(self, poll_interval, advance, remember=lambda room_id, mark: None):
        self.poll_interval = poll_interval
        # MessageStore.advance, to unstick a dead writer's gap, and
        # MessageStore.remember_mark, to share what each poll learns; the
        # store knows nothing of the watcher (Messaging tells it about posts).
        self.advance = advance
        self.remember = remember
        self._waiters = {}       # room id -> [_Waiter]
        self._user_waiters = {}  # user id -> [_Waiter]
        self._lock = threading.Lock()
        self._poller = None
        self.polls = 0  # how many database polls ran (tests and benchmarks read it)
        self.closing = False
        _WATCHERS.add(self)

    def waiting(self):
        with self._lock:
            return len({id(waiter) for waiters in (*self._waiters.values(),
                                                   *self._user_waiters.values())
                        for waiter in waiters})

    def wait(self, room_id, seen, timeout):
        """Wait until the room's mark exceeds seen; return the new mark (None if
        the waker did not know it), or False on timeout."""
        woke = self.wait_any({room_id: seen}, timeout)
        return False if woke is False else woke[1]

    def wait_any(self, seen, timeout, user=None, token=None):
        """Wait until one room of ``seen`` ({room id: mark seen}) passes its mark,
        or the user's stream token is no longer ``token``; return (room id,
        mark) of the room that woke it ((None, None) for the user), or False
        on timeout."""
        if self.closing:
            return False
        waiter = _Waiter(dict(seen), user, token)
        with self._lock:
            for room_id in waiter.seen:
                self._waiters.setdefault(room_id, []).append(waiter)
            if user is not None:
                self._user_waiters.setdefault(user, []).append(waiter)
            self._start_poller()
        try:
            if not waiter.event.wait(timeout) or self.closing:
                return False
            return waiter.room_id, waiter.mark
        finally:
            with self._lock:
                for room_id in waiter.seen:
                    self._forget(self._waiters, room_id, waiter)
                if user is not None:
                    self._forget(self._user_waiters, user, waiter)

    @staticmethod
    def _forget(registry, key, waiter):
        waiters = registry.get(key, [])
        if waiter in waiters:
            waiters.remove(waiter)
        if not waiters:
            registry.pop(key, None)

    def notify(self, room_id, mark=None):
        """Wake this process's waiters on a room (after a local change)."""
        with self._lock:
            for waiter in self._waiters.get(room_id, ()):
                if mark is None or mark > waiter.seen[room_id]:
                    waiter.room_id, waiter.mark = room_id, mark
                    waiter.event.set()

    def close(self):
        """The process is stopping: answer every waiter now (as if its time
        were up), and every later one at once."""
        self.closing = True
        with self._lock:
            waiters = {id(waiter): waiter for registry in (self._waiters, self._user_waiters)
                       for waiters in registry.values() for waiter in waiters}
        for waiter in waiters.values():
            waiter.event.set()

    def notify_user(self, user_id, token=None):
        """Wake the streams of a user whose stream token is not ``token``."""
        with self._lock:
            for waiter in self._user_waiters.get(user_id, ()):
                if token is None or token != waiter.token:
                    waiter.room_id = waiter.mark = None
                    waiter.event.set()

    def _start_poller(self):
        if self._poller is None or not self._poller.is_alive():
            self._poller = threading.Thread(target=self._run, name="makechat-watcher",
                                            daemon=True)
            self._poller.start()

    def _run(self):
        idle_polls = 0
        while True:
            threading.Event().wait(self.poll_interval)
            with self._lock:
                room_ids, user_ids = list(self._waiters), list(self._user_waiters)
            if not room_ids and not user_ids:
                idle_polls += 1
                if idle_polls > 100:
                    with self._lock:
                        if not self._waiters and not self._user_waiters:
                            self._poller = None
                            return
                continue
            idle_polls = 0
            try:
                if room_ids:
                    self.poll(room_ids)
                if user_ids:
                    self.poll_users(user_ids)
            except Exception:  # noqa: BLE001 - a down database must not kill the poller
                log.warning("watcher poll failed; retrying", exc_info=True)

    def poll(self, room_ids):
        """One database query for every watched room; wake whoever is behind."""
        self.polls += 1
        rooms = Room._get_collection().find(
            {"_id": {"$in": room_ids}},
            {"committed_seq": 1, "last_seq": 1, "seq_at": 1})
        found = set()
        for room in rooms:
            found.add(room["_id"])
            mark = room.get("committed_seq", 0)
            if room.get("last_seq", 0) > mark:
                # Numbers beyond the mark: written out of order, or held by a
                # writer that died (advance punches those after gap_timeout).
                mark = self.advance(room["_id"], room)
            else:
                self.remember(room["_id"], mark)
            self.notify(room["_id"], mark)
        for room_id in set(room_ids) - found:
            self.notify(room_id)  # the room was deleted: let its waiters answer 404

    def poll_users(self, user_ids):
        """One query for the stream tokens of every user whose stream waits."""
        self.polls += 1
        for user in User._get_collection().find({"_id": {"$in": user_ids}},
                                                {"stream_token": 1}):
            self.notify_user(user["_id"], user.get("stream_token"))


_WATCHERS: "weakref.WeakSet[RoomWatcher]" = weakref.WeakSet()


def close_all():
    """Close every watcher of this process (a worker that is stopping): waiting
    requests answer and event streams end, so the worker need not wait its
    graceful timeout for them."""
    for watcher in list(_WATCHERS):
        watcher.close()


class TooManyWaiting(TooMany):
    """A user already holds their share of waiting requests in this process."""

    def __init__(self, limit):
        super().__init__(f"You already have {limit} waiting requests open; "
                         "close one or wait without ?wait= for a moment.",
                         title="Too many waiting requests", retry_after=5)
        self.limit = limit


class WaitQuota:
    """How many waiting requests (``?wait=``) each user holds in this process.

    Waiting requests hold a connection for up to max_wait seconds; without a
    cap, one token could park thousands and take every connection slot of
    every worker. Beyond ``limit`` a new one is refused at once (429)."""

    def __init__(self, limit):
        self.limit = limit
        self._held = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def slot(self, user_id):
        with self._lock:
            held = self._held.get(user_id, 0)
            if held >= self.limit:
                raise TooManyWaiting(self.limit)
            self._held[user_id] = held + 1
        try:
            yield
        finally:
            with self._lock:
                self._held[user_id] -= 1
                if not self._held[user_id]:
                    del self._held[user_id]

    def acquire(self, user_id):
        """Take a slot until release() (for a stream that outlives a call)."""
        slot = self.slot(user_id)
        slot.__enter__()
        return slot

    def held(self, user_id):
        with self._lock:
            return self._held.get(user_id, 0)
