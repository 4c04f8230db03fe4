"""Each operation's contract, declared on its responder, and enforced there.

``@operation(...)`` says who may call a responder (``auth``), the query
parameters it reads (``query``), the schema of its body (``body``), what each
status means (``responses``) and the shape of success bodies (``schemas``).
The decorator does what it declares before the responder runs: it
authenticates, parses the query parameters into ``req.context.query`` and
validates the body into ``req.context.body``. ``makechat.openapi`` builds the
OpenAPI document from these declarations alone, as spectree's and udata's
decorators do, so the published contract and the enforced one are one object.
"""

import dataclasses
import functools
import math
from collections.abc import Callable
from urllib.parse import urlencode

import falcon

from makechat.hooks import require_admin, require_token
from makechat.ids import parse_id
from makechat.paging import DEFAULT_LIMIT, MAX_LIMIT
from makechat.scopes import SCOPES, check_scope
from makechat.validation import validate

#: An id in a path or query string: 24 hex digits, or ``{"$oid": "..."}`` as text.
ID_TEXT = '[0-9a-fA-F]{24}|\\{ *"\\$oid" *: *"[0-9a-fA-F]{24}" *\\}'
ID_TEXT_PATTERN = f"^({ID_TEXT})$"


def _read_string(param, req):
    return req.get_param(param.name, required=param.required)


@dataclasses.dataclass(frozen=True)
class Query:
    """A query parameter: its schema, what it means, and how it is read
    (``read(param, req)``; as text unless said otherwise)."""

    name: str
    schema: dict
    description: str = ""
    required: bool = False
    read: Callable = _read_string

    def value(self, req):
        return self.read(self, req)


def _read_integer(param, req):
    return req.get_param_as_int(param.name, required=param.required,
                                min_value=param.schema.get("minimum"),
                                max_value=param.schema.get("maximum"),
                                default=param.schema.get("default"))


def _read_seconds(param, req):
    value = req.get_param_as_float(param.name, required=param.required,
                                   min_value=param.schema.get("minimum"),
                                   max_value=param.schema.get("maximum"))
    if value is not None and not math.isfinite(value):
        raise falcon.HTTPInvalidParam("The value must be a number of seconds.", param.name)
    return value


def _read_id(param, req):
    """A malformed id names nothing: None, for the core to answer NotFound."""
    value = req.get_param(param.name, required=param.required)
    return parse_id(value) if value is not None else None


def _read_cursor_id(param, req):
    value = req.get_param(param.name)
    if value is None:
        return None
    cursor = parse_id(value)
    if cursor is None:
        raise falcon.HTTPInvalidParam("The cursor must be an id from a previous page.",
                                      param.name)
    return cursor


def string(name, description="", required=False, **schema):
    return Query(name, {"type": "string", **schema}, description, required, _read_string)


def integer(name, description="", required=False, **schema):
    return Query(name, {"type": "integer", **schema}, description, required, _read_integer)


def seconds(name, description="", maximum=None):
    schema = {"type": "number", "minimum": 0}
    if maximum is not None:
        schema["maximum"] = maximum
    return Query(name, schema, description, False, _read_seconds)


def object_id(name, description, required=False):
    return Query(name, {"type": "string", "pattern": ID_TEXT_PATTERN}, description, required,
                 _read_id)


#: Cursor paging, as every listing reads it.
LIMIT = integer("limit", f"Items per page (1 to {MAX_LIMIT}, default {DEFAULT_LIMIT}).",
                minimum=1, maximum=MAX_LIMIT, default=DEFAULT_LIMIT)
AFTER = Query("after", {"type": "string", "pattern": ID_TEXT_PATTERN},
              "Cursor: the id of the last item of the previous page.", False, _read_cursor_id)
PAGING = (LIMIT, AFTER)
#: Cursor paging of a listing that runs newest first.
BEFORE = Query("before", {"type": "string", "pattern": ID_TEXT_PATTERN},
               "Cursor: the id of the last item of the previous page.", False, _read_cursor_id)
