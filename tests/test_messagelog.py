"""makechat/chat/messagelog.py: the message log's ordering guarantees, and query shapes."""

import threading
import time

import pytest

from makechat.chat.messagelog import WALK_LIMIT, MessageStore
from makechat.models import Member, Message, Room


@pytest.fixture
def room(config, make_user):
    owner = make_user()
    room = Room(name="r", name_key="r", created_by=owner.id)
    room.save()
    room.owner = owner
    return room


@pytest.fixture
def store(config):
    return MessageStore(gap_timeout=0.5)


def texts(messages):
    return [message["text"] for message in messages]


def test_post_assigns_consecutive_seqs(store, room):
    seqs = [store.post(room.id, room.owner, f"m{n}")[0]["seq"] for n in range(3)]
    assert seqs == [1, 2, 3]
    assert Room.objects.get(id=room.id).committed_seq == 3


def test_concurrent_posts_unique_gapless_seqs(store, room):
    def write(number):
        for index in range(10):
            store.post(room.id, room.owner, f"{number}-{index}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seqs = sorted(message.seq for message in Message.objects(room=room.id))
    assert seqs == list(range(1, 51))
    assert store.mark(room.id) == 50


def test_readers_stop_before_an_unwritten_seq(store, room):
    store._allocate(room.id)  # a writer took seq 1 and has not inserted yet
    store.post(room.id, room.owner, "second")
    assert store.after(room.id, 0, 50) == []
    assert store.latest(room.id, 50) == []


def test_late_insert_becomes_visible_in_order(store, room):
    early = store._allocate(room.id)
    store.post(room.id, room.owner, "second")
    Message._get_collection().insert_one({
        "room": room.id, "seq": early, "author": room.owner.id, "author_username": "x",
        "text": "first", "created": Room.objects.get(id=room.id).seq_at, "edited": None,
        "deleted": False, "dedupe": "late"})
    store._commit(room.id, early)
    assert texts(store.after(room.id, 0, 50)) == ["first", "second"]


def test_dead_writers_gap_is_punched_after_timeout(store, room):
    store._allocate(room.id)  # this writer died
    store.post(room.id, room.owner, "after the gap")
    assert store.after(room.id, 0, 50) == []
    time.sleep(0.6)
    assert texts(store.after(room.id, 0, 50)) == ["after the gap"]
    tombstone = Message.objects.get(room=room.id, seq=1)
    assert tombstone.deleted is True


def test_dead_writer_at_the_tail_is_punched(store, room):
    store.post(room.id, room.owner, "one")
    store._allocate(room.id)  # died holding seq 2, nothing after it
    time.sleep(0.6)
    assert store.mark(room.id) == 2
    assert texts(store.post(room.id, room.owner, "three")[0:1]) == ["three"]
    assert texts(store.after(room.id, 1, 50)) == ["three"]


class SlowStore(MessageStore):
    """A store whose first post stalls between taking its seq and inserting."""

    def __init__(self, stall, **kwargs):
        super().__init__(**kwargs)
        self.stall = stall
        self.stalled = False

    def _allocate(self, room_id):
        seq = super()._allocate(room_id)
        if not self.stalled:
            self.stalled = True
            time.sleep(self.stall)
        return seq


def test_slow_writer_whose_seq_was_punched_reposts(config, room):
    slow = SlowStore(stall=1.0, gap_timeout=0.3)
    fast = MessageStore(gap_timeout=0.3)
    result = {}
    thread = threading.Thread(target=lambda: result.update(
        message=slow.post(room.id, room.owner, "slow")[0]))
    thread.start()
    time.sleep(0.1)
    fast.post(room.id, room.owner, "fast")
    time.sleep(0.5)
    seen = texts(fast.after(room.id, 0, 50))  # gap is stale now: punched
    assert seen == ["fast"]
    thread.join()
    assert result["message"]["seq"] == 3  # seq 1 was punched; it reposted
    assert texts(fast.after(room.id, 2, 50)) == ["slow"]
    assert texts(fast.latest(room.id, 50)) == ["fast", "slow"]


def test_follower_sees_each_message_once_with_racing_writers(config, room):
    store = MessageStore(gap_timeout=0.3)
    slow = SlowStore(stall=0.5, gap_timeout=0.3)
    posted = []

    def write(writer, prefix):
        for index in range(8):
            posted.append(writer.post(room.id, room.owner, f"{prefix}{index}")[0]["_id"])

    threads = [threading.Thread(target=write, args=(slow, "s")),
               threading.Thread(target=write, args=(store, "a")),
               threading.Thread(target=write, args=(store, "b"))]
    for thread in threads:
        thread.start()
    followed, cursor = [], 0
    deadline = time.monotonic() + 20
    while len(followed) < 24 and time.monotonic() < deadline:
        batch = store.after(room.id, cursor, 5)
        followed += [message["_id"] for message in batch]
        cursor = batch[-1]["seq"] if batch else cursor
        time.sleep(0.02)
    for thread in threads:
        thread.join()
    assert len(followed) == len(set(followed)) == 24
    assert set(followed) == set(posted)
    assert followed == [message["_id"] for message in store.latest(room.id, 200)]


# -- query shapes: ranges on indexed keys with a limit, never skip()


def finds(commands, collection):
    return [command for name, command in commands if name == "find"
            and command.get("find") == collection]


@pytest.mark.parametrize("params", [{}, {"before": "30"}, {"after": "10"}])
def test_message_listing_is_an_index_range_with_limit(api, commands, make_user, params):
    admin = make_user(admin=True)
    client = api.as_user(admin)
    room_id = client.post("/api/rooms", {"name": "big"}).json["_id"]["$oid"]
    for number in range(40):
        client.post("/api/messages", {"room": room_id, "text": f"m{number}"})
    commands.clear()
    resp = client.get("/api/messages", params={"room": room_id, "limit": 5, **params})
    assert resp.status_int == 200 and len(resp.json) == 5
    listing = finds(commands, "messages")
    assert listing, commands
    # One more than the page, to know whether a next page (Link) exists.
    assert any(command["limit"] == 6 for command in listing)
    for command in listing:  # the page, and the walk that checks the mark
        assert "skip" not in command
        assert command["limit"] <= WALK_LIMIT
        assert set(command["filter"]["seq"]) <= {"$gt", "$lt", "$lte", "$gte"}
        assert "room" in command["filter"]
        assert list(command["sort"]) == ["seq"]


def test_room_listing_is_an_id_range_with_limit(api, commands, make_user):
    admin = make_user(admin=True)
    client = api.as_user(admin)
    for number in range(4):
        client.post("/api/rooms", {"name": f"r{number}"})
    first = client.get("/api/rooms", params={"limit": 2})
    commands.clear()
    client.get(first.headers["Link"].split(";")[0].strip("<>"))
    (listing,) = finds(commands, "rooms")
    assert "skip" not in listing and listing["limit"] == 3
    # (with the admin's filter of others' direct conversations beside it)
    ranges = [part["_id"] for part in listing["filter"].get("$and", [listing["filter"]])
              if "_id" in part and "$gt" in part["_id"]]
    assert len(ranges) == 1
    assert list(listing["sort"]) == ["_id"]


def test_member_listing_is_an_id_range_with_limit(api, commands, make_user):
    admin = make_user(admin=True)
    client = api.as_user(admin)
    room_id = client.post("/api/rooms", {"name": "r"}).json["_id"]["$oid"]
    commands.clear()
    client.get("/api/members", params={"room": room_id, "limit": 10})
    listing = [command for command in finds(commands, "members") if "limit" in command
               and command["limit"] == 11]
    assert listing and all("skip" not in command for command in listing)


def test_indexes_exist_for_every_listing(raw_db, config):
    def keys(collection):
        return [list(index["key"]) for index in raw_db[collection].list_indexes()]
    assert ["room", "seq"] in keys("messages")
    assert ["room", "user"] in keys("members") and ["user", "room"] in keys("members")
    assert ["digest"] in keys("tokens")
    assert Member.objects.count() == 0


# -- authorization on every id: a stranger learns nothing of a hidden room


@pytest.fixture
def hidden(api, make_user):
    """A closed, invisible room with a member and a message, and a stranger."""
    admin = make_user("keeper", admin=True)
    insider = make_user("insider")
    client = api.as_user(admin)
    room_id = client.post("/api/rooms", {"name": "hush-room", "is_open": False,
                                         "is_visible": False}).json["_id"]["$oid"]
    member_id = client.post("/api/members", {"room": room_id, "user": str(insider.id)}
                            ).json["_id"]["$oid"]
    message_id = api.as_user(insider).post("/api/messages", {"room": room_id,
                                                             "text": "hush-text"}
                                           ).json["_id"]["$oid"]
    public_id = client.post("/api/rooms", {"name": "lobby"}).json["_id"]["$oid"]
    stranger = make_user("stranger")
    api.as_user(stranger).post("/api/members", {"room": public_id})
    return {"room": room_id, "member": member_id, "message": message_id, "public": public_id,
            "stranger": stranger}


STRANGER_REQUESTS = [
    ("get", "/api/rooms/{room}", None),
    ("patch", "/api/rooms/{room}", {"name": "taken-over"}),
    ("put", "/api/rooms/{room}", {"is_open": True}),
    ("delete", "/api/rooms/{room}", None),
    ("get", "/api/members?room={room}", None),
    ("post", "/api/members", {"room": "{room}"}),
    ("get", "/api/members/{member}", None),
    ("patch", "/api/members/{member}", {"role": "member"}),
    ("delete", "/api/members/{member}", None),
    ("get", "/api/messages?room={room}", None),
    ("get", "/api/messages?room={room}&after=0&wait=1", None),
    ("post", "/api/messages", {"room": "{room}", "text": "hi"}),
    ("get", "/api/messages/{message}", None),
    ("patch", "/api/messages/{message}", {"text": "edited"}),
    ("delete", "/api/messages/{message}", None),
    ("get", "/api/messages?room={public}&before={message}", None),
    ("get", "/api/messages?room={public}&after={message}", None),
]


@pytest.mark.parametrize("method,path,body", STRANGER_REQUESTS)
def test_stranger_gets_404_and_no_bytes(api, hidden, raw_db, method, path, body):
    before = {name: list(raw_db[name].find()) for name in ("rooms", "members", "messages")}
    path = path.format(**hidden)
    if body is not None:
        body = {key: value.format(**hidden) if isinstance(value, str) else value
                for key, value in body.items()}
        resp = getattr(api.as_user(hidden["stranger"]), method)(path, body)
    else:
        resp = getattr(api.as_user(hidden["stranger"]), method)(path)
    assert resp.status_int == 404, resp.text
    for secret in ("hush", "insider", "keeper"):
        assert secret not in resp.text
    after = {name: list(raw_db[name].find()) for name in ("rooms", "members", "messages")}
    assert after == before
