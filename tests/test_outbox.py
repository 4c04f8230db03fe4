"""The outbox (makechat.bots.outbox) against a real HTTP receiver on
loopback: signed deliveries, retries with backoff, timeouts, dead letters,
replays, repairs after a worker died, concurrent workers, bot replies, and
refused targets. The restart of a real server mid-delivery is in
tests/test_outbox_live.py."""

import time
from datetime import timedelta

import pytest
import webtest

from makechat.app import create_app
from makechat.bots import signing
from makechat.bots.documents import Delivery, DeliveryAttempt
from makechat.bots.incoming import Incoming
from makechat.bots.outbox import Outbox
from makechat.chat.messagelog import MessageStore
from makechat.chat.watcher import RoomWatcher
from makechat.models import utcnow
from tests.receiver import Receiver

FAST = dict(webhooks_allow_private=True, webhooks_allow_http=True, webhook_retry_base=0.2,
            webhook_retry_max=5.0, webhook_timeout=1.0, webhook_poll_interval=0.05)


def make_outbox(config):
    store = MessageStore(config.gap_timeout)
    watcher = RoomWatcher(config.poll_interval, advance=store.advance)
    return Outbox(config, store, Incoming(store, watcher, config.max_message_length))


class World:
    """An app, an admin, a room, a bot in it, and helpers."""

    def __init__(self, config, admin):
        self.config = config
        self.app = webtest.TestApp(create_app(config))
        self.admin = admin
        self.room = self.call("POST", "/api/rooms", {"name": "builds"}).json["_id"]["$oid"]
        self.bot = self.call("POST", "/api/bots", {"username": "helper"}).json["_id"]["$oid"]

    def call(self, method, path, body=None, status=None):
        headers = {"X-Auth-Token": self.admin.secret, "Accept": "application/json"}
        send = getattr(self.app, method.lower() + ("_json" if body is not None else ""))
        args = (path, body) if body is not None else (path,)
        response = send(*args, headers=headers, expect_errors=True)
        if status is not None:
            assert response.status_int == status, response.json
        return response

    def hook(self, url, **options):
        body = {"room": self.room, "bot": self.bot, "name": "ci", "url": url, **options}
        return self.call("POST", "/api/webhooks/outgoing", body, status=201).json

    def post(self, text):
        return self.call("POST", "/api/messages", {"room": self.room, "text": text},
                         status=201).json

    def deliveries(self, hook):
        return self.call("GET", f"/api/webhooks/outgoing/{hook['_id']['$oid']}/deliveries",
                         status=200).json


