"""/api/rooms: the manual's examples, visibility, paging and management."""

import pytest

from makechat.models import Member, Message, Room


def make_room(api, admin, name="room1", **fields):
    resp = api.as_user(admin).post("/api/rooms", {"name": name, **fields})
    assert resp.status_int == 201, resp.text
    return resp.json


def oid(value):
    return value["$oid"]


# -- the manual's examples, replayed


def test_manual_get_rooms_shape(api, admin):
    make_room(api, admin, "room1")
    make_room(api, admin, "room2")
    resp = api.as_user(admin).get("/api/rooms", headers={"Accept": "*/*"})
    assert resp.status_int == 200
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert [room["name"] for room in resp.json] == ["room1", "room2"]
    for room in resp.json:
        assert {"_id", "name", "members", "is_open", "is_visible"} <= set(room)
        assert room["members"] == [{"$oid": str(admin.id)}]
        assert room["is_open"] is True and room["is_visible"] is True
        assert set(room["_id"]) == {"$oid"}


def test_manual_post_room_201(api, admin):
    resp = api.as_user(admin).post("/api/rooms", {"name": "test_room"})
    assert resp.status_int == 201
    assert resp.json["name"] == "test_room"
    assert resp.json["members"] == [{"$oid": str(admin.id)}]
    assert resp.json["is_open"] is True and resp.json["is_visible"] is True


def test_manual_invalid_token_401(api):
    """The manual's answer, with the reason added after its own sentence."""
    resp = api.get("/api/rooms", headers={"X-Auth-Token": "4388c735cba9455cae341cbf17ed2191"})
    assert resp.status_int == 401
    assert resp.json["title"] == "Not authenticated"
    assert resp.json["description"].startswith("Please provide an auth token or login. ")
    assert "not valid" in resp.json["description"]


def test_manual_missing_token_401(api):
    resp = api.get("/api/rooms")
    assert resp.status_int == 401
    assert resp.json == {"description": "Please provide an auth token or login.",
                         "title": "Not authenticated"}


def test_manual_without_admin_403(api, bob):
    # The manual shows this 403 on a room request that needs admin rights.
    resp = api.as_user(bob).post("/api/rooms", {"name": "test_room"})
    assert resp.status_int == 403
    assert resp.json == {"description": "Admin required.", "title": "Permission Denied"}
    assert Room.objects.count() == 0


def test_manual_not_acceptable_406(api, admin):
    resp = api.as_user(admin).get("/api/rooms", headers={"Accept": "text/html"})
    assert resp.status_int == 406
    assert resp.json["title"] == "Media type not acceptable"
    assert resp.json["description"] == "This API only supports responses encoded as JSON."


