"""Replies and threads: reply_to on POST /api/messages, ?thread= on GET."""

import threading

import pytest

from makechat.chat.threads import EXCERPT_LENGTH, excerpt


@pytest.fixture
def room(api, admin, bob):
    room = api.as_user(admin).post("/api/rooms", {"name": "room1"}).json["_id"]["$oid"]
    api.as_user(bob).post("/api/members", {"room": room})
    return room


def post(api, user, room, text, reply_to=None, status=201):
    body = {"room": room, "text": text}
    if reply_to is not None:
        body["reply_to"] = reply_to["_id"]["$oid"]
    resp = api.as_user(user).post("/api/messages", body)
    assert resp.status_int == status, resp.text
    return resp.json


def listing(api, user, room, **params):
    resp = api.as_user(user).get("/api/messages", params={"room": room, **params})
    assert resp.status_int == 200, resp.text
    return resp


def test_a_reply_shows_the_parents_author_and_an_excerpt(api, admin, bob, room):
    parent = post(api, admin, room, "Who takes the release?")
    reply = post(api, bob, room, "I do", reply_to=parent)
    assert reply["reply_to"] == {"_id": parent["_id"], "author": {"$oid": str(admin.id)},
                                 "author_username": "admin",
                                 "excerpt": "Who takes the release?", "deleted": False}
    assert reply["thread"] == parent["_id"]


def test_excerpt_is_one_line_and_short():
    assert excerpt("a\n  b") == "a b"
    long = excerpt("word " * 100)
    assert len(long) == EXCERPT_LENGTH and long.endswith("\u2026")


def test_a_reply_to_a_reply_joins_the_first_messages_thread(api, admin, bob, room):
    parent = post(api, admin, room, "question")
    first = post(api, bob, room, "answer", reply_to=parent)
    second = post(api, admin, room, "thanks", reply_to=first)
    assert second["thread"] == parent["_id"]
    assert second["reply_to"]["_id"] == first["_id"]


def test_the_parent_shows_its_reply_count_and_last_reply_time(api, admin, bob, room):
    parent = post(api, admin, room, "question")
    post(api, bob, room, "one", reply_to=parent)
    last = post(api, admin, room, "two", reply_to=parent)
    shown = api.as_user(bob).get(f"/api/messages/{parent['_id']['$oid']}").json
    assert shown["reply_count"] == 2 and shown["last_reply_at"] == last["created"]
    page = listing(api, bob, room).json
    assert [m.get("reply_count") for m in page] == [2, None, None]


def test_deleted_replies_are_not_counted(api, admin, bob, room):
    parent = post(api, admin, room, "question")
    reply = post(api, bob, room, "oops", reply_to=parent)
    api.as_user(bob).delete(f"/api/messages/{reply['_id']['$oid']}")
    shown = api.as_user(bob).get(f"/api/messages/{parent['_id']['$oid']}").json
    assert "reply_count" not in shown


def test_deleting_the_parent_empties_the_excerpt(api, admin, bob, room):
    parent = post(api, admin, room, "a secret")
    reply = post(api, bob, room, "noted", reply_to=parent)
    api.as_user(admin).delete(f"/api/messages/{parent['_id']['$oid']}")
    shown = api.as_user(bob).get(f"/api/messages/{reply['_id']['$oid']}").json
    assert shown["reply_to"]["excerpt"] == "" and shown["reply_to"]["deleted"] is True


def test_thread_lists_the_first_message_and_its_replies(api, admin, bob, room):
    parent = post(api, admin, room, "question")
    post(api, admin, room, "unrelated")
    post(api, bob, room, "one", reply_to=parent)
    post(api, admin, room, "two", reply_to=parent)
    page = listing(api, bob, room, thread=parent["_id"]["$oid"]).json
    assert [m["text"] for m in page] == ["question", "one", "two"]


def test_any_message_of_a_thread_names_it(api, admin, bob, room):
    parent = post(api, admin, room, "question")
    reply = post(api, bob, room, "one", reply_to=parent)
    page = listing(api, bob, room, thread=reply["_id"]["$oid"]).json
    assert [m["text"] for m in page] == ["question", "one"]


