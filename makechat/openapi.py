"""The OpenAPI 3.1 document of ``/api``, generated from the running app.

What the code already says is read from the code, so it cannot drift:

* the operations: every ``/api`` route added in ``create_app`` and every
  ``on_<method>`` responder of its resource;
* who may call an operation: the ``require_token`` / ``require_admin`` hooks
  wrapped around the responder (401 and 403 follow from them);
* the request body: the ``*_SCHEMA`` a responder passes to ``validate()``,
  found in the responder's source, the very object that checks the request;
* query parameters: the ``req.get_param*`` calls and the paging helpers the
  responder uses.

What the code cannot say (the response shapes, each status code's cause, a
sentence of explanation) is in ``OPERATIONS`` below, next to the generic
causes every operation shares. ``tests/test_openapi.py`` fails when a route
has no entry there, or an entry names no route.
"""

import ast
import dataclasses
import inspect
import textwrap

from makechat import __version__, hooks
from makechat.paging import DEFAULT_LIMIT, MAX_LIMIT

OPENAPI_VERSION = "3.1.0"
API_PREFIX = "/api"
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

#: An id in a path or query string: 24 hex digits, or ``{"$oid": "..."}`` as text.
ID_TEXT = '[0-9a-fA-F]{24}|\\{ *"\\$oid" *: *"[0-9a-fA-F]{24}" *\\}'
ID_TEXT_PATTERN = f"^({ID_TEXT})$"
OBJECT_ID = {"type": "object", "properties": {"$oid": {"type": "string",
                                                       "pattern": "^[0-9a-f]{24}$"}},
             "required": ["$oid"], "additionalProperties": False}
TIME = {"type": "string", "format": "date-time"}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties, required=None):
    return {"type": "object", "properties": properties,
            "required": list(properties if required is None else required)}


SCHEMAS = {
    "Error": _object({"title": {"type": "string"}, "description": {"type": "string"}}),
    "ObjectId": OBJECT_ID,
    "User": _object({"_id": _ref("ObjectId"), "username": {"type": "string"},
                     "email": {"type": "string"}, "is_superuser": {"type": "boolean"},
                     "is_active": {"type": "boolean"}, "created": TIME}),
    "Session": _object({"token": {"type": "string", "pattern": "^[a-z0-9]{32}$"},
                        "token_id": _ref("ObjectId"), "user": _ref("User")}),
    "Token": _object({"_id": _ref("ObjectId"), "name": {"type": "string"}, "created": TIME,
                      "last_used": {"oneOf": [TIME, {"type": "null"}]},
                      "expires": {"oneOf": [TIME, {"type": "null"}]}}),
    "NewToken": _object({"_id": _ref("ObjectId"), "name": {"type": "string"}, "created": TIME,
                         "last_used": {"oneOf": [TIME, {"type": "null"}]},
                         "expires": {"oneOf": [TIME, {"type": "null"}]},
                         "token": {"type": "string", "pattern": "^[a-z0-9]{32}$"}}),
    "UserName": _object({"_id": _ref("ObjectId"), "username": {"type": "string"}}),
    "Room": _object({"_id": _ref("ObjectId"), "name": {"type": "string"},
                     "topic": {"type": "string"}, "is_open": {"type": "boolean"},
                     "is_visible": {"type": "boolean"},
                     "members": {"type": "array", "items": _ref("ObjectId")},
                     "created": TIME,
                     "created_by": {"oneOf": [_ref("ObjectId"), {"type": "null"}]},
                     "role": {"enum": ["owner", "member", None]},
                     "last_seq": {"type": "integer"}},
                    # A closed room's members, creator and last_seq are for its members.
                    required=["_id", "name", "topic", "is_open", "is_visible", "created",
                              "role"]),
    "Member": _object({"_id": _ref("ObjectId"), "room": _ref("ObjectId"),
                       "user": _ref("ObjectId"), "username": {"type": "string"},
                       "role": {"enum": ["owner", "member"]}, "joined": TIME}),
    "Message": _object({"_id": _ref("ObjectId"), "room": _ref("ObjectId"),
                        "seq": {"type": "integer"},
                        "author": {"oneOf": [_ref("ObjectId"), {"type": "null"}]},
                        "author_username": {"type": "string"}, "text": {"type": "string"},
                        "created": TIME, "edited": {"oneOf": [TIME, {"type": "null"}]}}),
    "Registration": _object({"registration": {"enum": ["open", "closed"]}}),
    "Health": _object({"status": {"enum": ["ok", "error"]},
                       "database": {"enum": ["ok", "unavailable"]},
                       "version": {"type": "string"}}),
    "OpenAPI": {"type": "object", "properties": {"openapi": {"type": "string"}},
                "required": ["openapi", "info", "paths"]},
}


