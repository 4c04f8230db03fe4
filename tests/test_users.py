"""/api/users and /api/users/me."""

import pytest

from makechat.auth import check_password
from makechat.models import User


def test_me_returns_profile(api, make_user):
    user = make_user("alice")
    resp = api.as_user(user).get("/api/users/me")
    assert resp.status_int == 200
    assert resp.json["_id"] == {"$oid": str(user.id)}
    assert resp.json["username"] == "alice"
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "password" not in resp.json


def test_me_change_password_with_current(api, make_user):
    user = make_user()
    resp = api.as_user(user).patch("/api/users/me", {"password": "a new password",
                                                     "current_password": user.plain_password})
    assert resp.status_int == 200
    assert check_password("a new password", User.objects.get(id=user.id).password)


def test_me_change_password_wrong_current_400(api, make_user):
    user = make_user()
    resp = api.as_user(user).patch("/api/users/me", {"password": "a new password",
                                                     "current_password": "wrong"})
    assert resp.status_int == 400
    assert check_password(user.plain_password, User.objects.get(id=user.id).password)


def test_me_change_password_revokes_other_tokens(api, app, make_user):
    user = make_user()
    other = app.post_json("/api/login", {"username": user.username,
                                         "password": user.plain_password}).json["token"]
    api.as_user(user).patch("/api/users/me", {"password": "a new password",
                                              "current_password": user.plain_password})
    assert api.as_user(user).get("/api/users/me").status_int == 200
    assert app.get("/api/users/me", headers={"X-Auth-Token": other},
                   expect_errors=True).status_int == 401


@pytest.mark.parametrize("field,value", [("is_superuser", True), ("is_active", False),
                                         ("username", "root"), ("_id", "x")])
def test_me_cannot_change_protected_fields_400(api, make_user, field, value):
    user = make_user()
    resp = api.as_user(user).patch("/api/users/me", {field: value})
    assert resp.status_int == 400
    fresh = User.objects.get(id=user.id)
    assert (fresh.is_superuser, fresh.is_active, fresh.username) == (False, True, user.username)


def test_list_users_admin_only_403(api, make_user):
    resp = api.as_user(make_user()).get("/api/users")
    assert resp.status_int == 403
    assert resp.json == {"title": "Permission Denied", "description": "Admin required."}


def test_list_users_never_shows_hash(api, make_user):
    admin = make_user(admin=True)
    make_user()
    resp = api.as_user(admin).get("/api/users")
    assert resp.status_int == 200
    assert len(resp.json) == 2
    assert "$2b$" not in resp.text and "password" not in resp.text


def test_list_users_pages_with_link(api, make_user):
    admin = make_user(admin=True)
    for _ in range(4):
        make_user()
    client = api.as_user(admin)
    first = client.get("/api/users", params={"limit": 3})
    assert len(first.json) == 3
    link = first.headers["Link"]
    assert 'rel="next"' in link
    url = link.split(";")[0].strip("<> ")
    second = client.get(url)
    assert len(second.json) == 2
    assert "Link" not in second.headers
    ids = [u["_id"]["$oid"] for u in first.json + second.json]
    assert len(set(ids)) == 5


def test_admin_creates_user_201(api, make_user):
    admin = make_user(admin=True)
    resp = api.as_user(admin).post("/api/users", {"username": "carol", "email": "c@example.com",
                                                  "password": "long enough",
                                                  "is_superuser": True})
    assert resp.status_int == 201
    assert User.objects.get(username="carol").is_superuser is True


def test_admin_creates_taken_username_409(api, make_user):
    admin = make_user("root", admin=True)
    resp = api.as_user(admin).post("/api/users", {"username": "root", "email": "x@example.com",
                                                  "password": "long enough"})
    assert resp.status_int == 409


def test_non_admin_creates_user_403(api, make_user):
    resp = api.as_user(make_user()).post("/api/users", {"username": "carol",
                                                        "email": "c@example.com",
                                                        "password": "long enough"})
    assert resp.status_int == 403
    assert User.objects(username="carol").count() == 0


def test_disabling_user_stops_tokens_at_once(api, make_user):
    admin, user = make_user(admin=True), make_user()
    assert api.as_user(user).get("/api/users/me").status_int == 200
    resp = api.as_user(admin).patch(f"/api/users/{user.id}", {"is_active": False})
    assert resp.status_int == 200 and resp.json["is_active"] is False
    assert api.as_user(user).get("/api/users/me").status_int == 401