ROOM = object_id("room", "The id of the room.", required=True)

LINK = {"Link": {"description": 'The next page: `<URL>; rel="next"`; absent on the last page.',
                 "schema": {"type": "string"}}}


def location(what):
    return {"Location": {"description": f"The URL of the {what}.", "schema": {"type": "string"}}}


@dataclasses.dataclass(frozen=True)
class Operation:
    """What one responder promises: see the module docstring.

    ``responses`` maps each status the operation answers to its cause; the
    success statuses name their response schema in ``schemas`` (a list of it
    when the name ends in ``[]``). Causes shared by every operation (401,
    403, 406, 413, 415, 503, ...) are added by ``makechat.openapi`` from
    ``auth``, the method and the path. ``body`` is a schema, or the name of
    the resource's attribute holding it (a schema built from the config)."""

    summary: str
    responses: dict
    schemas: dict = dataclasses.field(default_factory=dict)
    auth: str = "token"  # "none", "token" or "admin"
    body: object = None
    query: tuple = ()
    description: str = ""
    headers: dict = dataclasses.field(default_factory=dict)
    response_headers: dict = dataclasses.field(default_factory=dict)
    tag: str = ""
    #: {name: (schema, description)} of path parameters that are not ids.
    path: dict = dataclasses.field(default_factory=dict)
    #: The scope a token needs (makechat.scopes); "" for any token. An
    #: "admin" operation needs "admin" unless it says otherwise.
    scope: str = ""
    #: The rate limit charged per token before the responder runs
    #: (makechat.ratelimit; "" for none), announced in RateLimit-* headers.
    rate: str = ""

    @property
    def required_scope(self):
        return self.scope or ("admin" if self.auth == "admin" else "")

    def body_schema(self, resource):
        if isinstance(self.body, str):
            return getattr(resource, self.body)
        return self.body

    def query_params(self, resource):
        """The Query objects; a string names the resource attribute holding
        them (parameters whose bounds come from the config)."""
        if isinstance(self.query, str):
            return getattr(resource, self.query)
        return self.query


def operation(summary, **declared):
    """Declare (and enforce) a responder's contract; see the module docstring."""
    spec = Operation(summary, **declared)
    if spec.auth not in ("none", "token", "admin"):
        raise ValueError(f"auth must be 'none', 'token' or 'admin', not {spec.auth!r}")
    if spec.scope and spec.scope not in SCOPES:
        raise ValueError(f"unknown scope {spec.scope!r}")

    def decorate(responder):
        @functools.wraps(responder)
        def run(resource, req, resp, **params):
            if spec.auth != "none":
                require_token(req, resp, resource, params)
                check_scope(req.context.user, spec.required_scope)
                if spec.auth == "admin":
                    require_admin(req, resp, resource, params)
                if spec.rate:
                    charge(req, resp, spec.rate, req.context.token.id)
            req.context.query = {param.name: param.value(req)
                                 for param in spec.query_params(resource)}
            schema = spec.body_schema(resource)
            if schema is not None:
                req.context.body = validate(req.context.body, schema)
            return responder(resource, req, resp, **params)

        run.operation = spec
        return run
    return decorate


def charge(req, resp, policy, key):
    """Count one request of ``key`` against a rate limit (the app's
    RateLimiter, on req.context) and announce what is left."""
    budget = req.context.rate_limiter.charge(policy, key)
    if budget is not None:
        for name, value in budget.headers().items():
            resp.set_header(name, value)


def set_next_link(req, resp, drop=(), **params):
    """Announce the next page: the current query with new cursor parameters
    (and without those named in ``drop``)."""
    query = {key: value for key, value in req.params.items()
             if key not in params and key not in drop}
    query.update(params)
    resp.append_header("Link", f'<{req.path}?{urlencode(query, doseq=True)}>; rel="next"')


def send_page(req, resp, page):
    """Answer with a Page's items, and a Link to the next page if there is one."""
    if page.next_after is not None:
        set_next_link(req, resp, after=str(page.next_after), limit=req.context.query["limit"])
    resp.media = page.items