@dataclasses.dataclass(frozen=True)
class Param:
    """A query parameter: its schema, and what it means."""

    schema: dict
    description: str
    required: bool = False


@dataclasses.dataclass(frozen=True)
class Operation:
    """What the code cannot say about one operation.

    ``responses`` maps each status this operation answers to its cause; the
    success statuses come with the name of their response schema in
    ``schemas`` (a list of it when the name ends in ``[]``). Causes shared by
    every operation (401, 403, 406, 413, 415, 503, ...) are added by
    ``build_spec`` from the hooks and the method."""

    summary: str
    responses: dict
    schemas: dict = dataclasses.field(default_factory=dict)
    description: str = ""
    params: dict = dataclasses.field(default_factory=dict)
    headers: dict = dataclasses.field(default_factory=dict)
    response_headers: dict = dataclasses.field(default_factory=dict)
    tag: str = ""


LINK = {"Link": {"description": 'The next page: `<URL>; rel="next"`; absent on the last page.',
                 "schema": {"type": "string"}}}

#: Query parameters by name, for the ones the responder reads through helpers.
COMMON_PARAMS = {
    "limit": Param({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                    "default": DEFAULT_LIMIT},
                   f"Items per page (1 to {MAX_LIMIT}, default {DEFAULT_LIMIT})."),
    "after": Param({"type": "string", "pattern": ID_TEXT_PATTERN},
                   "Cursor: the id of the last item of the previous page."),
    "room": Param({"type": "string", "pattern": ID_TEXT_PATTERN},
                  "The id of the room.", required=True),
    "wait": Param(None, "Seconds to wait for a new message after 'after' "
                        "(at most `max_wait`)."),
}

MESSAGE_CURSOR = {"type": "string", "pattern": f"^({ID_TEXT}|[0-9]{{1,15}})$"}
MESSAGE_PARAMS = {
    "after": Param(MESSAGE_CURSOR, "Only messages after this one (a message id or a `seq`); "
                                   "not with `before`."),
    "before": Param(MESSAGE_CURSOR, "Only messages before this one (a message id or a "
                                    "`seq`); not with `after`."),
}

