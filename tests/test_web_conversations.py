"""The web client's conversations in a real browser (issue 15, point 6):
direct messages from the members list, @-completion, mentions, replies and
threads, reactions and search; keyboard-usable.

The server, the browsers and the factories are those of tests/test_web.py
(one server and two browsers for the module), on a database of its own.
"""

import json
import urllib.parse

import pymongo
import pytest
from selenium.webdriver.common.action_chains import ActionChains

from tests import test_web as web
from tests.browser import (
    Keys,
    browser_available,
    screenshot_on_failure,  # noqa: F401  (autouse)
)
from tests.live import http
from tests.test_web import UNNAMED_CONTROLS, post, send, unique

# test_web.py's fixtures, used here by name.
server = web.server
admin = web.admin
first_browser = web.first_browser
second_browser = web.second_browser
new_user = web.new_user
new_room = web.new_room

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not browser_available(),
                                 reason="needs /usr/bin/chromium and /usr/bin/chromedriver")]

WEB_DB = "makechat_web_conversations_test"


@pytest.fixture(scope="module")
def web_db_uri(mongo_server):
    """This module's own database (test_web.py's may be in use beside it)."""
    uri = mongo_server.uri(WEB_DB)
    client = pymongo.MongoClient(uri)
    client.drop_database(WEB_DB)
    client.close()
    return uri


def enter(browser, account, fragment="#/rooms"):
    """Sign the browser in with the account's API token (the log-in form has
    its tests in test_web.py) and open fragment: one page load, not four."""
    browser.driver.get("about:blank")
    browser.driver.get(browser.base_url + "/api/health")   # the origin, without the client
    user = {"_id": {"$oid": account.id}, "username": account.username, "is_superuser": False}
    browser.script("sessionStorage.clear();"
                   "sessionStorage.setItem('makechat.token', arguments[0]);"
                   "sessionStorage.setItem('makechat.user', arguments[1]);",
                   account.token, json.dumps(user))
    browser.driver.get(browser.base_url + "/" + fragment)


def open_room(browser, account, room):
    enter(browser, account, f"#/rooms/{oid(room)}")
    browser.wait_text("#room-heading", room["name"])
    browser.find("#composer")


def show_rooms(browser, account):
    enter(browser, account)
    browser.find(".room-list .room")


def oid(document):
    return document["_id"]["$oid"]


def reply(server, account, room, parent, text):
    status, _, body = http("POST", server.url + "/api/messages",
                           {"room": oid(room), "text": text, "reply_to": oid(parent)},
                           token=account.token)
    assert status == 201, body
    return body


def react(server, account, message, emoji, method="PUT"):
    status, _, body = http(method, server.url + f"/api/messages/{oid(message)}/reactions/"
                           + urllib.parse.quote(emoji), token=account.token)
    assert status in (200, 204), body


def focused(browser, prop="id"):
    return browser.script(f"return document.activeElement.{prop}")


def keys(browser, *sequence):
    ActionChains(browser.driver).send_keys(*sequence).perform()


def message_item(browser, message):
    return browser.find(f"#messages .message[data-id='{oid(message)}']")


# -- direct messages ------------------------------------------------------------------

def test_message_button_in_the_member_list_opens_the_direct_conversation(
        first_browser, new_user, new_room):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    open_room(first_browser, alice, room)
    first_browser.click(f"#member-list button[aria-label='Message {bob.username}']")
    first_browser.wait_text("#room-heading", bob.username)
    send(first_browser, "just between us")
    first_browser.wait_text("#messages .message", "just between us")
    # There is no Message button for oneself.
    assert not first_browser.find_all(
        f"#member-list button[aria-label='Message {alice.username}']")


def test_a_direct_conversation_shows_in_the_rooms_list_with_the_other_persons_name(
        first_browser, new_user, server):
    alice, bob = new_user(), new_user()
    status, _, dm = http("POST", server.url + "/api/dms", {"user": bob.id}, token=alice.token)
    assert status == 201, dm
    show_rooms(first_browser, bob)
    item = first_browser.wait_text(f".room[data-room-id='{oid(dm)}']", alice.username)
    assert "direct" in item.find_element("css selector", ".badge.dm").text


