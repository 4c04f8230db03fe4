"""Every error, mapped once, to a JSON body ``{"title", "description"}``.

The core raises ``makechat.exceptions`` errors and knows no HTTP; this is the
one place that gives each kind its status."""

import logging

import falcon
import mongoengine.errors
from bson.errors import InvalidId

from makechat import exceptions
from makechat.db import UNAVAILABLE_ERRORS
from makechat.media import JSON_UTF8, dumps

log = logging.getLogger("makechat.errors")

DEFAULT_DESCRIPTIONS = {
    400: "The request could not be understood.",
    401: "Please provide an auth token or login.",
    403: "You are not allowed to do this.",
    404: "The requested resource does not exist.",
    405: "This method is not allowed on this resource.",
    406: "This API only supports responses encoded as JSON.",
    409: "The request conflicts with the current state of the resource.",
    413: "The request body is too large.",
    415: "This API only accepts requests encoded as JSON.",
    429: "Too many requests; try again later.",
    500: "Something went wrong on the server.",
    503: "The service is temporarily unavailable; try again shortly.",
}

#: The status of each kind of core error.
STATUSES = {
    exceptions.Invalid: falcon.HTTP_400,
    exceptions.Forbidden: falcon.HTTP_403,
    exceptions.NotFound: falcon.HTTP_404,
    exceptions.Conflict: falcon.HTTP_409,
    exceptions.TooMany: falcon.HTTP_429,
    exceptions.Busy: falcon.HTTP_503,
}


def serialize_error(req, resp, error):
    """Write every HTTPError as JSON with a title and a description."""
    status = error.status_code
    title = error.title or falcon.code_to_http_status(status)
    if title.startswith(f"{status} "):
        title = title[len(f"{status} "):]
    description = error.description or DEFAULT_DESCRIPTIONS.get(status, title)
    if status == 405:
        allow = resp.get_header("Allow")
        if allow:
            description = f"{req.method} is not allowed here; use one of: {allow}."
    resp.content_type = JSON_UTF8
    resp.text = dumps({"title": title, "description": description})


def core_error(req, resp, ex, params):
    """A core error: its status by kind, its words as the core wrote them."""
    # The nearest kind in the class's MRO decides (a conflict that is also an
    # account error is a 409).
    status = next(STATUSES[kind] for kind in type(ex).__mro__ if kind in STATUSES)
    headers = {}
    retry_after = getattr(ex, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(int(retry_after))
    headers.update(getattr(ex, "headers", None) or {})  # RateLimit-* of a 429
    raise falcon.HTTPError(status, title=ex.title, description=ex.description, headers=headers)


def not_found(req, resp, ex, params):
    raise falcon.HTTPNotFound(title="Not found",
                              description="The requested resource does not exist.")


def invalid_document(req, resp, ex, params):
    raise falcon.HTTPBadRequest(title="Invalid parameter", description=str(ex))


def database_unavailable(req, resp, ex, params):
    log.warning("database unavailable: %s", ex)
    raise falcon.HTTPServiceUnavailable(
        title="Service unavailable",
        description="The database is not answering; try again shortly.",
        retry_after=5)


def unexpected(req, resp, ex, params):
    request_id = getattr(req.context, "request_id", "-")
    log.exception("unhandled error in %s %s (request %s)", req.method, req.path, request_id)
    raise falcon.HTTPInternalServerError(
        title="Internal server error",
        description=f"Something went wrong on the server (request id {request_id}).")


def register(app):
    """Install the handlers. Falcon picks the most specific class, so the
    catch-all Exception handler only sees what nothing else claimed."""
    app.add_error_handler(Exception, unexpected)
    app.add_error_handler(mongoengine.errors.DoesNotExist, not_found)
    app.add_error_handler(InvalidId, not_found)
    app.add_error_handler(mongoengine.errors.ValidationError, invalid_document)
    app.add_error_handler(UNAVAILABLE_ERRORS, database_unavailable)
    app.add_error_handler(exceptions.MakechatError, core_error)
    app.set_error_serializer(serialize_error)
