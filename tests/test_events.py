"""/api/rooms/{room_id}/events and /api/events (long-poll JSON here; Server-
Sent Events over real HTTP in tests/test_events_live.py)."""

import threading
import time

import pytest

from makechat.chat.streams import decode_cursor, encode_cursor


@pytest.fixture
def room(api, admin, bob):
    room_id = api.as_user(admin).post("/api/rooms", {"name": "general"}).json["_id"]["$oid"]
    api.as_user(bob).post("/api/members", {"room": room_id})
    return room_id


def events(client, room_id, after=0, **params):
    resp = client.get(f"/api/rooms/{room_id}/events", params={"after": after, **params})
    assert resp.status_int == 200, resp.text
    return resp.json


def post(client, room_id, text):
    return client.post("/api/messages", {"room": room_id, "text": text}).json


# -- one room's events


def test_room_events_list_every_change_in_order(api, admin, bob, room):
    a, b = api.as_user(admin), api.as_user(bob)
    hello = post(a, room, "hello")
    a.patch(f"/api/messages/{hello['_id']['$oid']}", {"text": "hello, all"})
    post(b, room, "hi")
    a.delete(f"/api/messages/{hello['_id']['$oid']}")
    a.patch(f"/api/rooms/{room}", {"topic": "Anything goes"})
    page = events(b, room)
    assert [event["type"] for event in page["events"]] == [
        "member.joined", "member.joined", "message", "message.edited", "message",
        "message.deleted", "room.updated"]
    assert [event["seq"] for event in page["events"]] == list(range(1, 8))
    assert page["cursor"] == 7
    assert page["events"][-1]["data"] == {"topic": "Anything goes"}
    assert page["events"][1]["data"]["username"] == "bob"


def test_deleted_message_keeps_no_text_anywhere_in_the_log(api, admin, bob, room):
    a = api.as_user(admin)
    secret = post(a, room, "my password is hunter2")
    a.patch(f"/api/messages/{secret['_id']['$oid']}", {"text": "my password is hunter3"})
    a.delete(f"/api/messages/{secret['_id']['$oid']}")
    page = events(api.as_user(bob), room)
    assert "hunter" not in str(page)
    assert page["events"][2]["data"]["deleted"] is True


def test_room_events_after_a_cursor_and_limit(api, admin, room):
    a = api.as_user(admin)
    for number in range(5):
        post(a, room, f"m{number}")
    first = events(a, room, after=2, limit=2)
    assert [event["data"]["text"] for event in first["events"]] == ["m0", "m1"]
    rest = events(a, room, after=first["cursor"])
    assert [event["data"]["text"] for event in rest["events"]] == ["m2", "m3", "m4"]
    assert events(a, room, after=rest["cursor"]) == {"events": [], "cursor": rest["cursor"]}


def test_room_events_wait_returns_on_the_next_event(api, admin, bob, room):
    a = api.as_user(admin)
    cursor = events(a, room)["cursor"]
    threading.Timer(0.3, lambda: post(api.as_user(bob), room, "late")).start()
    started = time.monotonic()
    page = events(a, room, after=cursor, wait=5)
    assert [event["data"]["text"] for event in page["events"]] == ["late"]
    assert time.monotonic() - started < 4


def test_room_events_for_members_only(api, admin, make_user, room):
    stranger = api.as_user(make_user())
    resp = stranger.get(f"/api/rooms/{room}/events", params={"after": 0})
    assert resp.status_int == 403


def test_room_events_of_an_invisible_room_are_404(api, admin, make_user):
    secret = api.as_user(admin).post("/api/rooms", {"name": "secret", "is_visible": False})
    resp = api.as_user(make_user()).get(f"/api/rooms/{secret.json['_id']['$oid']}/events",
                                        params={"after": 0})
    assert resp.status_int == 404 and "secret" not in resp.text


@pytest.mark.parametrize("after", ["-1", "x", "²", ""])
def test_room_events_bad_after_400(api, admin, room, after):
    resp = api.as_user(admin).get(f"/api/rooms/{room}/events", params={"after": after})
    assert resp.status_int == 400


# -- the user's stream, as long-poll JSON


def stream(client, **params):
    resp = client.get("/api/events", params=params)
    assert resp.status_int == 200, resp.text
    return resp.json


def test_stream_starts_now_and_resumes_exactly(api, admin, bob, room):
    b = api.as_user(bob)
    start = stream(b)
    assert start["events"] == []
    post(api.as_user(admin), room, "one")
    post(api.as_user(admin), room, "two")
    got = stream(b, cursor=start["cursor"])
    assert [event["data"]["text"] for event in got["events"]] == ["one", "two"]
    assert stream(b, cursor=got["cursor"])["events"] == []
    # the old cursor still gives exactly the same events again
    assert stream(b, cursor=start["cursor"])["events"] == got["events"]