OPERATIONS = {
    ("/api/login", "POST"): Operation(
        "Log in: trade a username and password for a token",
        {200: "logged in: the token is in the body, shown this once",
         400: "a parameter is missing, unknown or not a string",
         401: "the username or password is incorrect, or the account is disabled",
         429: "too many failed logins for this username from this address, from this "
              "address, or (from an address it never logged in from) for this username; "
              "see Retry-After"},
        {200: "Session"},
        description="The token goes in the `X-Auth-Token` header of every later request.",
        tag="session"),
    ("/api/register", "GET"): Operation(
        "Is registration open on this server?",
        {200: "'open' or 'closed' (the `registration` setting)"},
        {200: "Registration"}, tag="session"),
    ("/api/register", "POST"): Operation(
        "Create an account and log in",
        {201: "the account exists and the token is in the body",
         400: "a parameter is missing, unknown, or breaks its rule",
         403: "registration is closed on this server (`registration = closed`)",
         409: "the username (or one that looks like it) or the email is already taken",
         429: "too many registrations from this address (`register_max_per_address`)"},
        {201: "Session"}, tag="session"),
    ("/api/logout", "POST"): Operation(
        "Log out: revoke the token of this request",
        {204: "the token is revoked"}, tag="session"),
    ("/api/tokens", "GET"): Operation(
        "List your API tokens (never their secrets)",
        {200: "the tokens, oldest first"}, {200: "Token[]"},
        response_headers=LINK, tag="tokens"),
    ("/api/tokens", "POST"): Operation(
        "Create a named API token, for a bot or a script",
        {201: "the secret is in `token`, shown this once",
         400: "'name' is missing or breaks its rule, 'expires_in' is out of range, or a "
              "parameter is unknown",
         409: "you already hold `max_tokens_per_user` tokens; revoke one first"},
        {201: "NewToken"},
        description="With `expires_in` (seconds) the token stops working then (401); "
                    "without, it works until revoked.", tag="tokens"),
    ("/api/tokens/{token_id}", "DELETE"): Operation(
        "Revoke one of your tokens",
        {204: "revoked", 404: "no such token among yours"}, tag="tokens"),
    ("/api/users", "GET"): Operation(
        "List every account (admin)",
        {200: "the accounts, oldest first"}, {200: "User[]"},
        response_headers=LINK, tag="users"),
    ("/api/users", "POST"): Operation(
        "Create an account (admin)",
        {201: "created; Location names the new account",
         400: "a parameter is missing, unknown, or breaks its rule",
         409: "the username or the email is already taken"},
        {201: "User"},
        response_headers={"Location": {"description": "The URL of the new account.",
                                       "schema": {"type": "string"}}},
        tag="users"),
    ("/api/users/me", "GET"): Operation(
        "Your own profile", {200: "your profile"}, {200: "User"}, tag="users"),
    ("/api/users/me", "PATCH"): Operation(
        "Change your email or password",
        {200: "changed; a new password revokes every other token of yours",
         400: "a parameter is unknown or breaks its rule, or 'current_password' is "
              "missing or wrong",
         409: "the email is already in use",
         429: "too many wrong 'current_password' guesses; see Retry-After"},
        {200: "User"},
        description="Changing the email or the password needs `current_password`; wrong "
                    "guesses are limited like logins.", tag="users"),
    ("/api/users/lookup", "GET"): Operation(
        "Find a user by exact username (any signed-in user)",
        {200: "their id and username, nothing else",
         400: "'username' is missing",
         404: "no active user has this username"},
        {200: "UserName"},
        description="For adding someone to a room; the username matches in any case.",
        tag="users"),
    ("/api/users/{user_id}", "GET"): Operation(
        "One account (admin)", {200: "the account", 404: "no such account"},
        {200: "User"}, tag="users"),
    ("/api/users/{user_id}", "PATCH"): Operation(
        "Enable, disable, promote, demote or reset an account (admin)",
        {200: "changed; disabling an account revokes its tokens",
         400: "a parameter is unknown or breaks its rule",
         404: "no such account",
         409: "the email is in use, or an admin tried to disable or demote themselves"},
        {200: "User"}, tag="users"),
    ("/api/rooms", "GET"): Operation(
        "List the rooms you may see",
        {200: "visible rooms and your own (an admin sees every room), oldest first"},
        {200: "Room[]"}, response_headers=LINK, tag="rooms"),
    ("/api/rooms", "POST"): Operation(
        "Create a room (admin); you become its owner",
        {201: "created; Location names the new room",
         400: "'name' is missing, or a parameter is unknown or breaks its rule",
         409: "a room with this name, or one that looks like it (any case, look-alike "
              "letters, spacing), exists"},
        {201: "Room"}, response_headers={"Location": {"description": "The URL of the new room.",
                                                      "schema": {"type": "string"}}},
        tag="rooms"),
    ("/api/rooms/{room_id}", "GET"): Operation(
        "One room", {200: "the room", 404: "no such room, or an invisible room you are not in"},
        {200: "Room"}, tag="rooms"),
    ("/api/rooms/{room_id}", "PATCH"): Operation(
        "Change a room's name, topic, is_open or is_visible (owner or admin)",
        {200: "changed", 400: "a parameter is unknown or breaks its rule",
         403: "you are neither an owner of the room nor an admin",
         404: "no such room, or an invisible room you are not in",
         409: "another room has this name, or one that looks like it"},
        {200: "Room"}, tag="rooms"),
    ("/api/rooms/{room_id}", "DELETE"): Operation(
        "Delete a room with its members and messages (owner or admin)",
        {204: "deleted", 403: "you are neither an owner of the room nor an admin",
         404: "no such room, or an invisible room you are not in"}, tag="rooms"),
    ("/api/members", "GET"): Operation(
        "List a room's members (its members and admins; anyone, for an open room)",
        {200: "the members, oldest first",
         400: "'room' is missing, or 'limit' or 'after' is malformed",
         403: "the room is closed and you are not a member of it (nor an admin)",
         404: "no such room, or an invisible room you are not in"},
        {200: "Member[]"}, response_headers=LINK, tag="members"),
    ("/api/members", "POST"): Operation(
        "Join an open room, or (owner or admin) add someone to a room",
        {200: "you already are a member: your membership",
         201: "joined or added",
         400: "'room' is missing, both 'user' and 'username' are given, or a parameter "
              "is unknown or breaks its rule",
         403: "the room is closed (to join it), or you are not its owner nor an admin "
              "(to add someone else or to set a role)",
         404: "no such room (or invisible to you), or no such active user"},
        {200: "Member", 201: "Member"},
        description="With only `room`, you join it. With `user` (an id) or `username` (and "
                    "optionally `role`), an owner of the room or an admin adds that user; "
                    "adding an existing member returns the membership with 200.",
        tag="members"),
    ("/api/members/{member_id}", "GET"): Operation(
        "One membership (the room's members and admins)",
        {200: "the membership", 404: "no such membership in a room of yours"},
        {200: "Member"}, tag="members"),
    ("/api/members/{member_id}", "PATCH"): Operation(
        "Change a member's role (owner or admin)",
        {200: "changed", 400: "'role' is missing or not 'owner' or 'member'",
         403: "you are neither an owner of the room nor an admin",
         404: "no such membership in a room of yours",
         409: "the room's last owner cannot be demoted; promote another member first"},
        {200: "Member"}, tag="members"),
    ("/api/members/{member_id}", "DELETE"): Operation(
        "Leave a room, or (owner or admin) remove a member",
        {204: "removed; if no owner is left, the longest-standing member becomes owner",
         403: "it is someone else's membership and you are neither an owner nor an admin",
         404: "no such membership in a room of yours"}, tag="members"),
    ("/api/messages", "GET"): Operation(
        "Read a room's messages, oldest first; optionally wait for new ones",
        {200: "the messages (an empty list if none came within 'wait')",
         400: "'room' is missing; 'limit' or 'wait' is out of range; both 'before' and "
              "'after' given; or 'wait' without 'after'",
         403: "you are not a member of the room",
         404: "no such room (or invisible to you), or the cursor is no message of the room",
         429: "you already hold `max_waiting_per_user` waiting requests in this process"},
        {200: "Message[]"},
        description="Without a cursor: the latest `limit` messages. With `after` and `wait`, "
                    "the request is held until a message is posted (answered at once) or "
                    "`wait` seconds pass (an empty list): a long poll. When there is more, "
                    "`Link` names the next page: older messages (`before`) for history, "
                    "newer ones (`after`) after a cursor.",
        params=MESSAGE_PARAMS, response_headers=LINK,
        tag="messages"),
    ("/api/messages", "POST"): Operation(
        "Post a message in a room you belong to",
        {201: "posted (or replayed: the same Idempotency-Key and text as an earlier post); "
              "Location names the message",
         400: "a parameter is missing, unknown or breaks its rule, or the Idempotency-Key "
              "header is malformed",
         403: "you are not a member of the room",
         404: "no such room, or an invisible room you are not in",
         409: "this Idempotency-Key was already used for a different message"},
        {201: "Message"},
        headers={"Idempotency-Key": {
            "description": "Retry-safe posting: a repeated POST with the same key returns the "
                           "first message instead of a duplicate (1 to 255 visible ASCII "
                           "characters).",
            "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"}}},
        response_headers={"Location": {"description": "The URL of the message.",
                                       "schema": {"type": "string"}},
                          "Idempotent-Replayed": {"description": "`true` when the response "
                                                  "replays an earlier post.",
                                                  "schema": {"type": "string"}}},
        tag="messages"),
    ("/api/messages/{message_id}", "GET"): Operation(
        "One message (the room's members)",
        {200: "the message", 404: "no such message in a room of yours"},
        {200: "Message"}, tag="messages"),
    ("/api/messages/{message_id}", "PATCH"): Operation(
        "Edit your own message (while a member of its room)",
        {200: "edited; `edited` holds the time", 400: "'text' is missing or breaks its rule",
         403: "it is not your message", 404: "no such message in a room you belong to"},
        {200: "Message"}, tag="messages"),
    ("/api/messages/{message_id}", "DELETE"): Operation(
        "Delete a message (its author, an owner of the room, or an admin)",
        {204: "deleted", 403: "not your message, and you are neither an owner nor an admin",
         404: "no such message in a room you belong to"}, tag="messages"),
    ("/api/openapi.json", "GET"): Operation(
        "This OpenAPI 3.1 document", {200: "the document"}, {200: "OpenAPI"}, tag="meta"),
    ("/api/health", "GET"): Operation(
        "Is the service up and does its database answer? (no auth)",
        {200: '`{"status": "ok", "database": "ok", "version"}`',
         503: 'the database did not answer within 2 s: `{"status": "error", "database": '
              '"unavailable", "version", "title", "description"}`'},
        {200: "Health"}, tag="meta"),
}
# PUT /api/rooms/{room_id} is the same responder as PATCH (the manual lists both).
OPERATIONS[("/api/rooms/{room_id}", "PUT")] = dataclasses.replace(
    OPERATIONS[("/api/rooms/{room_id}", "PATCH")],
    summary="Same as PATCH: change the fields given (owner or admin)")

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
    def hooks(self):
        return responder_hooks(self.responder)

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


