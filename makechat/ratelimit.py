"""Per-token (and per-webhook) limits on posting, exact under parallel
requests on any backend, announced in ``RateLimit-*`` headers.

A limit of N posts per window of W seconds is N numbered slots per window:
a post claims the lowest free slot of the current window (window number =
now // W) by inserting ``{key, slot}`` under the unique ``(key, slot)``
index of the ``attempts`` collection, as makechat.throttle does; a window
whose N slots are held refuses with 429 until it ends. So at most N posts
are ever counted in a window, whatever the interleaving (FerretDB v1 would
lose updates of a counter document). A post costs a count and an insert;
the first post of a window drops the key's older windows. PERF: each
process remembers the slot after the last one it claimed for a key, so a
token posting through one process costs one insert a post (a count only
when its guess was taken by another process).

The answer carries the IETF draft's headers: ``RateLimit-Limit`` (N),
``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds until the window
ends), and a 429 also ``Retry-After``.
"""

import math
import re
import time
from typing import NamedTuple

from pymongo.errors import DuplicateKeyError

from makechat.exceptions import TooMany
from makechat.models import Attempt, utcnow

#: What each policy counts, for the OpenAPI document (its 429 cause).
POLICY_DOCS = {
    "post": "this token posted `post_rate_limit` messages within the current "
            "`post_rate_window` seconds; see Retry-After and RateLimit-Reset",
    "hook": "this webhook posted `incoming_webhook_rate_limit` messages within the current "
            "`post_rate_window` seconds; see Retry-After and RateLimit-Reset",
    "search": "this token searched `search_rate_limit` times within the current "
              "`post_rate_window` seconds; see Retry-After and RateLimit-Reset",
}
#: The headers of every response that counts, as OpenAPI describes them.
HEADER_DOCS = {
    "RateLimit-Limit": "Posts (searches, for GET /api/search) allowed per window.",
    "RateLimit-Remaining": "Posts (or searches) left in the current window.",
    "RateLimit-Reset": "Seconds until the current window ends.",
}


class Budget(NamedTuple):
    """What is left of a key's window after a post."""

    limit: int
    remaining: int
    reset: int  # seconds until the window ends

    def headers(self) -> dict[str, str]:
        return {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                "RateLimit-Reset": str(self.reset)}


class RateLimited(TooMany):
    """Every slot of the window is used: 429, with the headers of the window."""

    def __init__(self, budget: Budget, what: str) -> None:
        super().__init__(f"At most {budget.limit} {what}; try again in {budget.reset} "
                         "seconds.", title="Rate limit reached", retry_after=budget.reset)
        self.headers = budget.headers()


class RateLimiter:
    """Named limits: ``{name: (limit, window seconds, what a refusal says)}``;
    a limit of 0 is no limit."""

    def __init__(self, policies: dict[str, tuple[int, int, str]]) -> None:
        self.policies = policies
        self._next: dict[str, int] = {}  # window key -> the slot to try first

    @property
    def collection(self):
        return Attempt._get_collection()

    def charge(self, policy: str, key: object) -> Budget | None:
        """Count one post of ``key`` under ``policy``; return its Budget (None
        when the policy has no limit), or raise RateLimited."""
        limit, window, what = self.policies[policy]
        if not limit:
            return None
        now = time.time()
        index = int(now // window)
        reset = max(1, math.ceil((index + 1) * window - now))
        prefix = f"rate:{policy}:{key}:"
        name = f"{prefix}{index}"
        slot = self._next.get(name)
        guessed = slot is not None
        if slot is None:
            slot = self.collection.count_documents({"key": name})
        while slot < limit:
            try:
                self.collection.insert_one({"key": name, "slot": slot, "at": utcnow()})
            except DuplicateKeyError:
                if guessed:  # another process posts with this key too: count
                    guessed = False
                    slot = max(slot + 1, self.collection.count_documents({"key": name}))
                else:
                    slot += 1  # a parallel post took it
                continue
            if len(self._next) > 100000:
                self._next.clear()
            self._next.pop(f"{prefix}{index - 1}", None)
            self._next[name] = slot + 1
            if slot == 0:
                # The first post of a window: the key's older windows are over.
                self.collection.delete_many({"key": {"$regex": f"^{re.escape(prefix)}",
                                                     "$ne": name}})
            return Budget(limit, limit - slot - 1, reset)
        raise RateLimited(Budget(limit, 0, reset), what)

    def describe(self, policy: str) -> str:
        limit, window, what = self.policies[policy]
        return f"at most {limit} {what}" if limit else "no limit"
