#!/usr/bin/env python3
"""Take the docs' screenshots of the web client: a throwaway database and
`makechat serve`, a little demo chat, and headless Chromium (the same setup as
tests/test_web.py). Run from the repository root:

    .venv/bin/python scripts/web-screenshots.py [docs/_static/screenshots]
"""

import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devdb.database import DatabaseServer  # noqa: E402
from tests.browser import Browser  # noqa: E402
from tests.live import LiveServer, http  # noqa: E402

PASSWORD = "correct horse battery"
CONVERSATION = [
    ("alice", "Morning all! Is the release still on for Thursday?"),
    ("bob", "Yes, as long as the migration tests pass tonight."),
    ("carol", "They passed on FerretDB and on MongoDB 7 an hour ago."),
    ("alice", "Great. I'll write the announcement then."),
    ("bob", "Could you mention the new admin page? People keep asking how to add members."),
    ("carol", "And that a message like <b>this</b> shows exactly as typed."),
    ("alice", "Will do. Draft in the docs room by noon."),
    ("carol", "@alice the screenshots for the announcement are in the docs folder."),
]


def main(out_dir):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data, DatabaseServer(data) as database:
        environ = {"MAKECHAT_MONGO_URI": database.uri("makechat_screens"),
                   "MAKECHAT_BCRYPT_ROUNDS": "4", "MAKECHAT_LOG_LEVEL": "warning"}
        server = LiveServer(environ).start()
        try:
            take(server, out_dir)
        finally:
            server.stop(signal.SIGINT)


def take(server, out_dir):
    subprocess.run([str(Path(sys.executable).parent / "makechat"), "user", "create", "-u", "admin",
                    "-p", PASSWORD, "-e", "admin@example.com", "-admin"],
                   env=server.environ, check=True, capture_output=True)
    admin = login(server, "admin")
    people = {}
    for name in ("alice", "bob", "carol", "dave"):
        call(server, "POST", "/api/users", admin, {"username": name, "password": PASSWORD,
                                                   "email": f"{name}@example.com"})
        people[name] = login(server, name)
    room = call(server, "POST", "/api/rooms", admin,
                {"name": "release-planning", "topic": "Shipping makechat 2.0 on Thursday"})
    call(server, "POST", "/api/rooms", admin, {"name": "random", "topic": "Anything goes"})
    call(server, "POST", "/api/rooms", admin, {"name": "ops", "is_open": False,
                                               "topic": "Servers and backups"})
    for name in ("alice", "bob", "carol"):
        call(server, "POST", "/api/members", people[name], {"room": room["_id"]["$oid"]})
    posted = []
    for name, text in CONVERSATION:
        posted.append(call(server, "POST", "/api/messages", people[name],
                           {"room": room["_id"]["$oid"], "text": text}))
    # A thread on the first message, and reactions.
    for name, text in (("bob", "Thursday it is."), ("carol", "I'll be around for the rollout.")):
        call(server, "POST", "/api/messages", people[name], {"room": room["_id"]["$oid"],
                                                            "text": text,
                                                            "reply_to": posted[0]["_id"]["$oid"]})
    for name, index, emoji in (("bob", 3, "🎉"), ("carol", 3, "🎉"), ("alice", 2, "👍"),
                               ("bob", 2, "👍")):
        call(server, "PUT", f"/api/messages/{posted[index]['_id']['$oid']}/reactions/"
             + urllib.parse.quote(emoji), people[name], None)

    browser = Browser(server.url, width=1200, height=760)
    try:
        browser.log_in("alice", PASSWORD)
        browser.find(".room-list")
        browser.go(f"#/rooms/{room['_id']['$oid']}")
        browser.wait_text("#messages", CONVERSATION[-1][1])
        browser.find("#composer").send_keys("Sounds good, thanks both!")
        time.sleep(0.3)
        browser.screenshot(out_dir / "room.png")

        browser.click(f".message[data-id='{posted[0]['_id']['$oid']}'] .open-thread")
        browser.wait_text("#thread-messages", "rollout")
        browser.find("#thread-composer").send_keys("Thanks! @b")
        browser.find("#thread-panel .mention-options")
        time.sleep(0.3)
        browser.screenshot(out_dir / "thread.png")

        browser.go("#/search?q=release")
        browser.wait_text(".results", "Thursday")
        time.sleep(0.3)
        browser.screenshot(out_dir / "search.png")

        browser.set_size(1200, 1300)
        browser.log_in("admin", PASSWORD, path="/admin")
        browser.wait_text("#user-rows", "dave")
        browser.wait_text("#room-rows", "release-planning")
        row = browser.wait_text("#room-rows tr", "release-planning")
        row.find_element("css selector", ".manage-members").click()
        browser.wait_text("#admin-member-list", "carol")
        browser.script("window.scrollTo(0, 0)")
        time.sleep(0.3)
        browser.screenshot(out_dir / "admin.png")
    finally:
        browser.quit()


def login(server, username):
    return call(server, "POST", "/api/login", None, {"username": username, "password": PASSWORD})["token"]


def call(server, method, path, token, body):
    status, _, answer = http(method, server.url + path, body, token=token)
    if status >= 300:
        raise SystemExit(f"{method} {path}: {status} {answer}")
    return answer


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/_static/screenshots")