def test_promote_user(api, make_user):
    admin, user = make_user(admin=True), make_user()
    api.as_user(admin).patch(f"/api/users/{user.id}", {"is_superuser": True})
    assert api.as_user(user).get("/api/users").status_int == 200


def test_admin_cannot_demote_self_409(api, make_user):
    admin = make_user(admin=True)
    resp = api.as_user(admin).patch(f"/api/users/{admin.id}", {"is_superuser": False})
    assert resp.status_int == 409
    assert User.objects.get(id=admin.id).is_superuser is True


def test_patch_user_wrong_type_400(api, make_user):
    admin, user = make_user(admin=True), make_user()
    resp = api.as_user(admin).patch(f"/api/users/{user.id}", {"is_active": {"$ne": None}})
    assert resp.status_int == 400
    assert User.objects.get(id=user.id).is_active is True


@pytest.mark.parametrize("user_id", ["nope", "0" * 24, "zzzzzzzzzzzzzzzzzzzzzzzz"])
def test_patch_unknown_or_malformed_user_404(api, make_user, user_id):
    admin = make_user(admin=True)
    assert api.as_user(admin).patch(f"/api/users/{user_id}", {"is_active": True}).status_int == 404


# -- hardening (issue 9) and finding people (issue 16)


def test_me_current_password_guesses_are_throttled(config, make_user):
    import webtest

    from makechat.app import create_app
    app = webtest.TestApp(create_app(config.replace(login_max_failures_per_user_address=3)))
    user = make_user()
    headers = {"X-Auth-Token": user.secret}
    statuses = [app.patch_json("/api/users/me", {"password": "a new password",
                                                 "current_password": f"guess {n}"},
                               headers=headers, expect_errors=True).status_int
                for n in range(3)]
    assert statuses == [400, 400, 400]
    # the right one, after the limit: still refused, nothing changed
    resp = app.patch_json("/api/users/me", {"password": "a new password",
                                            "current_password": user.plain_password},
                          headers=headers, expect_errors=True)
    assert resp.status_int == 429
    assert int(resp.headers["Retry-After"]) > 0
    assert check_password(user.plain_password, User.objects.get(id=user.id).password)


def test_me_change_email_needs_current_password_400(api, make_user):
    user = make_user()
    resp = api.as_user(user).patch("/api/users/me", {"email": "new@example.com"})
    assert resp.status_int == 400
    assert "current_password" in resp.json["description"]
    assert User.objects.get(id=user.id).email == user.email


def test_me_change_email_with_current_password(api, make_user):
    user = make_user()
    resp = api.as_user(user).patch("/api/users/me", {"email": "new@example.com",
                                                     "current_password": user.plain_password})
    assert resp.status_int == 200
    assert User.objects.get(id=user.id).email == "new@example.com"


def test_lookup_user_by_exact_username(api, make_user):
    alice, bob = make_user("alice"), make_user("Bob")
    resp = api.as_user(alice).get("/api/users/lookup", params={"username": "bob"})
    assert resp.status_int == 200
    assert resp.json == {"_id": {"$oid": str(bob.id)}, "username": "Bob"}


@pytest.mark.parametrize("username", ["bo", "bob.", "nobody", "b*", ".*"])
def test_lookup_user_needs_the_exact_name_404(api, make_user, username):
    alice = make_user("alice")
    make_user("bob")
    resp = api.as_user(alice).get("/api/users/lookup", params={"username": username})
    assert resp.status_int == 404


def test_lookup_disabled_user_404(api, make_user):
    alice = make_user("alice")
    make_user("bob", active=False)
    assert api.as_user(alice).get("/api/users/lookup",
                                  params={"username": "bob"}).status_int == 404


def test_lookup_user_needs_a_token_401(api, make_user):
    make_user("bob")
    assert api.get("/api/users/lookup", params={"username": "bob"}).status_int == 401


def test_look_alike_username_409(api, make_user):
    admin = make_user("admin", admin=True)
    resp = api.as_user(admin).post("/api/users", {"username": "adrnin", "email": "x@example.com",
                                                  "password": "long enough"})
    assert resp.status_int == 409
    assert "looks too much like 'admin'" in resp.json["description"]
