"""/api/members: joining, adding, roles, leaving, and who may see what."""

import pytest

from makechat.models import Member


@pytest.fixture
def carol(make_user):
    return make_user("carol")


def room(api, admin, **fields):
    resp = api.as_user(admin).post("/api/rooms", {"name": fields.pop("name", "room1"), **fields})
    return resp.json["_id"]["$oid"]


def test_list_members_shape(api, admin, bob):
    room_id = room(api, admin)
    api.as_user(bob).post("/api/members", {"room": room_id})
    resp = api.as_user(bob).get("/api/members", params={"room": room_id})
    assert resp.status_int == 200
    assert [(m["username"], m["role"]) for m in resp.json] == [("admin", "owner"),
                                                               ("bob", "member")]
    assert set(resp.json[0]) == {"_id", "room", "user", "username", "role", "joined"}


def test_list_members_open_room_non_member_200(api, admin, bob):
    """Anyone may join an open room and then see its members: no secret."""
    room_id = room(api, admin)
    resp = api.as_user(bob).get("/api/members", params={"room": room_id})
    assert resp.status_int == 200
    assert [m["username"] for m in resp.json] == ["admin"]


def test_list_members_closed_visible_room_non_member_403(api, admin, bob):
    room_id = room(api, admin, is_open=False)
    resp = api.as_user(bob).get("/api/members", params={"room": room_id})
    assert resp.status_int == 403
    assert "admin" not in resp.text


def test_list_members_invisible_room_non_member_404(api, admin, bob):
    room_id = room(api, admin, is_visible=False)
    resp = api.as_user(bob).get("/api/members", params={"room": room_id})
    assert resp.status_int == 404
    assert "admin" not in resp.text


def test_list_members_admin_non_member_200(api, admin, make_user):
    other = make_user(admin=True)
    room_id = room(api, other, is_visible=False)
    assert api.as_user(admin).get("/api/members", params={"room": room_id}).status_int == 200


def test_list_members_without_room_400(api, bob):
    assert api.as_user(bob).get("/api/members").status_int == 400


def test_join_open_room_201(api, admin, bob):
    room_id = room(api, admin)
    resp = api.as_user(bob).post("/api/members", {"room": room_id})
    assert resp.status_int == 201
    assert resp.json["username"] == "bob" and resp.json["role"] == "member"


def test_join_twice_does_not_duplicate(api, admin, bob):
    room_id = room(api, admin)
    first = api.as_user(bob).post("/api/members", {"room": room_id})
    second = api.as_user(bob).post("/api/members", {"room": room_id})
    assert second.status_int == 200
    assert second.json["_id"] == first.json["_id"]
    assert Member.objects(room=room_id, user=bob.id).count() == 1


def test_join_closed_room_403(api, admin, bob):
    room_id = room(api, admin, is_open=False)
    assert api.as_user(bob).post("/api/members", {"room": room_id}).status_int == 403
    assert Member.objects(room=room_id, user=bob.id).count() == 0


def test_join_invisible_room_404(api, admin, bob):
    room_id = room(api, admin, is_visible=False)
    assert api.as_user(bob).post("/api/members", {"room": room_id}).status_int == 404


def test_join_cannot_self_promote_to_owner_403(api, admin, bob):
    room_id = room(api, admin)
    resp = api.as_user(bob).post("/api/members", {"room": room_id, "role": "owner"})
    assert resp.status_int == 403
    assert Member.objects(room=room_id, user=bob.id).count() == 0


def test_owner_adds_user_to_closed_room_201(api, admin, bob):
    room_id = room(api, admin, is_open=False, is_visible=False)
    resp = api.as_user(admin).post("/api/members", {"room": room_id, "user": str(bob.id)})
    assert resp.status_int == 201
    assert Member.objects.get(room=room_id, user=bob.id).role == "member"


def test_member_cannot_add_others_403(api, admin, bob, carol):
    room_id = room(api, admin)
    api.as_user(bob).post("/api/members", {"room": room_id})
    resp = api.as_user(bob).post("/api/members", {"room": room_id, "user": str(carol.id)})
    assert resp.status_int == 403
    assert Member.objects(room=room_id, user=carol.id).count() == 0


@pytest.mark.parametrize("user_id", ["0" * 24, "bad"])
def test_add_unknown_user_404_or_400(api, admin, user_id):
    room_id = room(api, admin)
    resp = api.as_user(admin).post("/api/members", {"room": room_id, "user": user_id})
    assert resp.status_int in (400, 404)


def test_add_with_bad_role_400(api, admin, bob):
    room_id = room(api, admin)
    resp = api.as_user(admin).post("/api/members", {"room": room_id, "user": str(bob.id),
                                                    "role": "king"})
    assert resp.status_int == 400


def test_leave_room_204(api, admin, bob):
    room_id = room(api, admin)
    member = api.as_user(bob).post("/api/members", {"room": room_id}).json
    assert api.as_user(bob).delete(f"/api/members/{member['_id']['$oid']}").status_int == 204
    assert Member.objects(room=room_id, user=bob.id).count() == 0


def test_owner_removes_member_204(api, admin, bob):
    room_id = room(api, admin)
    member = api.as_user(bob).post("/api/members", {"room": room_id}).json
    assert api.as_user(admin).delete(f"/api/members/{member['_id']['$oid']}").status_int == 204


