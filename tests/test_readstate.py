"""PUT /api/rooms/{room_id}/read and the unread figures of GET /api/rooms
(makechat/chat/readstate.py)."""

import threading

import pytest


@pytest.fixture
def room(api, admin, bob):
    room_id = api.as_user(admin).post("/api/rooms", {"name": "general"}).json["_id"]["$oid"]
    api.as_user(bob).post("/api/members", {"room": room_id})
    return room_id


def post(client, room_id, text):
    return client.post("/api/messages", {"room": room_id, "text": text}).json


def shown(client, room_id):
    return [room for room in client.get("/api/rooms").json
            if room["_id"]["$oid"] == room_id][0]


def read(client, room_id, seq):
    return client.put(f"/api/rooms/{room_id}/read", {"seq": seq})


def test_unread_counts_others_messages_after_the_marker(api, admin, bob, room):
    a, b = api.as_user(admin), api.as_user(bob)
    first = post(a, room, "one")
    post(a, room, "two")
    post(b, room, "bob's own")
    assert (shown(b, room)["read_seq"], shown(b, room)["unread"]) == (0, 2)
    resp = read(b, room, first["seq"])
    assert resp.status_int == 200
    assert resp.json == {"room": {"$oid": room}, "read_seq": first["seq"], "unread": 1}
    assert shown(b, room)["unread"] == 1


def test_deleted_messages_are_not_unread(api, admin, bob, room):
    a, b = api.as_user(admin), api.as_user(bob)
    gone = post(a, room, "oops")
    post(a, room, "stays")
    a.delete(f"/api/messages/{gone['_id']['$oid']}")
    assert shown(b, room)["unread"] == 1


def test_marker_only_moves_forward(api, admin, bob, room):
    a, b = api.as_user(admin), api.as_user(bob)
    seqs = [post(a, room, f"m{n}")["seq"] for n in range(3)]
    assert read(b, room, seqs[2]).json["read_seq"] == seqs[2]
    again = read(b, room, seqs[0])
    assert again.status_int == 200 and again.json["read_seq"] == seqs[2]
    assert read(b, room, seqs[2]).json["read_seq"] == seqs[2]  # idempotent


def test_concurrent_markers_end_at_the_highest(api, admin, bob, room):
    a, b = api.as_user(admin), api.as_user(bob)
    seqs = [post(a, room, f"m{n}")["seq"] for n in range(12)]
    threads = [threading.Thread(target=read, args=(b, room, seq)) for seq in seqs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert shown(b, room)["read_seq"] == seqs[-1] and shown(b, room)["unread"] == 0


def test_marker_beyond_the_rooms_end_400(api, admin, bob, room):
    resp = read(api.as_user(bob), room, 10_000)
    assert resp.status_int == 400
    assert "beyond" in resp.json["description"]


@pytest.mark.parametrize("body", [{}, {"seq": -1}, {"seq": "3"}, {"seq": 1.5}, {"seq": 1, "x": 2}])
def test_marker_bad_body_400(api, bob, room, body):
    assert api.as_user(bob).put(f"/api/rooms/{room}/read", body).status_int == 400


def test_marker_for_members_only(api, make_user, room):
    resp = read(api.as_user(make_user()), room, 1)
    assert resp.status_int == 403


def test_rooms_one_is_not_in_have_no_unread_figures(api, admin, make_user, room):
    stranger = api.as_user(make_user())
    listed = shown(stranger, room)
    assert "unread" not in listed and "read_seq" not in listed
