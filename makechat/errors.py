"""Every error, mapped once, to a JSON body ``{"title", "description"}``."""

import logging

import falcon
import mongoengine.errors
from bson.errors import InvalidId

from makechat.accounts import AccountConflict, AccountError
from makechat.auth import TooManyTokens
from makechat.db import UNAVAILABLE_ERRORS
from makechat.throttle import Refused
from makechat.watcher import TooManyWaiting
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


def throttled(req, resp, ex, params):
    raise falcon.HTTPTooManyRequests(title=ex.rule.title, description=str(ex),
                                     retry_after=ex.retry_after)


def too_many_tokens(req, resp, ex, params):
    raise falcon.HTTPConflict(title="Too many tokens", description=str(ex))


def account_conflict(req, resp, ex, params):
    raise falcon.HTTPConflict(title="Already exists", description=f"{_sentence(ex)}")


def account_error(req, resp, ex, params):
    raise falcon.HTTPBadRequest(title="Invalid parameter", description=f"{_sentence(ex)}")


def _sentence(error):
    text = str(error)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def too_many_waiting(req, resp, ex, params):
    raise falcon.HTTPTooManyRequests(title="Too many waiting requests", description=str(ex),
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
    app.add_error_handler(Refused, throttled)
    app.add_error_handler(AccountError, account_error)
    app.add_error_handler(AccountConflict, account_conflict)
    app.add_error_handler(TooManyTokens, too_many_tokens)
    app.add_error_handler(TooManyWaiting, too_many_waiting)
    app.set_error_serializer(serialize_error)
