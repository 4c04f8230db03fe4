"""The message guarantees over real HTTP against real `makechat serve` processes."""

import asyncio
import json
import threading
import time

import pytest

from tests.live import LiveServer, http

# `pytest -m "not slow"` leaves these out: they start `makechat serve` processes.
pytestmark = pytest.mark.slow


@pytest.fixture
def servers(config):
    """Two independent server processes (two gevent workers each) on one database."""
    environ = {"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_BCRYPT_ROUNDS": "4",
               "MAKECHAT_POLL_INTERVAL": "0.1", "MAKECHAT_GAP_TIMEOUT": "2",
               "MAKECHAT_WORKER_CONNECTIONS": "1200"}
    started = [LiveServer(environ, "--workers", "2").start() for _ in range(2)]
    yield started
    for server in started:
        server.stop()


@pytest.fixture
def chat(servers, make_user, api):
    admin = make_user("admin", admin=True)
    writers = [make_user(f"writer{n}") for n in range(4)]
    room = api.as_user(admin).post("/api/rooms", {"name": "busy"}).json["_id"]["$oid"]
    for writer in writers:
        api.as_user(writer).post("/api/members", {"room": room})
    return admin, writers, room


def test_followers_see_every_message_once_in_order(servers, chat):
    admin, writers, room = chat
    per_writer = 25
    total = per_writer * len(writers)
    posted, followed = [], {}
    done = threading.Event()

    def write(index, writer):
        server = servers[index % 2]
        for number in range(per_writer):
            status, _, body = http("POST", server.url + "/api/messages",
                                   {"room": room, "text": f"{writer.username}:{number}"},
                                   token=writer.secret)
            assert status == 201, body
            posted.append(body["_id"]["$oid"])

    def follow(name, server):
        seen, cursor = [], "0"
        deadline = time.monotonic() + 90
        while len(seen) < total and time.monotonic() < deadline:
            status, _, batch = http("GET", f"{server.url}/api/messages?room={room}"
                                    f"&after={cursor}&wait=5&limit=7", token=admin.secret)
            assert status == 200, batch
            seen += [message["_id"]["$oid"] for message in batch]
            if batch:
                cursor = batch[-1]["_id"]["$oid"]
        followed[name] = seen

    followers = [threading.Thread(target=follow, args=(f"f{n}", servers[n % 2]))
                 for n in range(4)]
    for thread in followers:
        thread.start()
    time.sleep(0.5)  # every follower is waiting before the first post
    writer_threads = [threading.Thread(target=write, args=(n, w)) for n, w in enumerate(writers)]
    for thread in writer_threads:
        thread.start()
    for thread in writer_threads + followers:
        thread.join()
    done.set()

    history, cursor = [], None
    while True:
        query = f"&before={cursor}" if cursor else ""
        _, _, page = http("GET", f"{servers[0].url}/api/messages?room={room}&limit=200{query}",
                          token=admin.secret)
        if not page:
            break
        history = [message["_id"]["$oid"] for message in page] + history
        cursor = page[0]["_id"]["$oid"]
    assert len(posted) == total
    assert sorted(history) == sorted(posted)
    for name, seen in followed.items():
        assert seen == history, f"{name} saw {len(seen)} of {total}, or out of order"


async def _hold_waiting_requests(port, path, token, count):
    """Open count connections, each sending one waiting GET; return them."""
    connections = []
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
               f"X-Auth-Token: {token}\r\nConnection: close\r\n\r\n").encode()
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        connections.append((reader, writer))
    await asyncio.gather(*(writer.drain() for _, writer in connections))
    return connections


async def _read_body(reader):
    raw = await reader.read()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def test_thousand_waiting_clients_do_not_block_others(config, make_user, api):
    environ = {"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_BCRYPT_ROUNDS": "4",
               "MAKECHAT_POLL_INTERVAL": "0.1", "MAKECHAT_WORKER_CONNECTIONS": "1200",
               # One token holds all 1,000 waiters here: lift the per-user cap.
               "MAKECHAT_MAX_WAITING_PER_USER": "2000"}
    server = LiveServer(environ, "--workers", "1", "--worker-class", "gevent").start()
    try:
        admin = make_user("admin", admin=True)
        room = api.as_user(admin).post("/api/rooms", {"name": "crowd"}).json["_id"]["$oid"]
        path = f"/api/messages?room={room}&after=0&wait=25"

        async def scenario():
            waiting = await _hold_waiting_requests(server.port, path, admin.secret, 1000)
            await asyncio.sleep(3)  # let the worker accept and park all of them
            loop = asyncio.get_running_loop()
            status, _, me = await loop.run_in_executor(
                None, lambda: http("GET", server.url + "/api/users/me", token=admin.secret,
                                   timeout=10))
            still_waiting = sum(1 for reader, _ in waiting if not reader.at_eof())
            posted = await loop.run_in_executor(
                None, lambda: http("POST", server.url + "/api/messages",
                                   {"room": room, "text": "wake up"}, token=admin.secret))
            results = await asyncio.wait_for(
                asyncio.gather(*(_read_body(reader) for reader, _ in waiting)), timeout=20)
            for _, writer in waiting:
                writer.close()
            return status, me, still_waiting, posted, results

        status, me, still_waiting, posted, results = asyncio.run(scenario())
    finally:
        server.stop()
    assert status == 200 and me["username"] == "admin"  # served while 1,000 waited
    assert still_waiting == 1000
    assert posted[0] == 201
    assert all(code == 200 for code, _ in results)
    assert all(json.loads(body)[0]["text"] == "wake up" for _, body in results)
