"""Registering, listing and revoking webhooks, and what the API shows of
their deliveries: the rules (who may, what is checked) of both kinds.

An owner of the room or an admin manages a room's webhooks; the webhook's
bot must be one the caller manages (an admin, or the bot's owner), and is
added to the room if it is not in it. Incoming webhooks' secrets and
outgoing webhooks' signing secrets are shown once, when made, and stored
nowhere (a digest; a derivation: makechat.bots.signing).
"""

import secrets
from typing import Any

from pymongo.errors import DuplicateKeyError

from makechat.auth import token_digest
from makechat.bots import signing, targets
from makechat.bots.accounts import may_manage_bot
from makechat.bots.documents import (
    PENDING,
    Delivery,
    DeliveryAttempt,
    IncomingWebhook,
    OutgoingWebhook,
)
from makechat.bots.outbox import payload, wants
from makechat.chat.access import require_manager, visible_room
from makechat.chat.events import PUBLIC_TYPES
from makechat.exceptions import Conflict, Invalid, NotFound, no_such
from makechat.models import User, utcnow
from makechat.paging import Page

SECRET_LENGTH = 32


class TooManyWebhooks(Conflict):
    def __init__(self, limit: int) -> None:
        super().__init__(f"This room already has {limit} webhooks of this kind; delete one "
                         "first.", title="Too many webhooks")


def outgoing_to_public(hook: dict[str, Any]) -> dict[str, Any]:
    """An outgoing webhook as the API shows it (a raw document)."""
    return {"_id": hook["_id"], "room": hook["room"], "bot": hook["bot"],
            "bot_username": hook["bot_username"], "name": hook["name"], "url": hook["url"],
            "events": hook.get("events") or ["message"],
            "mentions_only": bool(hook.get("mentions_only")),
            "triggers": hook.get("triggers") or [], "cursor": hook.get("cursor", 0),
            "created": hook["created"], "created_by": hook.get("created_by")}


def delivery_to_public(delivery: dict[str, Any], log: list[dict[str, Any]]) -> dict[str, Any]:
    """A delivery with its attempts, as the API shows them."""
    return {"_id": delivery["_id"], "webhook": delivery["hook"], "seq": delivery["seq"],
            "webhook_id": signing.message_id(delivery["hook"], delivery["seq"]),
            "state": delivery["state"], "attempts": delivery.get("attempts", 0),
            "next_attempt": delivery["next_at"] if delivery["state"] == PENDING else None,
            "since": delivery["since"], "delivered": delivery.get("delivered"),
            "last_status": delivery.get("last_status"),
            "last_error": delivery.get("last_error"),
            "log": [{"number": item["number"], "at": item["at"],
                     "finished": item.get("finished"), "ok": item.get("ok"),
                     "status": item.get("status"), "latency_ms": item.get("latency_ms"),
                     "error": item.get("error")} for item in log]}


