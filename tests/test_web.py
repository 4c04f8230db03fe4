"""The web client in a real browser: Debian's Chromium headless, driven by
Selenium, against a real `makechat serve` on the test database server.

One server and two browsers (separate profiles) serve the whole module; each
test makes its own users and rooms through the API so tests stay independent.
"""

import itertools
import signal
import subprocess
import sys
import time
from pathlib import Path

import pymongo
import pytest
from selenium.webdriver.common.action_chains import ActionChains

from tests.browser import (
    Browser,
    Keys,
    browser_available,
    screenshot_on_failure,  # noqa: F401  (autouse)
)
from tests.live import FreezingProxy, LiveServer, http

# `pytest -m "not slow"` leaves these out: they drive Chromium against `makechat serve`.
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not browser_available(),
                                 reason="needs /usr/bin/chromium and /usr/bin/chromedriver")]

WEB_DB = "makechat_web_test"
PASSWORD = "correct horse battery"
_numbers = itertools.count(1)


class Account:
    def __init__(self, username, password, token, user):
        self.username = username
        self.password = password
        self.token = token
        self.id = user["_id"]["$oid"]


def unique(prefix):
    return f"{prefix}{next(_numbers)}"


# -- fixtures -------------------------------------------------------------------

@pytest.fixture(scope="module")
def web_db_uri(mongo_server):
    """A database of its own: the per-test cleaning of the shared one would
    otherwise revoke the tokens these module-wide browsers hold."""
    uri = mongo_server.uri(WEB_DB)
    client = pymongo.MongoClient(uri)
    client.drop_database(WEB_DB)
    client.close()
    return uri


def server_environ(uri, registration="open"):
    return {"MAKECHAT_MONGO_URI": uri, "MAKECHAT_BCRYPT_ROUNDS": "4",
            "MAKECHAT_REGISTRATION": registration, "MAKECHAT_POLL_INTERVAL": "0.1",
            "MAKECHAT_LOG_LEVEL": "warning", "MAKECHAT_WORKERS": "2"}


@pytest.fixture(scope="module")
def server(web_db_uri):
    live = LiveServer(server_environ(web_db_uri)).start()
    yield live
    # SIGINT: gunicorn's quick shutdown; the browsers' waiting requests are gone.
    live.stop(signal.SIGINT)


@pytest.fixture(scope="module")
def admin(server):
    """The first admin, made with the CLI as the manual says."""
    username = "admin"
    subprocess.run([str(Path(sys.executable).parent / "makechat"), "user", "create",
                    "-u", username, "-p", PASSWORD, "-e", "admin@example.com", "-admin"],
                   env=server.environ, check=True, capture_output=True)
    return log_in(server, username, PASSWORD)


def log_in(server, username, password):
    status, _, body = http("POST", server.url + "/api/login",
                           {"username": username, "password": password})
    assert status == 200, body
    return Account(username, password, body["token"], body["user"])


@pytest.fixture(scope="module")
def first_browser(server):
    browser = Browser(server.url)
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
def second_browser(server):
    browser = Browser(server.url)
    yield browser
    browser.quit()


@pytest.fixture
def new_user(server, admin):
    """new_user(admin=False) -> Account made through the API."""
    def make(is_admin=False, username=None):
        username = username or unique("user")
        status, _, body = http("POST", server.url + "/api/users", {
            "username": username, "email": f"{username}@example.com", "password": PASSWORD,
            "is_superuser": is_admin}, token=admin.token)
        assert status == 201, body
        return log_in(server, username, PASSWORD)
    return make


@pytest.fixture
def new_room(server, admin):
    """new_room(*members, is_open=True) -> room JSON, made and filled through the API."""
    def make(*members, name=None, is_open=True, topic=""):
        status, _, room = http("POST", server.url + "/api/rooms", {
            "name": name or unique("room"), "is_open": is_open, "topic": topic},
            token=admin.token)
        assert status == 201, room
        for member in members:
            status, _, body = http("POST", server.url + "/api/members", {
                "room": room["_id"]["$oid"], "user": member.id}, token=admin.token)
            assert status in (200, 201), body
        return room
    return make


def post(server, account, room, text):
    status, _, body = http("POST", server.url + "/api/messages",
                           {"room": room["_id"]["$oid"], "text": text}, token=account.token)
    assert status == 201, body
    return body


def open_room(browser, account, room):
    browser.log_in(account.username, account.password)
    browser.find(".room-list")
    browser.go(f"#/rooms/{room['_id']['$oid']}")
    browser.wait_text("#room-heading", room["name"])
    browser.find("#composer")


