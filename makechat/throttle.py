"""Exact limits on attempts (logins, registrations, password checks) that
hold under parallel requests on any backend, without transactions.

A limit of N attempts per window for a key is N numbered slots. An attempt
claims a free slot *before* the work it guards (a bcrypt check, say) by
inserting ``{key, slot, at}`` under the unique ``(key, slot)`` index: the
index gives each slot to one request, so at most N attempts of a key are
ever counted or in flight, whatever the interleaving. Counting first and
inserting after (what this replaced) let 300 parallel logins run 48 checks
against a limit of 10. A slot frees itself when its attempt is older than
the window, or when its holder releases it (a login that succeeded).

NOTE: FerretDB v1 applies ``$inc`` as a read then a write, so a counter
document would lose updates; a unique index is the one write it makes
race-safe.
"""

import dataclasses
import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from makechat.exceptions import TooMany
from makechat.models import Attempt, utcnow


@dataclasses.dataclass(frozen=True)
class Rule:
    """At most ``limit`` attempts per ``window`` seconds for keys of a kind;
    ``title`` is what a refused client reads."""

    kind: str
    limit: int
    window: float
    title: str = "Too many attempts"


class Refused(TooMany):
    """Every slot of a key is held; ``retry_after`` seconds until one frees."""

    def __init__(self, rule: Rule, retry_after: int) -> None:
        super().__init__(f"{rule.title.rstrip('.')}; try again in {retry_after} seconds.",
                         title=rule.title, retry_after=retry_after)
        self.rule = rule


class Claims:
    """The slots one attempt holds, to keep (the attempt counts) or release."""

    def __init__(self, collection: Collection[Any], ids: list[ObjectId]) -> None:
        self.collection = collection
        self.ids = ids

    def release(self) -> None:
        """Give the slots back: the attempt does not count (it succeeded)."""
        if self.ids:
            self.collection.delete_many({"_id": {"$in": self.ids}})
            self.ids = []


class Throttle:
    """Claim slots for several keys at once; all or nothing."""

    @property
    def collection(self) -> Collection[Any]:
        return Attempt._get_collection()

    def claim(self, pairs: Iterable[tuple[Rule, str]]) -> Claims:
        """Claim one slot for each (rule, value); return Claims, or raise Refused
        (holding nothing) if any key has no free slot."""
        now = utcnow()
        keys = {f"{rule.kind}:{value}": rule for rule, value in pairs}
        # Free the slots whose attempts have left their window.
        expired = [{"key": key, "at": {"$lt": now - timedelta(seconds=rule.window)}}
                   for key, rule in keys.items()]
        self.collection.delete_many({"$or": expired})
        held: dict[str, dict[int, datetime]] = {key: {} for key in keys}
        for doc in self.collection.find({"key": {"$in": list(keys)}},
                                        {"key": 1, "slot": 1, "at": 1}):
            held[doc["key"]][doc["slot"]] = doc["at"]
        taken: list[ObjectId] = []
        for key, rule in keys.items():
            slot_id = self._claim_one(key, rule, held[key], now)
            if slot_id is None:
                Claims(self.collection, taken).release()
                raise Refused(rule, self._retry_after(rule, held[key], now))
            taken.append(slot_id)
        return Claims(self.collection, taken)

    def _claim_one(self, key: str, rule: Rule, held: dict[int, datetime],
                   now: datetime) -> ObjectId | None:
        for slot in range(rule.limit):
            if slot in held:
                continue
            slot_id = ObjectId()
            try:
                self.collection.insert_one({"_id": slot_id, "key": key, "slot": slot, "at": now})
            except DuplicateKeyError:
                continue  # another request took this slot a moment ago
            return slot_id
        return None

    @staticmethod
    def _retry_after(rule: Rule, held: dict[int, datetime], now: datetime) -> int:
        if not held:
            return 1  # every slot was taken by requests running right now
        oldest = min(held.values())
        remaining = (oldest + timedelta(seconds=rule.window) - now).total_seconds()
        return max(1, math.ceil(remaining))

    def forget(self, rule: Rule, value: str) -> None:
        """Drop every counted attempt of a key (a successful login resets its pair)."""
        self.collection.delete_many({"key": f"{rule.kind}:{value}"})

    def count(self, rule: Rule, value: str) -> int:
        """Return how many attempts of a key are counted now (tests, admin tools)."""
        since = utcnow() - timedelta(seconds=rule.window)
        return self.collection.count_documents({"key": f"{rule.kind}:{value}",
                                                "at": {"$gte": since}})
