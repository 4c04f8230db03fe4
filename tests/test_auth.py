"""makechat/auth.py: the login limiter, tokens in headers, bcrypt off the loop."""

import concurrent.futures
import threading
import time

import pytest
import webtest

from makechat import accounts
from makechat.app import create_app
from tests.live import LiveServer, http


def login(app, username, password, address):
    return app.post_json("/api/login", {"username": username, "password": password},
                         extra_environ={"REMOTE_ADDR": address}, expect_errors=True)


@pytest.fixture
def strict_app(config):
    """3 failures per username and address, 5 per username, 100 per address."""
    return webtest.TestApp(create_app(config.replace(
        login_max_failures_per_user_address=3, login_max_failures_per_user=5)))


@pytest.mark.slow
def test_parallel_wrong_logins_check_exactly_the_limit(config, make_user):
    """300 wrong passwords at once from one address: exactly 10 are checked
    (401), every other one is refused before bcrypt runs (429)."""
    make_user("alice")
    environ = {"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_BCRYPT_ROUNDS": "4",
               "MAKECHAT_WORKERS": "2", "MAKECHAT_LOGIN_MAX_FAILURES_PER_USER_ADDRESS": "10"}
    with LiveServer(environ) as server:
        def attempt(_):
            return http("POST", server.url + "/api/login",
                        {"username": "alice", "password": "wrong password"})[0]
        with concurrent.futures.ThreadPoolExecutor(60) as pool:
            statuses = list(pool.map(attempt, range(300)))
    assert statuses.count(401) == 10
    assert statuses.count(429) == 290


def test_others_failures_do_not_lock_the_owner_out(strict_app, make_user):
    owner = make_user("alice")
    assert login(strict_app, "alice", owner.plain_password, "10.0.0.1").status_int == 200
    for number in range(2, 10):  # an attacker spread over many addresses
        for _ in range(3):
            login(strict_app, "alice", "guess", f"10.0.0.{number}")
    # From the address she logged in from before, the owner still gets in ...
    assert login(strict_app, "alice", owner.plain_password, "10.0.0.1").status_int == 200
    # ... while a new address has to wait for the account's count to fall.
    resp = login(strict_app, "alice", owner.plain_password, "10.0.0.50")
    assert resp.status_int == 429
    assert int(resp.headers["Retry-After"]) > 0


def test_failures_from_one_address_stop_that_address_only(strict_app, make_user):
    owner = make_user("alice")
    for _ in range(3):
        assert login(strict_app, "alice", "guess", "10.0.0.2").status_int == 401
    assert login(strict_app, "alice", owner.plain_password, "10.0.0.2").status_int == 429
    assert login(strict_app, "alice", owner.plain_password, "10.0.0.3").status_int == 200


def test_unknown_username_is_throttled_like_a_known_one(strict_app):
    statuses = [login(strict_app, "nobody", "guess", "10.0.0.2").status_int for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


@pytest.mark.slow
def test_bcrypt_runs_off_the_event_loop(config, make_user):
    """While two logins whose hash costs over a second each are checked, a
    health check on the same gevent worker answers at once. On the event
    loop, bcrypt would hold it until a hash was done; the bound is generous."""
    accounts.create_user("slow", "slow@example.com", "slow password", rounds=15)
    environ = {"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_WORKERS": "1"}
    with LiveServer(environ) as server:
        http("GET", server.url + "/api/users/me")  # indexes are ensured: warm
        threads = [threading.Thread(target=http, args=(
            "POST", server.url + "/api/login", {"username": "slow", "password": "slow password"}))
            for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(0.3)  # both are hashing now
        started = time.monotonic()
        status, _, _ = http("GET", server.url + "/api/health")
        waited = time.monotonic() - started
        for thread in threads:
            thread.join()
    assert status == 200
    assert waited < 0.5


def test_register_is_throttled_per_address(config):
    app = webtest.TestApp(create_app(config.replace(register_max_per_address=3)))
    statuses = [app.post_json("/api/register", {"username": f"new{n}",
                                                "email": f"new{n}@example.com",
                                                "password": "long enough"},
                              extra_environ={"REMOTE_ADDR": "10.0.0.7"},
                              expect_errors=True).status_int for n in range(4)]
    assert statuses == [201, 201, 201, 429]
    # another address is not affected
    assert app.post_json("/api/register", {"username": "other", "email": "o@example.com",
                                           "password": "long enough"},
                         extra_environ={"REMOTE_ADDR": "10.0.0.8"}).status_int == 201


def test_bearer_token_is_accepted(api, make_user):
    user = make_user("alice")
    resp = api.get("/api/users/me", headers={"Authorization": f"Bearer {user.secret}"})
    assert resp.status_int == 200
    assert resp.json["username"] == "alice"


def test_other_authorization_schemes_are_not_tokens(api, make_user):
    user = make_user("alice")
    resp = api.get("/api/users/me", headers={"Authorization": f"Basic {user.secret}"})
    assert resp.status_int == 401
    assert resp.json["description"] == "Please provide an auth token or login."


def test_revoked_token_401_says_it_is_not_valid(api, make_user):
    user = make_user("alice")
    client = api.as_user(user)
    client.post("/api/logout")
    resp = client.get("/api/users/me")
    assert resp.status_int == 401
    assert "not valid" in resp.json["description"]
    assert 'Bearer realm="makechat"' in resp.headers.getall("WWW-Authenticate") or \
        "Bearer" in resp.headers["WWW-Authenticate"]


# -- authenticating from the token alone (issue 13)


def test_demoted_admin_loses_admin_rights_at_once(api, make_user):
    admin, other = make_user("boss", admin=True), make_user("other", admin=True)
    client = api.as_user(admin)
    assert client.get("/api/users").status_int == 200
    assert api.as_user(other).patch(f"/api/users/{admin.id}",
                                    {"is_superuser": False}).status_int == 200
    assert client.get("/api/users").status_int == 403


def test_promoted_user_gains_admin_rights_at_once(api, make_user):
    admin, bob = make_user(admin=True), make_user("bob")
    assert api.as_user(bob).get("/api/users").status_int == 403
    api.as_user(admin).patch(f"/api/users/{bob.id}", {"is_superuser": True})
    assert api.as_user(bob).get("/api/users").status_int == 200


def test_token_from_before_the_snapshot_still_works_and_is_filled_in(api, make_user, raw_db):
    bob = make_user("bob")
    raw_db.tokens.update_many({"owner": bob.id}, {"$unset": {"username": "",
                                                             "is_superuser": ""}})
    resp = api.as_user(bob).get("/api/users/me")
    assert resp.status_int == 200 and resp.json["username"] == "bob"
    stored = raw_db.tokens.find_one({"owner": bob.id})
    assert stored["username"] == "bob" and stored["is_superuser"] is False


def test_token_made_during_a_demotion_does_not_keep_admin_rights(make_user, raw_db):
    """issue_token looks at the account again after writing the token."""
    from makechat.auth import issue_token, user_for_token
    boss = make_user("boss", admin=True)
    raw_db.users.update_one({"_id": boss.id}, {"$set": {"is_superuser": False}})
    _, secret = issue_token(boss, "raced", max_tokens=100)  # boss still says admin
    caller, _ = user_for_token(secret)
    assert caller.is_superuser is False