UNNAMED_CONTROLS = """
return Array.from(document.querySelectorAll("input, select, textarea, button, a[href]"))
  .filter((control) => control.getClientRects().length > 0)
  .filter((control) => {
    if (control.getAttribute("aria-label")) return false;
    if (/^(BUTTON|A)$/.test(control.tagName)) return !control.textContent.trim();
    return !(control.labels && control.labels.length);
  })
  .map((control) => control.outerHTML.slice(0, 120));
"""


def send(browser, text):
    composer = browser.find("#composer")
    composer.send_keys(text)
    composer.send_keys(Keys.ENTER)


# -- log in, register -------------------------------------------------------------

def test_log_in_shows_the_rooms(first_browser, new_user, new_room):
    user = new_user()
    room = new_room(user)
    first_browser.log_in(user.username, user.password)
    first_browser.wait_text(".room-list .room", room["name"])
    assert user.username in first_browser.find("#nav").text


def test_log_in_with_a_wrong_password_says_why(first_browser, new_user):
    user = new_user()
    first_browser.log_in(user.username, "not the password")
    alert = first_browser.find("[role=alert]")
    assert "username or password is incorrect" in alert.text


def test_register_creates_an_account_and_signs_in(first_browser):
    first_browser.open("/")
    first_browser.sign_out()
    first_browser.open("/#/register")
    username = unique("newcomer")
    first_browser.fill("input[name=username]", username)
    first_browser.fill("input[name=email]", f"{username}@example.com")
    first_browser.fill("input[name=password]", PASSWORD)
    first_browser.click("button[type=submit]")
    first_browser.find("#rooms-heading")
    assert username in first_browser.find("#nav").text


def test_log_in_form_offers_register_when_open(first_browser):
    first_browser.open("/")
    first_browser.sign_out()
    first_browser.open("/")
    link = first_browser.find("#login-heading ~ p a[href='#/register']")
    assert link.text == "Register"


def test_register_when_closed_says_so(first_browser, web_db_uri):
    closed = LiveServer(server_environ(web_db_uri, registration="closed")).start()
    browser_base = first_browser.base_url
    first_browser.base_url = closed.url
    try:
        first_browser.open("/")
        first_browser.wait_until(lambda: first_browser.find_all("p[data-registration=closed]"),
                                 message="the log-in form never asked GET /api/register")
        assert not first_browser.find_all("a[href='#/register']")[0].is_displayed()
        first_browser.open("/#/register")
        first_browser.fill("input[name=username]", unique("hopeful"))
        first_browser.fill("input[name=email]", "hopeful@example.com")
        first_browser.fill("input[name=password]", PASSWORD)
        first_browser.click("button[type=submit]")
        alert = first_browser.find("[role=alert]")
        assert "Registration closed" in alert.text
        assert "created by an admin" in alert.text
    finally:
        first_browser.base_url = browser_base
        first_browser.driver.get("about:blank")
        closed.stop(signal.SIGINT)


def test_revoked_token_returns_to_log_in_and_says_why(first_browser, new_user, admin, server):
    user = new_user()
    first_browser.log_in(user.username, user.password)
    first_browser.find(".room-list")
    status, _, _ = http("PATCH", server.url + f"/api/users/{user.id}", {"is_active": False},
                        token=admin.token)
    assert status == 200
    first_browser.open("/#/rooms")   # the next request meets the revoked token
    first_browser.find("#login-heading")
    assert "You have been signed out" in first_browser.find("[role=status]").text


def test_log_out_returns_to_the_log_in_form(first_browser, new_user):
    user = new_user()
    first_browser.log_in(user.username, user.password)
    first_browser.click("#nav button", "Log out")
    first_browser.find("#login-heading")
    assert first_browser.script("return sessionStorage.getItem('makechat.token')") is None


# -- rooms and messages --------------------------------------------------------------

def test_admin_creates_a_room_and_a_user_joins_it(first_browser, second_browser, admin, new_user):
    user = new_user()
    name = unique("lounge")
    open_admin(first_browser, admin)
    first_browser.fill("input[name=name]", name)
    first_browser.fill("input[name=topic]", "Tea and talk")
    first_browser.click("button", "Create room")
    first_browser.wait_text("#room-rows tr", name)

    second_browser.log_in(user.username, user.password)
    room_item = second_browser.wait_text(".room-list .room", name)
    room_item.find_element("css selector", "button").click()
    second_browser.wait_text("#room-heading", name)
    second_browser.wait_text("#member-list", user.username)
    send(second_browser, "hello from the new member")
    second_browser.wait_text("#messages .message", "hello from the new member")


