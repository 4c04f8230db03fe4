"""POST /api/login, /api/register, /api/logout."""

import re

import pytest

from makechat.models import Attempt, Token, User


def login(app, username, password, **headers):
    return app.post_json("/api/login", {"username": username, "password": password},
                         headers=headers, expect_errors=True)


def test_login_returns_token_and_profile(app, make_user):
    user = make_user("alice")
    resp = login(app, "alice", user.plain_password)
    assert resp.status_int == 200
    assert re.fullmatch(r"[a-z0-9]{32}", resp.json["token"])
    assert resp.json["user"]["username"] == "alice"
    assert "password" not in resp.json["user"]


def test_login_token_works_for_api(app, make_user):
    user = make_user("alice")
    token = login(app, "alice", user.plain_password).json["token"]
    resp = app.get("/api/users/me", headers={"X-Auth-Token": token})
    assert resp.json["username"] == "alice"


def test_login_is_case_insensitive_on_username(app, make_user):
    user = make_user("Alice")
    assert login(app, "alice", user.plain_password).status_int == 200


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_login_wrong_credentials_same_401(app, make_user, username):
    make_user("alice")
    resp = login(app, username, "wrong password")
    assert resp.status_int == 401
    assert resp.json == {"title": "Not authenticated",
                         "description": "The username or password is incorrect."}


def test_login_disabled_user_401(app, make_user):
    user = make_user("alice", active=False)
    assert login(app, "alice", user.plain_password).status_int == 401


def test_login_value_of_wrong_type_400(app, make_user):
    make_user("alice")
    resp = app.post_json("/api/login", {"username": "alice", "password": {"$ne": None}},
                         expect_errors=True)
    assert resp.status_int == 400
    assert resp.json["title"] == "Invalid parameter"


def test_login_missing_password_400(app):
    resp = app.post_json("/api/login", {"username": "alice"}, expect_errors=True)
    assert resp.status_int == 400
    assert resp.json == {"title": "Missing parameter",
                         "description": "The 'password' parameter is required."}


def test_login_per_username_limit_429(app, make_user, wsgi_app):
    user = make_user("alice")
    for _ in range(10):
        assert login(app, "alice", "wrong password").status_int == 401
    resp = login(app, "alice", user.plain_password)
    assert resp.status_int == 429
    assert int(resp.headers["Retry-After"]) > 0
    assert resp.json["title"] == "Too many failed logins"


def test_login_per_address_limit_429(app, make_user, config):
    from webtest import TestApp

    from makechat.app import create_app
    app = TestApp(create_app(config.replace(login_max_failures_per_address=3)))
    user = make_user("alice")
    for name in ("x1", "x2", "x3"):
        assert login(app, name, "wrong password").status_int == 401
    resp = login(app, "alice", user.plain_password)
    assert resp.status_int == 429
    assert "Retry-After" in resp.headers


def test_login_success_resets_failures_of_its_pair(app, make_user):
    user = make_user("alice")
    for _ in range(3):
        login(app, "alice", "wrong password")
    assert Attempt.objects(key="login-pair:alice|127.0.0.1").count() == 3
    assert login(app, "alice", user.plain_password).status_int == 200
    assert Attempt.objects(key="login-pair:alice|127.0.0.1").count() == 0


def test_login_forwarded_for_ignored_from_untrusted_peer(app, make_user, config):
    from webtest import TestApp

    from makechat.app import create_app
    app = TestApp(create_app(config.replace(login_max_failures_per_address=2)))
    for number in range(2):
        login(app, f"x{number}", "wrong password",
              **{"X-Forwarded-For": f"10.0.0.{number}"})
    # Spoofed addresses did not split the count: the peer is still limited.
    resp = login(app, "x9", "wrong password", **{"X-Forwarded-For": "10.0.0.9"})
    assert resp.status_int == 429


def test_login_forwarded_for_believed_from_trusted_proxy(make_user, config):
    from webtest import TestApp

    from makechat.app import create_app
    app = TestApp(create_app(config.replace(login_max_failures_per_address=2,
                                            trusted_proxies="127.0.0.1")),
                  extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    for number in range(3):
        resp = login(app, f"x{number}", "wrong password",
                     **{"X-Forwarded-For": f"10.0.0.{number}"})
        assert resp.status_int == 401


def test_register_open_creates_user_201(app):
    resp = app.post_json("/api/register", {"username": "bob", "email": "bob@example.com",
                                           "password": "long enough"})
    assert resp.status_int == 201
    assert re.fullmatch(r"[a-z0-9]{32}", resp.json["token"])
    user = User.objects.get(username="bob")
    assert user.password.startswith("$2b$") and "long enough" not in user.password
    assert user.is_superuser is False


def test_register_closed_403(mongo_uri, config):
    from webtest import TestApp

    from makechat.app import create_app
    app = TestApp(create_app(config.replace(registration="closed")))
    resp = app.post_json("/api/register", {"username": "bob", "email": "bob@example.com",
                                           "password": "long enough"}, expect_errors=True)
    assert resp.status_int == 403
    assert User.objects.count() == 0


@pytest.mark.parametrize("field,value", [
    ("username", "ab"), ("username", "has space"), ("username", "x" * 33),
    ("email", "not-an-email"), ("password", "short"), ("username", 5),
])
def test_register_invalid_field_400(app, field, value):
    body = {"username": "bob", "email": "bob@example.com", "password": "long enough"}
    body[field] = value
    resp = app.post_json("/api/register", body, expect_errors=True)
    assert resp.status_int == 400
    assert f"'{field}'" in resp.json["description"]
    assert User.objects.count() == 0


def test_register_is_superuser_refused_400(app):
    resp = app.post_json("/api/register", {"username": "bob", "email": "bob@example.com",
                                           "password": "long enough", "is_superuser": True},
                         expect_errors=True)
    assert resp.status_int == 400
    assert User.objects.count() == 0


@pytest.mark.parametrize("username,email", [("alice", "new@example.com"),
                                            ("ALICE", "new@example.com"),
                                            ("new", "ALICE@example.com")])
def test_register_taken_409(app, make_user, username, email):
    make_user("alice")
    resp = app.post_json("/api/register", {"username": username, "email": email,
                                           "password": "long enough"}, expect_errors=True)
    assert resp.status_int == 409
    assert User.objects.count() == 1


def test_logout_revokes_the_token(api, make_user):
    user = make_user()
    client = api.as_user(user)
    assert client.post("/api/logout").status_int == 204
    assert client.get("/api/users/me").status_int == 401


def test_logout_without_token_401(api):
    assert api.post("/api/logout").status_int == 401


def test_token_secret_is_not_stored(app, make_user, raw_db):
    user = make_user("alice")
    token = login(app, "alice", user.plain_password).json["token"]
    dump = repr(list(raw_db.tokens.find()))
    assert token not in dump
    assert Token.objects(owner=user.id).count() == 2


def test_registration_status_open(app):
    resp = app.get("/api/register")
    assert resp.status_int == 200
    assert resp.json == {"registration": "open"}


def test_registration_status_closed(config):
    from webtest import TestApp

    from makechat.app import create_app
    app = TestApp(create_app(config.replace(registration="closed")))
    assert app.get("/api/register").json == {"registration": "closed"}
