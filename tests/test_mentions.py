"""Mentions: recognized at post time; GET /api/mentions; mentions_unread;
the stream's mention event."""

import pytest
import webtest

from makechat.app import create_app
from makechat.chat.mentions import mentioned_names
from tests.factories import ApiClient, limited


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def room(api, admin, alice, bob):
    room = api.as_user(admin).post("/api/rooms", {"name": "room1"}).json["_id"]["$oid"]
    for user in (alice, bob):
        api.as_user(user).post("/api/members", {"room": room})
    return room


def post(api, user, room, text, status=201):
    resp = api.as_user(user).post("/api/messages", {"room": room, "text": text})
    assert resp.status_int == status, resp.text
    return resp.json


def mentions(api, user, **params):
    resp = api.as_user(user).get("/api/mentions", params=params)
    assert resp.status_int == 200, resp.text
    return resp


def test_names_after_an_at_sign_not_inside_addresses():
    assert mentioned_names("hi @Bob, and @alice. mail bob@example.com") == {"bob", "alice",
                                                                         "alice."}
    assert mentioned_names("@room!") == {"room"}


def test_a_mention_of_a_member_is_kept_on_the_message(api, alice, bob, room):
    message = post(api, alice, room, "@BOB can you look?")
    assert message["mentions"] == [{"$oid": str(bob.id)}]
    assert message["mentions_room"] is False


def test_non_members_and_the_author_are_not_mentioned(api, alice, room, make_user):
    make_user("carol")
    message = post(api, alice, room, "@carol @alice @nobody hello")
    assert "mentions" not in message


def test_get_mentions_lists_mine_newest_first_across_rooms(api, admin, alice, bob, room):
    other = api.as_user(admin).post("/api/rooms", {"name": "room2"}).json["_id"]["$oid"]
    api.as_user(bob).post("/api/members", {"room": other})
    post(api, alice, room, "@bob first")
    post(api, alice, room, "no mention")
    post(api, admin, other, "@bob second")
    post(api, bob, room, "@alice not mine")
    assert [m["text"] for m in mentions(api, bob).json] == ["@bob second", "@bob first"]


def test_mentions_page_with_a_cursor(api, alice, bob, room):
    for number in range(5):
        post(api, alice, room, f"@bob {number}")
    first = mentions(api, bob, limit=2)
    assert [m["text"] for m in first.json] == ["@bob 4", "@bob 3"]
    second = api.as_user(bob).get(first.headers["Link"].split(";")[0].strip("<>"))
    assert [m["text"] for m in second.json] == ["@bob 2", "@bob 1"]


def test_mentions_of_a_room_left_are_gone(api, alice, bob, room):
    post(api, alice, room, "@bob hi")
    mine = [m for m in api.as_user(bob).get("/api/members", params={"room": room}).json
            if m["username"] == "bob"][0]
    api.as_user(bob).delete(f"/api/members/{mine['_id']['$oid']}")
    assert mentions(api, bob).json == []


def test_deleted_messages_mention_nobody(api, alice, bob, room):
    message = post(api, alice, room, "@bob oops")
    api.as_user(alice).delete(f"/api/messages/{message['_id']['$oid']}")
    assert mentions(api, bob).json == []


def test_room_mentions_everyone_but_not_from_before_they_joined(api, admin, alice, bob, room,
                                                                make_user):
    message = post(api, admin, room, "@room standup")
    assert message["mentions_room"] is True and message["mentions"] == []
    late = make_user()
    api.as_user(late).post("/api/members", {"room": room})
    post(api, admin, room, "@room lunch")
    assert [m["text"] for m in mentions(api, bob).json] == ["@room lunch", "@room standup"]
    assert [m["text"] for m in mentions(api, late).json] == ["@room lunch"]
    assert mentions(api, admin).json == []


