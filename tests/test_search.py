"""GET /api/search: words in the caller's rooms, newest first, marked."""

import io

import pytest
import webtest

from makechat import cli
from makechat.app import create_app
from makechat.cli import Env
from makechat.models import Message
from tests.factories import ApiClient, limited


@pytest.fixture
def rooms(api, admin, bob):
    """Two rooms bob is in (one closed), and one closed room he is not in."""
    client = api.as_user(admin)
    made = {}
    for name, is_open in (("ops", True), ("dev", False), ("secret", False)):
        made[name] = client.post("/api/rooms", {"name": name, "is_open": is_open,
                                                "is_visible": is_open}).json["_id"]["$oid"]
    for name in ("ops", "dev"):
        client.post("/api/members", {"room": made[name], "user": str(bob.id)})
    return made


def post(api, user, room, text):
    resp = api.as_user(user).post("/api/messages", {"room": room, "text": text})
    assert resp.status_int == 201, resp.text
    return resp.json


def search(api, user, **params):
    return api.as_user(user).get("/api/search", params=params)


def texts(resp):
    assert resp.status_int == 200, resp.text
    return [item["text"] for item in resp.json]


def test_finds_messages_holding_every_word_newest_first(api, admin, bob, rooms):
    post(api, admin, rooms["ops"], "deploy started")
    post(api, admin, rooms["dev"], "the deploy failed")
    post(api, admin, rooms["ops"], "lunch?")
    post(api, admin, rooms["ops"], "deploy done")
    assert texts(search(api, bob, q="deploy")) == ["deploy done", "the deploy failed",
                                                   "deploy started"]
    assert texts(search(api, bob, q="deploy failed")) == ["the deploy failed"]


def test_never_searches_a_room_the_caller_is_not_in(api, admin, bob, rooms):
    post(api, admin, rooms["secret"], "deploy keys are hunter2")
    post(api, admin, rooms["ops"], "deploy")
    assert texts(search(api, bob, q="deploy")) == ["deploy"]
    assert texts(search(api, bob, q="hunter2")) == []


def test_a_room_left_is_no_longer_searched(api, admin, bob, rooms):
    post(api, admin, rooms["dev"], "deploy plan")
    mine = [m for m in api.as_user(bob).get("/api/members", params={"room": rooms["dev"]}).json
            if m["username"] == "bob"][0]
    assert api.as_user(bob).delete(f"/api/members/{mine['_id']['$oid']}").status_int == 204
    assert texts(search(api, bob, q="deploy")) == []
    assert search(api, bob, q="deploy", room=rooms["dev"]).status_int == 404


def test_admins_search_only_their_own_rooms_too(api, admin, make_user, rooms):
    other = make_user()
    dm = api.as_user(other).post("/api/dms", {"user": str(make_user().id)}).json["_id"]["$oid"]
    post(api, other, dm, "whisper")
    assert texts(search(api, admin, q="whisper")) == []


def test_a_room_filter_needs_membership(api, admin, bob, rooms):
    post(api, admin, rooms["ops"], "deploy")
    post(api, admin, rooms["dev"], "deploy here")
    assert texts(search(api, bob, q="deploy", room=rooms["dev"])) == ["deploy here"]
    assert search(api, bob, q="deploy", room=rooms["secret"]).status_int == 404
    api.as_user(admin).post("/api/rooms", {"name": "lobby"})
    lobby = api.as_user(admin).get("/api/rooms").json[-1]["_id"]["$oid"]
    assert search(api, bob, q="deploy", room=lobby).status_int == 403


def test_case_and_accents_do_not_matter(api, admin, bob, rooms):
    post(api, admin, rooms["ops"], "Rendez-vous au CAFÉ")
    assert texts(search(api, bob, q="café")) == ["Rendez-vous au CAFÉ"]
    assert texts(search(api, bob, q="Cafe")) == ["Rendez-vous au CAFÉ"]


def test_matched_words_are_marked(api, admin, bob, rooms):
    post(api, admin, rooms["ops"], "Meet at the Café, then café again")
    (hit,) = search(api, bob, q="cafe").json
    assert [piece["text"] for piece in hit["marked"] if piece["match"]] == ["Café", "café"]
    assert "".join(piece["text"] for piece in hit["marked"]) == hit["text"]


def test_chinese_is_found_by_neighbouring_characters(api, admin, bob, rooms):
    post(api, admin, rooms["ops"], "明天去东京都厅")
    assert texts(search(api, bob, q="东京")) == ["明天去东京都厅"]
    assert texts(search(api, bob, q="京东")) == []


