"""The room's webhooks panel (makechat/web/assets/room-webhooks.js) and the
bot badges, in Chromium against a real `makechat serve`: an owner makes an
incoming webhook and sees its URL once, registers an outgoing one to a real
receiver on loopback and sees its secret once and its delivery log, and
revokes; a member who is no owner is not offered the panel; bots' messages
and memberships carry a "bot" badge."""

import signal
import subprocess
import sys
from pathlib import Path

import pymongo
import pytest

from makechat.bots import signing
from tests.browser import (
    Browser,
    browser_available,
    screenshot_on_failure,  # noqa: F401  (autouse)
)
from tests.live import LiveServer, http
from tests.receiver import Receiver
from tests.test_web import PASSWORD, log_in, open_room, unique

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not browser_available(),
                                 reason="needs /usr/bin/chromium and /usr/bin/chromedriver")]

WEB_DB = "makechat_webhooks_web_test"


@pytest.fixture(scope="module")
def server(mongo_server):
    uri = mongo_server.uri(WEB_DB)
    client = pymongo.MongoClient(uri)
    client.drop_database(WEB_DB)
    client.close()
    live = LiveServer({"MAKECHAT_MONGO_URI": uri, "MAKECHAT_BCRYPT_ROUNDS": "4",
                       "MAKECHAT_POLL_INTERVAL": "0.1", "MAKECHAT_LOG_LEVEL": "warning",
                       "MAKECHAT_WEBHOOKS_ALLOW_PRIVATE": "true",
                       "MAKECHAT_WEBHOOKS_ALLOW_HTTP": "true",
                       "MAKECHAT_WEBHOOK_POLL_INTERVAL": "0.1"}).start()
    yield live
    live.stop(signal.SIGINT)


@pytest.fixture(scope="module")
def admin(server):
    subprocess.run([str(Path(sys.executable).parent / "makechat"), "user", "create",
                    "-u", "admin", "-p", PASSWORD, "-e", "admin@example.com", "-admin"],
                   env=server.environ, check=True, capture_output=True)
    return log_in(server, "admin", PASSWORD)


@pytest.fixture(scope="module")
def browser(server):
    browser = Browser(server.url)
    yield browser
    browser.quit()


@pytest.fixture
def receiver():
    with Receiver() as receiver:
        yield receiver


def call(server, method, path, body=None, token=None):
    status, _, answer = http(method, server.url + path, body, token=token)
    assert 200 <= status < 300, (method, path, status, answer)
    return answer


@pytest.fixture
def owner(server, admin):
    """A plain user who owns a room and manages a bot: (account, room, bot)."""
    username = unique("owner")
    call(server, "POST", "/api/users", {"username": username, "email": f"{username}@example.com",
                                        "password": PASSWORD}, admin.token)
    account = log_in(server, username, PASSWORD)
    room = call(server, "POST", "/api/rooms", {"name": unique("builds")}, admin.token)
    call(server, "POST", "/api/members", {"room": room["_id"]["$oid"], "user": account.id,
                                          "role": "owner"}, admin.token)
    bot = call(server, "POST", "/api/bots", {"username": unique("ci-bot"), "owner": account.id},
               admin.token)
    return account, room, bot


def open_webhooks(browser, account, room):
    open_room(browser, account, room)
    browser.click(".webhooks-toggle")
    browser.find("#room-webhooks #webhooks-heading")
    browser.find("#incoming-hooks li")   # loaded


def create(browser, kind, name, url=None):
    browser.find("select[name=kind]").send_keys(kind)
    browser.fill(".webhook-form input[name=name]", name)
    if url:
        browser.fill(".webhook-form input[name=url]", url)
    browser.click(".webhook-form button[type=submit]")
    return browser.find("#shown-once-value").get_attribute("value")


