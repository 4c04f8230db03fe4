"""Parsing ids that arrive in paths, query strings and bodies."""

import falcon
from bson import ObjectId
from bson.errors import InvalidId


def parse_id(value):
    """Return the ObjectId of a 24-hex-digit string (or {"$oid": ...}), else None."""
    if isinstance(value, dict) and set(value) == {"$oid"}:
        value = value["$oid"]
    if not isinstance(value, str) or len(value) != 24:
        return None
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


def id_or_404(value, what="resource"):
    """Return the ObjectId, or raise 404 for a malformed id (it names nothing)."""
    object_id = parse_id(value)
    if object_id is None:
        raise falcon.HTTPNotFound(title="Not found", description=f"No such {what}.")
    return object_id


ID_SCHEMA = {
    "oneOf": [
        {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"},
        {"type": "object", "properties": {"$oid": {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}},
         "required": ["$oid"], "additionalProperties": False},
    ],
    "x-rule": "an id: 24 hex digits or {\"$oid\": \"...\"}",
}
