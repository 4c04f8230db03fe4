"""The current time as makechat stores it. A leaf module (it imports nothing
of makechat), so that every module of documents can use it without a cycle."""

from datetime import datetime, timezone


def utcnow():
    """Return the current time in UTC, at the millisecond precision BSON keeps."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
