"""/api/tokens."""

import re

import pytest

from makechat.models import Token


def test_list_tokens_never_shows_secret(api, make_user):
    user = make_user()
    resp = api.as_user(user).get("/api/tokens")
    assert resp.status_int == 200
    assert len(resp.json) == 1
    assert set(resp.json[0]) == {"_id", "name", "created", "last_used", "expires", "scopes",
                                 "rooms"}
    assert user.secret not in resp.text


def test_create_token_shows_secret_once(api, make_user):
    client = api.as_user(make_user())
    resp = client.post("/api/tokens", {"name": "notifier"})
    assert resp.status_int == 201
    assert set(resp.json) == {"_id", "name", "token", "created", "last_used", "expires",
                              "scopes", "rooms"}
    assert resp.json["expires"] is None
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


# -- caps and expiry (issue 9)


def test_token_cap_holds_under_a_burst(config, make_user):
    """60 parallel POST /api/tokens against a cap of 10: exactly 10 tokens."""
    import threading

    import webtest

    from makechat.app import create_app
    app = webtest.TestApp(create_app(config.replace(max_tokens_per_user=10)))
    user = make_user()  # holds one token already
    barrier, statuses = threading.Barrier(60), []

    def create(number):
        barrier.wait()
        statuses.append(app.post_json("/api/tokens", {"name": f"t{number}"},
                                      headers={"X-Auth-Token": user.secret},
                                      expect_errors=True).status_int)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(201) == 9 and statuses.count(409) == 51
    assert Token.objects(owner=user.id).count() == 10


def test_token_cap_409_says_what_to_do(config, make_user):
    import webtest

    from makechat.app import create_app
    app = webtest.TestApp(create_app(config.replace(max_tokens_per_user=1)))
    user = make_user()
    resp = app.post_json("/api/tokens", {"name": "one too many"},
                         headers={"X-Auth-Token": user.secret}, expect_errors=True)
    assert resp.status_int == 409
    assert resp.json["title"] == "Too many tokens" and "DELETE /api/tokens" in \
        resp.json["description"]


def test_login_at_the_cap_replaces_the_stalest_login_token(config, make_user):
    import webtest

    from makechat.app import create_app
    app = webtest.TestApp(create_app(config.replace(max_tokens_per_user=2)))
    user = make_user("alice")
    login = {"username": "alice", "password": user.plain_password}
    first = app.post_json("/api/login", login).json["token"]
    second = app.post_json("/api/login", login)  # at the cap: first login goes
    assert second.status_int == 200
    assert Token.objects(owner=user.id).count() == 2
    assert app.get("/api/users/me", headers={"X-Auth-Token": first},
                   expect_errors=True).status_int == 401
    assert app.get("/api/users/me", headers={"X-Auth-Token": user.secret}).status_int == 200


def test_expiring_token_works_until_it_expires_then_401(api, make_user, raw_db):
    from datetime import timedelta
    client = api.as_user(make_user())
    created = client.post("/api/tokens", {"name": "short", "expires_in": 60}).json
    assert created["expires"] is not None
    bot = type(client)(client.app, created["token"])
    assert bot.get("/api/users/me").status_int == 200
    stored = raw_db.tokens.find_one({"name": "short"})
    raw_db.tokens.update_one({"_id": stored["_id"]},
                             {"$set": {"expires": stored["created"] - timedelta(seconds=1)}})
    resp = bot.get("/api/users/me")
    assert resp.status_int == 401
    assert "expired" in resp.json["description"]


@pytest.mark.parametrize("expires_in", [0, -5, 1.5, "60", 10 ** 12])
def test_token_bad_expires_in_400(api, make_user, expires_in):
    resp = api.as_user(make_user()).post("/api/tokens", {"name": "x", "expires_in": expires_in})
    assert resp.status_int == 400
    assert "expires_in" in resp.json["description"]


@pytest.mark.parametrize("name", ["\u202eevil", "a\u0000", "\u200b"])
def test_token_name_invisible_characters_400(api, make_user, name):
    assert api.as_user(make_user()).post("/api/tokens", {"name": name}).status_int == 400
