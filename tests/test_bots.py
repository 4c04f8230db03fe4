"""Bot accounts (makechat.bots.accounts, /api/bots): made by admins, no
password, tokens from their owner or an admin, marked as bots everywhere."""

import pytest

from makechat.models import User


@pytest.fixture
def bot(api, admin, bob):
    response = api.as_user(admin).post("/api/bots", {"username": "ci-bot",
                                                     "owner": str(bob.id)})
    assert response.status_int == 201, response.json
    return response.json


def bot_token(api, user, bot, **limits):
    response = api.as_user(user).post(f"/api/bots/{bot['_id']['$oid']}/tokens",
                                      {"name": "ci", **limits})
    assert response.status_int == 201, response.json
    return response.json["token"]


def test_an_admin_creates_a_bot_marked_as_such(bot, bob):
    assert bot["username"] == "ci-bot" and bot["is_bot"] is True
    assert bot["bot_owner"] == {"$oid": str(bob.id)}
    assert bot["email"].endswith("@bots.invalid")


def test_only_admins_create_bots(api, bob):
    assert api.as_user(bob).post("/api/bots", {"username": "mine"}).status_int == 403


def test_a_bot_name_is_unique_like_a_users(api, admin, bob):
    response = api.as_user(admin).post("/api/bots", {"username": "BOB"})
    assert response.status_int == 409


def test_a_bot_cannot_log_in_with_a_password(app, bot):
    for password in ("", "!bot", "anything-at-all"):
        response = app.post_json("/api/login", {"username": "ci-bot", "password": password},
                                 expect_errors=True)
        assert response.status_int == 401


def test_a_bot_cannot_be_given_a_password(api, admin, bot):
    response = api.as_user(admin).patch(f"/api/users/{bot['_id']['$oid']}",
                                        {"password": "a-new-password"})
    assert response.status_int == 400
    assert "has no password" in response.json["description"]


def test_the_owner_makes_the_bots_tokens_and_the_bot_acts_with_them(api, bob, bot):
    secret = bot_token(api, bob, bot, scopes=["messages:read"])
    client = api.as_user(bob)
    client.secret = secret
    me = client.get("/api/users/me").json
    assert me["username"] == "ci-bot" and me["is_bot"] is True


def test_others_cannot_see_or_tokenize_a_bot(api, make_user, bot):
    stranger = make_user()
    assert api.as_user(stranger).get(f"/api/bots/{bot['_id']['$oid']}").status_int == 404
    response = api.as_user(stranger).post(f"/api/bots/{bot['_id']['$oid']}/tokens",
                                          {"name": "stolen"})
    assert response.status_int == 404


def test_a_bot_token_lists_show_scopes(api, admin, bot):
    bot_token(api, admin, bot, scopes=["messages:write"])
    tokens = api.as_user(admin).get(f"/api/bots/{bot['_id']['$oid']}/tokens").json
    assert [token["scopes"] for token in tokens] == [["messages:write"]]


def test_bots_are_listed_to_their_owner_and_admins(api, admin, bob, make_user, bot):
    assert [b["username"] for b in api.as_user(bob).get("/api/bots").json] == ["ci-bot"]
    assert [b["username"] for b in api.as_user(admin).get("/api/bots").json] == ["ci-bot"]
    assert api.as_user(make_user()).get("/api/bots").json == []


def test_a_bot_is_marked_in_members_and_messages(api, admin, bob, bot):
    room = api.as_user(admin).post("/api/rooms", {"name": "builds"}).json["_id"]["$oid"]
    added = api.as_user(admin).post("/api/members", {"room": room, "username": "ci-bot"})
    assert added.status_int == 201 and added.json["is_bot"] is True
    client = api.as_user(bob)
    client.secret = bot_token(api, bob, bot)
    posted = client.post("/api/messages", {"room": room, "text": "build #1 passed"}).json
    assert posted["is_bot"] is True
    people = api.as_user(admin).post("/api/messages", {"room": room, "text": "thanks"}).json
    assert "is_bot" not in people
    listed = api.as_user(admin).get("/api/messages", {"room": room}).json
    assert [message.get("is_bot", False) for message in listed] == [True, False]


def test_a_disabled_bots_tokens_stop_working(api, admin, bob, bot):
    client = api.as_user(bob)
    client.secret = bot_token(api, bob, bot)
    api.as_user(admin).patch(f"/api/users/{bot['_id']['$oid']}", {"is_active": False})
    assert client.get("/api/users/me").status_int == 401
    assert User.objects(username="ci-bot").first().is_active is False
