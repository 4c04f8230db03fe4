"""POST /api/dms: one closed, invisible, fixed room per set of people."""

import threading

import pytest
import webtest

from makechat.app import create_app
from makechat.models import Member, Room
from tests.factories import ApiClient, limited


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def open_dm(api, user, *others, status=None):
    body = {"user": str(others[0].id)} if len(others) == 1 else \
        {"users": [str(other.id) for other in others]}
    resp = api.as_user(user).post("/api/dms", body)
    if status is not None:
        assert resp.status_int == status, resp.text
    return resp


def test_first_use_makes_the_room_then_returns_it(api, alice, bob):
    first = open_dm(api, alice, bob, status=201)
    assert first.headers["Location"] == f"/api/rooms/{first.json['_id']['$oid']}"
    again = open_dm(api, alice, bob, status=200)
    reverse = open_dm(api, bob, alice, status=200)
    assert first.json["_id"] == again.json["_id"] == reverse.json["_id"]
    assert Room.objects(is_dm=True).count() == 1


def test_it_is_closed_invisible_and_named_after_the_other(api, alice, bob):
    room = open_dm(api, alice, bob, status=201).json
    assert room["is_open"] is False and room["is_visible"] is False and room["dm"] is True
    assert room["name"] == "bob" and room["role"] == "member"
    assert sorted(m["$oid"] for m in room["members"]) == sorted([str(alice.id), str(bob.id)])
    listed = [r for r in api.as_user(bob).get("/api/rooms").json if r.get("dm")]
    assert [r["name"] for r in listed] == ["alice"]


def test_a_small_group_is_its_own_room(api, alice, bob, make_user):
    carol = make_user("carol")
    pair = open_dm(api, alice, bob, status=201).json
    group = open_dm(api, alice, bob, carol, status=201).json
    assert pair["_id"] != group["_id"]
    assert group["name"] == "bob, carol"
    assert open_dm(api, carol, alice, bob, status=200).json["_id"] == group["_id"]


def test_members_can_post_and_read(api, alice, bob):
    room = open_dm(api, alice, bob).json["_id"]["$oid"]
    assert api.as_user(alice).post("/api/messages", {"room": room, "text": "hi"}).status_int \
        == 201
    assert [m["text"] for m in api.as_user(bob).get("/api/messages",
                                                    params={"room": room}).json] == ["hi"]


def test_others_learn_nothing_of_it_admins_included(api, admin, alice, bob, make_user):
    room = open_dm(api, alice, bob).json["_id"]["$oid"]
    for outsider in (admin, make_user()):
        client = api.as_user(outsider)
        assert client.get(f"/api/rooms/{room}").status_int == 404
        assert room not in client.get("/api/rooms").text
        assert client.get("/api/messages", params={"room": room}).status_int == 404
        assert client.get("/api/members", params={"room": room}).status_int == 404
        assert client.post("/api/members", {"room": room}).status_int == 404
        assert client.delete(f"/api/rooms/{room}").status_int == 404


def test_its_members_cannot_be_changed_nor_the_room_renamed(api, alice, bob, make_user):
    room = open_dm(api, alice, bob).json["_id"]["$oid"]
    carol = make_user("carol")
    client = api.as_user(alice)
    assert client.post("/api/members", {"room": room, "user": str(carol.id)}).status_int == 403
    assert client.patch(f"/api/rooms/{room}", {"name": "ours"}).status_int == 403
    mine = Member.objects(room=room, user=alice.id).first()
    theirs = Member.objects(room=room, user=bob.id).first()
    assert client.patch(f"/api/members/{mine.id}", {"role": "owner"}).status_int == 403
    assert client.delete(f"/api/members/{theirs.id}").status_int == 403
    assert client.delete(f"/api/members/{mine.id}").status_int == 403
    assert client.delete(f"/api/rooms/{room}").status_int == 403
    assert Member.objects(room=room).count() == 2
    assert Room.objects.get(id=room).name == "alice, bob"


