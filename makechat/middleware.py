"""Middleware: request ids, the JSON discipline of /api, and index creation."""

import collections
import contextvars
import heapq
import itertools
import logging
import re
import socket
import threading
import time
import uuid

import falcon

from makechat.media import loads

log = logging.getLogger("makechat.request")

BODY_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")

#: The id of the request being handled, for log lines written outside the
#: middleware. Each gevent greenlet and each thread has its own context.
current_request_id = contextvars.ContextVar("makechat_request_id", default="-")


class RequestId:
    """Give every request an id (the client's X-Request-Id if sane, else a new
    one), echo it in the response and log the request with it."""

    def process_request(self, req, resp):
        incoming = req.get_header("X-Request-Id") or ""
        req.context.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        current_request_id.set(req.context.request_id)
        req.context.started = time.monotonic()

    def process_response(self, req, resp, resource, req_succeeded):
        resp.set_header("X-Request-Id", req.context.request_id)
        elapsed_ms = (time.monotonic() - req.context.started) * 1000
        log.info("%s %s %s %.1fms", req.method, req.path, resp.status.split(" ")[0]
                 if isinstance(resp.status, str) else resp.status, elapsed_ms,
                 extra={"request_id": req.context.request_id})
        current_request_id.set("-")


def _is_json(content_type):
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json"))


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


def _too_large(max_body):
    return falcon.HTTPContentTooLarge(
        title="Request body too large",
        description=f"The request body may be at most {max_body} bytes.")


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


class JSONDiscipline:
    """Every /api request speaks JSON: 406 if the client cannot read JSON, 413
    for a body over max_body, 408 for a body slower than body_timeout, 429 for
    a client sending too many bodies at once, 415 for a body that is not
    JSON, 400 for JSON that is malformed, too deep, not Unicode text or not an
    object. Chunked bodies are read like any other. The parsed object (or
    None when there was no body) is left on ``req.context.body``."""

    def __init__(self, max_body, max_depth=32, body_timeout=15.0, max_readers=50,
                 client_address=None):
        self.max_body = max_body
        self.max_depth = max_depth
        self.body_timeout = body_timeout
        self.deadlines = BodyDeadlines()
        self.readers = BodyReaders(max_readers)
        self.client_address = client_address or (lambda req: req.remote_addr or "unknown")

    def process_request(self, req, resp):
        req.context.body = None
        if not req.path.startswith("/api"):
            return
        resp.cache_control = ["no-store"]
        if not req.client_accepts_json:
            raise falcon.HTTPNotAcceptable(
                title="Media type not acceptable",
                description="This API only supports responses encoded as JSON.")
        if req.method not in BODY_METHODS:
            return
        raw = self._read_body(req)
        if not raw.strip():
            return
        if not _is_json(req.content_type):
            raise falcon.HTTPUnsupportedMediaType(
                title="Unsupported media type",
                description="This API only accepts request bodies encoded as JSON "
                            "(Content-Type: application/json).")
        try:
            body = loads(raw.decode("utf-8"))
            check_json_value(body, self.max_depth)
        except RecursionError:
            # NOTE: from None: the recursion's traceback is a thousand frames of noise.
            raise falcon.HTTPBadRequest(
                title="Malformed JSON",
                description=f"The request body nests deeper than {self.max_depth} levels."
            ) from None
        except (UnicodeDecodeError, ValueError) as error:
            raise falcon.HTTPBadRequest(
                title="Malformed JSON",
                description=f"The request body could not be decoded as JSON: {error}."
            ) from error
        if not isinstance(body, dict):
            raise falcon.HTTPBadRequest(
                title="Invalid body",
                description="The request body must be a JSON object.")
        req.context.body = body

    def _read_body(self, req):
        """Return the body's bytes (at most max_body), read within body_timeout."""
        chunked = "chunked" in (req.get_header("Transfer-Encoding") or "").lower()
        length = req.content_length
        if length is None and not chunked:
            return b""
        if length is not None and length > self.max_body:
            close_after_response(req)
            raise _too_large(self.max_body)
        address = self.client_address(req)
        if not self.readers.enter(address):
            close_after_response(req)
            raise falcon.HTTPTooManyRequests(
                title="Too many uploads",
                description="This client is sending too many request bodies at once; "
                            "finish those first.", retry_after=1)
        sock = req.env.get("gunicorn.socket")
        watch = self.deadlines.watch(sock, self.body_timeout) if sock is not None else None
        try:
            # NOTE: falcon's bounded_stream reads nothing when there is no
            # Content-Length; a chunked body is read from the server's
            # decoded stream, with the same bound.
            stream = req.stream if chunked and length is None else req.bounded_stream
            raw = stream.read(self.max_body + 1)
        except Exception as error:  # noqa: BLE001 - a broken body is the client's
            if watch is not None and watch.expired:
                raw = b""
            else:
                close_after_response(req)
                raise falcon.HTTPBadRequest(title="Unreadable body",
                                            description="The request body could not be read.") \
                    from error
        finally:
            if watch is not None:
                watch.finish()
            self.readers.leave(address)
        if watch is not None and watch.expired:
            raise falcon.HTTPError(
                falcon.HTTP_408, title="Request timeout",
                description=f"The request body did not arrive within {self.body_timeout:g} "
                            "seconds; the connection is closed.")
        if len(raw) > self.max_body:
            close_after_response(req)
            raise _too_large(self.max_body)
        if length is not None and len(raw) < length:
            close_after_response(req)
            raise falcon.HTTPBadRequest(
                title="Incomplete body",
                description=f"The request body ended after {len(raw)} of {length} bytes.")
        return raw


class EnsureIndexes:
    """Create indexes before the first request that needs the database; retried
    on later requests if the database was down."""

    def __init__(self, gate):
        self.gate = gate

    def process_resource(self, req, resp, resource, params):
        if resource is not None and getattr(resource, "uses_database", True):
            self.gate.ensure()