def responder_hooks(responder):
    """Return the set of hooks ('require_token', 'require_admin') that guard a
    responder, read from the closures falcon.before wraps around it."""
    known = {hooks.require_token: "require_token", hooks.require_admin: "require_admin"}
    found, seen = set(), set()
    stack = [getattr(responder, "__func__", responder)]
    while stack:
        function = stack.pop()
        if id(function) in seen:
            continue
        seen.add(id(function))
        for cell in getattr(function, "__closure__", None) or ():
            try:
                content = cell.cell_contents
            except ValueError:
                continue
            if callable(content) and content in known:
                found.add(known[content])
            elif inspect.isfunction(content):
                stack.append(content)
        if getattr(function, "__wrapped__", None) is not None:
            stack.append(function.__wrapped__)
    return found


def _source_tree(function):
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return None


def _calls(function):
    tree = _source_tree(function)
    if tree is None:
        return []
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _call_name(call):
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def request_schema(route):
    """Return the schema the responder passes to ``validate(body, SCHEMA)``, or None."""
    function = route.source_function
    for call in _calls(function):
        if _call_name(call) == "validate" and len(call.args) == 2:
            schema_node = call.args[1]
            if isinstance(schema_node, ast.Name):
                schema = function.__globals__.get(schema_node.id)
                if isinstance(schema, dict):
                    return schema
            if isinstance(schema_node, ast.Attribute) and isinstance(schema_node.value, ast.Name):
                holder = route.resource if schema_node.value.id == "self" else \
                    function.__globals__.get(schema_node.value.id)
                schema = getattr(holder, schema_node.attr, None)
                if isinstance(schema, dict):
                    return schema
    return None