def test_unknown_or_disabled_users_are_404(api, alice, make_user):
    gone = make_user("gone", active=False)
    assert open_dm(api, alice, gone).status_int == 404
    resp = api.as_user(alice).post("/api/dms", {"user": "0" * 24})
    assert resp.status_int == 404
    assert Room.objects.count() == 0


@pytest.mark.parametrize("body", [{}, {"user": "nope"}, {"users": []},
                                  {"user": "0" * 24, "users": ["0" * 24]},
                                  {"users": ["0" * 24] * 8}])
def test_bad_bodies_are_400(api, alice, body):
    resp = api.as_user(alice).post("/api/dms", body)
    assert resp.status_int == 400 and set(resp.json) == {"title", "description"}
    assert Room.objects.count() == 0


def test_only_yourself_is_400(api, alice):
    assert open_dm(api, alice, alice).status_int == 400


def test_too_many_people_is_400(api, alice, make_user):
    others = [make_user() for _ in range(8)]
    resp = open_dm(api, alice, *others)
    assert resp.status_int == 400 and "1 to 7 user ids" in resp.json["description"]


def test_admins_can_turn_them_off(config, make_user):
    api = ApiClient(webtest.TestApp(create_app(config.replace(allow_dms=False))))
    first, second = make_user(), make_user()
    resp = open_dm(api, first, second)
    assert resp.status_int == 403 and resp.json["title"] == "Direct messages disabled"
    assert Room.objects.count() == 0


def test_concurrent_first_use_makes_one_room(api, make_user):
    """Eight requests at once, from both sides: one room, two memberships,
    two member.joined events."""
    first, second = make_user(), make_user()
    barrier = threading.Barrier(8)
    rooms, statuses = [], []

    def go(number):
        barrier.wait()
        resp = open_dm(api, *((first, second) if number % 2 else (second, first)))
        statuses.append(resp.status_int)
        rooms.append(resp.json["_id"]["$oid"])

    threads = [threading.Thread(target=go, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(rooms)) == 1 and statuses.count(201) == 1
    assert Room.objects.count() == 1 and Member.objects.count() == 2
    events = api.as_user(first).get(f"/api/rooms/{rooms[0]}/events",
                                    params={"after": 0}).json["events"]
    assert [event["type"] for event in events] == ["member.joined"] * 2


@pytest.mark.slow
def test_concurrent_first_use_through_two_server_processes(config, make_user):
    from tests.live import LiveServer, http
    pairs = [(make_user(), make_user()) for _ in range(5)]
    environ = {"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_WORKERS": "2"}
    with LiveServer(environ) as server:
        http("GET", server.url + "/api/health")
        barrier = threading.Barrier(len(pairs) * 4)
        found = []

        def go(me, other):
            barrier.wait()
            status, _, body = http("POST", server.url + "/api/dms", {"user": str(other.id)},
                                   token=me.secret)
            found.append((status, frozenset((me.id, other.id)), body["_id"]["$oid"]))

        threads = [threading.Thread(target=go, args=pair[::step])
                   for pair in pairs for step in (1, -1, 1, -1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert Room.objects(is_dm=True).count() == len(pairs)
    for pair in pairs:
        key = frozenset(user.id for user in pair)
        assert len({room for _, people, room in found if people == key}) == 1
        assert sorted(status for status, people, _ in found if people == key) == \
            [200, 200, 200, 201]
    assert Member.objects.count() == 2 * len(pairs)


def test_a_token_limited_to_rooms_opens_none_but_its_own(api, alice, bob, make_user):
    """A token limited to some rooms makes no conversation (403, nothing
    made) and reaches an existing one only if it is among its rooms."""
    carol = make_user("carol")
    existing = open_dm(api, alice, bob).json["_id"]["$oid"]
    client = limited(api, alice, [existing])
    assert client.post("/api/dms", {"user": str(bob.id)}).status_int == 200
    resp = client.post("/api/dms", {"user": str(carol.id)})
    assert resp.status_int == 403 and resp.json["title"] == "Outside the token's rooms"
    assert Room.objects.count() == 1
