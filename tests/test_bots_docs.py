"""docs/bots.rst stays true: its example bot answers mentions through an
outgoing webhook of a real ``makechat serve``, and its curl one-liner posts
through an incoming webhook."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devdb.database import free_port
from tests.live import LiveServer, http

pytestmark = pytest.mark.slow

DOCS = Path(__file__).resolve().parent.parent / "docs"
BOT = DOCS / "examples" / "helper_bot.py"


@pytest.fixture
def server(config):
    environ = {"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_BCRYPT_ROUNDS": "4",
               "MAKECHAT_WEBHOOKS_ALLOW_PRIVATE": "true", "MAKECHAT_WEBHOOKS_ALLOW_HTTP": "true",
               "MAKECHAT_WEBHOOK_POLL_INTERVAL": "0.1", "MAKECHAT_LOG_LEVEL": "warning"}
    with LiveServer(environ) as server:
        yield server


def setup_room(server, admin):
    _, _, room = http("POST", server.url + "/api/rooms", {"name": "lobby"}, admin.secret)
    _, _, bot = http("POST", server.url + "/api/bots", {"username": "helper"}, admin.secret)
    return room["_id"]["$oid"], bot["_id"]["$oid"]


def messages(server, admin, room):
    return http("GET", f"{server.url}/api/messages?room={room}", token=admin.secret)[2]


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("not within the time")


def test_the_example_bot_answers_a_mention(server, admin):
    room, bot = setup_room(server, admin)
    port = free_port()
    status, _, hook = http("POST", server.url + "/api/webhooks/outgoing", {
        "room": room, "bot": bot, "name": "helper", "url": f"http://127.0.0.1:{port}/",
        "mentions_only": True}, admin.secret)
    assert status == 201, hook
    process = subprocess.Popen([sys.executable, str(BOT)], stdout=subprocess.PIPE, text=True,
                               env=dict(os.environ, MAKECHAT_WEBHOOK_SECRET=hook["secret"],
                                        PORT=str(port)))
    try:
        assert "listening" in process.stdout.readline()
        http("POST", server.url + "/api/messages", {"room": room, "text": "no mention"},
             admin.secret)
        http("POST", server.url + "/api/messages", {"room": room, "text": "@helper ping"},
             admin.secret)
        answer = wait_for(lambda: [m for m in messages(server, admin, room) if m.get("is_bot")])
    finally:
        process.terminate()
        process.wait(10)
    assert [m["text"] for m in answer] == ["pong, @admin"]
    deliveries = http("GET", f"{server.url}/api/webhooks/outgoing/{hook['_id']['$oid']}"
                             "/deliveries", token=admin.secret)[2]
    assert [(d["state"], d["log"][-1]["status"]) for d in deliveries] == [("delivered", 200)]


def test_the_example_bot_refuses_a_bad_signature(server, admin):
    port = free_port()
    process = subprocess.Popen([sys.executable, str(BOT)], stdout=subprocess.PIPE, text=True,
                               env=dict(os.environ, PORT=str(port),
                                        MAKECHAT_WEBHOOK_SECRET="whsec_" + "A" * 44))
    try:
        process.stdout.readline()
        status, _, _ = http("POST", f"http://127.0.0.1:{port}/", {"type": "message"},
                            headers={"webhook-id": "msg_x", "webhook-timestamp":
                                     str(int(time.time())), "webhook-signature": "v1,bad"})
    finally:
        process.terminate()
        process.wait(10)
    assert status == 401


def test_the_curl_one_liner_posts_through_an_incoming_webhook(server, admin):
    room, bot = setup_room(server, admin)
    status, _, hook = http("POST", server.url + "/api/webhooks/incoming", {
        "room": room, "bot": bot, "name": "backups"}, admin.secret)
    assert status == 201
    line = re.search(r"^\s+\$ (curl .*)$", (DOCS / "bots.rst").read_text(), re.M).group(1)
    result = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=30,
                            env=dict(os.environ, MAKECHAT_HOOK=hook["url"]))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok"
    # (Another worker may answer the read, its room's mark a moment behind.)
    assert wait_for(lambda: [m["text"] for m in messages(server, admin, room)
                             if m["text"] == "Backup finished"])
