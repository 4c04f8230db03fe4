"""The outbox: every event an outgoing webhook asked for is delivered at
least once, none is lost, and none that its receiver acknowledged is sent
again (but by an explicit replay), through restarts and any number of
server processes, with no transaction and no write on the posting path.

NOTE: long because the claim, the repair of a dead worker's attempt and
the bookkeeping after an attempt share invariants best read side by side.

Why this design
---------------
The room's log (makechat.chat.messagelog) is already a durable, ordered,
gapless sequence: it *is* the queue. A post writes nothing for webhooks, so
webhooks cost the poster nothing, and an event cannot be lost between "the
message is stored" and "the delivery is queued": there is no second write
to lose. The outbox only reads the log behind each webhook's ``cursor``:

1. **Enqueue.** For each webhook whose room's committed mark is past its
   cursor, read the log from the cursor to the mark; for every event it
   wants, insert a ``Delivery`` under the unique (webhook, seq) index, with
   the payload as it is then (retries send the same bytes); then move the
   cursor to the last seq read. Two processes enqueueing the same events
   insert each Delivery once (the index refuses the second), and a cursor
   that steps back (FerretDB v1 applies a conditional update as a read then
   a write) only re-reads events whose Deliveries exist. The cursor never
   passes an event before its Delivery is written, so a crash re-reads, it
   never skips.
2. **Attempt.** A due pending Delivery with ``attempts = n - 1`` is
   attempted by whoever inserts ``DeliveryAttempt (webhook, seq, n)``: the
   unique index gives attempt n to one worker of one process (a claim; no
   findAndModify, which FerretDB v1 does not make atomic). Before sending,
   the winner checks that no attempt of this cycle succeeded.
3. **Record.** After the answer, the attempt is written (finished, ok,
   status, latency), then the Delivery (delivered; or the next attempt's
   time, with exponential backoff and jitter; or dead once it has failed
   for ``webhook_give_up_after``).
4. **Repair.** A worker that finds attempt n taken looks at it: finished,
   it brings the Delivery in line with it (the worker that made it died
   between 3's two writes: a success is recorded as delivered, never sent
   again); unfinished and older than a generous bound past
   ``webhook_timeout``, its worker died mid-attempt: it is recorded as
   abandoned and the event is sent again at once, with the same
   ``webhook-id``, since the receiver may or may not have it.

So an acknowledged delivery (its 2xx recorded) is never repeated, every
wanted event is sent until acknowledged or given up, and the receiver can
drop the rare repeat of an unacknowledged one by its ``webhook-id``.
"""

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from pymongo.errors import DuplicateKeyError, PyMongoError

from makechat.bots import sender, signing
from makechat.bots.documents import (
    DEAD,
    DELIVERED,
    PENDING,
    Delivery,
    DeliveryAttempt,
    OutgoingWebhook,
)
from makechat.bots.incoming import render
from makechat.chat.events import GAP, MESSAGE, event_to_public
from makechat.exceptions import MakechatError
from makechat.media import dumps, format_time
from makechat.models import Room, utcnow

log = logging.getLogger(__name__)

#: The most log entries one webhook's enqueue reads in one pass.
BATCH = 500


def wants(hook, entry):
    """Whether the webhook asked for this log entry."""
    kind = entry.get("type") or MESSAGE
    if kind == GAP or kind not in (hook.get("events") or [MESSAGE]):
        return False
    if kind != MESSAGE:
        return True
    if entry.get("deleted") or entry.get("author") is None or entry.get("author") == hook["bot"]:
        return False  # a tombstone, or the bot's own message (no loops)
    mentions, triggers = hook.get("mentions_only"), hook.get("triggers") or []
    if not mentions and not triggers:
        return True
    text = entry.get("text") or ""
    if mentions and mentioned(text, hook.get("bot_username", "")):
        return True
    first = text.strip().split(maxsplit=1)
    return bool(triggers and first and first[0].lower() in {word.lower() for word in triggers})


def mentioned(text, username):
    """Whether ``@username`` is in the text (any case, as a whole name)."""
    import re
    return bool(username) and re.search(
        rf"(?<![\w@.-])@{re.escape(username)}(?![\w-])", text, re.IGNORECASE) is not None


