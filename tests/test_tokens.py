"""/api/tokens."""

import re

from makechat.models import Token


def test_list_tokens_never_shows_secret(api, make_user):
    user = make_user()
    resp = api.as_user(user).get("/api/tokens")
    assert resp.status_int == 200
    assert len(resp.json) == 1
    assert set(resp.json[0]) == {"_id", "name", "created", "last_used"}
    assert user.secret not in resp.text


def test_create_token_shows_secret_once(api, make_user):
    client = api.as_user(make_user())
    resp = client.post("/api/tokens", {"name": "notifier"})
    assert resp.status_int == 201
    assert set(resp.json) == {"_id", "name", "token", "created", "last_used"}
    assert re.fullmatch(r"[a-z0-9]{32}", resp.json["token"])
    assert resp.json["token"] not in client.get("/api/tokens").text
    bot = type(client)(client.app, resp.json["token"])
    assert bot.get("/api/users/me").status_int == 200


def test_create_token_missing_name_400(api, make_user):
    resp = api.as_user(make_user()).post("/api/tokens", {})
    assert resp.status_int == 400
    assert resp.json["description"] == "The 'name' parameter is required."


def test_delete_token_revokes_it(api, make_user):
    client = api.as_user(make_user())
    created = client.post("/api/tokens", {"name": "bot"}).json
    assert client.delete(f"/api/tokens/{created['_id']['$oid']}").status_int == 204
    bot = type(client)(client.app, created["token"])
    assert bot.get("/api/users/me").status_int == 401


def test_delete_other_users_token_404(api, make_user):
    alice, bob = make_user(), make_user()
    token_id = Token.objects(owner=bob.id).first().id
    assert api.as_user(alice).delete(f"/api/tokens/{token_id}").status_int == 404
    assert Token.objects(id=token_id).count() == 1


def test_delete_malformed_token_id_404(api, make_user):
    assert api.as_user(make_user()).delete("/api/tokens/not-an-id").status_int == 404


def test_token_in_query_string_is_not_accepted(api, make_user):
    user = make_user()
    assert api.get(f"/api/users/me?token={user.secret}").status_int == 401
    assert api.get(f"/api/users/me?X-Auth-Token={user.secret}").status_int == 401


def test_tokens_without_auth_401(api):
    resp = api.get("/api/tokens")
    assert resp.status_int == 401
    assert resp.json == {"title": "Not authenticated",
                         "description": "Please provide an auth token or login."}