_PARAM_TYPES = {"get_param": {"type": "string"},
                "get_param_as_int": {"type": "integer"},
                "get_param_as_float": {"type": "number"},
                "get_param_as_bool": {"type": "boolean"}}


def query_params(route):
    """Return {name: Param} for the query parameters the responder reads."""
    params = {}
    for call in _calls(route.source_function):
        name = _call_name(call)
        if name in ("page_by_id",):
            params.setdefault("limit", COMMON_PARAMS["limit"])
            params.setdefault("after", COMMON_PARAMS["after"])
        elif name in ("get_limit",):
            params.setdefault("limit", COMMON_PARAMS["limit"])
        elif name in ("get_after_id",):
            params.setdefault("after", COMMON_PARAMS["after"])
        elif name in _PARAM_TYPES and call.args and isinstance(call.args[0], ast.Constant):
            keywords = {keyword.arg: _constant(keyword.value, route) for keyword in call.keywords}
            schema = dict(_PARAM_TYPES[name])
            for keyword, bound in (("min_value", "minimum"), ("max_value", "maximum")):
                if keywords.get(keyword) is not None:
                    schema[bound] = keywords[keyword]
            param_name = call.args[0].value
            known = COMMON_PARAMS.get(param_name)
            params.setdefault(param_name, Param(
                known.schema if known and known.schema else schema, known.description if known else "",
                keywords.get("required") is True))
    return params


