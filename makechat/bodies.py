"""Reading request bodies without letting a client hold the server: one
watchdog for every body's deadline, a per-address count of bodies in
flight, closing a connection whose body was not read, and the checks a
parsed JSON body must pass. The JSONDiscipline middleware
(``makechat.middleware``) uses them; nothing here knows falcon."""

import collections
import heapq
import itertools
import socket
import threading
import time

#: Before closing on a client whose body was not read, take in at most this
#: much of what it is still sending, for at most LINGER seconds: closing a
#: socket with unread data makes the kernel reset the connection, and the
#: client may then lose the answer (nginx's "lingering close").
LINGER_BYTES = 256 * 1024
LINGER = 1.0


def close_after_response(req):
    """Make the server close the connection after this response instead of
    reading (or draining, unbounded) a body this request did not consume:
    read what the client is still sending for a moment, then shut the read
    side. A no-op where there is no socket (WebTest)."""
    sock = req.env.get("gunicorn.socket")
    if sock is None:
        return
    deadline = time.monotonic() + LINGER
    taken = 0
    try:
        while taken < LINGER_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            data = sock.recv(65536)
            if not data:
                break
            taken += len(data)
    except OSError:
        pass  # timed out or gone: close anyway
    try:
        sock.settimeout(None)
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass


class BodyDeadlines:
    """One watchdog for the whole process: a request body that has not
    arrived by its deadline has its socket's read side shut, which ends the
    blocked read at once. Under gevent the watchdog is a greenlet (the
    threading module is patched), under gthread a thread; either way it
    costs one sleeper, not one per request."""

    def __init__(self):
        self._heap = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None
        self._counter = itertools.count()

    def watch(self, sock, timeout):
        """Return a handle: ``handle.expired`` says whether the deadline hit."""
        handle = _Watch(sock, time.monotonic() + timeout)
        with self._lock:
            heapq.heappush(self._heap, (handle.deadline, next(self._counter), handle))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="makechat-body-deadlines",
                                                daemon=True)
                self._thread.start()
        self._wake.set()
        return handle

    def _run(self):
        while True:
            with self._lock:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._thread = None
                    return
                deadline, _, handle = self._heap[0]
                now = time.monotonic()
                if deadline <= now:
                    heapq.heappop(self._heap)
                    handle.expire()
                    continue
            self._wake.wait(deadline - now)
            self._wake.clear()


class _Watch:
    __slots__ = ("sock", "deadline", "done", "expired")

    def __init__(self, sock, deadline):
        self.sock, self.deadline, self.done, self.expired = sock, deadline, False, False

    def expire(self):
        if self.done:
            return
        self.done = self.expired = True
        try:
            self.sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass

    def finish(self):
        self.done = True


class BodyReaders:
    """How many request bodies each client address is sending to this process
    right now: a client that opens hundreds of connections and sends their
    bodies slowly gets 429 beyond its share, instead of every slot."""

    def __init__(self, limit):
        self.limit = limit
        self._counts = collections.Counter()
        self._lock = threading.Lock()

    def enter(self, address):
        with self._lock:
            if self._counts[address] >= self.limit:
                return False
            self._counts[address] += 1
            return True

    def leave(self, address):
        with self._lock:
            self._counts[address] -= 1
            if self._counts[address] <= 0:
                del self._counts[address]


def check_json_value(value, max_depth):
    """Raise ValueError if a parsed body nests deeper than max_depth or holds
    a string that is not Unicode text (a lone surrogate such as "\ud800",
    which JSON can escape but no database can store)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, (dict, list)):
            if depth > max_depth:
                raise ValueError(f"the body nests deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def _check_text(text):
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("a string holds a lone surrogate (such as \\ud800), "
                             "which is not Unicode text") from None