def test_room_mentions_in_large_rooms_are_for_owners(config, make_user):
    api = ApiClient(webtest.TestApp(create_app(config.replace(mention_room_max_members=2))))
    owner, first, second = make_user(admin=True), make_user(), make_user()
    room = api.as_user(owner).post("/api/rooms", {"name": "big"}).json["_id"]["$oid"]
    api.as_user(first).post("/api/members", {"room": room})
    assert post(api, first, room, "@room small enough")["mentions_room"] is True
    api.as_user(second).post("/api/members", {"room": room})
    resp = post(api, first, room, "@room too many", status=403)
    assert resp["title"] == "Mention not allowed"
    assert post(api, owner, room, "@room from the owner")["mentions_room"] is True
    texts = [m["text"] for m in api.as_user(owner).get("/api/messages",
                                                      params={"room": room}).json]
    assert "@room too many" not in texts


def test_mentions_unread_counts_separately(api, alice, bob, room):
    post(api, alice, room, "plain")
    post(api, alice, room, "@bob look")
    last = post(api, alice, room, "@room all")
    listed = {r["_id"]["$oid"]: r for r in api.as_user(bob).get("/api/rooms").json}
    assert listed[room]["unread"] == 3 and listed[room]["mentions_unread"] == 2
    api.as_user(bob).put(f"/api/rooms/{room}/read", {"seq": last["seq"] - 1})
    shown = api.as_user(bob).get(f"/api/rooms/{room}").json
    assert shown["unread"] == 1 and shown["mentions_unread"] == 1


def test_the_stream_carries_a_mention_event_after_the_message(api, alice, bob, room):
    cursor = api.as_user(bob).get("/api/events").json["cursor"]
    message = post(api, alice, room, "@bob ping")
    post(api, alice, room, "no ping")
    page = api.as_user(bob).get("/api/events", params={"cursor": cursor}).json
    kinds = [event["type"] for event in page["events"]]
    assert kinds == ["message", "mention", "message"]
    mention = page["events"][1]
    assert mention["seq"] is None and mention["room"] == {"$oid": room}
    assert mention["data"]["message"] == message["_id"]
    assert mention["data"]["seq"] == message["seq"]
    assert mention["data"]["author_username"] == "alice"
    # Resuming from the cursor before it gives it again, after it never.
    again = api.as_user(bob).get("/api/events", params={"cursor": cursor}).json
    assert [event["type"] for event in again["events"]] == kinds
    later = api.as_user(bob).get("/api/events", params={"cursor": page["cursor"]}).json
    assert later["events"] == []


def test_the_author_gets_no_mention_event(api, alice, room):
    cursor = api.as_user(alice).get("/api/events").json["cursor"]
    post(api, alice, room, "@room hello")
    page = api.as_user(alice).get("/api/events", params={"cursor": cursor}).json
    assert [event["type"] for event in page["events"]] == ["message"]


def test_an_outsider_named_in_a_closed_room_learns_nothing(api, admin, alice, make_user):
    """@carol (and @room) in a closed room carol is not in: no mention, no
    event, no trace of the room, even after she joins another room."""
    carol = make_user("carol")
    closed = api.as_user(admin).post("/api/rooms", {"name": "secret", "is_open": False,
                                                    "is_visible": False}).json["_id"]["$oid"]
    cursor = api.as_user(carol).get("/api/events").json["cursor"]
    post(api, admin, closed, "@carol @room the secret plan")
    assert mentions(api, carol).json == []
    page = api.as_user(carol).get("/api/events", params={"cursor": cursor}).json
    assert page["events"] == [] and closed not in str(page)
    assert closed not in api.as_user(carol).get("/api/rooms").text


def test_a_token_limited_to_rooms_lists_only_their_mentions(api, admin, alice, bob, room):
    other = api.as_user(admin).post("/api/rooms", {"name": "room2"}).json["_id"]["$oid"]
    api.as_user(bob).post("/api/members", {"room": other})
    post(api, alice, room, "@bob here")
    post(api, admin, other, "@bob there")
    resp = limited(api, bob, [room]).get("/api/mentions")
    assert [m["text"] for m in resp.json] == ["@bob here"]