# -- @-completion ---------------------------------------------------------------------

def test_typing_at_offers_matching_members_and_enter_picks_one(first_browser, new_user,
                                                                new_room):
    prefix = unique("pa")
    alice, paula, pavel = new_user(), new_user(username=prefix + "ula"), \
        new_user(username=prefix + "vel")
    room = new_room(alice, paula, pavel)
    open_room(first_browser, alice, room)
    first_browser.wait_text("#member-list", pavel.username)
    composer = first_browser.find("#composer")
    composer.send_keys(f"hello @{prefix}")
    options = first_browser.find(".mention-options")
    assert [option.text for option in options.find_elements("css selector", "[role=option]")] \
        == [f"@{paula.username}", f"@{pavel.username}"]
    assert composer.get_attribute("aria-expanded") == "true"
    composer.send_keys(Keys.ARROW_DOWN)
    active = composer.get_attribute("aria-activedescendant")
    assert first_browser.find(f"#{active}").text == f"@{pavel.username}"
    composer.send_keys(Keys.ENTER)   # picks; does not send
    assert composer.get_attribute("value") == f"hello @{pavel.username} "
    assert composer.get_attribute("aria-expanded") == "false"
    assert not first_browser.find_all("#messages .message")


def test_tab_picks_the_first_match(first_browser, new_user, new_room):
    # A name no other member's starts like (user9 would match user94 and user95).
    alice, bob = new_user(), new_user(username=unique("tabby") + "x")
    room = new_room(alice, bob)
    open_room(first_browser, alice, room)
    first_browser.wait_text("#member-list", bob.username)
    composer = first_browser.find("#composer")
    composer.send_keys(f"@{bob.username[:-1]}")
    first_browser.find(".mention-options")
    composer.send_keys(Keys.TAB, "ping")
    assert composer.get_attribute("value") == f"@{bob.username} ping"
    assert focused(first_browser) == "composer"


def test_escape_closes_the_completion_and_keeps_the_text(first_browser, new_user, new_room):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    open_room(first_browser, alice, room)
    first_browser.wait_text("#member-list", bob.username)
    composer = first_browser.find("#composer")
    composer.send_keys("@")
    first_browser.find(".mention-options")
    composer.send_keys(Keys.ESCAPE)
    assert first_browser.script("return document.querySelector('.mention-options').hidden")
    assert composer.get_attribute("value") == "@"


# -- mentions -------------------------------------------------------------------------

def test_a_message_mentioning_you_is_highlighted(first_browser, new_user, new_room, server):
    alice, bob, carol = new_user(), new_user(), new_user()
    room = new_room(alice, bob, carol)
    open_room(first_browser, alice, room)
    mine = post(server, bob, room, f"@{alice.username} can you look?")
    theirs = post(server, bob, room, f"@{carol.username} not you")
    item = message_item(first_browser, mine)
    assert "mentions-me" in item.get_attribute("class")
    assert item.find_element("css selector", ".mention.me").text == f"@{alice.username}"
    other = message_item(first_browser, theirs)
    assert "mentions-me" not in other.get_attribute("class")
    assert other.find_element("css selector", ".mention").text == f"@{carol.username}"
    assert not other.find_elements("css selector", ".mention.me")


