"""The OpenAPI 3.1 document of ``/api``, built from the running app and the
declarations on its responders.

* the operations: every ``/api`` route added in ``create_app`` and every
  ``on_<method>`` responder of its resource;
* everything about one operation (who may call it, its query parameters,
  its body schema, its responses and their shapes) from the ``@operation``
  declaration on the responder (``makechat.resources.operation``), the same
  object that enforces it;
* the causes every operation shares (401 from its auth, 404 from an id in the
  path, 413/415/408 from a body, ...) from ``GENERIC_CAUSES`` below.

``tests/test_openapi.py`` fails when a route's responder has no declaration.

NOTE: long because ``SCHEMAS`` declares the shape of every response here,
in one place.
"""

import dataclasses
import inspect

from makechat import __version__
from makechat.resources.operation import ID_TEXT_PATTERN
from makechat.schemas import MARKED, MESSAGE_EXTRA, ROOM_EXTRA

OPENAPI_VERSION = "3.1.0"
API_PREFIX = "/api"
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

OBJECT_ID = {"type": "object", "properties": {"$oid": {"type": "string",
                                                       "pattern": "^[0-9a-f]{24}$"}},
             "required": ["$oid"], "additionalProperties": False}
TIME = {"type": "string", "format": "date-time"}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties, required=None):
    return {"type": "object", "properties": properties,
            "required": list(properties if required is None else required)}


MESSAGE = {"_id": _ref("ObjectId"), "room": _ref("ObjectId"), "seq": {"type": "integer"},
           "author": {"oneOf": [_ref("ObjectId"), {"type": "null"}]},
           "author_username": {"type": "string"}, "text": {"type": "string"},
           "created": TIME, "edited": {"oneOf": [TIME, {"type": "null"}]}}
#: ``is_bot``: present, and true, on bots' users, memberships and messages.
BOT_MARK = {"is_bot": {"const": True, "description": "Present (true) only for a bot."}}
MESSAGE_BOT = {
    **BOT_MARK,
    "display_name": {"type": "string", "description": "A bot message's "
                     "display name (an incoming webhook's `username`)."},
    "icon_url": {"type": "string", "description": "A bot message's "
                 "icon (an incoming webhook's `icon_url`)."}}
TOKEN_LIMITS = {
    "scopes": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}],
               "description": "What the token may do; null: everything."},
    "rooms": {"oneOf": [{"type": "array", "items": _ref("ObjectId")}, {"type": "null"}],
              "description": "The only rooms it may act in; null: every room."},
}