def test_message_posted_in_one_browser_appears_in_the_other_within_2_seconds(
        first_browser, second_browser, new_user, new_room):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    open_room(first_browser, alice, room)
    open_room(second_browser, bob, room)
    time.sleep(0.3)   # both browsers follow the room on their event streams now
    text = unique("live message ")
    started = time.monotonic()
    send(second_browser, text)
    first_browser.wait_text("#messages .message", text, timeout=2)
    delay = time.monotonic() - started
    print(f"message seen in the other browser after {delay:.3f}s")
    assert delay < 2
    first_browser.wait_until(
        lambda: text in first_browser.script(
            "return document.getElementById('announcer').textContent"),
        message="the new message was not announced in the live region")


def test_scrolling_up_loads_older_messages(first_browser, new_user, new_room, server):
    user = new_user()
    room = new_room(user)
    for number in range(1, 121):
        post(server, user, room, f"history {number:03d}")
    open_room(first_browser, user, room)
    first_browser.wait_text("#messages .message", "history 120")
    assert not first_browser.find_all("#messages [data-seq='1']")
    for _ in range(4):
        first_browser.script("document.getElementById('message-scroller').scrollTop = 0")
        if first_browser.find_all("#messages [data-seq='1']"):
            break
        time.sleep(0.3)
    first_browser.wait_text("#messages .message", "history 001")
    texts = [element.text for element in first_browser.find_all("#messages .message .text")]
    assert texts == [f"history {number:03d}" for number in range(1, 121)]
    first_browser.find(".history-start")


def test_script_message_shows_as_text(first_browser, second_browser, new_user, new_room):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    open_room(first_browser, alice, room)
    open_room(second_browser, bob, room)
    text = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"><b>bold</b>'
    send(second_browser, text)
    shown = first_browser.wait_text("#messages .message .text", "<script>")
    assert shown.text == text
    assert shown.find_elements("css selector", "script, img, b") == []
    assert first_browser.script("return window.pwned") is None
    assert second_browser.script("return window.pwned") is None


def test_edit_own_message(first_browser, new_user, new_room):
    user = new_user()
    room = new_room(user)
    open_room(first_browser, user, room)
    send(first_browser, "frist post")
    message = first_browser.wait_text("#messages .message", "frist post")
    message.find_element("css selector", "button.edit").click()
    editor = first_browser.find(".edit-form textarea")
    editor.clear()
    editor.send_keys("first post")
    first_browser.click(".edit-form button[type=submit]")
    edited = first_browser.wait_text("#messages .message", "first post")
    assert "(edited)" in edited.text


def test_delete_own_message(first_browser, new_user, new_room, server):
    user = new_user()
    room = new_room(user)
    post(server, user, room, "keep this one")
    open_room(first_browser, user, room)
    send(first_browser, "regrettable message")
    message = first_browser.wait_text("#messages .message", "regrettable message")
    message.find_element("css selector", "button.delete").click()
    first_browser.accept_confirm()
    first_browser.wait_gone("#messages .message", "regrettable message")
    first_browser.open(f"/#/rooms/{room['_id']['$oid']}")
    first_browser.wait_text("#messages .message", "keep this one")
    assert "regrettable" not in first_browser.find("#messages").text


def test_opening_a_room_not_joined_offers_to_join(first_browser, new_user, new_room):
    user = new_user()
    room = new_room()
    first_browser.log_in(user.username, user.password)
    first_browser.find(".room-list")
    first_browser.go(f"#/rooms/{room['_id']['$oid']}")
    first_browser.click(".join-area button", "Join this room")
    first_browser.find("#composer")
    first_browser.wait_text("#member-list", user.username)


