"""The core's own errors, each with the words a client should read.

The core (accounts, access rules, rooms, the message log, throttles) knows
no HTTP: it raises these, and ``makechat.errors.register`` maps each kind to
one status, once, as openstack/zaqar maps its storage errors only in its
transport layer. The CLI prints the same ``description`` on one line.
"""


class MakechatError(Exception):
    """Something the caller asked for cannot be done; ``title`` and
    ``description`` say what and why, in words for the client."""

    title = "Error"

    def __init__(self, description: str, title: str | None = None) -> None:
        super().__init__(description)
        self.description = description
        if title is not None:
            self.title = title


class Invalid(MakechatError):
    """The input breaks a rule (400)."""

    title = "Invalid parameter"


class NotFound(MakechatError):
    """It does not exist, or the caller may not know it does (404)."""

    title = "Not found"


class Forbidden(MakechatError):
    """The caller may not do this (403)."""

    title = "Permission Denied"


class Conflict(MakechatError):
    """It clashes with what is stored (409)."""

    title = "Conflict"


class TooMany(MakechatError):
    """A limit is reached; ``retry_after`` seconds until it may work (429)."""

    title = "Too many requests"

    def __init__(self, description: str, title: str | None = None,
                 retry_after: float = 1) -> None:
        super().__init__(description, title)
        self.retry_after = retry_after


class Busy(MakechatError):
    """Not now: try again in ``retry_after`` seconds (503)."""

    title = "Busy"

    def __init__(self, description: str, title: str | None = None,
                 retry_after: float = 1) -> None:
        super().__init__(description, title)
        self.retry_after = retry_after


def no_such(what: str) -> NotFound:
    """The one answer for a missing thing and for a thing one may not see."""
    return NotFound(f"No such {what}.")