def test_the_rooms_list_badge_counts_unread_mentions_live(first_browser, new_user, new_room,
                                                         server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    show_rooms(first_browser, alice)
    post(server, bob, room, "no mention")
    post(server, bob, room, f"but this one, @{alice.username}")
    selector = f".room[data-room-id='{oid(room)}']"
    first_browser.wait_text(f"{selector} .mentions-unread", "@1")
    # Read in one script: the live list may draw the row again between two
    # WebDriver calls (an element found first would then be stale).
    def badges():
        return first_browser.script(
            "const row = document.querySelector(arguments[0]);"
            "const hidden = row && row.querySelector('.mentions-unread .visually-hidden');"
            "const unread = row && row.querySelector('.unread');"
            "return [hidden && hidden.textContent, unread && unread.innerText];", selector)
    first_browser.wait_until(lambda: badges()[0] == "1 mentioning you"
                             and (badges()[1] or "").startswith("2"),
                             message=f"badges: {badges()}")


def test_a_mention_elsewhere_is_read_out(first_browser, new_user, new_room, server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    show_rooms(first_browser, alice)
    post(server, bob, room, f"@{alice.username} are you free?")
    first_browser.wait_until(lambda: first_browser.script(
        "return document.getElementById('announcer').textContent")
        == f"{bob.username} mentioned you.", message="the mention was not announced")


def test_the_mentions_list_links_to_the_message_in_its_room(first_browser, new_user, new_room,
                                                           server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    wanted = post(server, bob, room, f"@{alice.username} the report is due")
    post(server, bob, room, "something else")
    show_rooms(first_browser, alice)
    first_browser.click("a.mentions-link")
    first_browser.wait_text("#mentions-heading", "Mentions")
    result = first_browser.wait_text(".results .result", "the report is due")
    assert room["name"] in result.text
    result.find_element("css selector", "a.result-link").click()
    first_browser.wait_text("#room-heading", room["name"])
    item = first_browser.find(f"#messages .message.highlight[data-id='{oid(wanted)}']")
    first_browser.wait_until(lambda: focused(first_browser, "dataset.id") == oid(wanted),
                             message="the message asked for is not focused")
    assert item.is_displayed()


# -- replies and threads ----------------------------------------------------------------

def test_reply_shows_the_parent_above_the_composer_and_posts_a_reply(
        first_browser, new_user, new_room, server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    parent = post(server, bob, room, "which build broke?")
    open_room(first_browser, alice, room)
    message_item(first_browser, parent).find_element("css selector", "button.reply").click()
    bar = first_browser.find(".composer .replying")
    assert bob.username in bar.text and "which build broke?" in bar.text
    assert focused(first_browser) == "composer"
    keys(first_browser, "the nightly one", Keys.ENTER)
    answer = first_browser.wait_text("#messages .message", "the nightly one")
    assert "which build broke?" in answer.find_element("css selector", ".reply-quote").text
    assert bob.username in answer.find_element("css selector", ".reply-quote").text
    assert first_browser.script("return document.querySelector('.replying').hidden")
    status, _, page = http("GET", server.url + f"/api/messages?room={oid(room)}",
                           token=alice.token)
    assert page[-1]["reply_to"]["_id"] == parent["_id"]


def test_keyboard_alone_replies_and_opens_the_thread(first_browser, new_user, new_room,
                                                     server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    parent = post(server, bob, room, "who reviews #42?")
    open_room(first_browser, alice, room)
    message_item(first_browser, parent)
    first_browser.script("document.getElementById('message-scroller').focus()")
    for _ in range(10):   # Tab walks into the message's controls: React, then Reply
        keys(first_browser, Keys.TAB)
        if "reply" in focused(first_browser, "className").split():
            break
    else:
        pytest.fail("Tab never reached Reply")
    keys(first_browser, Keys.ENTER)
    assert focused(first_browser) == "composer"
    keys(first_browser, "I do", Keys.ENTER)
    first_browser.wait_text("#messages .message .reply-quote", "who reviews #42?")
    thread_button = first_browser.find("#messages .open-thread")
    first_browser.wait_until(lambda: thread_button.text == "1 reply",
                             message="the parent does not count its reply")
    first_browser.script("arguments[0].focus()", thread_button)
    keys(first_browser, Keys.ENTER)
    first_browser.wait_until(lambda: focused(first_browser) == "thread-heading",
                             message="focus did not move to the thread")
    keys(first_browser, Keys.TAB)
    assert focused(first_browser, "textContent") == "Close"
    keys(first_browser, Keys.ENTER)
    assert focused(first_browser, "className") == "link open-thread"


def test_escape_in_the_composer_cancels_the_reply(first_browser, new_user, new_room, server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    parent = post(server, bob, room, "anyone?")
    open_room(first_browser, alice, room)
    message_item(first_browser, parent).find_element("css selector", "button.reply").click()
    first_browser.find(".composer .replying")
    keys(first_browser, Keys.ESCAPE)
    assert first_browser.script("return document.querySelector('.replying').hidden")
    keys(first_browser, "not a reply", Keys.ENTER)
    answer = first_browser.wait_text("#messages .message", "not a reply")
    assert not answer.find_elements("css selector", ".reply-quote")


def test_a_deleted_parent_shows_as_deleted_in_its_replies_live(first_browser, new_user,
                                                                new_room, server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    parent = post(server, bob, room, "oops, wrong room")
    answer = reply(server, alice, room, parent, "it happens")
    open_room(first_browser, alice, room)
    first_browser.wait_text(f"#messages .message[data-id='{oid(answer)}'] .reply-quote",
                            "oops, wrong room")
    status, _, _ = http("DELETE", server.url + f"/api/messages/{oid(parent)}", token=bob.token)
    assert status == 204
    first_browser.wait_text(f"#messages .message[data-id='{oid(answer)}'] .reply-quote",
                            "deleted message")
    assert "oops" not in message_item(first_browser, answer).text


def test_a_parent_shows_its_reply_count_and_opens_its_thread(first_browser, new_user, new_room,
                                                            server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    parent = post(server, bob, room, "release plan?")
    reply(server, alice, room, parent, "friday")
    post(server, bob, room, "unrelated")
    reply(server, bob, room, parent, "ok, friday")
    open_room(first_browser, alice, room)
    button = message_item(first_browser, parent).find_element("css selector", ".open-thread")
    assert button.text == "2 replies"
    assert message_item(first_browser, parent).find_element(
        "css selector", ".thread-summary time").get_attribute("datetime")
    button.click()
    first_browser.wait_until(lambda: focused(first_browser) == "thread-heading",
                             message="focus did not move to the thread")
    first_browser.wait_until(lambda: [element.text for element in first_browser.find_all(
        "#thread-messages .message .text")] == ["release plan?", "friday", "ok, friday"],
        message="the thread does not list its messages")
    keys(first_browser, Keys.ESCAPE)
    assert first_browser.script("return document.getElementById('thread-panel').hidden")
    assert focused(first_browser, "className") == "link open-thread"


def test_a_reply_opens_its_thread(first_browser, new_user, new_room, server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    parent = post(server, bob, room, "who takes the pager?")
    answer = reply(server, alice, room, parent, "me")
    open_room(first_browser, alice, room)
    message_item(first_browser, answer).find_element("css selector", ".view-thread").click()
    first_browser.wait_until(lambda: [element.text for element in first_browser.find_all(
        "#thread-messages .message .text")] == ["who takes the pager?", "me"],
        message="the reply did not open its thread")


def test_a_reply_in_the_thread_panel_joins_the_thread_and_counts_live(
        first_browser, second_browser, new_user, new_room, server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    parent = post(server, bob, room, "lunch?")
    reply(server, bob, room, parent, "12:30?")
    open_room(first_browser, alice, room)
    open_room(second_browser, bob, room)
    first_browser.click(f"#messages .message[data-id='{oid(parent)}'] .open-thread")
    thread_composer = first_browser.find("#thread-composer")
    thread_composer.send_keys("yes", Keys.ENTER)
    first_browser.wait_text("#thread-messages .message", "yes")
    for browser in (first_browser, second_browser):
        browser.wait_text(f"#messages .message[data-id='{oid(parent)}'] .open-thread",
                          "2 replies")
    reply_item = second_browser.wait_text("#messages .message", "yes")
    assert "lunch?" in reply_item.find_element("css selector", ".reply-quote").text


# -- reactions ------------------------------------------------------------------------

def reaction_state(browser, message):
    """[(emoji, count, pressed)] of a message's reaction buttons."""
    return browser.script(
        "return Array.from(document.querySelectorAll("
        "`#messages .message[data-id='${arguments[0]}'] .reaction`))"
        ".map((b) => [b.dataset.emoji, b.querySelector('.count').textContent,"
        " b.getAttribute('aria-pressed')]);", oid(message))


def test_picking_a_reaction_adds_it_and_its_button_takes_it_back(first_browser, new_user,
                                                                 new_room, server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    message = post(server, bob, room, "shipped!")
    open_room(first_browser, alice, room)
    message_item(first_browser, message).find_element("css selector", ".add-reaction").click()
    first_browser.click(f"#messages .message[data-id='{oid(message)}'] .pick[aria-label='party']")
    first_browser.wait_until(lambda: reaction_state(first_browser, message)
                             == [["🎉", "1", "true"]], message="the reaction did not show")
    first_browser.click(f"#messages .message[data-id='{oid(message)}'] .reaction")
    first_browser.wait_until(lambda: reaction_state(first_browser, message) == [],
                             message="the reaction was not taken back")
    status, _, shown = http("GET", server.url + f"/api/messages/{oid(message)}",
                            token=alice.token)
    assert "reactions" not in shown


def test_others_reactions_show_live_with_counts(first_browser, new_user, new_room, server):
    alice, bob, carol = new_user(), new_user(), new_user()
    room = new_room(alice, bob, carol)
    message = post(server, alice, room, "vote here")
    open_room(first_browser, alice, room)
    message_item(first_browser, message)
    react(server, bob, message, "👍")
    react(server, carol, message, "👍")
    react(server, carol, message, "👀")
    first_browser.wait_until(lambda: reaction_state(first_browser, message)
                             == [["👍", "2", "false"], ["👀", "1", "false"]], timeout=15,
                             message="others' reactions did not show live")
    react(server, carol, message, "👀", method="DELETE")
    first_browser.wait_until(lambda: reaction_state(first_browser, message)
                             == [["👍", "2", "false"]], timeout=15,
                             message="a removal did not show live")


def test_keyboard_alone_reacts_and_focus_stays_on_the_reaction(first_browser, new_user,
                                                               new_room, server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    message = post(server, bob, room, "thanks all")
    open_room(first_browser, alice, room)
    opener = message_item(first_browser, message).find_element("css selector", ".add-reaction")
    first_browser.script("arguments[0].focus()", opener)
    keys(first_browser, Keys.ENTER)
    assert focused(first_browser, "dataset.emoji") == "👍"
    keys(first_browser, Keys.ARROW_RIGHT, Keys.ENTER)   # ❤️
    first_browser.wait_until(lambda: focused(first_browser, "dataset.focus") == "reaction-❤️",
                             message="focus did not land on the new reaction")
    assert focused(first_browser, "getAttribute('aria-pressed')") == "true"
    keys(first_browser, Keys.ENTER)   # takes it back
    first_browser.wait_until(lambda: reaction_state(first_browser, message) == [],
                             message="Enter on the reaction did not take it back")
    # The picker closes with Escape and gives focus back to its button.
    first_browser.script("arguments[0].focus()", message_item(first_browser, message)
                         .find_element("css selector", ".add-reaction"))
    keys(first_browser, Keys.ENTER)
    keys(first_browser, Keys.ESCAPE)
    assert focused(first_browser, "dataset.focus") == "react"


# -- search ---------------------------------------------------------------------------

def test_search_marks_the_matched_words(first_browser, new_user, new_room, server):
    alice = new_user()
    room = new_room(alice)
    word = unique("zebra")
    post(server, alice, room, f"The {word.upper()} crossing <b>is</b> closed")
    post(server, alice, room, "nothing to see")
    show_rooms(first_browser, alice)
    first_browser.fill("#search-box", f"{word} crossing")
    keys(first_browser, Keys.ENTER)
    first_browser.wait_text("#search-heading", word)
    result = first_browser.wait_text(".results .result", "crossing")
    marks = [mark.text for mark in result.find_elements("css selector", "mark")]
    assert marks == [word.upper(), "crossing"]
    assert "<b>is</b>" in result.find_element("css selector", ".text").text
    assert len(first_browser.find_all(".results .result")) == 1


def test_a_search_result_opens_the_room_at_an_old_message(first_browser, new_user, new_room,
                                                         server):
    alice = new_user()
    room = new_room(alice)
    word = unique("needle")
    target = post(server, alice, room, f"the {word} is here")
    for number in range(1, 131):
        post(server, alice, room, f"hay {number:03d}")
    show_rooms(first_browser, alice)
    first_browser.fill("#search-box", word)
    keys(first_browser, Keys.ENTER)
    first_browser.click(".results .result a.result-link")
    first_browser.wait_text("#room-heading", room["name"])
    item = first_browser.find(f"#messages .message.highlight[data-id='{oid(target)}']", timeout=8)
    in_view = first_browser.script(
        "const box = document.getElementById('message-scroller').getBoundingClientRect();"
        "const at = arguments[0].getBoundingClientRect();"
        "return at.top >= box.top && at.bottom <= box.bottom;", item)
    assert in_view
    # The history between it and the latest is there, in order.
    texts = [element.text for element in first_browser.find_all("#messages .message .text")]
    assert texts[texts.index(f"the {word} is here"):] == \
        [f"the {word} is here"] + [f"hay {number:03d}" for number in range(1, 131)]


def test_searching_one_room_finds_nothing_in_the_others(first_browser, new_user, new_room,
                                                         server):
    alice = new_user()
    here, there = new_room(alice), new_room(alice)
    word = unique("otter")
    post(server, alice, here, f"{word} here")
    post(server, alice, there, f"{word} there")
    open_room(first_browser, alice, here)
    first_browser.fill("#room-search", word)
    keys(first_browser, Keys.ENTER)
    first_browser.wait_text("#search-heading", "one room")
    first_browser.wait_text(".results .result", f"{word} here")
    assert len(first_browser.find_all(".results .result")) == 1


def test_a_link_to_a_deleted_message_says_so_and_the_room_stays_live(
        first_browser, new_user, new_room, server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    gone = post(server, bob, room, "soon gone")
    status, _, _ = http("DELETE", server.url + f"/api/messages/{oid(gone)}", token=bob.token)
    assert status == 204
    enter(first_browser, alice, f"#/rooms/{oid(room)}/messages/{oid(gone)}")
    first_browser.wait_text("[role=alert]", "That message is no longer in this room.")
    post(server, bob, room, "still live")
    first_browser.wait_text("#messages .message", "still live")


def test_search_with_no_result_says_so(first_browser, new_user, new_room):
    alice = new_user()
    new_room(alice)
    show_rooms(first_browser, alice)
    first_browser.go("#/search?q=" + unique("nowhere"))
    first_browser.wait_text(".results", "No message holds every one of these words.")


# -- phones, names and focus -------------------------------------------------------------------

def test_the_rooms_list_and_an_open_thread_fit_a_phone_screen(first_browser, new_user,
                                                               new_room, server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    parent = post(server, bob, room, "a thread on a phone")
    reply(server, bob, room, parent, "with a reply")
    react(server, bob, parent, "👍")
    overflow = ("return document.documentElement.scrollWidth"
                " - document.documentElement.clientWidth")
    first_browser.set_size(390, 844)
    try:
        show_rooms(first_browser, alice)
        first_browser.find("#search-box")
        assert first_browser.script(overflow) <= 0
        open_room(first_browser, alice, room)
        first_browser.click(f"#messages .message[data-id='{oid(parent)}'] .open-thread")
        first_browser.wait_text("#thread-messages", "with a reply")
        assert first_browser.script(overflow) <= 0
        assert first_browser.find("#thread-composer").is_displayed()
    finally:
        first_browser.set_size(1280, 900)


def test_conversation_controls_all_have_names(first_browser, new_user, new_room, server):
    alice, bob = new_user(), new_user()
    room = new_room(alice, bob)
    parent = post(server, bob, room, f"@{alice.username} look")
    reply(server, alice, room, parent, "looking")
    react(server, bob, parent, "👍")
    open_room(first_browser, alice, room)
    first_browser.console_errors()   # forget earlier tests' entries (and the log-in's)
    message_item(first_browser, parent).find_element("css selector", ".add-reaction").click()
    first_browser.click(f"#messages .message[data-id='{oid(parent)}'] .open-thread")
    first_browser.wait_text("#thread-messages", "looking")
    first_browser.find("#thread-composer").send_keys("@")
    first_browser.find("#thread-panel .mention-options")
    assert first_browser.script(UNNAMED_CONTROLS) == []
    first_browser.go("#/mentions")
    first_browser.wait_text(".results", "look")
    assert first_browser.script(UNNAMED_CONTROLS) == []
    first_browser.go("#/search?q=look")
    first_browser.wait_text("#search-heading", "look")
    first_browser.wait_text(".results", "look")
    assert first_browser.script(UNNAMED_CONTROLS) == []
    assert first_browser.console_errors() == []