def test_pages_newest_first_with_a_cursor(api, admin, bob, rooms):
    for number in range(5):
        post(api, admin, rooms["ops"], f"build {number}")
    first = search(api, bob, q="build", limit=2)
    assert texts(first) == ["build 4", "build 3"]
    link = first.headers["Link"].split(";")[0].strip("<>")
    second = api.as_user(bob).get(link)
    assert texts(second) == ["build 2", "build 1"]
    third = api.as_user(bob).get(second.headers["Link"].split(";")[0].strip("<>"))
    assert texts(third) == ["build 0"] and "Link" not in third.headers


def test_edited_and_deleted_messages_follow_their_text(api, admin, bob, rooms):
    first = post(api, admin, rooms["ops"], "old words")
    second = post(api, admin, rooms["ops"], "doomed words")
    api.as_user(admin).patch(f"/api/messages/{first['_id']['$oid']}", {"text": "new words"})
    api.as_user(admin).delete(f"/api/messages/{second['_id']['$oid']}")
    assert texts(search(api, bob, q="words")) == ["new words"]
    assert texts(search(api, bob, q="old")) == [] and texts(search(api, bob, q="doomed")) == []


@pytest.mark.parametrize("q", ["", "?!", "x" * 201, " ".join(f"w{n}" for n in range(17))])
def test_a_query_without_usable_words_is_400(api, bob, rooms, q):
    resp = search(api, bob, q=q)
    assert resp.status_int == 400 and set(resp.json) == {"title", "description"}


def test_the_query_limits_are_settings(config, bob, rooms):
    api = ApiClient(webtest.TestApp(create_app(config.replace(search_max_words=2,
                                                              search_max_query_length=12))))
    assert search(api, bob, q="one two").status_int == 200
    resp = search(api, bob, q="one two six")
    assert resp.status_int == 400 and "search_max_words" in resp.json["description"]
    resp = search(api, bob, q="x" * 13)
    assert resp.status_int == 400 and "search_max_query_length" in resp.json["description"]


def test_searches_are_rate_limited_per_token(config, bob, rooms):
    api = ApiClient(webtest.TestApp(create_app(config.replace(search_rate_limit=2,
                                                              post_rate_window=86400))))
    answers = [search(api, bob, q="deploy") for _ in range(3)]
    assert [answer.status_int for answer in answers] == [200, 200, 429]
    assert answers[0].headers["RateLimit-Remaining"] == "1"
    assert answers[2].json["title"] == "Rate limit reached" and answers[2].headers["Retry-After"]


def test_a_malformed_room_or_cursor_is_400(api, bob, rooms):
    assert search(api, bob, q="x", room="nope").status_int == 400
    assert search(api, bob, q="x", before="nope").status_int == 400


def test_messages_from_before_search_get_their_words(config, api, admin, bob, rooms):
    post(api, admin, rooms["ops"], "ancient history")
    Message.objects(room=rooms["ops"]).update(unset__words=True)
    assert texts(search(api, bob, q="ancient")) == []
    env = Env(stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.StringIO(),
              environ={"MAKECHAT_MONGO_URI": config.mongo_uri})
    assert cli.run(["search-index"], env) == 0, env.stderr.getvalue()
    assert env.stdout.getvalue() == "indexed 1 messages (messages without search keys)\n"
    assert texts(search(api, bob, q="ancient")) == ["ancient history"]


def test_search_index_all_recomputes_every_message(config, api, admin, bob, rooms):
    post(api, admin, rooms["ops"], "kept")
    Message.objects(room=rooms["ops"], kind="message").update(set__words=["stale"])
    env = Env(stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.StringIO(),
              environ={"MAKECHAT_MONGO_URI": config.mongo_uri})
    assert cli.run(["search-index", "--all"], env) == 0
    assert texts(search(api, bob, q="kept")) == ["kept"]
    assert texts(search(api, bob, q="stale")) == []


def test_a_token_limited_to_rooms_searches_only_those(api, admin, bob, rooms):
    post(api, admin, rooms["ops"], "deploy ops")
    post(api, admin, rooms["dev"], "deploy dev")
    client = limited(api, bob, [rooms["ops"]])
    assert texts(client.get("/api/search", params={"q": "deploy"})) == ["deploy ops"]
    resp = client.get("/api/search", params={"q": "deploy", "room": rooms["dev"]})
    assert resp.status_int == 403 and resp.json["title"] == "Outside the token's rooms"
