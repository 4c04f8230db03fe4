"""Middleware: request ids, the JSON discipline of /api, and index creation."""

import contextvars
import logging
import re
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


class JSONDiscipline:
    """Every /api request speaks JSON: 406 if the client cannot read JSON, 413
    for a body over max_body, 415 for a body that is not JSON, 400 for JSON
    that is malformed or not an object. The parsed object (or None when there
    was no body) is left on ``req.context.body``."""

    def __init__(self, max_body):
        self.max_body = max_body

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
        length = req.content_length
        if length is not None and length > self.max_body:
            raise falcon.HTTPContentTooLarge(
                title="Request body too large",
                description=f"The request body may be at most {self.max_body} bytes.")
        raw = req.bounded_stream.read(self.max_body + 1)
        if len(raw) > self.max_body:
            raise falcon.HTTPContentTooLarge(
                title="Request body too large",
                description=f"The request body may be at most {self.max_body} bytes.")
        if not raw.strip():
            return
        if not _is_json(req.content_type):
            raise falcon.HTTPUnsupportedMediaType(
                title="Unsupported media type",
                description="This API only accepts request bodies encoded as JSON "
                            "(Content-Type: application/json).")
        try:
            body = loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise falcon.HTTPBadRequest(
                title="Malformed JSON",
                description=f"The request body could not be decoded as JSON: {error}.")
        if not isinstance(body, dict):
            raise falcon.HTTPBadRequest(
                title="Invalid body",
                description="The request body must be a JSON object.")
        req.context.body = body


class EnsureIndexes:
    """Create indexes before the first request that needs the database; retried
    on later requests if the database was down."""

    def __init__(self, gate):
        self.gate = gate

    def process_resource(self, req, resp, resource, params):
        if resource is not None and getattr(resource, "uses_database", True):
            self.gate.ensure()