def test_member_cannot_remove_other_403(api, admin, bob, carol):
    room_id = room(api, admin)
    api.as_user(bob).post("/api/members", {"room": room_id})
    carols = api.as_user(carol).post("/api/members", {"room": room_id}).json
    assert api.as_user(bob).delete(f"/api/members/{carols['_id']['$oid']}").status_int == 403
    assert Member.objects(room=room_id, user=carol.id).count() == 1


def test_stranger_cannot_see_membership_of_invisible_room_404(api, admin, bob, carol):
    room_id = room(api, admin, is_visible=False)
    member = api.as_user(admin).post("/api/members", {"room": room_id, "user": str(carol.id)}).json
    assert api.as_user(bob).delete(f"/api/members/{member['_id']['$oid']}").status_int == 404
    assert api.as_user(bob).get(f"/api/members/{member['_id']['$oid']}").status_int == 404


def test_last_owner_leaving_promotes_longest_member(api, admin, bob, carol):
    room_id = room(api, admin)
    api.as_user(bob).post("/api/members", {"room": room_id})
    api.as_user(carol).post("/api/members", {"room": room_id})
    owner = Member.objects.get(room=room_id, user=admin.id)
    assert api.as_user(admin).delete(f"/api/members/{owner.id}").status_int == 204
    assert Member.objects.get(room=room_id, user=bob.id).role == "owner"
    assert Member.objects.get(room=room_id, user=carol.id).role == "member"


def test_demote_last_owner_409(api, admin, bob):
    room_id = room(api, admin)
    api.as_user(bob).post("/api/members", {"room": room_id})
    owner = Member.objects.get(room=room_id, user=admin.id)
    resp = api.as_user(admin).patch(f"/api/members/{owner.id}", {"role": "member"})
    assert resp.status_int == 409
    assert Member.objects.get(id=owner.id).role == "owner"


def test_owner_promotes_member(api, admin, bob):
    room_id = room(api, admin)
    member = api.as_user(bob).post("/api/members", {"room": room_id}).json
    resp = api.as_user(admin).patch(f"/api/members/{member['_id']['$oid']}", {"role": "owner"})
    assert resp.status_int == 200 and resp.json["role"] == "owner"


def test_member_cannot_promote_self_403(api, admin, bob):
    room_id = room(api, admin)
    member = api.as_user(bob).post("/api/members", {"room": room_id}).json
    resp = api.as_user(bob).patch(f"/api/members/{member['_id']['$oid']}", {"role": "owner"})
    assert resp.status_int == 403
    assert Member.objects.get(room=room_id, user=bob.id).role == "member"


# -- races and names (issues 9 and 16)


@pytest.mark.slow
def test_owners_demoting_each_other_at_once_leave_an_owner(config, make_user):
    """Ten rooms, two owners each, who demote each other at the same moment
    through a two-worker server: every room still has an owner."""
    import threading

    from makechat.models import Member
    from tests.live import LiveServer, http
    admin, first, second = make_user(admin=True), make_user(), make_user()
    environ = {"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_WORKERS": "2"}
    with LiveServer(environ) as server:
        jobs = []
        for number in range(10):
            _, _, created = http("POST", server.url + "/api/rooms", {"name": f"race{number}"},
                                 token=admin.secret)
            room = created["_id"]["$oid"]
            memberships = {}
            for user in (first, second):
                _, _, member = http("POST", server.url + "/api/members",
                                    {"room": room, "user": str(user.id), "role": "owner"},
                                    token=admin.secret)
                memberships[user.id] = member["_id"]["$oid"]
            # the admin steps out, so the two are the only owners
            _, _, listing = http("GET", server.url + f"/api/members?room={room}",
                                 token=admin.secret)
            mine = [m for m in listing if m["user"]["$oid"] == str(admin.id)][0]
            http("DELETE", server.url + f"/api/members/{mine['_id']['$oid']}", token=admin.secret)
            jobs.append((room, first.secret, memberships[second.id]))
            jobs.append((room, second.secret, memberships[first.id]))
        barrier = threading.Barrier(len(jobs))

        def demote(token, member_id):
            barrier.wait()
            http("PATCH", server.url + f"/api/members/{member_id}", {"role": "member"},
                 token=token)

        threads = [threading.Thread(target=demote, args=(token, member))
                   for _, token, member in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for room, _, _ in jobs[::2]:
        assert Member.objects(room=room, role="owner").count() >= 1, room


def test_add_member_by_username_201(api, admin, bob):
    room_id = room(api, admin, is_open=False)
    resp = api.as_user(admin).post("/api/members", {"room": room_id, "username": "BOB"})
    assert resp.status_int == 201
    assert resp.json["username"] == "bob" and resp.json["user"] == {"$oid": str(bob.id)}


def test_add_member_unknown_username_404(api, admin):
    room_id = room(api, admin)
    resp = api.as_user(admin).post("/api/members", {"room": room_id, "username": "nobody"})
    assert resp.status_int == 404


def test_add_member_by_username_needs_an_owner_403(api, admin, bob, make_user):
    """A non-owner learns nothing about which names exist."""
    make_user("carol")
    room_id = room(api, admin)
    api.as_user(bob).post("/api/members", {"room": room_id})
    for name in ("carol", "nobody"):
        resp = api.as_user(bob).post("/api/members", {"room": room_id, "username": name})
        assert resp.status_int == 403


def test_add_member_user_and_username_400(api, admin, bob):
    room_id = room(api, admin)
    resp = api.as_user(admin).post("/api/members", {"room": room_id, "user": str(bob.id),
                                                    "username": "bob"})
    assert resp.status_int == 400