SCHEMAS = {
    "Error": _object({"title": {"type": "string"}, "description": {"type": "string"}}),
    "ObjectId": OBJECT_ID,
    "User": _object({"_id": _ref("ObjectId"), "username": {"type": "string"},
                     "email": {"type": "string"}, "is_superuser": {"type": "boolean"},
                     "is_active": {"type": "boolean"}, "created": TIME, **BOT_MARK,
                     "bot_owner": {**_ref("ObjectId"), "description": "A bot's owner, who "
                                   "manages it besides the admins."}},
                    required=["_id", "username", "email", "is_superuser", "is_active",
                              "created"]),
    "Session": _object({"token": {"type": "string", "pattern": "^[a-z0-9]{32}$"},
                        "token_id": _ref("ObjectId"), "user": _ref("User")}),
    "Token": _object({"_id": _ref("ObjectId"), "name": {"type": "string"}, "created": TIME,
                      "last_used": {"oneOf": [TIME, {"type": "null"}]},
                      "expires": {"oneOf": [TIME, {"type": "null"}]}, **TOKEN_LIMITS}),
    "NewToken": _object({"_id": _ref("ObjectId"), "name": {"type": "string"}, "created": TIME,
                         "last_used": {"oneOf": [TIME, {"type": "null"}]},
                         "expires": {"oneOf": [TIME, {"type": "null"}]}, **TOKEN_LIMITS,
                         "token": {"type": "string", "pattern": "^[a-z0-9]{32}$"}}),
    "UserName": _object({"_id": _ref("ObjectId"), "username": {"type": "string"}}),
    "Room": _object({"_id": _ref("ObjectId"), "name": {"type": "string"},
                     "topic": {"type": "string"}, "is_open": {"type": "boolean"},
                     "is_visible": {"type": "boolean"},
                     "members": {"type": "array", "items": _ref("ObjectId")},
                     "created": TIME,
                     "created_by": {"oneOf": [_ref("ObjectId"), {"type": "null"}]},
                     "role": {"enum": ["owner", "member", None]},
                     "last_seq": {"type": "integer"},
                     "read_seq": {"type": "integer"}, "unread": {"type": "integer"},
                     **ROOM_EXTRA},
                    # A closed room's members, creator and last_seq are for its members.
                    required=["_id", "name", "topic", "is_open", "is_visible", "created",
                              "role"]),
    "Member": _object({"_id": _ref("ObjectId"), "room": _ref("ObjectId"),
                       "user": _ref("ObjectId"), "username": {"type": "string"},
                       "role": {"enum": ["owner", "member"]}, "joined": TIME, **BOT_MARK},
                      required=["_id", "room", "user", "username", "role", "joined"]),
    "Message": _object({**MESSAGE, **MESSAGE_BOT, **MESSAGE_EXTRA}, required=list(MESSAGE)),
    "SearchResult": _object({**MESSAGE, **MESSAGE_BOT, **MESSAGE_EXTRA, "marked": MARKED},
                            required=[*MESSAGE, "marked"]),
    "Event": {"type": "object", "required": ["type", "data"], "properties": {
        "seq": {"oneOf": [{"type": "integer"}, {"type": "null"}],
                "description": "The event's place in its room's sequence (null for events of "
                               "the stream itself: read, stream.*)."},
        "room": _ref("ObjectId"),
        "type": {"type": "string", "description": "message, message.edited, "
                 "message.deleted, member.joined, member.left, member.role, room.updated, "
                 "reaction.added, reaction.removed; on /api/events also mention, read, "
                 "stream.ready, stream.removed, stream.reset, stream.end"},
        "at": TIME,
        "actor": {"type": "object"},
        "data": {"type": "object"}}},
    "EventPage": _object({"events": {"type": "array", "items": _ref("Event")},
                          "cursor": {"type": "string"}}),
    "RoomEventPage": _object({"events": {"type": "array", "items": _ref("Event")},
                              "cursor": {"type": "integer"}}),
    "ReadState": _object({"room": _ref("ObjectId"), "read_seq": {"type": "integer"},
                          "unread": {"type": "integer"}}),
    "Registration": _object({"registration": {"enum": ["open", "closed"]}}),
    "Health": _object({"status": {"enum": ["ok", "error"]},
                       "database": {"enum": ["ok", "unavailable"]},
                       "version": {"type": "string"}}),
    "OpenAPI": {"type": "object", "properties": {"openapi": {"type": "string"}},
                "required": ["openapi", "info", "paths"]},
}

_NULLABLE_TIME = {"oneOf": [TIME, {"type": "null"}]}
_HOOK = {"_id": _ref("ObjectId"), "room": _ref("ObjectId"), "bot": _ref("ObjectId"),
         "bot_username": {"type": "string"}, "name": {"type": "string"}, "created": TIME,
         "created_by": {"oneOf": [_ref("ObjectId"), {"type": "null"}]}}
_INCOMING = {**_HOOK, "last_used": _NULLABLE_TIME}
_OUTGOING = {**_HOOK, "url": {"type": "string"},
             "events": {"type": "array", "items": {"type": "string"}},
             "mentions_only": {"type": "boolean"},
             "triggers": {"type": "array", "items": {"type": "string"}},
             "cursor": {"type": "integer", "description": "The room's seq up to which the "
                        "outbox has queued this webhook's events."}}
SCHEMAS.update({
    "IncomingWebhook": _object(_INCOMING),
    "NewIncomingWebhook": _object({**_INCOMING, "url": {
        "type": "string", "description": "POST Slack-style payloads here; shown this once."}}),
    "OutgoingWebhook": _object(_OUTGOING),
    "NewOutgoingWebhook": _object({**_OUTGOING, "secret": {
        "type": "string", "pattern": "^whsec_", "description": "The signing secret "
        "(Standard Webhooks), shown this once."}}),
    "Delivery": _object({
        "_id": _ref("ObjectId"), "webhook": _ref("ObjectId"), "seq": {"type": "integer"},
        "webhook_id": {"type": "string"}, "state": {"enum": ["pending", "delivered", "dead"]},
        "attempts": {"type": "integer"}, "next_attempt": _NULLABLE_TIME, "since": TIME,
        "delivered": _NULLABLE_TIME,
        "last_status": {"oneOf": [{"type": "integer"}, {"type": "null"}]},
        "last_error": {"oneOf": [{"type": "string"}, {"type": "null"}]},
        "log": {"type": "array", "items": {"type": "object"}}}),
    "Replay": _object({"queued": {"type": "integer"}, "from_seq": {"type": "integer"},
                       "to_seq": {"oneOf": [{"type": "integer"}, {"type": "null"}]},
                       "next_from_seq": {"oneOf": [{"type": "integer"}, {"type": "null"}]}}),
})

