"""GET /api/events as Server-Sent Events, over real HTTP from real
`makechat serve` processes: resuming with Last-Event-ID, heartbeats, the
per-user cap, a revoked token; and followers on SSE and long-poll that
disconnect at random while several writers post, edit and delete across two
server processes, all ending with the same, gapless event list."""

import http.client as httpclient
import json
import random
import threading
import time

import pytest

from tests.live import LiveServer, http

pytestmark = pytest.mark.slow


class SSE:
    """A Server-Sent Events reader over one HTTP connection."""

    def __init__(self, port, token, last_id=None, timeout=30):
        self.connection = httpclient.HTTPConnection("127.0.0.1", port, timeout=timeout)
        headers = {"Accept": "text/event-stream", "X-Auth-Token": token}
        if last_id:
            headers["Last-Event-ID"] = last_id
        self.connection.request("GET", "/api/events", headers=headers)
        self.response = self.connection.getresponse()
        self.last_id = last_id
        self.comments = 0

    def next(self, comments=False):
        """Return the next event (a dict with its id as "_id"), skipping comments
        (or, with ``comments``, returning None for one: the stream is idle)."""
        fields = {}
        while True:
            line = self.response.readline()
            if not line:
                raise EOFError("the stream ended")
            line = line.decode("utf-8").rstrip("\n")
            if line == "":
                if "data" in fields:
                    event = json.loads(fields["data"])
                    event["_id"] = fields.get("id")
                    if fields.get("id"):
                        self.last_id = fields["id"]
                    return event
                continue
            if line.startswith(":"):
                self.comments += 1
                if comments:
                    return None
                continue
            name, _, value = line.partition(": ")
            fields[name] = value

    def until(self, predicate, limit=200):
        seen = []
        for _ in range(limit):
            event = self.next()
            seen.append(event)
            if predicate(event):
                return seen
        raise AssertionError(f"not seen in {limit} events: {seen}")

    def close(self):
        self.connection.close()


@pytest.fixture
def server(config):
    environ = {"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_BCRYPT_ROUNDS": "4",
               "MAKECHAT_WORKERS": "2", "MAKECHAT_POLL_INTERVAL": "0.1",
               "MAKECHAT_STREAM_HEARTBEAT": "0.5", "MAKECHAT_MAX_WAITING_PER_USER": "3"}
    with LiveServer(environ) as live:
        yield live


@pytest.fixture
def room(server, make_user):
    admin, bob = make_user(admin=True), make_user()
    _, _, created = http("POST", server.url + "/api/rooms", {"name": "live"}, token=admin.secret)
    room_id = created["_id"]["$oid"]
    http("POST", server.url + "/api/members", {"room": room_id}, token=bob.secret)
    return {"id": room_id, "admin": admin, "bob": bob}


def say(server, room, user, text):
    status, _, body = http("POST", server.url + "/api/messages",
                           {"room": room["id"], "text": text}, token=user.secret)
    assert status == 201, body
    return body


def test_stream_sends_ready_then_events_with_ids(server, room):
    stream = SSE(server.port, room["bob"].secret)
    try:
        assert stream.response.getheader("Content-Type").startswith("text/event-stream")
        ready = stream.next()
        assert ready["type"] == "stream.ready" and ready["_id"].startswith("1.")
        say(server, room, room["admin"], "hello over SSE")
        got = stream.until(lambda event: event["type"] == "message")
        assert got[-1]["data"]["text"] == "hello over SSE" and got[-1]["_id"] != ready["_id"]
    finally:
        stream.close()


def test_reconnect_with_last_event_id_loses_and_repeats_nothing(server, room):
    stream = SSE(server.port, room["bob"].secret)
    stream.next()
    say(server, room, room["admin"], "seen")
    stream.until(lambda event: event["type"] == "message")
    last = stream.last_id
    stream.close()
    for text in ("missed 1", "missed 2"):
        say(server, room, room["admin"], text)
    again = SSE(server.port, room["bob"].secret, last_id=last)
    try:
        got = again.until(lambda event: event.get("data", {}).get("text") == "missed 2")
        assert [event["data"]["text"] for event in got if event["type"] == "message"] == \
            ["missed 1", "missed 2"]
    finally:
        again.close()


def test_idle_stream_sends_heartbeats(server, room):
    stream = SSE(server.port, room["bob"].secret)
    try:
        stream.next()
        time.sleep(1.2)  # a heartbeat is due every 0.5 s here
        say(server, room, room["admin"], "after a pause")
        stream.until(lambda event: event["type"] == "message")
        assert stream.comments >= 1
    finally:
        stream.close()


