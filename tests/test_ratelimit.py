"""Per-token posting limits (makechat.ratelimit): exact under parallel
posts, announced in RateLimit-* headers, 429 with Retry-After past them."""

import threading

import pytest
import webtest

from makechat.app import create_app
from makechat.ratelimit import RateLimited, RateLimiter


@pytest.fixture
def limited(config, admin, bob):
    app = webtest.TestApp(create_app(config.replace(post_rate_limit=3, post_rate_window=3600)))
    room = app.post_json("/api/rooms", {"name": "limited"},
                         headers={"X-Auth-Token": admin.secret}).json["_id"]["$oid"]
    app.post_json("/api/members", {"room": room}, headers={"X-Auth-Token": bob.secret})
    return app, room


def post(app, user, room, text):
    return app.post_json("/api/messages", {"room": room, "text": text},
                         headers={"X-Auth-Token": user.secret}, expect_errors=True)


def test_every_post_says_what_is_left(limited, bob):
    app, room = limited
    answers = [post(app, bob, room, f"m{number}") for number in range(3)]
    assert [answer.headers["RateLimit-Remaining"] for answer in answers] == ["2", "1", "0"]
    assert {answer.headers["RateLimit-Limit"] for answer in answers} == {"3"}
    assert 0 < int(answers[0].headers["RateLimit-Reset"]) <= 3600


def test_past_the_limit_a_post_is_429_with_retry_after(limited, bob):
    app, room = limited
    for number in range(3):
        post(app, bob, room, f"m{number}")
    refused = post(app, bob, room, "one too many")
    assert refused.status_int == 429
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert refused.headers["Retry-After"] == refused.headers["RateLimit-Reset"]
    assert refused.json["title"] == "Rate limit reached"
    assert "posts per 3600 seconds with one token" in refused.json["description"]


def test_the_limit_is_per_token(limited, bob, admin):
    app, room = limited
    for number in range(3):
        post(app, bob, room, f"m{number}")
    assert post(app, admin, room, "another token").status_int == 201


def test_the_limit_is_exact_under_parallel_posts(config):
    limiter = RateLimiter({"post": (5, 3600, "posts")})
    outcomes = []

    def charge():
        # A limiter per thread: like separate processes, none knows the others' guesses.
        try:
            RateLimiter(limiter.policies).charge("post", "parallel")
            outcomes.append("ok")
        except RateLimited:
            outcomes.append("refused")
    threads = [threading.Thread(target=charge) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 5 and outcomes.count("refused") == 7


def test_a_limit_of_zero_is_no_limit(config):
    assert RateLimiter({"post": (0, 60, "posts")}).charge("post", "anyone") is None


def test_reading_is_not_counted(limited, bob):
    app, room = limited
    answer = app.get(f"/api/messages?room={room}", headers={"X-Auth-Token": bob.secret})
    assert "RateLimit-Limit" not in answer.headers


def test_openapi_announces_the_headers_and_the_429(api):
    post = api.get("/api/openapi.json").json["paths"]["/api/messages"]["post"]
    names = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
    assert names <= set(post["responses"]["201"]["headers"])
    assert names | {"Retry-After"} <= set(post["responses"]["429"]["headers"])
    assert "post_rate_limit" in post["description"]
