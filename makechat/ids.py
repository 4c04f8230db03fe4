"""Parsing ids that arrive in paths, query strings and bodies."""

import re

from bson import ObjectId
from bson.errors import InvalidId

from makechat.exceptions import no_such

#: ``{"$oid": "..."}`` written out, as copied from a response into a URL.
_OID_TEXT = re.compile(r'\{ *"\$oid" *: *"([0-9a-fA-F]{24})" *\}')


def parse_id(value: object) -> ObjectId | None:
    """Return the ObjectId of 24 hex digits, of ``{"$oid": ...}`` (a body's
    object, or its text in a path or query string), else None."""
    if isinstance(value, dict) and set(value) == {"$oid"}:
        value = value["$oid"]
    elif isinstance(value, str) and value.startswith("{"):
        match = _OID_TEXT.fullmatch(value)
        value = match.group(1) if match else None
    if not isinstance(value, str) or len(value) != 24:
        return None
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


def require_id(value: object, what: str = "resource") -> ObjectId:
    """Return the ObjectId, or raise NotFound for a malformed id (it names nothing)."""
    object_id = parse_id(value)
    if object_id is None:
        raise no_such(what)
    return object_id


ID_SCHEMA = {
    "oneOf": [
        {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"},
        {"type": "object",
         "properties": {"$oid": {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}},
         "required": ["$oid"], "additionalProperties": False},
    ],
    "x-rule": "an id: 24 hex digits or {\"$oid\": \"...\"}",
}