def test_others_edits_and_deletions_show_when_the_tab_comes_back(
        first_browser, new_user, new_room, server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    kept = post(server, bob, room, "bob's first thought")
    gone = post(server, bob, room, "bob's rash remark")
    open_room(first_browser, alice, room)
    first_browser.wait_text("#messages .message", "bob's rash remark")
    status, _, _ = http("PATCH", server.url + f"/api/messages/{kept['_id']['$oid']}",
                        {"text": "bob's second thought"}, token=bob.token)
    assert status == 200
    status, _, _ = http("DELETE", server.url + f"/api/messages/{gone['_id']['$oid']}",
                        token=bob.token)
    assert status == 204
    first_browser.script("document.dispatchEvent(new Event('visibilitychange'))")
    first_browser.wait_text("#messages .message", "bob's second thought")
    first_browser.wait_gone("#messages .message", "bob's rash remark")


RECORD_CONNECTION_STATES = """
const element = document.getElementById("connection");
window.connectionStates = [];
new MutationObserver(() => window.connectionStates.push(element.dataset.state))
  .observe(element, { attributes: true, attributeFilter: ["data-state"] });
"""


def test_a_stream_gone_silent_is_replaced_and_misses_nothing(first_browser, new_user, new_room,
                                                             web_db_uri):
    # A laptop that slept, or a network gone away: the connection is open but
    # nothing comes through, not even the keepalives. The page notices the
    # silence (here after 2 s, the server beating every 0.5 s), reconnects
    # with the last event's id and gets what it missed.
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    server = LiveServer({**server_environ(web_db_uri), "MAKECHAT_STREAM_HEARTBEAT": "0.5"}).start()
    proxy = FreezingProxy(server.port)
    browser_base = first_browser.base_url
    first_browser.base_url = proxy.url
    try:
        open_room(first_browser, alice, room)
        first_browser.find(".history-start")   # the history is in: only the stream is left
        first_browser.script("window.notReloaded = true;"
                             "document.getElementById('connection').dataset.stallAfter = '2';")
        first_browser.wait_until(lambda: first_browser.script(
            "return document.getElementById('connection').dataset.state") == "open")
        first_browser.script(RECORD_CONNECTION_STATES)
        proxy.freeze()
        post(server, bob, room, "posted while the line was dead")
        first_browser.wait_text("#messages .message", "posted while the line was dead", timeout=20)
        assert first_browser.script("return window.notReloaded") is True
        assert "down" in first_browser.script("return window.connectionStates")
    finally:
        first_browser.base_url = browser_base
        first_browser.driver.get("about:blank")
        proxy.close()
        server.stop(signal.SIGINT)


def test_edit_and_deletion_in_one_browser_show_live_in_the_other(
        first_browser, second_browser, new_user, new_room):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    open_room(first_browser, alice, room)
    open_room(second_browser, bob, room)
    send(second_browser, "bob says tomatto")
    second_browser.wait_text("#messages .message", "bob says tomatto")   # the composer is free
    send(second_browser, "bob says something rash")
    first_browser.wait_text("#messages .message", "bob says something rash")
    first_browser.script("window.notReloaded = true")

    typo = second_browser.wait_text("#messages .message", "bob says tomatto")
    typo.find_element("css selector", "button.edit").click()
    editor = second_browser.find(".edit-form textarea")
    editor.clear()
    editor.send_keys("bob says tomato")
    second_browser.click(".edit-form button[type=submit]")
    edited = first_browser.wait_text("#messages .message", "bob says tomato", timeout=3)
    assert "(edited)" in edited.text

    rash = second_browser.wait_text("#messages .message", "bob says something rash")
    rash.find_element("css selector", "button.delete").click()
    second_browser.accept_confirm()
    first_browser.wait_gone("#messages .message", "bob says something rash", timeout=3)
    # Live: no reload, and no tab switch to catch up on.
    assert first_browser.script("return window.notReloaded") is True
    assert "tomatto" not in first_browser.find("#messages").text


def test_renaming_shows_live_and_removal_returns_to_the_rooms_list(
        first_browser, new_user, new_room, server, admin):
    alice = new_user()
    room = new_room(alice, topic="before")
    open_room(first_browser, alice, room)
    new_name = unique("renamed-live")
    status, _, _ = http("PATCH", server.url + f"/api/rooms/{room['_id']['$oid']}",
                        {"name": new_name, "topic": "after"}, token=admin.token)
    assert status == 200
    first_browser.wait_text("#room-heading", new_name)
    first_browser.wait_text(".room-header .room-topic", "after")
    status, _, members = http("GET", server.url + f"/api/members?room={room['_id']['$oid']}",
                              token=admin.token)
    membership = next(member for member in members if member["username"] == alice.username)
    status, _, _ = http("DELETE", server.url + f"/api/members/{membership['_id']['$oid']}",
                        token=admin.token)
    assert status == 204
    first_browser.find("#rooms-heading")
    assert f"You were removed from {new_name}." in first_browser.find("[role=status]").text


def test_a_room_opens_with_a_new_messages_divider_at_the_read_marker(
        first_browser, new_user, new_room, server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    post(server, bob, room, "read long ago")
    seen = post(server, bob, room, "the last one alice saw")
    status, _, _ = http("PUT", server.url + f"/api/rooms/{room['_id']['$oid']}/read",
                        {"seq": seen["seq"]}, token=alice.token)
    assert status == 200
    post(server, bob, room, "first unread")
    post(server, bob, room, "second unread")
    open_room(first_browser, alice, room)
    first_browser.wait_text("#messages .message", "second unread")
    divider = first_browser.find("#messages .new-messages")
    assert divider.text == "New messages"
    around = first_browser.script(
        "const divider = document.querySelector('#messages .new-messages');"
        "return [divider.previousElementSibling.querySelector('.text').textContent,"
        "        divider.nextElementSibling.querySelector('.text').textContent];")
    assert around == ["the last one alice saw", "first unread"]
    # Shown, so read: the marker moved to the newest message.
    first_browser.wait_until(lambda: http(
        "GET", server.url + f"/api/rooms/{room['_id']['$oid']}", token=alice.token)[2]["unread"]
        == 0, message="opening the room did not mark it read")


def test_a_room_without_unread_messages_opens_without_a_divider(first_browser, new_user,
                                                               new_room, server):
    alice = new_user()
    room = new_room(alice)
    post(server, alice, room, "only my own words")
    open_room(first_browser, alice, room)
    first_browser.wait_text("#messages .message", "only my own words")
    assert first_browser.find_all("#messages .new-messages") == []


def unread_badge(browser, room):
    """The text of a room's unread badge in the rooms list ('' when none shows)."""
    return browser.script(
        "const badge = document.querySelector(`.room[data-room-id='${arguments[0]}'] .unread`);"
        "return badge && !badge.hidden ? badge.textContent : '';", room["_id"]["$oid"])


def show_rooms(browser, account):
    browser.log_in(account.username, account.password)
    browser.find(".room-list .room")


def test_unread_badges_appear_live_and_clear_once_the_room_is_read(
        first_browser, second_browser, new_user, new_room, server):
    alice, bob = new_user(), new_user()
    room, quiet = new_room(alice, bob), new_room(alice, bob)
    # Alice in two browsers (two sessions), both on the rooms list.
    show_rooms(first_browser, alice)
    show_rooms(second_browser, alice)
    assert unread_badge(first_browser, room) == ""
    post(server, bob, room, "are you there?")
    post(server, bob, room, "hello?")
    post(server, alice, quiet, "her own words are never unread")
    for browser in (first_browser, second_browser):
        browser.wait_until(lambda browser=browser: unread_badge(browser, room) == "2 unread",
                           message="the unread badge did not appear live")
        assert browser.find(f".room[data-room-id='{room['_id']['$oid']}'] .unread").is_displayed()
        assert unread_badge(browser, quiet) == ""

    # Opening the room in one browser reads it: the other's badge clears too.
    first_browser.go(f"#/rooms/{room['_id']['$oid']}")
    first_browser.wait_text("#messages .message", "hello?")
    second_browser.wait_until(lambda: unread_badge(second_browser, room) == "",
                              message="the read event did not clear the other browser's badge")
    first_browser.go("#/rooms")
    first_browser.find(".room-list .room")
    assert unread_badge(first_browser, room) == ""
    # A message deleted before it was read no longer counts.
    gone = post(server, bob, room, "never mind")
    second_browser.wait_until(lambda: unread_badge(second_browser, room) == "1 unread",
                              message="the new message was not counted")
    status, _, _ = http("DELETE", server.url + f"/api/messages/{gone['_id']['$oid']}",
                        token=bob.token)
    assert status == 204
    second_browser.wait_until(lambda: unread_badge(second_browser, room) == "",
                              message="the deleted message still counts as unread")


def test_the_open_page_survives_the_server_restarting(first_browser, new_user, new_room,
                                                      web_db_uri):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    restarting = LiveServer(server_environ(web_db_uri)).start()
    browser_base = first_browser.base_url
    first_browser.base_url = restarting.url
    try:
        open_room(first_browser, alice, room)
        first_browser.script("window.notReloaded = true")
        first_browser.wait_until(lambda: first_browser.script(
            "return document.getElementById('connection').dataset.state") == "open",
            message="the event stream never opened")
        first_browser.script(RECORD_CONNECTION_STATES)
        # NOTE: SIGINT, gunicorn's quick shutdown: on SIGTERM it waits for
        # open requests, and an event stream never ends by itself, so the old
        # server would linger for its graceful_timeout first.
        restarting.restart(signal.SIGINT)
        status, _, _ = http("POST", restarting.url + "/api/messages",
                            {"room": room["_id"]["$oid"], "text": "posted after the restart"},
                            token=bob.token)
        assert status == 201
        first_browser.wait_text("#messages .message", "posted after the restart", timeout=20)
        assert first_browser.script("return window.notReloaded") is True
        assert "down" in first_browser.script("return window.connectionStates")
        first_browser.wait_until(lambda: first_browser.script(
            "return document.getElementById('connection').dataset.state") == "open")
        # The composer works on the new server as well.
        send(first_browser, "and alice answers")
        first_browser.wait_text("#messages .message", "and alice answers")
    finally:
        first_browser.base_url = browser_base
        first_browser.driver.get("about:blank")
        restarting.stop(signal.SIGINT)


def test_a_rooms_list_opened_while_the_server_is_down_loads_once_it_is_back(
        first_browser, new_user, new_room, web_db_uri):
    alice = new_user()
    room = new_room(alice)
    restarting = LiveServer(server_environ(web_db_uri)).start()
    browser_base = first_browser.base_url
    first_browser.base_url = restarting.url
    try:
        open_room(first_browser, alice, room)
        restarting.stop(signal.SIGINT)
        first_browser.go("#/rooms")
        first_browser.wait_text("[role=alert]", "could not be reached", timeout=10)
        restarting.start()
        first_browser.wait_text(".room-list .room", room["name"], timeout=20)
        assert not [alert for alert in first_browser.find_all("[role=alert]")
                    if alert.is_displayed()]
    finally:
        first_browser.base_url = browser_base
        first_browser.driver.get("about:blank")
        restarting.stop(signal.SIGINT)


def test_others_messages_offer_no_edit_or_delete(first_browser, new_user, new_room, server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    post(server, bob, room, "bob's words")
    open_room(first_browser, alice, room)
    message = first_browser.wait_text("#messages .message", "bob's words")
    # Reply and React, as on every message; no Edit or Delete.
    assert [button.text for button in message.find_elements("css selector", "button")
            if button.is_displayed()] == ["React", "Reply"]


def test_members_panel_lists_the_room_members(first_browser, new_user, new_room):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    open_room(first_browser, alice, room)
    panel = first_browser.wait_text("#member-list", bob.username)
    assert alice.username in panel.text
    assert "Members (3)" in first_browser.find("#members-heading").text   # admin owns it


def test_keyboard_alone_logs_in_opens_a_room_and_posts(first_browser, new_user, new_room):
    user = new_user()
    room = new_room(user)
    first_browser.open("/")
    first_browser.sign_out()
    first_browser.open("/")
    first_browser.find("#login-heading")
    keys = ActionChains(first_browser.driver)
    keys.send_keys(user.username, Keys.TAB, user.password, Keys.ENTER).perform()
    first_browser.wait_until(lambda: first_browser.script(
        "return document.activeElement.id") == "rooms-heading", message="focus is not on Rooms")
    first_browser.find(f".room[data-room-id='{room['_id']['$oid']}']")
    # Tab from the heading walks the room list in order and reaches the room.
    for _ in range(60):
        ActionChains(first_browser.driver).send_keys(Keys.TAB).perform()
        focused = first_browser.script("return document.activeElement.textContent")
        if focused == f"Open {room['name']}":
            break
    else:
        pytest.fail("Tab never reached the room's link")
    ActionChains(first_browser.driver).send_keys(Keys.ENTER).perform()
    first_browser.wait_text("#room-heading", room["name"])
    first_browser.wait_until(lambda: first_browser.script(
        "return document.activeElement.id") == "room-heading", message="focus is not on the room")
    ActionChains(first_browser.driver).send_keys(Keys.TAB, Keys.TAB).perform()
    assert first_browser.script("return document.activeElement.id") == "composer"
    ActionChains(first_browser.driver).send_keys("typed without a mouse", Keys.ENTER).perform()
    first_browser.wait_text("#messages .message", "typed without a mouse")


def test_members_panel_adds_someone_who_joins_and_posts(first_browser, new_user, new_room,
                                                        server):
    alice, carol = new_user(), new_user()
    room = new_room(alice)
    open_room(first_browser, alice, room)
    first_browser.wait_text("#member-list", alice.username)
    status, _, _ = http("POST", server.url + "/api/members", {"room": room["_id"]["$oid"]},
                        token=carol.token)
    assert status == 201
    post(server, carol, room, "hi, I just joined")
    first_browser.wait_text("#messages .message", "hi, I just joined")
    first_browser.wait_text("#member-list", carol.username)


def test_room_view_controls_all_have_names(first_browser, new_user, new_room, server):
    user = new_user()
    room = new_room(user)
    post(server, user, room, "a message with edit and delete buttons")
    open_room(first_browser, user, room)
    first_browser.wait_text("#messages .message", "a message with edit")
    first_browser.click("#messages button.edit")
    first_browser.find(".edit-form textarea")
    assert first_browser.script(UNNAMED_CONTROLS) == []


def test_room_view_fits_a_phone_screen(first_browser, new_user, new_room):
    user = new_user()
    room = new_room(user)
    first_browser.set_size(390, 844)
    try:
        open_room(first_browser, user, room)
        send(first_browser, "sent from a phone")
        first_browser.wait_text("#messages .message", "sent from a phone")
        overflow = first_browser.script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        assert first_browser.find("#composer").is_displayed()
    finally:
        first_browser.set_size(1280, 900)


def test_escape_closes_the_editor_and_focus_returns_to_edit(first_browser, new_user, new_room):
    user = new_user()
    room = new_room(user)
    open_room(first_browser, user, room)
    send(first_browser, "a message to reconsider")
    message = first_browser.wait_text("#messages .message", "a message to reconsider")
    message.find_element("css selector", "button.edit").click()
    editor = first_browser.find(".edit-form textarea")
    assert first_browser.script("return document.activeElement") == editor
    editor.send_keys(Keys.ESCAPE)
    first_browser.wait_until(lambda: not first_browser.find_all(".edit-form"),
                             message="Escape did not close the editor")
    assert first_browser.script("return document.activeElement.className") == "link edit"
    assert "a message to reconsider" in first_browser.script(
        "return document.activeElement.getAttribute('aria-label')")
    # Saving replaces the message's element; focus lands on the new Edit button.
    first_browser.click("#messages button.edit")
    editor = first_browser.find(".edit-form textarea")
    editor.clear()
    editor.send_keys("a message reconsidered")
    first_browser.click(".edit-form button[type=submit]")
    first_browser.wait_text("#messages .message", "a message reconsidered")
    first_browser.wait_until(lambda: "a message reconsidered" in (first_browser.script(
        "return document.activeElement.getAttribute('aria-label')") or ""),
        message="focus is not on the edited message's Edit button")
    first_browser.wait_until(lambda: first_browser.script(
        "return document.getElementById('announcer').textContent") == "Message edited.",
        message="the edit was not announced")


def test_deleting_a_message_returns_focus_to_the_composer(first_browser, new_user, new_room):
    user = new_user()
    room = new_room(user)
    open_room(first_browser, user, room)
    send(first_browser, "a message to take back")
    message = first_browser.wait_text("#messages .message", "a message to take back")
    message.find_element("css selector", "button.delete").click()
    first_browser.accept_confirm()
    first_browser.wait_gone("#messages .message", "a message to take back")
    assert first_browser.script("return document.activeElement.id") == "composer"
    first_browser.wait_until(lambda: first_browser.script(
        "return document.getElementById('announcer').textContent") == "Message deleted.",
        message="the deletion was not announced")


RECORD_ROOM_REQUESTS = """
const marker = arguments[0];
const original = window.fetch;
window.roomRequests = [];
window.fetch = (resource, init) => {
  if (String(resource).includes(marker)) window.roomRequests.push(String(resource));
  return original(resource, init);
};
"""


def test_leaving_a_room_stops_its_requests_and_listeners(first_browser, new_user, new_room,
                                                         server):
    user = new_user()
    room = new_room(user)
    first_browser.console_errors()   # forget earlier tests' entries
    open_room(first_browser, user, room)
    send(first_browser, "said before leaving")
    first_browser.wait_text("#messages .message", "said before leaving")
    time.sleep(0.3)   # the room follows its events on the stream now
    first_browser.go("#/rooms")
    first_browser.find(".room-list")
    first_browser.script(RECORD_ROOM_REQUESTS, f"room={room['_id']['$oid']}")
    # A subscription left behind would act on this post's event; a
    # visibility listener left behind would fetch the latest page.
    post(server, user, room, "said after leaving")
    first_browser.script("document.dispatchEvent(new Event('visibilitychange'))")
    time.sleep(1.5)
    assert first_browser.script("return window.roomRequests") == []
    assert first_browser.console_errors() == []


# -- admin page ---------------------------------------------------------------------

def open_admin(browser, admin):
    browser.log_in(admin.username, admin.password, path="/admin")
    browser.wait_text("#user-rows tr", admin.username)


def user_row(browser, username):
    return browser.wait_text("#user-rows tr", username)


def test_admin_creates_a_user(first_browser, admin, server):
    open_admin(first_browser, admin)
    username = unique("created")
    first_browser.fill("#new-user-heading ~ .field input[name=username]", username)
    first_browser.fill("input[name=email]", f"{username}@example.com")
    first_browser.fill("input[type=password]", PASSWORD)
    first_browser.click("button", "Create user")
    first_browser.wait_text("[role=status]", f"User {username} created.")
    user_row(first_browser, username)
    assert log_in(server, username, PASSWORD).username == username


def test_admin_disables_a_user(first_browser, admin, new_user, server):
    user = new_user()
    open_admin(first_browser, admin)
    user_row(first_browser, user.username).find_element("css selector", ".toggle-active").click()
    first_browser.wait_text("[role=status]", f"{user.username} is now disabled.")
    assert "no" in user_row(first_browser, user.username).find_element(
        "css selector", ".is-active").text
    status, _, _ = http("POST", server.url + "/api/login",
                        {"username": user.username, "password": PASSWORD})
    assert status == 401


def test_admin_promotes_a_user(first_browser, admin, new_user, server):
    user = new_user()
    open_admin(first_browser, admin)
    user_row(first_browser, user.username).find_element("css selector", ".toggle-admin").click()
    first_browser.wait_text("[role=status]", f"{user.username} is now an admin.")
    status, _, body = http("GET", server.url + "/api/users/me", token=user.token)
    assert body["is_superuser"] is True


def room_row(browser, name):
    return browser.wait_text("#room-rows tr", name)


def test_admin_adds_a_member(first_browser, admin, new_user, new_room, server):
    user = new_user()
    room = new_room()
    open_admin(first_browser, admin)
    room_row(first_browser, room["name"]).find_element("css selector", ".manage-members").click()
    first_browser.find("#admin-member-list li")  # the panel has loaded its members
    first_browser.fill("#room-panel input[name=username]", user.username)
    first_browser.click("#room-panel button", "Add member")
    first_browser.wait_text("#admin-member-list", user.username)
    status, _, members = http("GET", server.url + f"/api/members?room={room['_id']['$oid']}",
                              token=admin.token)
    assert user.username in [member["username"] for member in members]


def test_admin_adding_an_unknown_user_says_so(first_browser, admin, new_room):
    room = new_room()
    open_admin(first_browser, admin)
    room_row(first_browser, room["name"]).find_element("css selector", ".manage-members").click()
    first_browser.find("#admin-member-list li")  # the panel has loaded its members
    first_browser.fill("#room-panel input[name=username]", "nobody-by-that-name")
    first_browser.click("#room-panel button", "Add member")
    alert = first_browser.find("#room-panel [role=alert]")
    assert "no user named nobody-by-that-name" in alert.text


def test_admin_removes_a_member(first_browser, admin, new_user, new_room, server):
    user = new_user()
    room = new_room(user)
    open_admin(first_browser, admin)
    room_row(first_browser, room["name"]).find_element("css selector", ".manage-members").click()
    member = first_browser.wait_text("#admin-member-list li", user.username)
    member.find_element("css selector", ".remove-member").click()
    first_browser.wait_text("#room-panel [role=status]", f"{user.username} removed")
    first_browser.wait_gone("#admin-member-list li", user.username)
    status, _, members = http("GET", server.url + f"/api/members?room={room['_id']['$oid']}",
                              token=admin.token)
    assert user.username not in [member["username"] for member in members]


def test_admin_edits_a_room(first_browser, admin, new_room, server):
    room = new_room()
    new_name = unique("renamed")
    open_admin(first_browser, admin)
    room_row(first_browser, room["name"]).find_element("css selector", ".edit-room").click()
    first_browser.fill("#room-panel input[name=name]", new_name)
    first_browser.find("#room-panel input[name=is_open]").click()
    first_browser.click("#room-panel button", "Save room")
    first_browser.wait_text("#room-rows tr", new_name)
    status, _, body = http("GET", server.url + f"/api/rooms/{room['_id']['$oid']}",
                           token=admin.token)
    assert (body["name"], body["is_open"]) == (new_name, False)


def test_admin_deletes_a_room(first_browser, admin, new_room, server):
    room = new_room()
    open_admin(first_browser, admin)
    room_row(first_browser, room["name"]).find_element("css selector", ".delete-room").click()
    first_browser.accept_confirm()
    first_browser.wait_text("[role=status]", f"Room {room['name']} deleted.")
    status, _, _ = http("GET", server.url + f"/api/rooms/{room['_id']['$oid']}",
                        token=admin.token)
    assert status == 404


def test_admin_page_controls_all_have_names(first_browser, admin, new_user, new_room):
    room = new_room(new_user())
    open_admin(first_browser, admin)
    room_row(first_browser, room["name"]).find_element("css selector", ".manage-members").click()
    first_browser.find("#admin-member-list .remove-member")
    assert first_browser.script(UNNAMED_CONTROLS) == []


def test_admin_page_refuses_a_non_admin(first_browser, new_user):
    user = new_user()
    first_browser.log_in(user.username, user.password, path="/admin")
    alert = first_browser.find("[role=alert]")
    assert "for admins" in alert.text
    assert not first_browser.find_all("#user-rows")


def test_admin_page_is_served_under_makechat(first_browser, admin):
    first_browser.console_errors()   # forget earlier tests' entries
    first_browser.log_in(admin.username, admin.password, path="/makechat/admin")
    first_browser.wait_text("#user-rows tr", admin.username)
    assert first_browser.console_errors() == []
