"""Middleware: request ids, the JSON discipline of /api, and index creation."""

import contextvars
import logging
import re
import time
import uuid

import falcon

from makechat.bodies import BodyDeadlines, BodyReaders, check_json_value, close_after_response
from makechat.bots.redact import redact_path
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
        log.info("%s %s %s %.1fms", req.method, redact_path(req.path), resp.status.split(" ")[0]
                 if isinstance(resp.status, str) else resp.status, elapsed_ms,
                 extra={"request_id": req.context.request_id})
        current_request_id.set("-")


def _is_json(content_type):
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json"))


def _too_large(max_body):
    return falcon.HTTPContentTooLarge(
        title="Request body too large",
        description=f"The request body may be at most {max_body} bytes.")


class JSONDiscipline:
    """Every /api request speaks JSON: 406 if the client cannot read JSON, 413
    for a body over max_body, 408 for a body slower than body_timeout, 429 for
    a client sending too many bodies at once, 415 for a body that is not
    JSON, 400 for JSON that is malformed, too deep, not Unicode text or not an
    object. Chunked bodies are read like any other. The parsed object (or
    None when there was no body) is left on ``req.context.body``."""

    def __init__(self, max_body, max_depth=32, body_timeout=15.0, max_readers=50,
                 client_address=None, event_streams=(), raw_bodies=()):
        self.max_body = max_body
        # Path prefixes outside /api whose bodies are read with the same
        # bounds and left as bytes on req.context.raw_body (incoming webhooks
        # take JSON or a form).
        self.raw_bodies = tuple(raw_bodies)
        # Paths that may answer text/event-stream instead of JSON.
        self.event_streams = frozenset(event_streams)
        self.max_depth = max_depth
        self.body_timeout = body_timeout
        self.deadlines = BodyDeadlines()
        self.readers = BodyReaders(max_readers)
        self.client_address = client_address or (lambda req: req.remote_addr or "unknown")

    def process_request(self, req, resp):
        req.context.body = None
        if self.raw_bodies and req.path.startswith(self.raw_bodies):
            req.context.raw_body = self._read_body(req) if req.method in BODY_METHODS else b""
            return
        if not req.path.startswith("/api"):
            return
        resp.cache_control = ["no-store"]
        if not req.client_accepts_json and not (
                req.path in self.event_streams and req.client_accepts("text/event-stream")):
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


class Services:
    """Put app-wide services on every request's context (the rate limiter,
    which ``@operation(rate=...)`` charges)."""

    def __init__(self, **services):
        self.services = services

    def process_request(self, req, resp):
        for name, service in self.services.items():
            setattr(req.context, name, service)
