"""Scoped tokens: every operation with a token of each scope (the matrix),
tokens limited to rooms, an admin's token without the admin scope, and no
token making a token that may do more than itself."""

import pytest

from makechat import openapi
from makechat.auth import issue_token
from makechat.scopes import SCOPES

SOME_ID = "0" * 24


def scoped(api, user, scopes=None, rooms=None):
    """A client with a new token of ``user`` limited as given."""
    _, secret = issue_token(user, "scoped", max_tokens=100, scopes=scopes, rooms=rooms)
    client = api.as_user(user)
    client.secret = secret
    return client


def operations(app):
    spec = openapi.build_spec(app)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if operation["x-auth"] != "none":
                yield path, method.upper(), operation["x-scope"]


def call(client, method, path):
    path = path.replace("{", "").replace("}", "")
    for name in ("room_id", "member_id", "message_id", "user_id", "token_id", "bot_id",
                 "hook_id"):
        path = path.replace(name, SOME_ID)
    if method in ("POST", "PUT", "PATCH"):
        return getattr(client, method.lower())(path, {})
    return getattr(client, method.lower())(path)


def test_every_authenticated_operation_declares_a_known_scope_or_none(wsgi_app):
    for path, method, scope in operations(wsgi_app):
        assert scope == "" or scope in SCOPES, (method, path, scope)


@pytest.mark.parametrize("held", list(SCOPES))
def test_the_scopes_matrix(wsgi_app, api, admin, held):
    """A token holding only ``held`` is refused, naming the scope, by every
    operation that needs another, and let through by the others."""
    for path, method, needed in operations(wsgi_app):
        response = call(scoped(api, admin, [held]), method, path)
        missing = response.status_int == 403 and response.json["title"] == "Missing scope"
        if needed and needed != held:
            assert missing, (method, path, response.status_int, response.json)
            assert response.json["description"] == f"This token lacks the scope '{needed}'."
        else:
            assert not missing, (method, path, response.json)


def test_a_token_without_scopes_keeps_full_access(wsgi_app, api, admin):
    for path, method, _ in operations(wsgi_app):
        response = call(scoped(api, admin), method, path)
        assert not (response.status_int == 403 and response.json["title"] == "Missing scope")


def test_openapi_names_each_operations_scope(api):
    document = api.get("/api/openapi.json").json
    post = document["paths"]["/api/messages"]["post"]
    assert post["x-scope"] == "messages:write"
    assert post["security"] == [{"token": ["messages:write"]}, {"bearer": ["messages:write"]}]
    assert "scope `messages:write`" in post["description"]
    assert document["paths"]["/api/users"]["get"]["x-scope"] == "admin"
    assert document["paths"]["/api/users/me"]["get"]["x-scope"] == ""


def test_an_admins_token_without_the_admin_scope_acts_as_a_plain_user(api, admin):
    client = scoped(api, admin, ["rooms:read", "rooms:write"])
    hidden = api.as_user(admin).post("/api/rooms", {"name": "hidden", "is_visible": False,
                                                    "is_open": False}).json["_id"]["$oid"]
    api.as_user(admin).delete(f"/api/members/{_my_membership(api, admin, hidden)}")
    assert client.get(f"/api/rooms/{hidden}").status_int == 404
    response = client.post("/api/rooms", {"name": "nope"})
    assert response.status_int == 403
    assert response.json["description"] == "This token lacks the scope 'admin'."


def _my_membership(api, user, room_id):
    members = api.as_user(user).get("/api/members", {"room": room_id}).json
    return next(member["_id"]["$oid"] for member in members if member["user"]["$oid"]
                == str(user.id))


@pytest.fixture
def two_rooms(api, admin, bob):
    ids = []
    for name in ("allowed", "other"):
        room = api.as_user(admin).post("/api/rooms", {"name": name}).json["_id"]["$oid"]
        api.as_user(bob).post("/api/members", {"room": room})
        ids.append(room)
    return ids


def _oid(text):
    from bson import ObjectId
    return ObjectId(text)


def test_a_token_limited_to_rooms_is_refused_elsewhere(api, bob, two_rooms):
    allowed, other = two_rooms
    client = scoped(api, bob, rooms=[_oid(allowed)])
    assert client.post("/api/messages", {"room": allowed, "text": "in"}).status_int == 201
    for response in (client.post("/api/messages", {"room": other, "text": "out"}),
                     client.get("/api/messages", {"room": other}),
                     client.get(f"/api/rooms/{other}"),
                     client.get(f"/api/rooms/{SOME_ID}")):
        assert response.status_int == 403, response
        assert response.json["description"] == "This token is limited to other rooms."