#: Causes shared by many operations, added where they apply.
GENERIC_CAUSES = {
    401: "no token (X-Auth-Token or Authorization: Bearer), or the token is unknown, "
         "revoked, expired or of a disabled account",
    408: "the request body did not arrive within `body_timeout` seconds; the connection "
         "is closed",
    403: "you are not an admin",
    404: "the id in the path is malformed or names nothing",
    406: "the Accept header does not allow JSON",
    413: "the request body is larger than `max_body`",
    429: "this client address is sending more than `max_body_reads_per_address` request "
         "bodies at once",
    415: "the request body is not JSON (Content-Type must be application/json)",
    503: "the database is not answering; try again (see Retry-After)",
}


@dataclasses.dataclass
class Route:
    """One operation of the app as the code declares it."""

    path: str
    method: str
    resource: object
    responder: object

    @property
    def source_function(self):
        return inspect.unwrap(self.responder)

    @property
    def operation(self):
        """The responder's declaration (makechat.resources.operation), or None."""
        return getattr(self.responder, "operation", None)

    @property
    def path_params(self):
        return [part[1:-1] for part in self.path.split("/") if part.startswith("{")]


def iter_routes(app, prefix=API_PREFIX):
    """Yield a Route for every responder of every route under ``prefix``.

    Falcon keeps its routes in the compiled router's tree; only ``on_*``
    methods the resource defines count (falcon's 405 and OPTIONS defaults
    do not)."""
    # NOTE: falcon.inspect reads the same private tree (_roots); there is no
    # public way to get the resource objects back.
    stack = list(app._router._roots)
    while stack:
        node = stack.pop(0)
        stack.extend(node.children)
        if node.resource is None or not node.uri_template.startswith(prefix):
            continue
        for method in HTTP_METHODS:
            responder = getattr(node.resource, f"on_{method.lower()}", None)
            if responder is not None:
                yield Route(node.uri_template, method, node.resource, responder)


def _json_content(schema_name):
    if schema_name.endswith("[]"):
        schema = {"type": "array", "items": _ref(schema_name[:-2])}
    else:
        schema = _ref(schema_name)
    return {"application/json": {"schema": schema}}


def _reason(status):
    import falcon
    return falcon.code_to_http_status(status).split(" ", 1)[1]


def _operation_id(route):
    words = [part.strip("{}") for part in route.path[len(API_PREFIX):].split("/") if part]
    name = "_".join(word.replace(".", "_") for word in words) or "root"
    return f"{route.method.lower()}_{name}"


def _statuses(route, doc, params):
    """Each status the operation answers, with its cause: the declared ones,
    then those that its auth, path, method and parameters imply."""
    statuses = dict(doc.responses)

    if doc.auth != "none":
        statuses.setdefault(401, GENERIC_CAUSES[401])
    if doc.auth == "admin":
        statuses.setdefault(403, GENERIC_CAUSES[403])
    if doc.required_scope:
        statuses.setdefault(403, f"the token lacks the scope `{doc.required_scope}`")
    if route.path_params:
        statuses.setdefault(404, GENERIC_CAUSES[404])
    if route.method in BODY_METHODS:
        statuses.setdefault(400, "the request body is malformed JSON, nests deeper than "
                                 "`max_json_depth`, holds a string that is not Unicode text "
                                 "(a lone surrogate), or is not a JSON object")
        for status in (408, 413, 415, 429):
            statuses.setdefault(status, GENERIC_CAUSES[status])
    if params:
        statuses.setdefault(400, "a query parameter is missing or malformed")
    statuses.setdefault(406, GENERIC_CAUSES[406])
    if getattr(route.resource, "uses_database", True):
        statuses.setdefault(503, GENERIC_CAUSES[503])
    if doc.rate:
        statuses.setdefault(429, "")  # its causes are in the operation's description
    if not any(200 <= status < 300 for status in statuses):
        statuses[200] = "ok"
    return statuses


