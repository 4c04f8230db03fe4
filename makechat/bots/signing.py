"""Standard Webhooks signatures, and signing secrets the database never holds.

Each delivery carries ``webhook-id`` (stable across retries and replays:
``msg_<webhook id>_<seq>``), ``webhook-timestamp`` (Unix seconds of the
attempt) and ``webhook-signature: v1,<base64 HMAC-SHA256 of
"<id>.<timestamp>.<body>">`` keyed with the webhook's secret
(``whsec_<base64 key>``, as Standard Webhooks' libraries take it).

A webhook's secret is derived, HMAC-SHA256, from the server's key and the
webhook's id and nonce: shown once when the webhook is made, and stored
nowhere. The server's key is the ``webhook_key`` setting, or, when that is
empty, a random key made once and kept in the database (then a copy of the
database suffices to sign: set webhook_key in production).
"""

import base64
import hashlib
import hmac
import secrets

from pymongo.errors import DuplicateKeyError

from makechat.bots.documents import ServerKey

PREFIX = "whsec_"


def server_key(configured: str) -> bytes:
    """The key signing secrets derive from: the setting, else the database's own."""
    if configured:
        return configured.encode("utf-8")
    collection = ServerKey._get_collection()
    found = collection.find_one({"_id": "webhooks"})
    if found is None:
        try:
            collection.insert_one({"_id": "webhooks", "key": secrets.token_urlsafe(32)})
        except DuplicateKeyError:
            pass  # another process made it first: theirs is the key
        found = collection.find_one({"_id": "webhooks"})
    return found["key"].encode("utf-8")


def signing_secret(key: bytes, hook_id: object, nonce: str) -> str:
    """The webhook's secret, ``whsec_`` and 32 bytes in base64."""
    raw = hmac.new(key, f"makechat-webhook:{hook_id}:{nonce}".encode(), hashlib.sha256).digest()
    return PREFIX + base64.b64encode(raw).decode("ascii")


def message_id(hook_id: object, seq: int) -> str:
    """The webhook-id of an event for a webhook: the same on every attempt."""
    return f"msg_{hook_id}_{seq}"


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header's value."""
    key = base64.b64decode(secret[len(PREFIX):] if secret.startswith(PREFIX) else secret)
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify(secret: str, msg_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether one of the header's ``v1,`` signatures is this body's (receivers'
    side; the docs' example bot does the same with the standard library)."""
    expected = sign(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split())