def test_thread_pages_with_the_same_cursors(api, admin, bob, room):
    parent = post(api, admin, room, "question")
    replies = [post(api, bob, room, f"r{n}", reply_to=parent) for n in range(4)]
    post(api, admin, room, "unrelated")
    thread = parent["_id"]["$oid"]
    latest = listing(api, bob, room, thread=thread, limit=2)
    assert [m["text"] for m in latest.json] == ["r2", "r3"]
    older = api.as_user(bob).get(latest.headers["Link"].split(";")[0].strip("<>"))
    assert [m["text"] for m in older.json] == ["r0", "r1"]
    after = listing(api, bob, room, thread=thread, after=str(replies[1]["seq"]))
    assert [m["text"] for m in after.json] == ["r2", "r3"]


def test_a_thread_can_be_followed_with_wait(api, admin, bob, room):
    parent = post(api, admin, room, "question")
    resp = listing(api, bob, room, thread=parent["_id"]["$oid"], after=str(parent["seq"]),
                   wait="0.2")
    assert resp.json == []


def test_reply_to_a_message_of_another_room_is_404(api, admin, bob, room):
    other = api.as_user(admin).post("/api/rooms", {"name": "other", "is_open": False,
                                                   "is_visible": False}).json["_id"]["$oid"]
    elsewhere = post(api, admin, other, "not for bob")
    resp = api.as_user(bob).post("/api/messages", {"room": room, "text": "hi",
                                                   "reply_to": elsewhere["_id"]["$oid"]})
    assert resp.status_int == 404 and "not for bob" not in resp.text
    assert listing(api, bob, room).json == []


def test_reply_to_a_deleted_or_unknown_message_is_404(api, admin, bob, room):
    parent = post(api, admin, room, "gone")
    api.as_user(admin).delete(f"/api/messages/{parent['_id']['$oid']}")
    post(api, bob, room, "late", reply_to=parent, status=404)
    resp = api.as_user(bob).post("/api/messages", {"room": room, "text": "x",
                                                   "reply_to": "0" * 24})
    assert resp.status_int == 404


def test_malformed_reply_to_is_400(api, bob, room):
    resp = api.as_user(bob).post("/api/messages", {"room": room, "text": "x",
                                                   "reply_to": "nope"})
    assert resp.status_int == 400


def test_thread_of_another_room_is_404(api, admin, bob, room):
    other = api.as_user(admin).post("/api/rooms", {"name": "other"}).json["_id"]["$oid"]
    elsewhere = post(api, admin, other, "there")
    resp = api.as_user(bob).get("/api/messages", params={"room": room,
                                                         "thread": elsewhere["_id"]["$oid"]})
    assert resp.status_int == 404
    resp = api.as_user(bob).get("/api/messages", params={"room": room, "thread": "nope"})
    assert resp.status_int == 404


def test_a_reply_is_an_event_with_its_reply_to(api, admin, bob, room):
    parent = post(api, admin, room, "question")
    reply = post(api, bob, room, "answer", reply_to=parent)
    events = api.as_user(admin).get(f"/api/rooms/{room}/events",
                                    params={"after": parent["seq"]}).json["events"]
    assert events[0]["data"]["reply_to"]["_id"] == parent["_id"]
    assert events[0]["data"]["_id"] == reply["_id"]


def test_a_non_member_reads_no_thread(api, admin, bob, make_user):
    """A closed room's thread is 404 to an outsider (as the room is); a
    visible room's is 403 to a non-member: neither shows a message."""
    for flags, status in (({"is_open": False, "is_visible": False}, 404), ({}, 403)):
        other = api.as_user(admin).post("/api/rooms", {"name": f"r{status}", **flags}) \
            .json["_id"]["$oid"]
        parent = post(api, admin, other, "secret plan")
        post(api, admin, other, "secret reply", reply_to=parent)
        resp = api.as_user(make_user()).get("/api/messages", params={
            "room": other, "thread": parent["_id"]["$oid"]})
        assert resp.status_int == status and "secret" not in resp.text


def test_concurrent_replies_are_counted_exactly(api, admin, bob, room):
    parent = post(api, admin, room, "vote here")
    barrier = threading.Barrier(10)

    def go(number):
        barrier.wait()
        post(api, bob if number % 2 else admin, room, f"vote {number}", reply_to=parent)

    workers = [threading.Thread(target=go, args=(number,)) for number in range(10)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    shown = api.as_user(bob).get(f"/api/messages/{parent['_id']['$oid']}").json
    assert shown["reply_count"] == 10
    thread = listing(api, bob, room, thread=parent["_id"]["$oid"], limit=50).json
    assert len(thread) == 11
    assert shown["last_reply_at"] == max(reply["created"] for reply in thread[1:])
