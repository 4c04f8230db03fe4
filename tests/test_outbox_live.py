"""The outbox of a real ``makechat serve`` (two workers, each delivering)
killed in the middle of deliveries and started again: nothing is lost, and
nothing the receiver acknowledged is sent again."""

import signal
import time

import pytest

from makechat.bots.documents import Delivery, DeliveryAttempt
from tests.live import LiveServer, http
from tests.receiver import Receiver

pytestmark = pytest.mark.slow


def environ(config):
    return {"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_BCRYPT_ROUNDS": "4",
            "MAKECHAT_WEBHOOKS_ALLOW_PRIVATE": "true", "MAKECHAT_WEBHOOKS_ALLOW_HTTP": "true",
            "MAKECHAT_WEBHOOK_TIMEOUT": "1", "MAKECHAT_WEBHOOK_RETRY_BASE": "0.2",
            "MAKECHAT_WEBHOOK_POLL_INTERVAL": "0.1", "MAKECHAT_LOG_LEVEL": "warning"}


def states():
    return {doc["seq"]: doc["state"] for doc in Delivery._get_collection().find()}


def wait(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("not within the time")


def test_a_server_killed_mid_delivery_loses_and_repeats_nothing(config, admin):
    token = admin.secret
    with Receiver() as receiver:
        server = LiveServer(environ(config), "--workers", "2", new_session=True).start()
        try:
            _, _, room = http("POST", server.url + "/api/rooms", {"name": "deploys"}, token)
            _, _, bot = http("POST", server.url + "/api/bots", {"username": "deployer"}, token)
            status, _, hook = http("POST", server.url + "/api/webhooks/outgoing", {
                "room": room["_id"]["$oid"], "bot": bot["_id"]["$oid"], "name": "ci",
                "url": receiver.url}, token)
            assert status == 201, hook

            def post(text):
                status, _, message = http("POST", server.url + "/api/messages", {
                    "room": room["_id"]["$oid"], "text": text}, token)
                assert status == 201
                return message["seq"]
            acked = [post(f"before {number}") for number in range(3)]
            wait(lambda: all(states().get(seq) == "delivered" for seq in acked))
            # The receiver now holds every request long past the sender's timeout:
            # the server dies while these are in flight.
            receiver.default = (200, 5.0, None)
            later = [post(f"during {number}") for number in range(3)]
            receiver.wait_for(4)
        finally:
            server.stop(sig=signal.SIGKILL, group=True)
        in_flight = {seq for seq in later
                     if DeliveryAttempt._get_collection().find_one(
                         {"seq": seq, "finished": None})}
        assert in_flight, "the kill should have caught an attempt under way"
        receiver.default = (200, 0, None)
        with LiveServer(environ(config), "--workers", "2"):
            wait(lambda: all(states().get(seq) == "delivered" for seq in acked + later))
    hook_id = hook["_id"]["$oid"]
    received = receiver.ids()
    for seq in acked + later:
        assert f"msg_{hook_id}_{seq}" in received, f"seq {seq} was lost"
    for seq in acked:
        assert received.count(f"msg_{hook_id}_{seq}") == 1, f"acknowledged seq {seq} repeated"
    for seq in in_flight:
        log = list(DeliveryAttempt._get_collection().find({"seq": seq}).sort("number", 1))
        assert "abandoned" in log[0]["error"] and log[-1]["ok"] is True