def until(outbox, condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outbox.run_once()
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("not within the time")


@pytest.fixture
def receiver():
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def world(config, admin):
    return World(config.replace(**FAST), admin)


def test_a_delivery_is_signed_the_standard_webhooks_way(world, receiver):
    hook = world.hook(receiver.url)
    message = world.post("deploy done")
    assert make_outbox(world.config).run_once() == 1
    (request,) = receiver.requests
    headers, body = request["headers"], request["body"]
    assert headers["webhook-id"] == f"msg_{hook['_id']['$oid']}_{message['seq']}"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert signing.verify(hook["secret"], headers["webhook-id"],
                          int(headers["webhook-timestamp"]), body, headers["webhook-signature"])
    assert not signing.verify(hook["secret"], headers["webhook-id"],
                              int(headers["webhook-timestamp"]), body + b" ",
                              headers["webhook-signature"])
    event = request["json"]
    assert event["type"] == "message" and event["seq"] == message["seq"]
    assert event["data"]["text"] == "deploy done" and event["actor"]["username"] == "admin"


def test_the_signing_secret_is_stored_nowhere(world, receiver, raw_db):
    hook = world.hook(receiver.url)
    secret = hook["secret"]
    for name in raw_db.list_collection_names():
        for document in raw_db[name].find():
            assert secret not in str(document) and secret[6:] not in str(document)


def test_events_before_the_webhook_are_not_sent(world, receiver):
    world.post("before")
    world.hook(receiver.url)
    world.post("after")
    make_outbox(world.config).run_once()
    assert [request["json"]["data"]["text"] for request in receiver.requests] == ["after"]


def test_a_failing_receiver_is_retried_with_backoff_until_it_acknowledges(world, receiver):
    receiver.answers = [(500, 0, None), (503, 0, None), (200, 0, None)]
    hook = world.hook(receiver.url)
    world.post("retry me")
    outbox = make_outbox(world.config)
    until(outbox, lambda: receiver.acknowledged)
    (delivery,) = world.deliveries(hook)
    assert delivery["state"] == "delivered" and delivery["attempts"] == 3
    log = delivery["log"]
    assert [item["status"] for item in log] == [500, 503, 200]
    assert [item["ok"] for item in log] == [False, False, True]
    assert all(item["latency_ms"] is not None for item in log)
    assert len(set(receiver.ids())) == 1  # one webhook-id across the retries
    from makechat.media import loads
    times = [loads(f'"{item[key]}"') for item in log for key in ("at", "finished")]
    del times  # the times are shown; the gaps are checked on the documents below
    stored = list(DeliveryAttempt._get_collection().find().sort("number", 1))
    for number, (before, after) in enumerate(zip(stored, stored[1:], strict=False), 1):
        gap = (after["at"] - before["finished"]).total_seconds()
        assert gap >= 0.5 * FAST["webhook_retry_base"] * 2 ** (number - 1) - 0.01


def test_a_timeout_is_a_failed_attempt_and_the_retry_keeps_its_id(world, receiver):
    receiver.answers = [(200, 3.0, None)]
    hook = world.hook(receiver.url)
    world.post("slow")
    outbox = make_outbox(world.config)
    until(outbox, lambda: receiver.acknowledged and world.deliveries(hook)[0]["state"]
          == "delivered")
    log = world.deliveries(hook)[0]["log"]
    assert log[0]["ok"] is False and "timed out" in log[0]["error"]
    assert len(set(receiver.ids())) == 1 and len(receiver.ids()) == 2


def test_a_delivery_failing_too_long_is_dead_and_no_longer_tried(config, admin, receiver):
    world = World(config.replace(**FAST, webhook_give_up_after=0.5), admin)
    receiver.default = (500, 0, None)
    hook = world.hook(receiver.url)
    world.post("never")
    outbox = make_outbox(world.config)
    until(outbox, lambda: world.deliveries(hook)[0]["state"] == "dead")
    tried = len(receiver.requests)
    time.sleep(0.3)
    assert outbox.run_once() == 0 and len(receiver.requests) == tried
    dead = world.call("GET", f"/api/webhooks/outgoing/{hook['_id']['$oid']}/deliveries"
                             "?state=dead").json
    assert len(dead) == 1 and dead[0]["next_attempt"] is None


def test_replay_sends_again_with_the_same_ids(world, receiver):
    hook = world.hook(receiver.url)
    first = world.post("one")
    world.post("two")
    outbox = make_outbox(world.config)
    outbox.run_once()
    sent = receiver.ids()
    replayed = world.call("POST", f"/api/webhooks/outgoing/{hook['_id']['$oid']}/replay"
                                  f"?from_seq={first['seq']}", status=200).json
    assert replayed["queued"] == 2 and replayed["next_from_seq"] is None
    outbox.run_once()
    assert receiver.ids() == sent + sent


def test_replay_revives_a_dead_delivery(config, admin, receiver):
    world = World(config.replace(**FAST, webhook_give_up_after=0.2), admin)
    receiver.answers = [(500, 0, None)] * 50
    hook = world.hook(receiver.url)
    message = world.post("late")
    outbox = make_outbox(world.config)
    until(outbox, lambda: world.deliveries(hook)[0]["state"] == "dead")
    receiver.answers = []
    world.call("POST", f"/api/webhooks/outgoing/{hook['_id']['$oid']}/replay"
                       f"?from_seq={message['seq']}", status=200)
    until(outbox, lambda: world.deliveries(hook)[0]["state"] == "delivered")


def test_an_acknowledged_delivery_whose_record_was_lost_is_not_sent_again(world, receiver):
    """The worker died after writing the attempt's 2xx, before the Delivery."""
    world.hook(receiver.url)
    world.post("once")
    outbox = make_outbox(world.config)
    outbox.run_once()
    Delivery._get_collection().update_many({}, {"$set": {"state": "pending", "attempts": 0}})
    outbox.run_once()
    assert len(receiver.requests) == 1
    assert Delivery._get_collection().find_one()["state"] == "delivered"


def test_an_attempt_abandoned_by_a_dead_worker_is_sent_again(world, receiver):
    """The worker died during attempt 1 (claimed, never finished)."""
    hook = world.hook(receiver.url)
    message = world.post("again")
    outbox = make_outbox(world.config)
    outbox.enqueue()
    from bson import ObjectId
    DeliveryAttempt._get_collection().insert_one({
        "hook": ObjectId(hook["_id"]["$oid"]), "seq": message["seq"], "number": 1, "cycle": 0,
        "at": utcnow() - timedelta(seconds=60)})
    until(outbox, lambda: receiver.acknowledged)
    log = world.deliveries(hook)[0]["log"]
    assert "abandoned" in log[0]["error"] and log[1]["ok"] is True


def test_an_unfinished_recent_attempt_is_left_to_its_worker(world, receiver):
    hook = world.hook(receiver.url)
    message = world.post("busy")
    outbox = make_outbox(world.config)
    outbox.enqueue()
    from bson import ObjectId
    DeliveryAttempt._get_collection().insert_one({
        "hook": ObjectId(hook["_id"]["$oid"]), "seq": message["seq"], "number": 1, "cycle": 0,
        "at": utcnow()})
    assert outbox.run_once() == 0 and receiver.requests == []


def test_concurrent_workers_deliver_each_event_once(world, receiver):
    world.hook(receiver.url)
    texts = [f"m{number}" for number in range(15)]
    for text in texts:
        world.post(text)
    outboxes = [make_outbox(world.config) for _ in range(3)]
    for outbox in outboxes:
        outbox.start()
    try:
        receiver.wait_for(len(texts))
        time.sleep(0.5)  # a repeat would come now
    finally:
        for outbox in outboxes:
            outbox.stop()
    assert sorted(request["json"]["data"]["text"] for request in receiver.requests) == \
        sorted(texts)


def test_a_bot_answer_is_posted_in_the_room_once(world, receiver):
    receiver.default = (200, 0, {"text": "pong"})
    hook = world.hook(receiver.url)
    ping = world.post("ping")
    outbox = make_outbox(world.config)
    outbox.run_once()
    world.call("POST", f"/api/webhooks/outgoing/{hook['_id']['$oid']}/replay"
                       f"?from_seq={ping['seq']}", status=200)
    outbox.run_once()
    assert len(receiver.requests) == 2
    time.sleep(0.2)  # past the app's cached mark (mark_ttl): the outbox posted elsewhere
    messages = world.call("GET", f"/api/messages?room={world.room}").json
    assert [(m["text"], m.get("is_bot", False)) for m in messages] == \
        [("ping", False), ("pong", True)]
    outbox.run_once()  # the bot's own message is not delivered to it
    assert len(receiver.requests) == 2


def test_mentions_only_and_triggers_choose_the_messages(world, receiver):
    world.hook(receiver.url, mentions_only=True, triggers=["!deploy"])
    for text in ("hello all", "hey @Helper, status?", "!deploy staging", "email@helper.org",
                 "@helpers is someone else"):
        world.post(text)
    make_outbox(world.config).run_once()
    assert [request["json"]["data"]["text"] for request in receiver.requests] == \
        ["hey @Helper, status?", "!deploy staging"]


def test_other_event_types_when_asked(world, receiver):
    world.hook(receiver.url, events=["room.updated"])
    world.post("not this")
    world.call("PATCH", f"/api/rooms/{world.room}", {"topic": "green"}, status=200)
    make_outbox(world.config).run_once()
    assert [request["json"]["type"] for request in receiver.requests] == ["room.updated"]


def test_private_targets_are_refused_at_registration(config, admin):
    world = World(config.replace(webhooks_allow_http=True), admin)
    for url in ("http://127.0.0.1:9/hook", "http://localhost/hook", "http://10.0.0.1/",
                "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://0.0.0.0/",
                "http://192.168.1.1/"):
        response = world.call("POST", "/api/webhooks/outgoing", {
            "room": world.room, "bot": world.bot, "name": "x", "url": url})
        assert response.status_int == 400, url
        assert response.json["title"] == "Webhook URL refused", url


def test_plain_http_needs_its_setting(config, admin):
    world = World(config, admin)
    response = world.call("POST", "/api/webhooks/outgoing", {
        "room": world.room, "bot": world.bot, "name": "x", "url": "http://127.0.0.1/"})
    assert response.status_int == 400 and "webhooks_allow_http" in response.json["description"]


def test_each_delivery_checks_the_address_again(world, receiver):
    """Allowed when registered, refused when delivered (the setting changed,
    or the name now resolves elsewhere): nothing is sent, the log says why."""
    hook = world.hook(receiver.url)
    world.post("to a private address")
    outbox = make_outbox(world.config.replace(webhooks_allow_private=False))
    outbox.run_once()
    assert receiver.requests == []
    (delivery,) = world.deliveries(hook)
    assert delivery["state"] == "pending"
    assert "127.0.0.1, which is loopback" in delivery["log"][0]["error"]


def test_posting_in_a_room_with_webhooks_costs_no_more_commands(world, receiver, commands):
    world.post("warm up")
    commands.clear()
    world.post("without")
    without = [name for name, _ in commands]
    world.hook(receiver.url)
    world.post("warm up again")
    commands.clear()
    world.post("with")
    assert [name for name, _ in commands] == without


def test_a_replay_during_an_attempt_is_sent_after_it(world, receiver):
    """The earlier cycle's attempt holds number 1: the replay's goes on as 2."""
    hook = world.hook(receiver.url)
    message = world.post("racing")
    outbox = make_outbox(world.config)
    outbox.enqueue()
    from bson import ObjectId
    DeliveryAttempt._get_collection().insert_one({
        "hook": ObjectId(hook["_id"]["$oid"]), "seq": message["seq"], "number": 1, "cycle": 0,
        "at": utcnow()})
    world.call("POST", f"/api/webhooks/outgoing/{hook['_id']['$oid']}/replay"
                       f"?from_seq={message['seq']}", status=200)
    until(outbox, lambda: receiver.acknowledged)
    assert len(receiver.requests) == 1


def resolving(monkeypatch, host, answers):
    """Make ``host`` resolve to each of ``answers`` in turn (then the last),
    as a DNS server rebinding it would; other names resolve as usual."""
    import socket
    real, calls = socket.getaddrinfo, []

    def getaddrinfo(name, port, *args, **kwargs):
        if name != host:
            return real(name, port, *args, **kwargs)
        address = answers[min(len(calls), len(answers) - 1)]
        calls.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


def test_a_name_rebound_to_loopback_after_registration_is_refused(config, admin, receiver,
                                                                   monkeypatch):
    world = World(config.replace(**{**FAST, "webhooks_allow_private": False}), admin)
    port = receiver.server.server_address[1]
    calls = resolving(monkeypatch, "rebind.test", ["93.184.216.34", "127.0.0.1"])
    hook = world.hook(f"http://rebind.test:{port}/hook")
    world.post("to a rebound name")
    make_outbox(world.config).run_once()
    assert calls == ["93.184.216.34", "127.0.0.1"] and receiver.requests == []
    (delivery,) = world.deliveries(hook)
    assert "resolves to 127.0.0.1, which is loopback" in delivery["log"][0]["error"]


def test_a_delivery_connects_to_the_address_it_checked(world, receiver, monkeypatch):
    """Resolved once per attempt: a second lookup (by the connection) could
    be answered with another address than the one checked."""
    port = receiver.server.server_address[1]
    calls = resolving(monkeypatch, "pinned.test", ["127.0.0.1", "127.0.0.1", "203.0.113.9"])
    world.hook(f"http://pinned.test:{port}/hook")
    world.post("pinned")
    make_outbox(world.config).run_once()
    assert len(calls) == 2 and receiver.acknowledged
    assert receiver.requests[0]["headers"]["Host"] == f"pinned.test:{port}"