def test_a_token_limited_to_rooms_lists_and_streams_only_those(api, bob, two_rooms):
    allowed, other = two_rooms
    client = scoped(api, bob, rooms=[_oid(allowed)])
    assert [room["_id"]["$oid"] for room in client.get("/api/rooms").json] == [allowed]
    api.as_user(bob).post("/api/messages", {"room": other, "text": "elsewhere"})
    api.as_user(bob).post("/api/messages", {"room": allowed, "text": "here"})
    start = client.get("/api/events").json["cursor"]
    api.as_user(bob).post("/api/messages", {"room": other, "text": "elsewhere 2"})
    api.as_user(bob).post("/api/messages", {"room": allowed, "text": "here 2"})
    events = client.get("/api/events", {"cursor": start}).json["events"]
    assert {event["room"]["$oid"] for event in events} == {allowed}


def test_a_message_of_another_room_is_refused_to_a_room_limited_token(api, bob, two_rooms):
    allowed, other = two_rooms
    message = api.as_user(bob).post("/api/messages", {"room": other, "text": "x"}).json
    client = scoped(api, bob, rooms=[_oid(allowed)])
    assert client.get(f"/api/messages/{message['_id']['$oid']}").status_int == 403


def test_a_scoped_token_cannot_make_a_token_with_more(api, bob):
    client = scoped(api, bob, ["account", "messages:read"])
    wider = client.post("/api/tokens", {"name": "wider", "scopes": ["messages:write"]})
    assert wider.status_int == 403
    assert wider.json["description"] == "This token lacks the scope 'messages:write'."
    assert client.post("/api/tokens", {"name": "full"}).status_int == 403
    narrower = client.post("/api/tokens", {"name": "narrower", "scopes": ["messages:read"]})
    assert narrower.status_int == 201 and narrower.json["scopes"] == ["messages:read"]


def test_a_room_limited_token_cannot_make_an_unlimited_one(api, bob, two_rooms):
    client = scoped(api, bob, rooms=[_oid(two_rooms[0])])
    assert client.post("/api/tokens", {"name": "everywhere"}).status_int == 403
    other = client.post("/api/tokens", {"name": "elsewhere", "rooms": [two_rooms[1]]})
    assert other.status_int == 403


def test_a_plain_user_cannot_have_the_admin_scope(api, bob):
    response = api.as_user(bob).post("/api/tokens", {"name": "x", "scopes": ["admin"]})
    assert response.status_int == 403
    assert "admins' tokens only" in response.json["description"]


def test_an_unknown_scope_is_refused(api, bob):
    response = api.as_user(bob).post("/api/tokens", {"name": "x", "scopes": ["everything"]})
    assert response.status_int == 400


def test_a_token_for_a_room_one_cannot_see_is_no_such_room(api, bob):
    response = api.as_user(bob).post("/api/tokens", {"name": "x", "rooms": [SOME_ID]})
    assert response.status_int == 404


def test_tokens_list_their_scopes_rooms_and_expiry(api, bob, two_rooms):
    made = api.as_user(bob).post("/api/tokens", {
        "name": "reader", "scopes": ["messages:read", "rooms:read"], "rooms": [two_rooms[0]],
        "expires_in": 3600}).json
    listed = {token["name"]: token for token in api.as_user(bob).get("/api/tokens").json}
    assert listed["reader"]["scopes"] == ["messages:read", "rooms:read"]
    assert listed["reader"]["rooms"] == [{"$oid": two_rooms[0]}]
    assert listed["reader"]["expires"] == made["expires"] is not None
    assert listed["test"]["scopes"] is None and listed["test"]["rooms"] is None
    assert listed["test"]["last_used"] is not None


def test_an_expired_scoped_token_is_401(api, bob, raw_db):
    client = scoped(api, bob, ["messages:read"])
    from datetime import datetime, timezone
    raw_db.tokens.update_many({"owner": bob.id, "name": "scoped"},
                              {"$set": {"expires": datetime(2000, 1, 1, tzinfo=timezone.utc)}})
    assert client.get("/api/rooms").status_int == 401