def test_streams_count_against_the_waiting_cap(server, room):
    """max_waiting_per_user is 3 per process here; the server has 2 workers."""
    streams, refused = [], 0
    try:
        for _ in range(8):
            try:
                stream = SSE(server.port, room["bob"].secret, timeout=5)
            except OSError:
                refused += 1
                continue
            if stream.response.status == 429:
                refused += 1
                assert stream.response.getheader("Retry-After")
                stream.close()
            else:
                streams.append(stream)
        assert refused >= 2 and len(streams) <= 6
    finally:
        for stream in streams:
            stream.close()


def test_revoked_token_ends_its_stream(server, room):
    _, _, created = http("POST", server.url + "/api/tokens", {"name": "streamer"},
                         token=room["bob"].secret)
    stream = SSE(server.port, created["token"])
    try:
        stream.next()
        http("DELETE", server.url + f"/api/tokens/{created['_id']['$oid']}",
             token=room["bob"].secret)
        got = stream.until(lambda event: event["type"] == "stream.end")
        assert got[-1]["type"] == "stream.end"
        with pytest.raises(EOFError):
            stream.next()
    finally:
        stream.close()


class Busy:
    """A room with writers and followers on two server processes."""

    def __init__(self, servers, room_id, starts, rng):
        self.servers, self.room_id, self.starts, self.rng = servers, room_id, starts, rng
        self.done = threading.Event()
        self.seen = {user_id: [] for user_id in starts}

    def write(self, user, index):
        """Post 15 messages, edit every fourth, delete every fifth's predecessor."""
        mine = []
        for number in range(15):
            server = self.servers[(index + number) % 2]
            _, _, posted = http("POST", server.url + "/api/messages",
                                {"room": self.room_id, "text": f"w{index}-{number}"},
                                token=user.secret)
            mine.append(posted["_id"]["$oid"])
            if number % 4 == 1:
                http("PATCH", server.url + f"/api/messages/{mine[-1]}",
                     {"text": f"w{index}-{number} (edited)"}, token=user.secret)
            if number % 5 == 2:
                http("DELETE", server.url + f"/api/messages/{mine[-2]}", token=user.secret)

    def record(self, user, event):
        if event.get("seq") is not None:
            self.seen[user.id].append((event["seq"], event["type"]))

    def follow_sse(self, user, server_index):
        """Read a few events, drop the connection, resume on the other server."""
        cursor = self.starts[user.id]
        while True:
            stream = SSE(self.servers[server_index % 2].port, user.secret, last_id=cursor)
            try:
                stream.next()  # stream.ready
                taken, wanted = 0, self.rng.randint(3, 12)
                while taken < wanted:
                    event = stream.next(comments=True)
                    if event is None:  # idle: a heartbeat
                        if self.done.is_set():
                            break
                        continue
                    self.record(user, event)
                    cursor, taken = stream.last_id, taken + 1
            except (EOFError, OSError, TimeoutError):
                pass
            finally:
                stream.close()
            server_index += 1
            if self.done.is_set() and _caught_up(self.servers[0], user, cursor, self.room_id):
                return

    def follow_poll(self, user, server_index):
        """Long-poll, switching servers at random."""
        cursor = self.starts[user.id]
        while True:
            server = self.servers[server_index % 2]
            server_index += self.rng.randint(0, 1)
            _, _, page = http("GET", server.url + f"/api/events?cursor={cursor}&wait=1",
                              token=user.secret)
            for event in page["events"]:
                self.record(user, event)
            cursor = page["cursor"]
            if self.done.is_set() and not page["events"] and \
                    _caught_up(self.servers[0], user, cursor, self.room_id):
                return


