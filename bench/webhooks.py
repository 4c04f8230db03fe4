"""Benchmark outgoing webhooks against a real `makechat serve`.

    .venv/bin/python bench/webhooks.py [--messages 200] [--hooks 3] [--concurrency 8]

Starts a private database server (mongod if on PATH, else FerretDB), a
fast receiver on loopback (it answers 204 at once) and a server with two
gevent workers (each running an outbox), then measures:
  * the extra cost of a post in a room with webhooks: posts alternate
    between a room without webhooks and one with ``--hooks`` of them, from
    one client, and their latencies are compared;
  * outbox throughput: deliveries per second to the receiver, first while
    the posts arrive (bounded by them), then of a backlog: a second server
    that delivers nothing (webhook_delivery = false) takes ``--messages``
    more posts, then one that delivers starts, and its deliveries are timed
    from the first to the last;
  * delivery latency: from a post's 201 to its first delivery.
Loopback only, bounded in count and time. On FerretDB the absolute numbers
say little about MongoDB: compare runs on the same machine only.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.messages import Client, percentile  # noqa: E402
from devdb.database import DatabaseServer, free_port  # noqa: E402

BIN = Path(sys.executable).parent


class FastReceiver:
    """Answers every delivery 204 at once; notes when each webhook-id came."""

    def __init__(self):
        self.first = {}  # webhook-id -> perf_counter of its first arrival
        self.count = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.perf_counter()
                with receiver.lock:
                    receiver.count += 1
                    receiver.first.setdefault(self.headers.get("webhook-id"), now)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200, help="posts in each room")
    parser.add_argument("--hooks", type=int, default=3, help="outgoing webhooks of the room")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="webhook_concurrency: deliveries each process makes at once")
    args = parser.parse_args()
    receiver = FastReceiver()
    with tempfile.TemporaryDirectory() as tmp, DatabaseServer(Path(tmp) / "db") as database:
        environ = dict(os.environ, MAKECHAT_MONGO_URI=database.uri("bench"),
                       MAKECHAT_BCRYPT_ROUNDS="4", MAKECHAT_WEBHOOKS_ALLOW_PRIVATE="true",
                       MAKECHAT_WEBHOOKS_ALLOW_HTTP="true", MAKECHAT_POST_RATE_LIMIT="0",
                       MAKECHAT_WEBHOOK_POLL_INTERVAL="0.1",
                       MAKECHAT_WEBHOOK_CONCURRENCY=str(args.concurrency))
        subprocess.run([str(BIN / "makechat"), "user", "create", "-u", "bench", "-p",
                        "bench-password", "-e", "bench@example.com", "-admin"],
                       env=environ, check=True, capture_output=True)
        port, server = serve(environ, args, tmp, "serve")
        try:
            _, login = Client(port).call("POST", "/api/login", {"username": "bench",
                                                                "password": "bench-password"})
            admin = Client(port, login["token"])
            _, plain = admin.call("POST", "/api/rooms", {"name": "plain"})
            _, hooked = admin.call("POST", "/api/rooms", {"name": "hooked"})
            _, bot = admin.call("POST", "/api/bots", {"username": "benchbot"})
            hooks = []
            for number in range(args.hooks):
                status, hook = admin.call("POST", "/api/webhooks/outgoing", {
                    "room": hooked["_id"]["$oid"], "bot": bot["_id"]["$oid"],
                    "name": f"hook{number}", "url": receiver.url})
                assert status == 201, hook
                hooks.append(hook["_id"]["$oid"])
            print(f"database: {database.kind}; server: {args.workers} gevent workers, "
                  f"webhook_concurrency {args.concurrency}; {args.hooks} webhooks to a fast "
                  "receiver on loopback")
            run(admin, plain["_id"]["$oid"], hooked["_id"]["$oid"], args, receiver)
        finally:
            server.terminate()
            server.wait(timeout=60)
        run_backlog(environ, hooked["_id"]["$oid"], login["token"], args, receiver, tmp)
        attempts_stats(database.uri("bench"))


def run(admin, plain, hooked, args, receiver):
    latencies = {plain: [], hooked: []}
    posted = {}  # seq in the hooked room -> perf_counter of its 201
    for number in range(args.messages):
        for room in (plain, hooked):
            started = time.perf_counter()
            status, message = admin.call("POST", "/api/messages", {"room": room,
                                                                   "text": f"m{number}"})
            done = time.perf_counter()
            assert status == 201
            latencies[room].append(done - started)
            if room == hooked:
                posted[message["seq"]] = done
    expected = args.messages * args.hooks
    deadline = time.monotonic() + 300
    while receiver.count < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    for name, room in (("without webhooks", plain), (f"with {args.hooks} webhooks", hooked)):
        values = latencies[room]
        print(f"post {name}: p50 {statistics.median(values) * 1000:.1f}ms "
              f"p95 {percentile(values, 0.95) * 1000:.1f}ms (n={len(values)})")
    extra = statistics.median(latencies[hooked]) - statistics.median(latencies[plain])
    print(f"extra cost of a post in a room with webhooks: {extra * 1000:+.1f}ms at the median")
    times = sorted(receiver.first.values())
    if len(times) > 1:
        span = times[-1] - times[0]
        print(f"outbox: {len(receiver.first)}/{expected} deliveries ({receiver.count} requests) "
              f"in {span:.2f}s = {len(receiver.first) / span:.0f} deliveries/s")
    delays = []
    for webhook_id, arrived in receiver.first.items():
        seq = int(webhook_id.rsplit("_", 1)[1])
        if seq in posted:
            delays.append(arrived - posted[seq])
    if delays:
        print(f"from a post's 201 to a delivery: p50 {statistics.median(delays) * 1000:.0f}ms "
              f"p95 {percentile(delays, 0.95) * 1000:.0f}ms")


def serve(environ, args, tmp, name, **settings):
    port = free_port()
    environ = dict(environ, **{f"MAKECHAT_{key.upper()}": value
                               for key, value in settings.items()})
    log = open(Path(tmp) / f"{name}.log", "w")
    server = subprocess.Popen([str(BIN / "makechat"), "serve", "--port", str(port),
                               "--workers", str(args.workers), "--log-level", "warning"],
                              env=environ, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            Client(port).call("GET", "/api/health")
            break
        except OSError:
            time.sleep(0.1)
    return port, server


def run_backlog(environ, room, token, args, receiver, tmp):
    port, quiet = serve(environ, args, tmp, "quiet", webhook_delivery="false")
    try:
        client = Client(port, token)
        for number in range(args.messages):
            status, _ = client.call("POST", "/api/messages", {"room": room,
                                                              "text": f"backlog {number}"})
            assert status == 201
    finally:
        quiet.terminate()
        quiet.wait(timeout=60)
    before, expected = receiver.count, receiver.count + args.messages * args.hooks
    _, delivering = serve(environ, args, tmp, "delivering")
    try:
        deadline = time.monotonic() + 120
        while receiver.count < expected and time.monotonic() < deadline:
            time.sleep(0.02)
        if receiver.count < expected:
            diagnose(environ["MAKECHAT_MONGO_URI"], Path(tmp) / "delivering.log")
    finally:
        delivering.terminate()
        delivering.wait(timeout=60)
    times = sorted(receiver.first.values())[-(receiver.count - before):]
    span = times[-1] - times[0]
    print(f"outbox, a backlog of {args.messages * args.hooks} deliveries: "
          f"{receiver.count - before} in {span:.2f}s = {(receiver.count - before) / span:.0f} "
          f"deliveries/s")


def diagnose(uri, log):
    """Why a backlog was not delivered in time: the deliveries' states, the
    unfinished attempts, and the end of the server's log."""
    import pymongo
    client = pymongo.MongoClient(uri)
    database = client.get_default_database()
    states = {}
    for item in database.deliveries.find({}, {"state": 1}):
        states[item["state"]] = states.get(item["state"], 0) + 1
    unfinished = database.delivery_attempts.count_documents({"finished": None})
    print(f"NOT DELIVERED IN TIME: deliveries {states}; unfinished attempts {unfinished}")
    print("".join(log.read_text().splitlines(keepends=True)[-30:]))
    client.close()


def attempts_stats(uri):
    """What the attempts' log says: how long the receiver took, and how
    many attempts each delivery needed."""
    import pymongo
    client = pymongo.MongoClient(uri)
    attempts = list(client.get_default_database().delivery_attempts.find())
    latencies = [item["latency_ms"] for item in attempts if item.get("latency_ms") is not None]
    deliveries = client.get_default_database().deliveries.count_documents({})
    if latencies:
        print(f"attempts: {len(attempts)} for {deliveries} deliveries; the receiver's latency "
              f"p50 {statistics.median(latencies):.0f}ms p95 {percentile(latencies, 0.95):.0f}ms")
    spans = [(item["finished"] - item["at"]).total_seconds() * 1000 for item in attempts
             if item.get("finished")]
    if spans:
        print(f"an attempt from its claim to its record: p50 {statistics.median(spans):.0f}ms "
              f"p95 {percentile(spans, 0.95):.0f}ms")
    client.close()


if __name__ == "__main__":
    main()
