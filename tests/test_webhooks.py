"""Managing webhooks (makechat.bots.webhooks, /api/webhooks/...): owners
and admins only, a bot the caller manages, limits, and no leak of a room
or a secret to anyone else."""

import pytest

from tests.test_outbox import FAST, World


@pytest.fixture
def world(config, admin):
    return World(config.replace(**FAST), admin)


def test_the_bot_joins_the_room_with_its_webhook(world):
    world.call("POST", "/api/webhooks/incoming", {"room": world.room, "bot": world.bot,
                                                  "name": "x"}, status=201)
    members = world.call("GET", f"/api/members?room={world.room}").json
    assert [m["username"] for m in members if m.get("is_bot")] == ["helper"]


def test_a_member_who_is_no_owner_cannot_manage_webhooks(world, api, bob):
    api.as_user(bob).post("/api/members", {"room": world.room})
    client = api.as_user(bob)
    for method, path, body in (
            ("post", "/api/webhooks/incoming", {"room": world.room, "bot": world.bot,
                                                "name": "x"}),
            ("post", "/api/webhooks/outgoing", {"room": world.room, "bot": world.bot,
                                                "name": "x", "url": "https://127.0.0.1/"}),
            ("get", f"/api/webhooks/incoming?room={world.room}", None),
            ("get", f"/api/webhooks/outgoing?room={world.room}", None)):
        response = getattr(client, method)(path, body) if body else getattr(client, method)(path)
        assert response.status_int == 403, (method, path)


def test_a_hidden_rooms_webhook_is_no_such_webhook_to_a_stranger(world, api, bob, receiver):
    world.call("PATCH", f"/api/rooms/{world.room}", {"is_visible": False, "is_open": False},
               status=200)
    hook = world.hook(receiver.url)["_id"]["$oid"]
    client = api.as_user(bob)
    for response in (client.get(f"/api/webhooks/outgoing/{hook}"),
                     client.get(f"/api/webhooks/outgoing/{hook}/deliveries"),
                     client.post(f"/api/webhooks/outgoing/{hook}/replay?from_seq=1"),
                     client.delete(f"/api/webhooks/outgoing/{hook}")):
        assert response.status_int == 404
        assert response.json["description"] == "No such webhook."


def test_an_owner_uses_only_bots_they_manage(world, api, bob, make_user):
    other = world.call("POST", "/api/bots", {"username": "others-bot"}).json["_id"]["$oid"]
    mine = world.call("POST", "/api/bots", {"username": "bobs-bot", "owner": str(bob.id)}
                      ).json["_id"]["$oid"]
    members = world.call("POST", "/api/members", {"room": world.room, "user": str(bob.id),
                                                  "role": "owner"}, status=201)
    assert members.json["role"] == "owner"
    client = api.as_user(bob)
    refused = client.post("/api/webhooks/incoming", {"room": world.room, "bot": other,
                                                     "name": "x"})
    assert refused.status_int == 404 and refused.json["description"] == "No such bot."
    assert client.post("/api/webhooks/incoming", {"room": world.room, "bot": mine,
                                                  "name": "x"}).status_int == 201


def test_a_room_has_at_most_max_webhooks_per_room(config, admin):
    world = World(config.replace(**FAST, max_webhooks_per_room=2), admin)
    body = {"room": world.room, "bot": world.bot, "name": "x"}
    statuses = [world.call("POST", "/api/webhooks/incoming", body).status_int for _ in range(3)]
    assert statuses == [201, 201, 409]


def test_unknown_event_types_are_refused(world, receiver):
    response = world.call("POST", "/api/webhooks/outgoing", {
        "room": world.room, "bot": world.bot, "name": "x", "url": receiver.url,
        "events": ["nonsense"]})
    assert response.status_int == 400


def test_listing_shows_no_secret_and_deleting_stops_deliveries(world, receiver):
    hook = world.hook(receiver.url)
    listed = world.call("GET", f"/api/webhooks/outgoing?room={world.room}", status=200).json
    assert [item["_id"] for item in listed] == [hook["_id"]] and "secret" not in listed[0]
    world.call("DELETE", f"/api/webhooks/outgoing/{hook['_id']['$oid']}", status=204)
    world.post("nobody listens")
    from tests.test_outbox import make_outbox
    make_outbox(world.config).run_once()
    assert receiver.requests == []


def test_a_replay_beyond_what_was_read_queues_nothing(world, receiver):
    hook = world.hook(receiver.url)
    response = world.call("POST", f"/api/webhooks/outgoing/{hook['_id']['$oid']}/replay"
                                  "?from_seq=1000", status=200).json
    assert response == {"queued": 0, "from_seq": 1000, "to_seq": None, "next_from_seq": None}


def test_a_delivery_state_filter_must_be_a_state(world, receiver):
    hook = world.hook(receiver.url)
    assert world.call("GET", f"/api/webhooks/outgoing/{hook['_id']['$oid']}/deliveries"
                             "?state=lost").status_int == 400


@pytest.fixture
def receiver():
    from tests.receiver import Receiver
    with Receiver() as receiver:
        yield receiver