def test_manual_put_collection_405(api, admin):
    resp = api.as_user(admin).put("/api/rooms", {"data": "test"})
    assert resp.status_int == 405
    allowed = {method.strip() for method in resp.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed and "PUT" not in allowed


def test_manual_missing_name_400(api, admin):
    resp = api.as_user(admin).post("/api/rooms", {"trash": "trash"})
    assert resp.status_int == 400
    assert resp.json == {"description": "The 'name' parameter is required.",
                         "title": "Missing parameter"}


# -- listing


def test_list_rooms_hides_invisible_from_non_members(api, admin, bob):
    make_room(api, admin, "public")
    make_room(api, admin, "secret", is_visible=False)
    names = [room["name"] for room in api.as_user(bob).get("/api/rooms").json]
    assert names == ["public"]


def test_list_rooms_shows_invisible_to_members(api, admin, bob):
    secret = make_room(api, admin, "secret", is_visible=False, is_open=False)
    api.as_user(admin).post("/api/members", {"room": secret["_id"], "user": str(bob.id)})
    rooms = api.as_user(bob).get("/api/rooms").json
    assert [room["name"] for room in rooms] == ["secret"]
    assert rooms[0]["role"] == "member"


def test_list_rooms_admin_sees_all(api, admin, make_user):
    other_admin = make_user(admin=True)
    make_room(api, other_admin, "secret", is_visible=False)
    assert [room["name"] for room in api.as_user(admin).get("/api/rooms").json] == ["secret"]


def test_list_rooms_pages_with_link(api, admin):
    for number in range(5):
        make_room(api, admin, f"room{number}")
    client = api.as_user(admin)
    first = client.get("/api/rooms", params={"limit": 2})
    assert len(first.json) == 2
    link = first.headers["Link"]
    assert link.endswith('; rel="next"')
    seen = [room["name"] for room in first.json]
    url = link.split(";")[0].strip("<>")
    while url:
        page = client.get(url)
        seen += [room["name"] for room in page.json]
        url = page.headers.get("Link", "").split(";")[0].strip("<>")
    assert seen == [f"room{number}" for number in range(5)]


@pytest.mark.parametrize("limit", ["0", "201", "ten"])
def test_list_rooms_bad_limit_400(api, admin, limit):
    assert api.as_user(admin).get("/api/rooms", params={"limit": limit}).status_int == 400


def test_list_rooms_bad_cursor_400(api, admin):
    assert api.as_user(admin).get("/api/rooms", params={"after": "xyz"}).status_int == 400


# -- creating


def test_create_room_creator_is_owner(api, admin):
    room = make_room(api, admin)
    member = Member.objects.get(room=oid(room["_id"]), user=admin.id)
    assert member.role == "owner"
    assert room["role"] == "owner"


def test_create_room_taken_name_409(api, admin):
    make_room(api, admin, "General")
    resp = api.as_user(admin).post("/api/rooms", {"name": "general"})
    assert resp.status_int == 409
    assert Room.objects.count() == 1


@pytest.mark.parametrize("body", [{"name": 5}, {"name": ""}, {"name": "   "},
                                  {"name": "x" * 65}, {"name": "ok", "is_open": "yes"},
                                  {"name": "ok", "topic": ["a"]},
                                  {"name": {"$ne": None}}, {"name": "ok", "last_seq": 99}])
def test_create_room_invalid_400(api, admin, body):
    resp = api.as_user(admin).post("/api/rooms", body)
    assert resp.status_int == 400
    assert set(resp.json) == {"title", "description"}
    assert Room.objects.count() == 0


# -- one room


def test_get_room_visible(api, admin, bob):
    room = make_room(api, admin)
    resp = api.as_user(bob).get(f"/api/rooms/{oid(room['_id'])}")
    assert resp.status_int == 200 and resp.json["name"] == "room1"


@pytest.mark.parametrize("room_id", ["nope", "0" * 24])
def test_get_room_unknown_or_malformed_404(api, bob, room_id):
    assert api.as_user(bob).get(f"/api/rooms/{room_id}").status_int == 404


def test_get_invisible_room_non_member_404(api, admin, bob):
    room = make_room(api, admin, "secret", is_visible=False)
    resp = api.as_user(bob).get(f"/api/rooms/{oid(room['_id'])}")
    assert resp.status_int == 404
    assert "secret" not in resp.text


@pytest.mark.parametrize("method", ["patch", "put"])
def test_update_room_by_owner(api, admin, bob, method):
    room = make_room(api, admin)
    api.as_user(admin).post("/api/members", {"room": room["_id"], "user": str(bob.id),
                                             "role": "owner"})
    resp = getattr(api.as_user(bob), method)(f"/api/rooms/{oid(room['_id'])}",
                                              {"topic": "news", "is_open": False})
    assert resp.status_int == 200
    assert resp.json["topic"] == "news" and resp.json["is_open"] is False


def test_update_room_by_plain_member_403(api, admin, bob):
    room = make_room(api, admin)
    api.as_user(bob).post("/api/members", {"room": room["_id"]})
    resp = api.as_user(bob).patch(f"/api/rooms/{oid(room['_id'])}", {"name": "mine"})
    assert resp.status_int == 403
    assert Room.objects.get(id=oid(room["_id"])).name == "room1"


def test_update_invisible_room_by_stranger_404(api, admin, bob):
    room = make_room(api, admin, is_visible=False)
    assert api.as_user(bob).patch(f"/api/rooms/{oid(room['_id'])}",
                                   {"name": "mine"}).status_int == 404


def test_update_room_rename_to_taken_409(api, admin):
    make_room(api, admin, "one")
    two = make_room(api, admin, "two")
    assert api.as_user(admin).patch(f"/api/rooms/{oid(two['_id'])}",
                                    {"name": "ONE"}).status_int == 409


def test_update_room_counter_fields_refused_400(api, admin):
    room = make_room(api, admin)
    resp = api.as_user(admin).patch(f"/api/rooms/{oid(room['_id'])}", {"last_seq": 1000})
    assert resp.status_int == 400
    assert Room.objects.get(id=oid(room["_id"])).last_seq == room["last_seq"] == 1


def test_delete_room_removes_members_and_messages(api, admin, bob):
    room = make_room(api, admin)
    room_id = oid(room["_id"])
    api.as_user(bob).post("/api/members", {"room": room["_id"]})
    api.as_user(bob).post("/api/messages", {"room": room["_id"], "text": "hello"})
    assert api.as_user(admin).delete(f"/api/rooms/{room_id}").status_int == 204
    assert Room.objects(id=room_id).count() == 0
    assert Member.objects(room=room_id).count() == 0
    assert Message.posted(room=room_id).count() == 0


def test_delete_room_by_member_403(api, admin, bob):
    room = make_room(api, admin)
    api.as_user(bob).post("/api/members", {"room": room["_id"]})
    assert api.as_user(bob).delete(f"/api/rooms/{oid(room['_id'])}").status_int == 403
    assert Room.objects.count() == 1


# -- hardening (issue 9)


def test_closed_room_hides_members_and_position_from_non_members(api, admin, bob):
    room_id = oid(make_room(api, admin, name="staff", is_open=False)["_id"])
    resp = api.as_user(bob).get(f"/api/rooms/{room_id}")
    assert resp.status_int == 200
    assert not {"members", "last_seq", "created_by"} & set(resp.json)
    assert str(admin.id) not in resp.text
    listed = [r for r in api.as_user(bob).get("/api/rooms").json if r["name"] == "staff"][0]
    assert "members" not in listed and "last_seq" not in listed
    # ... and GET /api/members agrees
    assert api.as_user(bob).get("/api/members", params={"room": room_id}).status_int == 403


def test_closed_room_shows_members_to_members_and_admins(api, admin, bob):
    room_id = oid(make_room(api, admin, name="staff", is_open=False)["_id"])
    api.as_user(admin).post("/api/members", {"room": room_id, "user": str(bob.id)})
    for user in (admin, bob):
        shown = api.as_user(user).get(f"/api/rooms/{room_id}").json
        assert len(shown["members"]) == 2 and shown["last_seq"] == 2  # two joins


@pytest.mark.parametrize("look_alike", [
    "\u0440ublic",        # Cyrillic er, not Latin p
    "Public",             # case
    "pub1ic",             # digit one for l
    "public\u200b",       # refused anyway: zero-width space
    "publ\u0456c",       # Cyrillic i
    "  public  ",         # outer spaces are trimmed
    "\uff50ublic",        # fullwidth p
])
def test_create_room_look_alike_name_refused(api, admin, look_alike):
    make_room(api, admin, name="public")
    resp = api.as_user(admin).post("/api/rooms", {"name": look_alike})
    assert resp.status_int in (400, 409), resp.text
    from makechat.models import Room
    assert Room.objects.count() == 1


@pytest.mark.parametrize("name", ["a\u202eb", "x\u200by", "nul\u0000", "tab\there",
                                  "new\nline", "\u2066isolate", "\ue000private", "\u200b",
                                  "\U000e0001tag"])
def test_create_room_invisible_or_control_characters_400(api, admin, name):
    resp = api.as_user(admin).post("/api/rooms", {"name": name})
    assert resp.status_int == 400
    assert "control, format" in resp.json["description"]


def test_create_room_name_is_stored_in_nfc(api, admin):
    resp = api.as_user(admin).post("/api/rooms", {"name": "cafe\u0301"})
    assert resp.status_int == 201
    assert resp.json["name"] == "caf\u00e9"
    again = api.as_user(admin).post("/api/rooms", {"name": "caf\u00e9"})
    assert again.status_int == 409


def test_rename_room_to_a_look_alike_409(api, admin):
    make_room(api, admin, name="general")
    other = oid(make_room(api, admin, name="random")["_id"])
    resp = api.as_user(admin).patch(f"/api/rooms/{other}", {"name": "genera1"})
    assert resp.status_int == 409
    assert "'general' already exists" in resp.json["description"]


def test_room_names_in_many_scripts_are_fine(api, admin):
    for name in ("日本語", "Ελληνικά", "🎉 party", "عربي", "café au lait"):
        assert api.as_user(admin).post("/api/rooms", {"name": name}).status_int == 201, name


@pytest.mark.parametrize("form", ['{{"$oid": "{}"}}', '{{"$oid":"{}"}}'])
def test_room_id_as_oid_text_in_path_and_query(api, admin, form):
    from urllib.parse import quote
    room_id = oid(make_room(api, admin)["_id"])
    text = form.format(room_id)
    resp = api.as_user(admin).get(f"/api/rooms/{quote(text)}")
    assert resp.status_int == 200 and resp.json["_id"]["$oid"] == room_id
    resp = api.as_user(admin).get("/api/members", params={"room": text})
    assert resp.status_int == 200 and resp.json[0]["room"]["$oid"] == room_id