def test_followers_that_drop_and_resume_see_identical_gapless_logs(config, make_user):
    """Four writers post, edit and delete across two server processes (two
    workers each) while two SSE followers and two long-poll followers
    disconnect and resume at random points; at the end every follower's list
    of (room seq, type) is the room's whole log, in order, each event once;
    and every member's unread count equals a recount from history."""
    environ = {"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_BCRYPT_ROUNDS": "4",
               "MAKECHAT_WORKERS": "2", "MAKECHAT_POLL_INTERVAL": "0.1",
               "MAKECHAT_GAP_TIMEOUT": "2", "MAKECHAT_STREAM_HEARTBEAT": "1"}
    admin = make_user(admin=True)
    writers = [make_user() for _ in range(4)]
    followers = [make_user() for _ in range(4)]
    with LiveServer(environ) as first, LiveServer(environ) as second:
        _, _, created = http("POST", first.url + "/api/rooms", {"name": "busy"},
                             token=admin.secret)
        room_id = created["_id"]["$oid"]
        for user in writers + followers:
            http("POST", second.url + "/api/members", {"room": room_id}, token=user.secret)
        starts = {user.id: http("GET", first.url + "/api/events?cursor=",
                                token=user.secret)[2]["cursor"] for user in followers}
        busy = Busy([first, second], room_id, starts, random.Random(20261201))
        writing = [threading.Thread(target=busy.write, args=(user, n))
                   for n, user in enumerate(writers)]
        following = [threading.Thread(target=busy.follow_sse, args=(user, n))
                     for n, user in enumerate(followers[:2])]
        following += [threading.Thread(target=busy.follow_poll, args=(user, n))
                      for n, user in enumerate(followers[2:])]
        for thread in writing + following:
            thread.start()
        for thread in writing:
            thread.join(timeout=240)
        busy.done.set()
        for thread in following:
            thread.join(timeout=120)
            assert not thread.is_alive()
        _, _, log = http("GET", first.url + f"/api/rooms/{room_id}/events?after=0&limit=200",
                         token=admin.secret)
        whole = [(event["seq"], event["type"]) for event in log["events"]]
        for user in followers:
            assert busy.seen[user.id] == [entry for entry in whole
                                          if entry[0] > _seq_of(starts[user.id])], user.username
        kinds = [kind for _, kind in whole]
        assert (kinds.count("message"), kinds.count("message.edited"),
                kinds.count("message.deleted")) == (60, 16, 12)
        for user in writers + followers:
            assert_unread_is_a_recount(first, second, user, room_id)


def assert_unread_is_a_recount(first, second, user, room_id):
    _, _, rooms = http("GET", first.url + "/api/rooms", token=user.secret)
    shown = [room for room in rooms if room["_id"]["$oid"] == room_id][0]
    _, _, history = http("GET", second.url + f"/api/messages?room={room_id}&limit=200",
                         token=user.secret)
    recount = sum(message["seq"] > shown["read_seq"] and
                  message["author"]["$oid"] != str(user.id) for message in history)
    assert shown["unread"] == recount


def _seq_of(cursor):
    from makechat.chat.streams import decode_cursor
    return next(iter(decode_cursor(cursor).values()))


def _caught_up(server, user, cursor, room_id):
    _, _, room = http("GET", server.url + f"/api/rooms/{room_id}", token=user.secret)
    return _seq_of(cursor) >= room["last_seq"]


def test_the_docs_curl_commands_stream_and_resume(server, room):
    """The curl lines of docs/events.rst, as printed, with $TOKEN and $CURSOR."""
    import os
    import re
    import subprocess
    from pathlib import Path
    page = (Path(__file__).resolve().parent.parent / "docs" / "events.rst").read_text()
    commands = [line.strip() for line in page.splitlines() if line.strip().startswith("curl -N")]
    assert len(commands) == 2
    environ = dict(os.environ, TOKEN=room["bob"].secret)

    def run(command, **extra):
        command = command.replace("http://localhost:8080", server.url)
        return subprocess.run(["bash", "-c", f"timeout 3 {command}; true"],
                              env=dict(environ, **extra), capture_output=True, text=True)

    first = run(commands[0]).stdout
    cursor = re.search(r"^id: (\S+)", first, re.M).group(1)
    assert "event: stream.ready" in first
    say(server, room, room["admin"], "while curl was away")
    resumed = run(commands[1], CURSOR=cursor).stdout
    assert "event: message" in resumed and "while curl was away" in resumed


def test_sigterm_ends_open_streams_instead_of_waiting_for_them(config, make_user):
    """A graceful stop closes the streams at once (the clients reconnect
    elsewhere with their last id) rather than waiting graceful_timeout (35 s)
    for streams that never end; the bound is generous."""
    import signal
    environ = {"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_BCRYPT_ROUNDS": "4",
               "MAKECHAT_WORKERS": "1", "MAKECHAT_STREAM_HEARTBEAT": "15"}
    user = make_user()
    server = LiveServer(environ).start()
    stream = SSE(server.port, user.secret)
    try:
        assert stream.next()["type"] == "stream.ready"
        started = time.monotonic()
        status, output = server.stop(signal.SIGTERM, timeout=60)
        assert status == 0, output[-2000:]
        assert time.monotonic() - started < 20
        with pytest.raises((EOFError, OSError)):
            stream.next()
    finally:
        stream.close()
