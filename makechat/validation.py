"""Request bodies checked against JSON Schemas.

The same schemas describe the request bodies in /api/openapi.json, so the
documented contract and the enforced one are one object.
"""

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema
import jsonschema.validators

from makechat.exceptions import Invalid
from makechat.names import name_schema

USERNAME = {"type": "string", "pattern": r"^[A-Za-z0-9_.\-]{3,32}$",
            "x-rule": "3 to 32 letters, digits, '_', '.' or '-'"}
# NOTE: JSON Schema patterns are ECMA-262 regexes, whose \s differs from
# Python's (\x1c-\x1f, \x85, \ufeff); the control characters and BOM are
# excluded by name so clients, schemathesis and this server agree.
_EMAIL_PART = r"[^@\s\x00-\x1f\x7f-\x9f\ufeff]+"
EMAIL = {"type": "string", "maxLength": 254,
         "pattern": rf"^{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}$",
         "x-rule": "a valid email address"}
PASSWORD = {"type": "string", "minLength": 8, "maxLength": 1024,
            "x-rule": "8 to 1024 characters"}
TOKEN_NAME = name_schema(100)

_TYPE_WORDS = {"string": "a string", "boolean": "true or false",
               "integer": "an integer", "object": "an object", "array": "an array",
               "number": "a number"}


@functools.lru_cache(maxsize=256)
def _compile_pattern(pattern):
    # SECURITY: in ECMA-262, JSON Schema's regex dialect, '$' is the very end
    # of the text; in Python it also matches before a final newline, so
    # "alice\n" would pass ^...$ as a username. A final '$' means the end here.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not _compile_pattern(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


#: Draft 2020-12 with ECMA-262's meaning of a final '$' in "pattern".
Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator,
                                         {"pattern": _pattern})


def conforms(value: object, schema: Mapping[str, Any]) -> bool:
    """Return True if a single value matches a field schema (the CLI's check)."""
    return Validator(schema).is_valid(value)


def object_schema(properties: dict[str, Any], required: Iterable[str] = ()) -> dict[str, Any]:
    """Return the schema of a JSON object with exactly these properties."""
    return {"type": "object", "properties": properties,
            "required": list(required), "additionalProperties": False}


def _field(error):
    path = list(error.absolute_path)
    return str(path[0]) if path else ""


def _describe(error, schema):
    name = _field(error)
    rule = error.schema.get("x-rule") if isinstance(error.schema, dict) else None
    if error.validator == "type":
        expected = error.validator_value
        word = _TYPE_WORDS.get(expected, expected) if isinstance(expected, str) else \
            " or ".join(_TYPE_WORDS.get(t, t) for t in expected)
        return f"The '{name}' parameter must be {word}."
    if error.validator == "enum":
        choices = ", ".join(repr(choice) for choice in error.validator_value)
        return f"The '{name}' parameter must be one of {choices}."
    if rule:
        return f"The '{name}' parameter must be {rule}."
    return f"The '{name}' parameter is invalid: {error.message}."


def validate(body: dict[str, Any] | None, schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return the body if it matches the schema, else raise Invalid saying why.

    Missing fields are reported first (the manual's "Missing parameter"),
    then unknown fields, then fields that exclude each other, then wrong
    values."""
    if body is None:
        body = {}
    for name in schema.get("required", ()):
        if name not in body:
            raise Invalid(f"The '{name}' parameter is required.", title="Missing parameter")
    # One of several fields (``anyOf`` of required ones): say which.
    alternatives = [option["required"] for option in schema.get("anyOf", ())
                    if "required" in option]
    if alternatives and not any(set(option) <= set(body) for option in alternatives):
        names = " or ".join(f"'{option[0]}'" for option in alternatives)
        raise Invalid(f"The {names} parameter is required.", title="Missing parameter")
    unknown = sorted(set(body) - set(schema.get("properties", {})))
    if unknown and schema.get("additionalProperties") is False:
        raise Invalid(f"The '{unknown[0]}' parameter is not accepted here.",
                      title="Unknown parameter")
    exclusive = schema.get("not", {}).get("required")
    if exclusive and set(exclusive) <= set(body):
        names = " and ".join(f"'{name}'" for name in exclusive)
        raise Invalid(f"Give only one of {names}, not both.")
    validator = Validator(schema)
    error = min(validator.iter_errors(body), key=lambda e: _field(e), default=None)
    if error is not None:
        raise Invalid(_describe(error, schema))
    return body
