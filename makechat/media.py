"""JSON in and out, in MongoDB Extended JSON's style for ids.

Ids go out as ``{"$oid": "..."}`` (as the manual shows); times as ISO 8601
UTC strings with milliseconds, which every client can parse.
"""

import functools
import json
from datetime import datetime, timezone

import falcon
from bson import ObjectId


def _default(value):
    if isinstance(value, ObjectId):
        return {"$oid": str(value)}
    if isinstance(value, datetime):
        return format_time(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def format_time(value):
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


JSON_UTF8 = "application/json; charset=utf-8"

dumps = functools.partial(json.dumps, default=_default, ensure_ascii=False)


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


#: Strict JSON: NaN and Infinity are not JSON and are refused.
loads = functools.partial(json.loads, parse_constant=_reject_constant)


def json_handlers():
    """Return falcon media handlers that encode ids and times as above."""
    handler = falcon.media.JSONHandler(dumps=dumps, loads=loads)
    return {falcon.MEDIA_JSON: handler, JSON_UTF8: handler}