def _responses(statuses, doc):
    responses = {}
    for status in sorted(statuses):
        response = {"description": f"{_reason(status)}: {statuses[status]}"}
        if status >= 400:
            response["content"] = _json_content("Error")
        elif status in doc.schemas:
            response["content"] = _json_content(doc.schemas[status])
        if 200 <= status < 300 and doc.response_headers:
            response["headers"] = doc.response_headers
        if status in (429, 503):
            response["headers"] = {"Retry-After": {"description": "Seconds to wait.",
                                                   "schema": {"type": "integer"}}}
        if doc.rate and (200 <= status < 300 or status == 429):
            response["headers"] = {**response.get("headers", {}), **_rate_headers()}
        responses[str(status)] = response
    return responses


def _rate_note(policy):
    """What a rate-limited operation says of its limit (429)."""
    if not policy:
        return ""
    from makechat.ratelimit import POLICY_DOCS
    return (f"Rate-limited: 429 when {POLICY_DOCS[policy]}. Every answer says what is left "
            "in `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`.")


def _rate_headers():
    from makechat.ratelimit import HEADER_DOCS
    return {name: {"description": text, "schema": {"type": "integer"}}
            for name, text in HEADER_DOCS.items()}


def _parameters(route, params, doc):
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "string", "pattern": ID_TEXT_PATTERN},
                   "description": f"The id of the {name.rsplit('_', 1)[0]} (24 hex digits, "
                                  'or {"$oid": "..."}).'}
                  if name not in doc.path else
                  {"name": name, "in": "path", "required": True, "schema": doc.path[name][0],
                   "description": doc.path[name][1]}
                  for name in route.path_params]
    for name, param in params.items():
        entry = {"name": name, "in": "query", "required": param.required,
                 "schema": param.schema}
        if param.description:
            entry["description"] = param.description
        parameters.append(entry)
    for name, header in doc.headers.items():
        parameters.append({"name": name, "in": "header", "required": False, **header})
    return parameters


def build_operation(route, doc):
    """Return the OpenAPI operation object of one route, from its declaration."""
    body_schema = doc.body_schema(route.resource)
    params = {param.name: param for param in doc.query_params(route.resource)}
    operation = {
        "operationId": _operation_id(route),
        "summary": doc.summary,
        "responses": _responses(_statuses(route, doc, params), doc),
    }
    # The responder's docstring says what it does; the table may add a note.
    first = inspect.getdoc(route.source_function) or operation["summary"] + "."
    description = "\n\n".join(text for text in (first, doc.description) if text)
    if description:
        operation["description"] = description
    if doc.tag:
        operation["tags"] = [doc.tag]
    scopes = [doc.required_scope] if doc.required_scope else []
    operation["security"] = [{"token": scopes}, {"bearer": scopes}] \
        if doc.auth != "none" else []
    # Who may call it, as declared: "none", "token" or "admin"; and the scope
    # a token needs (makechat.scopes), "" for any token.
    operation["x-auth"] = doc.auth
    if doc.auth != "none":
        operation["x-scope"] = doc.required_scope
        operation["description"] = "\n\n".join(filter(None, (
            operation.get("description"),
            f"Needs a token with the scope `{doc.required_scope}`." if doc.required_scope
            else "Any token may call it, whatever its scopes.",
            _rate_note(doc.rate))))
    parameters = _parameters(route, params, doc)
    if parameters:
        operation["parameters"] = parameters
    if body_schema is not None:
        operation["requestBody"] = {
            "required": bool(body_schema.get("required") or body_schema.get("anyOf")),
            "content": {"application/json": {"schema": body_schema}},
        }
    return operation


def build_spec(app, server_url=None):
    """Return the OpenAPI 3.1 document (a dict) of every /api operation of app."""
    paths = {}
    for route in iter_routes(app):
        if route.operation is None:
            continue  # tests/test_openapi.py names it: undocumented(app)
        paths.setdefault(route.path, {})[route.method.lower()] = \
            build_operation(route, route.operation)
    spec = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "makechat API",
            "version": __version__,
            "description": "The REST API of makechat: JSON in, JSON out. Authenticate with "
                           "the X-Auth-Token header or Authorization: Bearer (POST /api/login "
                           "gives a token). Every error body is {\"title\", \"description\"}.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"token": {"type": "apiKey", "in": "header",
                                          "name": "X-Auth-Token"},
                                "bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    if server_url:
        spec["servers"] = [{"url": server_url}]
    return spec


def undocumented(app):
    """Return the (path, method) pairs of the app whose responder has no
    ``@operation`` declaration: it should be empty."""
    return sorted((route.path, route.method) for route in iter_routes(app)
                  if route.operation is None)