def test_stream_covers_every_room_of_the_user(api, admin, bob, room):
    other = api.as_user(admin).post("/api/rooms", {"name": "random"}).json["_id"]["$oid"]
    api.as_user(bob).post("/api/members", {"room": other})
    start = stream(api.as_user(bob))
    post(api.as_user(admin), room, "in general")
    post(api.as_user(admin), other, "in random")
    got = stream(api.as_user(bob), cursor=start["cursor"])["events"]
    assert sorted(event["data"]["text"] for event in got) == ["in general", "in random"]
    assert len(decode_cursor(start["cursor"])) == 2


def test_stream_adds_a_room_joined_from_its_join_event(api, admin, bob):
    later = api.as_user(admin).post("/api/rooms", {"name": "later"}).json["_id"]["$oid"]
    post(api.as_user(admin), later, "before bob joined")
    start = stream(api.as_user(bob))
    api.as_user(bob).post("/api/members", {"room": later})
    post(api.as_user(admin), later, "after bob joined")
    got = stream(api.as_user(bob), cursor=start["cursor"])["events"]
    assert [event["type"] for event in got] == ["member.joined", "message"]
    assert got[1]["data"]["text"] == "after bob joined"


def test_stream_ends_a_room_at_the_users_departure(api, admin, bob, room):
    b = api.as_user(bob)
    start = stream(b)
    post(api.as_user(admin), room, "while bob is here")
    mine = [m for m in b.get("/api/members", params={"room": room}).json
            if m["username"] == "bob"][0]
    b.delete(f"/api/members/{mine['_id']['$oid']}")
    post(api.as_user(admin), room, "after bob left")
    got = stream(b, cursor=start["cursor"])
    assert [event["type"] for event in got["events"]] == ["message", "member.left",
                                                          "stream.removed"]
    assert "after bob left" not in str(got)
    assert stream(b, cursor=got["cursor"])["events"] == []


def test_stream_wait_wakes_on_a_post(api, admin, bob, room):
    start = stream(api.as_user(bob))
    threading.Timer(0.3, lambda: post(api.as_user(admin), room, "wake")).start()
    got = stream(api.as_user(bob), cursor=start["cursor"], wait=5)
    assert [event["data"]["text"] for event in got["events"]] == ["wake"]


def test_stream_carries_the_users_read_markers(api, admin, bob, room):
    b = api.as_user(bob)
    start = stream(b)
    post(api.as_user(admin), room, "read me")
    got = stream(b, cursor=start["cursor"])
    seq = got["events"][0]["seq"]
    assert b.put(f"/api/rooms/{room}/read", {"seq": seq}).status_int == 200
    again = stream(b, cursor=got["cursor"])
    assert [(event["type"], event["data"]) for event in again["events"]] == \
        [("read", {"seq": seq})]


def test_forged_cursor_for_a_room_of_others_reveals_nothing(api, admin, bob, make_user):
    from bson import ObjectId
    secret = api.as_user(admin).post("/api/rooms", {"name": "staff", "is_open": False,
                                                    "is_visible": False}).json["_id"]["$oid"]
    post(api.as_user(admin), secret, "staff only")
    forged = encode_cursor({ObjectId(secret): 0})
    got = stream(api.as_user(bob), cursor=forged)
    assert "staff only" not in str(got)
    assert [event["type"] for event in got["events"]] == ["stream.removed"]


@pytest.mark.parametrize("cursor", ["2.AAAA", "1.!!", "1.AAAA", "garbage"])
def test_stream_bad_cursor_400(api, bob, cursor):
    resp = api.as_user(bob).get("/api/events", params={"cursor": cursor})
    assert resp.status_int == 400
    assert resp.json["title"] == "Invalid cursor"


def test_stream_cursor_beyond_a_rooms_end_says_reset(api, admin, bob, room):
    from bson import ObjectId
    ahead = encode_cursor({ObjectId(room): 999})
    got = stream(api.as_user(bob), cursor=ahead)
    assert [event["type"] for event in got["events"]] == ["stream.reset"]
    post(api.as_user(admin), room, "after the reset")
    again = stream(api.as_user(bob), cursor=got["cursor"])
    assert [event["data"]["text"] for event in again["events"]] == ["after the reset"]


def test_stream_from_a_cursor_reads_each_rooms_mark_once(config, admin, bob, commands):
    """PERF: the resync walks the marks (a cursor may come from another
    process); the step after it uses what that walk learnt."""
    import webtest

    from makechat.app import create_app
    app = webtest.TestApp(create_app(config.replace(poll_interval=5.0)))
    headers = {"X-Auth-Token": bob.secret, "Accept": "application/json"}
    rooms = [app.post_json("/api/rooms", {"name": f"r{n}"},
                           headers={"X-Auth-Token": admin.secret}).json["_id"]["$oid"]
             for n in range(3)]
    for room_id in rooms:
        app.post_json("/api/members", {"room": room_id}, headers=headers)
    start = app.get("/api/events", headers=headers).json["cursor"]
    for room_id in rooms:
        app.post_json("/api/messages", {"room": room_id, "text": "hi"}, headers=headers)
    commands.clear()
    got = app.get("/api/events", params={"cursor": start}, headers=headers).json
    assert [event["type"] for event in got["events"]] == ["message"] * 3
    assert [command.get("find") for _, command in commands].count("rooms") == 1, commands
