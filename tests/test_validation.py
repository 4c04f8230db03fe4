"""makechat.validation: request bodies against their JSON Schemas."""

import pytest

from makechat.exceptions import Invalid
from makechat.validation import EMAIL, USERNAME, object_schema, validate

SCHEMA = object_schema({"username": USERNAME, "email": EMAIL})


def test_validate_rejects_username_with_trailing_newline():
    with pytest.raises(Invalid):
        validate({"username": "alice\n"}, SCHEMA)


def test_validate_rejects_email_with_control_character():
    with pytest.raises(Invalid):
        validate({"email": "a\x1e@example.com"}, SCHEMA)


def test_validate_accepts_non_ascii_email():
    assert validate({"email": "zoë@example.com"}, SCHEMA) == {"email": "zoë@example.com"}