def test_an_incoming_webhooks_url_is_shown_once_and_posts_as_the_bot(browser, server, owner):
    account, room, bot = owner
    open_webhooks(browser, account, room)
    url = create(browser, "Incoming", "deploys")
    assert url.startswith(server.url + "/hooks/")
    browser.wait_text("#incoming-hooks .hook", "deploys")
    status, _, _ = http("POST", url, {"text": "deploy 42 is live"})
    assert status == 200
    message = browser.wait_text(".message", "deploy 42 is live", timeout=10)
    assert message.find_element("css selector", ".badge.bot").text == "bot"
    browser.click(".shown-once button", "Done")
    open_webhooks(browser, account, room)   # the URL never comes back, not in the list
    browser.wait_text("#incoming-hooks .hook", "deploys")
    assert url.rsplit("/", 1)[1] not in browser.script("return document.body.innerHTML")


def test_an_outgoing_webhooks_secret_signs_what_its_log_shows(browser, server, owner,
                                                              receiver):
    account, room, bot = owner
    open_webhooks(browser, account, room)
    secret = create(browser, "Outgoing", "answers", url=receiver.url)
    assert secret.startswith("whsec_")
    browser.wait_text("#outgoing-hooks .hook", "answers")
    call(server, "POST", "/api/messages", {"room": room["_id"]["$oid"], "text": "ping"},
         account.token)
    (request,) = receiver.wait_for(1, timeout=15)
    headers = request["headers"]
    assert signing.verify(secret, headers["webhook-id"], int(headers["webhook-timestamp"]),
                          request["body"], headers["webhook-signature"])
    browser.click("#outgoing-hooks .show-log")
    row = browser.wait_text(".delivery-log tr.delivery", "delivered", timeout=10)
    assert "HTTP 200" in row.text


def test_a_failed_delivery_is_shown_and_sent_again_on_request(browser, server, owner,
                                                              receiver):
    account, room, bot = owner
    receiver.answers = [(500, 0, None)]
    hook = call(server, "POST", "/api/webhooks/outgoing", {
        "room": room["_id"]["$oid"], "bot": bot["_id"]["$oid"], "name": "flaky",
        "url": receiver.url}, account.token)
    message = call(server, "POST", "/api/messages", {"room": room["_id"]["$oid"],
                                                     "text": "build failed"}, account.token)
    receiver.wait_for(2, timeout=20)   # the 500, then the retry's 200
    open_webhooks(browser, account, room)
    browser.click("#outgoing-hooks .show-log")
    row = browser.wait_text(".delivery-log tr.delivery", "delivered", timeout=10)
    assert "1: HTTP 500" in row.text and "2: HTTP 200" in row.text
    browser.click(f".delivery[data-seq='{message['seq']}'] .replay")
    receiver.wait_for(3, timeout=15)
    assert receiver.ids()[-1] == f"msg_{hook['_id']['$oid']}_{message['seq']}"


def test_revoking_an_incoming_webhook_makes_its_url_answer_404(browser, server, owner):
    account, room, bot = owner
    open_webhooks(browser, account, room)
    url = create(browser, "Incoming", "old notifier")
    browser.click("#incoming-hooks .revoke")
    browser.accept_confirm()
    browser.wait_text("#incoming-hooks", "None.")
    status, _, _ = http("POST", url, {"text": "still there?"})
    assert status == 404


def test_a_member_who_is_no_owner_is_not_offered_webhooks(browser, server, admin, owner):
    _, room, _ = owner
    username = unique("member")
    call(server, "POST", "/api/users", {"username": username, "email": f"{username}@example.com",
                                        "password": PASSWORD}, admin.token)
    member = log_in(server, username, PASSWORD)
    call(server, "POST", "/api/members", {"room": room["_id"]["$oid"]}, member.token)
    open_room(browser, member, room)
    browser.find("#member-list .member")
    assert not browser.find_all(".webhooks-toggle")[0].is_displayed()
    assert browser.find_all("#room-webhooks")[0].is_displayed() is False


def test_a_bot_member_is_marked_in_the_members_panel(browser, server, owner):
    account, room, bot = owner
    call(server, "POST", "/api/members", {"room": room["_id"]["$oid"],
                                          "user": bot["_id"]["$oid"]}, account.token)
    open_room(browser, account, room)
    member = browser.wait_text("#member-list .member", bot["username"])
    assert member.find_element("css selector", ".badge.bot").text == "bot"