def payload(hook, entry):
    """The JSON body of an event's delivery (Standard Webhooks' type,
    timestamp and data, with the room's seq and the event's actor)."""
    event = event_to_public(entry)
    return dumps({"type": event["type"], "timestamp": format_time(event["at"]),
                  "webhook": hook["_id"], "room": event["room"], "seq": event["seq"],
                  "actor": event["actor"], "data": event["data"]}).encode("utf-8")


class Outbox:
    """Enqueues and delivers outgoing webhooks' events (see the module
    docstring). ``start()`` runs it in the background; ``run_once()`` is one
    pass (tests, benchmarks)."""

    def __init__(self, config, store, incoming):
        self.config = config
        self.store = store
        self.incoming = incoming  # posts a bot's reply
        self._key = None
        self._thread = None
        self._inflight = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # an attempt ended, or stop()
        # Deliveries another process is attempting: not taken up again here
        # until then (monotonic time), so a lost claim is not retried in a spin.
        self._elsewhere = {}
        self._pool = None
        self.attempts = 0  # attempts made by this process (tests, benchmarks)

    # -- running

    def start(self):
        """Run in the background (a greenlet under gevent), once per process."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="makechat-outbox",
                                                daemon=True)
                self._thread.start()

    def stop(self, timeout=10.0):
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _run(self):
        self._pool = ThreadPoolExecutor(self.config.webhook_concurrency,
                                        thread_name_prefix="makechat-delivery")
        interval, enqueued = self.config.webhook_poll_interval, 0.0
        while not self._stop.is_set():
            busy = False
            try:
                if time.monotonic() - enqueued >= interval:
                    enqueued = time.monotonic()
                    self.enqueue()
                busy = self._dispatch()
            except PyMongoError as exc:  # a database outage: one line, no traceback
                log.warning("outbox pass failed (%s: %s); retrying", type(exc).__name__, exc)
            except Exception:  # noqa: BLE001 - the outbox must outlive any one bug
                log.exception("outbox pass failed; retrying")
            # PERF: with a backlog, go on as soon as an attempt ends; idle, poll.
            self._wake.wait(interval if not busy else max(0.0, interval - (
                time.monotonic() - enqueued)))
            self._wake.clear()

    def _dispatch(self):
        """Hand due deliveries to the pool, up to its free places; return
        whether there may be more due than were handed out."""
        capacity = self.config.webhook_concurrency
        with self._lock:
            free = capacity - len(self._inflight)
        if free <= 0:
            return True
        due = self.due(capacity * 8)
        # Each process takes a different share of the backlog: several would
        # otherwise all race for the same first few claims.
        random.shuffle(due)
        now, handed = time.monotonic(), 0
        self._elsewhere = {key: until for key, until in self._elsewhere.items() if until > now}
        for delivery in due:
            with self._lock:
                if delivery["_id"] in self._inflight or len(self._inflight) >= capacity or \
                        delivery["_id"] in self._elsewhere:
                    continue
                self._inflight.add(delivery["_id"])
            handed += 1
            self._pool.submit(self._attempt_in_pool, delivery)
        return handed > 0 and len(due) >= free

    def _attempt_in_pool(self, delivery):
        try:
            self.attempt(delivery)
        except PyMongoError as exc:  # a database outage: retried, one line
            log.warning("delivery %s of webhook %s failed (%s: %s)", delivery.get("seq"),
                        delivery.get("hook"), type(exc).__name__, exc)
        except Exception:  # noqa: BLE001 - one delivery's failure is not the outbox's
            log.warning("delivery %s of webhook %s failed", delivery.get("seq"),
                        delivery.get("hook"), exc_info=True)
        finally:
            with self._lock:
                self._inflight.discard(delivery["_id"])
            self._wake.set()

    def run_once(self):
        """Enqueue, then attempt every due delivery, one after another;
        return how many attempts were made."""
        self.enqueue()
        made = 0
        for delivery in self.due(1000):
            made += bool(self.attempt(delivery))
        return made

    # -- 1. enqueue

    def enqueue(self):
        """Write the Deliveries of the events past every webhook's cursor."""
        hooks = list(OutgoingWebhook._get_collection().find({}, {
            "room": 1, "bot": 1, "bot_username": 1, "events": 1, "mentions_only": 1,
            "triggers": 1, "cursor": 1}))
        if not hooks:
            return 0
        marks = {}
        for room in Room._get_collection().find(
                {"_id": {"$in": list({hook["room"] for hook in hooks})}},
                {"last_seq": 1, "committed_seq": 1, "seq_at": 1}):
            committed = room.get("committed_seq", 0)
            marks[room["_id"]] = committed if room.get("last_seq", 0) <= committed \
                else self.store.advance(room["_id"], room)
        written = 0
        for hook in hooks:
            mark, cursor = marks.get(hook["room"]), hook.get("cursor", 0)
            if mark is None or mark <= cursor:
                continue
            entries = self.store.events(hook["room"], cursor, BATCH, mark=mark)
            now = utcnow()
            for entry in entries:
                if wants(hook, entry):
                    written += self._write_delivery(hook, entry, now)
            moved = entries[-1]["seq"] if len(entries) == BATCH else mark
            OutgoingWebhook._get_collection().update_one(
                {"_id": hook["_id"], "cursor": {"$lt": moved}}, {"$set": {"cursor": moved}})
        return written

    def _write_delivery(self, hook, entry, now, cycle=0):
        try:
            Delivery._get_collection().insert_one({
                "hook": hook["_id"], "seq": entry["seq"], "room": hook["room"],
                "state": PENDING, "attempts": 0, "cycle": cycle, "next_at": now, "since": now,
                "body": payload(hook, entry)})
            return 1
        except DuplicateKeyError:
            return 0  # another process (or an earlier pass) wrote it

    def due(self, limit):
        """Pending deliveries whose next attempt is due, the longest due first."""
        return list(Delivery._get_collection().find(
            {"state": PENDING, "next_at": {"$lte": utcnow()}}).sort("next_at", 1).limit(limit))

    # -- 2. attempt, 3. record

    def attempt(self, delivery):
        """Make the next attempt at a delivery if this worker wins its claim;
        return True if it sent it."""
        number, cycle = delivery.get("attempts", 0) + 1, delivery.get("cycle", 0)
        attempts = DeliveryAttempt._get_collection()
        key = {"hook": delivery["hook"], "seq": delivery["seq"]}
        try:
            attempts.insert_one({**key, "number": number, "cycle": cycle, "at": utcnow()})
        except DuplicateKeyError:
            self._repair(delivery, number)
            return False
        # PERF: a cycle's first attempt has nothing before it to have succeeded.
        if number > delivery.get("first", 1) and \
                attempts.find_one({**key, "cycle": cycle, "ok": True}, {"_id": 1}):
            # SECURITY of the promise: acknowledged once, never sent again.
            attempts.update_one({**key, "number": number}, {"$set": {
                "finished": utcnow(), "ok": True, "error": "already acknowledged"}})
            self._delivered(delivery, number, None)
            return False
        hook = OutgoingWebhook._get_collection().find_one({"_id": delivery["hook"]})
        if hook is None:
            return False  # deleted meanwhile: its deliveries go with it
        outcome = self._send(hook, delivery)
        self.attempts += 1
        attempts.update_one({**key, "number": number}, {"$set": {
            "finished": utcnow(), "ok": outcome.ok, "status": outcome.status,
            "latency_ms": outcome.latency_ms, "error": outcome.error}})
        if outcome.ok:
            self._delivered(delivery, number, outcome.status)
            self._reply(hook, delivery, outcome.reply)
        else:
            self._failed(delivery, number, outcome.status, outcome.error)
        return True

    def _send(self, hook, delivery):
        if self._key is None:
            self._key = signing.server_key(self.config.webhook_key)
        secret = signing.signing_secret(self._key, hook["_id"], hook["secret_nonce"])
        msg_id = signing.message_id(hook["_id"], delivery["seq"])
        timestamp = int(time.time())
        body = delivery["body"]
        return sender.send(hook["url"], {
            "webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signing.sign(secret, msg_id, timestamp, body)}, body,
            timeout=self.config.webhook_timeout, allow_http=self.config.webhooks_allow_http,
            allow_private=self.config.webhooks_allow_private)

    def _delivered(self, delivery, number, status):
        Delivery._get_collection().update_one(
            {"_id": delivery["_id"], "cycle": delivery.get("cycle", 0)},
            {"$set": {"state": DELIVERED, "attempts": number, "delivered": utcnow(),
                      "last_status": status, "last_error": None}})

    def backoff(self, number):
        """Seconds before attempt number+1: doubling from webhook_retry_base,
        at most webhook_retry_max, with jitter (half to all of it)."""
        config = self.config
        delay = min(config.webhook_retry_max, config.webhook_retry_base * 2 ** (number - 1))
        return delay * random.uniform(0.5, 1.0)

    def _failed(self, delivery, number, status, error, at=None):
        now = at or utcnow()
        update = {"attempts": number, "last_status": status, "last_error": error}
        give_up = delivery["since"] + timedelta(seconds=self.config.webhook_give_up_after)
        if now >= give_up:
            update["state"] = DEAD
        else:
            update["next_at"] = now + timedelta(seconds=self.backoff(number))
        Delivery._get_collection().update_one(
            {"_id": delivery["_id"], "cycle": delivery.get("cycle", 0),
             "attempts": {"$lt": number}}, {"$set": update})

    def _reply(self, hook, delivery, reply):
        """A bot may answer a message's delivery with {"text": ...}: posted in the
        room as the bot, once per event (a redelivery replays it)."""
        if not isinstance(reply, dict) or not reply.get("text") and not reply.get("attachments"):
            return
        try:
            rendered = render(reply, self.config.max_message_length)
            self.incoming.post_as_bot(hook["bot"], hook["room"], rendered,
                                      f"reply:{hook['_id']}:{delivery['seq']}")
        except MakechatError as error:
            DeliveryAttempt._get_collection().update_one(
                {"hook": delivery["hook"], "seq": delivery["seq"],
                 "number": delivery.get("attempts", 0) + 1},
                {"$set": {"error": f"reply refused: {error.description}"}})

    # -- 4. repair

    def stale_after(self):
        """How long an unfinished attempt may last before its worker is taken
        for dead: connect, send and read each have webhook_timeout."""
        return timedelta(seconds=self.config.webhook_timeout * 3 + 5)

    def _repair(self, delivery, number):
        """Attempt ``number`` is someone else's: bring the Delivery in line with it."""
        attempts = DeliveryAttempt._get_collection()
        key = {"hook": delivery["hook"], "seq": delivery["seq"], "number": number}
        found = attempts.find_one(key)
        if found is None or found.get("cycle", 0) > delivery.get("cycle", 0):
            return  # gone, or this copy of the Delivery is older than a replay
        if found.get("cycle", 0) < delivery.get("cycle", 0):
            # A replay came during an earlier cycle's attempt, which holds this
            # number: the new cycle goes on past it (numbers never repeat).
            Delivery._get_collection().update_one(
                {"_id": delivery["_id"], "cycle": delivery.get("cycle", 0),
                 "attempts": {"$lt": number}}, {"$set": {"attempts": number}})
            return
        if found.get("finished") is None:
            if found["at"] > utcnow() - self.stale_after():
                # Under way in another worker: leave it be for a while.
                self._elsewhere[delivery["_id"]] = time.monotonic() + \
                    self.config.webhook_timeout
                return
            attempts.update_one({**key, "finished": None}, {"$set": {
                "finished": utcnow(), "ok": False,
                "error": "abandoned: the server stopped during the attempt"}})
            found = attempts.find_one(key)
            if found.get("ok"):
                return
            # Sent again at once: the receiver may not have it.
            Delivery._get_collection().update_one(
                {"_id": delivery["_id"], "cycle": delivery.get("cycle", 0),
                 "attempts": {"$lt": number}},
                {"$set": {"attempts": number, "next_at": utcnow(),
                          "last_error": found.get("error")}})
        elif found.get("ok"):
            self._delivered(delivery, number, found.get("status"))
        else:
            self._failed(delivery, number, found.get("status"), found.get("error"),
                         at=found["finished"])