class Webhooks:
    """Both kinds of webhooks; ``rooms`` (makechat.chat.rooms.Rooms) adds a
    webhook's bot to its room, ``store`` reads the room's mark."""

    def __init__(self, config, rooms, store):
        self.config = config
        self.rooms = rooms
        self.store = store

    def _managed_room(self, caller, room_id):
        room, member = visible_room(caller, room_id)
        require_manager(caller, member)
        return room

    def _bot_in_room(self, caller, room, bot_id):
        bot = User.objects(id=bot_id, is_bot=True, is_active=True).first() \
            if bot_id is not None else None
        if bot is None or not may_manage_bot(caller, bot):
            raise no_such("bot")
        self.rooms.join(room, bot, actor=caller)
        return bot

    def _check_room_has_space(self, document, room_id):
        if document.objects(room=room_id).count() >= self.config.max_webhooks_per_room:
            raise TooManyWebhooks(self.config.max_webhooks_per_room)

    # -- incoming

    def create_incoming(self, caller, room_id, bot_id, name):
        """Make an incoming webhook; return (its document, its URL path, shown once)."""
        room = self._managed_room(caller, room_id)
        self._check_room_has_space(IncomingWebhook, room.id)
        bot = self._bot_in_room(caller, room, bot_id)
        secret = secrets.token_urlsafe(SECRET_LENGTH)[:SECRET_LENGTH]
        hook = IncomingWebhook(room=room.id, bot=bot.id, bot_username=bot.username, name=name,
                               digest=token_digest(secret), created_by=caller.id)
        hook.save(force_insert=True)
        return hook, f"/hooks/{hook.id}/{secret}"

    def list_incoming(self, caller, room_id):
        room = self._managed_room(caller, room_id)
        return [hook.to_public() for hook in IncomingWebhook.objects(room=room.id).order_by("id")]

    def delete_incoming(self, caller, hook_id):
        hook = IncomingWebhook.objects(id=hook_id).first() if hook_id else None
        if hook is None:
            raise no_such("webhook")
        self._managed_room_or_hidden(caller, hook.room)
        hook.delete()

    def _managed_room_or_hidden(self, caller, room_id):
        try:
            return self._managed_room(caller, room_id)
        except NotFound:
            raise no_such("webhook") from None

    # -- outgoing

    def create_outgoing(self, caller, room_id, bot_id, *, name, url, events=None,
                        mentions_only=False, triggers=()):
        """Register an outgoing webhook for the room's events from now on;
        return (its public form, its signing secret, shown once)."""
        room = self._managed_room(caller, room_id)
        targets.check(url, self.config.webhooks_allow_http, self.config.webhooks_allow_private)
        events = sorted(set(events or ["message"]))
        unknown = [kind for kind in events if kind not in PUBLIC_TYPES]
        if unknown:
            raise Invalid(f"Unknown event type {unknown[0]!r}; the types are "
                          f"{', '.join(PUBLIC_TYPES)}.")
        self._check_room_has_space(OutgoingWebhook, room.id)
        bot = self._bot_in_room(caller, room, bot_id)
        hook = OutgoingWebhook(room=room.id, bot=bot.id, bot_username=bot.username, name=name,
                               url=url.strip(), events=events, mentions_only=mentions_only,
                               triggers=sorted({word.lower() for word in triggers}),
                               cursor=self.store.mark(room.id),
                               secret_nonce=secrets.token_hex(16), created_by=caller.id)
        hook.save(force_insert=True)
        secret = signing.signing_secret(signing.server_key(self.config.webhook_key), hook.id,
                                        hook.secret_nonce)
        return outgoing_to_public(hook.to_mongo().to_dict()), secret

    def _outgoing(self, caller, hook_id):
        hook = OutgoingWebhook._get_collection().find_one({"_id": hook_id}) if hook_id else None
        if hook is None:
            raise no_such("webhook")
        self._managed_room_or_hidden(caller, hook["room"])
        return hook

    def get_outgoing(self, caller, hook_id):
        return outgoing_to_public(self._outgoing(caller, hook_id))

    def list_outgoing(self, caller, room_id):
        room = self._managed_room(caller, room_id)
        return [outgoing_to_public(hook) for hook in OutgoingWebhook._get_collection()
                .find({"room": room.id}).sort("_id", 1)]

    def delete_outgoing(self, caller, hook_id):
        """Delete the webhook with its deliveries and their log."""
        hook = self._outgoing(caller, hook_id)
        OutgoingWebhook._get_collection().delete_one({"_id": hook["_id"]})
        Delivery._get_collection().delete_many({"hook": hook["_id"]})
        DeliveryAttempt._get_collection().delete_many({"hook": hook["_id"]})

    def deliveries(self, caller, hook_id, *, state=None, after=None, limit=50):
        """A Page of the webhook's deliveries, by seq, each with its attempts."""
        hook = self._outgoing(caller, hook_id)
        query: dict[str, Any] = {"hook": hook["_id"]}
        if state is not None:
            query["state"] = state
        if after is not None:
            query["seq"] = {"$gt": after}
        found = list(Delivery._get_collection().find(query).sort("seq", 1).limit(limit + 1))
        more = len(found) > limit
        found = found[:limit]
        logs: dict[int, list] = {item["seq"]: [] for item in found}
        for item in DeliveryAttempt._get_collection().find(
                {"hook": hook["_id"], "seq": {"$in": list(logs)}}).sort("number", 1):
            logs[item["seq"]].append(item)
        return Page([delivery_to_public(item, logs[item["seq"]]) for item in found],
                    found[-1]["seq"] if more else None)

    def replay(self, caller, hook_id, from_seq):
        """Send again the events from ``from_seq`` that the webhook wants (at
        most webhook_replay_max), with their original webhook-id; return what
        was queued."""
        hook = self._outgoing(caller, hook_id)
        if from_seq < 1:
            raise Invalid("The 'from_seq' parameter must be a seq (1 or more).")
        upto = hook.get("cursor", 0)
        entries = self.store.events(hook["room"], from_seq - 1, self.config.webhook_replay_max,
                                    mark=upto) if upto >= from_seq else []
        now, queued = utcnow(), 0
        deliveries = Delivery._get_collection()
        for entry in entries:
            if not wants(hook, entry):
                continue
            queued += 1
            existing = deliveries.find_one({"hook": hook["_id"], "seq": entry["seq"]},
                                           {"cycle": 1, "attempts": 1})
            if existing is None:
                try:
                    deliveries.insert_one({
                        "hook": hook["_id"], "seq": entry["seq"], "room": hook["room"],
                        "state": PENDING, "attempts": 0, "cycle": 1, "next_at": now,
                        "since": now, "body": payload(hook, entry)})
                    continue
                except DuplicateKeyError:  # written meanwhile: replay it below
                    existing = deliveries.find_one({"hook": hook["_id"], "seq": entry["seq"]},
                                                   {"cycle": 1, "attempts": 1})
            # A new cycle: its first attempt is the next number (the claims'
            # numbers never repeat), and earlier successes do not stop it.
            deliveries.update_one({"_id": existing["_id"]}, {"$set": {
                "state": PENDING, "cycle": existing.get("cycle", 0) + 1, "next_at": now,
                "since": now, "first": existing.get("attempts", 0) + 1}})
        last = entries[-1]["seq"] if entries else None
        more = bool(entries) and len(entries) == self.config.webhook_replay_max and last < upto
        return {"queued": queued, "from_seq": from_seq, "to_seq": last,
                "next_from_seq": last + 1 if more else None}