def _constant(node, route):
    """Return the value of a literal or of ``self.<attr>`` on the resource, else None."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
            and node.value.id == "self":
        value = getattr(route.resource, node.attr, None)
        return value if isinstance(value, (int, float, str, bool)) else None
    return None


def _summary_from_docstrings(route):
    doc = inspect.getdoc(route.source_function) or inspect.getdoc(type(route.resource)) or ""
    return doc.split("\n", 1)[0].rstrip(".")


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


def build_operation(route, doc):
    """Return the OpenAPI operation object of one route."""
    guards = route.hooks
    statuses = dict(doc.responses) if doc else {}
    body_schema = request_schema(route)
    params = dict(query_params(route))
    if doc:
        params.update(doc.params)

    if "require_token" in guards:
        statuses.setdefault(401, GENERIC_CAUSES[401])
    if "require_admin" in guards:
        statuses.setdefault(403, GENERIC_CAUSES[403])
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
    if not any(200 <= status < 300 for status in statuses):
        statuses[200] = "ok"

    responses = {}
    schemas = doc.schemas if doc else {}
    for status in sorted(statuses):
        response = {"description": f"{_reason(status)}: {statuses[status]}"}
        if status >= 400:
            response["content"] = _json_content("Error")
        elif status in schemas:
            response["content"] = _json_content(schemas[status])
        if 200 <= status < 300 and doc and doc.response_headers:
            response["headers"] = doc.response_headers
        if status in (429, 503):
            response["headers"] = {"Retry-After": {"description": "Seconds to wait.",
                                                   "schema": {"type": "integer"}}}
        responses[str(status)] = response

    operation = {
        "operationId": _operation_id(route),
        "summary": (doc.summary if doc else "") or _summary_from_docstrings(route),
        "responses": responses,
    }
    # The responder's docstring says what it does; the table may add a note.
    first = inspect.getdoc(route.source_function) or operation["summary"] + "."
    description = "\n\n".join(text for text in (first, doc.description if doc else "") if text)
    if description:
        operation["description"] = description
    if doc and doc.tag:
        operation["tags"] = [doc.tag]
    operation["security"] = [{"token": []}] if "require_token" in guards else []
    # Who may call it, as the hooks say: "none", "token" or "admin".
    operation["x-auth"] = "admin" if "require_admin" in guards else \
        "token" if "require_token" in guards else "none"
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "string", "pattern": ID_TEXT_PATTERN},
                   "description": f"The id of the {name.rsplit('_', 1)[0]} (24 hex digits, "
                                  'or {"$oid": "..."}).'}
                  for name in route.path_params]
    for name, param in params.items():
        entry = {"name": name, "in": "query", "required": param.required,
                 "schema": param.schema}
        if param.description:
            entry["description"] = param.description
        parameters.append(entry)
    for name, header in (doc.headers.items() if doc else ()):
        parameters.append({"name": name, "in": "header", "required": False, **header})
    if parameters:
        operation["parameters"] = parameters
    if body_schema is not None:
        operation["requestBody"] = {
            "required": bool(body_schema.get("required")),
            "content": {"application/json": {"schema": body_schema}},
        }
    return operation


def build_spec(app, server_url=None):
    """Return the OpenAPI 3.1 document (a dict) of every /api operation of app."""
    paths = {}
    for route in iter_routes(app):
        doc = OPERATIONS.get((route.path, route.method))
        paths.setdefault(route.path, {})[route.method.lower()] = build_operation(route, doc)
    spec = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "makechat API",
            "version": __version__,
            "description": "The REST API of makechat: JSON in, JSON out. Authenticate with "
                           "the X-Auth-Token header (POST /api/login gives a token). Every "
                           "error body is {\"title\", \"description\"}.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"token": {"type": "apiKey", "in": "header",
                                          "name": "X-Auth-Token"}},
        },
    }
    if server_url:
        spec["servers"] = [{"url": server_url}]
    return spec


def undocumented(app):
    """Return the (path, method) pairs of the app that OPERATIONS lacks, and
    the OPERATIONS entries that name no route: both should be empty."""
    routes = {(route.path, route.method) for route in iter_routes(app)}
    return sorted(routes - set(OPERATIONS)), sorted(set(OPERATIONS) - routes)
