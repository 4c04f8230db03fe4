"""Benchmark posting, following and waiting against a real `makechat serve`.

    .venv/bin/python bench/messages.py [--writers 4] [--messages 50] [--waiters 1000]

Starts a private database server (mongod if on PATH, else FerretDB) and a
server with two gevent workers, then measures:
  * post throughput and latency with concurrent writers,
  * delivery latency: from a post's 201 to a follower on the *other*
    worker process receiving it through `after` + `wait`,
  * the worker's memory with N clients waiting.
On FerretDB the absolute numbers say little about MongoDB (it filters in
memory); compare runs on the same machine and database only.
"""

import argparse
import asyncio
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devdb.database import DatabaseServer, free_port  # noqa: E402

BIN = Path(sys.executable).parent


class Client:
    def __init__(self, port, token=None):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.token = token

    def call(self, method, path, body=None):
        headers = {"Accept": "application/json"}
        if self.token:
            headers["X-Auth-Token"] = self.token
        payload = None
        if body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.connection.request(method, path, payload, headers)
        response = self.connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--messages", type=int, default=50, help="per writer")
    parser.add_argument("--waiters", type=int, default=1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, DatabaseServer(Path(tmp) / "db") as database:
        port = free_port()
        environ = dict(os.environ, MAKECHAT_MONGO_URI=database.uri("bench"),
                       MAKECHAT_BCRYPT_ROUNDS="4", MAKECHAT_WORKER_CONNECTIONS="1500")
        subprocess.run([str(BIN / "makechat"), "user", "create", "-u", "bench", "-p",
                        "bench-password", "-e", "bench@example.com", "-admin"],
                       env=environ, check=True, capture_output=True)
        log = open(Path(tmp) / "serve.log", "w")
        server = subprocess.Popen([str(BIN / "makechat"), "serve", "--port", str(port),
                                   "--workers", "2", "--log-level", "warning"],
                                  env=environ, stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(100):
                try:
                    Client(port).call("GET", "/api/users/me")
                    break
                except OSError:
                    time.sleep(0.1)
            status, login = Client(port).call("POST", "/api/login",
                                              {"username": "bench", "password": "bench-password"})
            token = login["token"]
            admin = Client(port, token)
            _, room = admin.call("POST", "/api/rooms", {"name": f"bench-{time.time()}"})
            room_id = room["_id"]["$oid"]
            print(f"database: {database.kind}; server: 2 gevent workers")
            run_posts(port, token, room_id, args.writers, args.messages)
            run_delivery(port, token, room_id)
            run_waiters(port, token, room_id, args.waiters, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=60)


def run_posts(port, token, room_id, writers, per_writer):
    latencies = []

    def write():
        client = Client(port, token)
        for number in range(per_writer):
            started = time.perf_counter()
            status, _ = client.call("POST", "/api/messages", {"room": room_id,
                                                              "text": f"m{number}"})
            assert status == 201
            latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    total = writers * per_writer
    print(f"posts: {total} by {writers} writers in {elapsed:.2f}s = {total / elapsed:.0f}/s; "
          f"latency p50 {statistics.median(latencies) * 1000:.1f}ms "
          f"p95 {percentile(latencies, 0.95) * 1000:.1f}ms")


def run_delivery(port, token, room_id, rounds=30):
    """Post on one connection, follow on another; time post-201 to receipt."""
    follower, poster = Client(port, token), Client(port, token)
    _, latest = follower.call("GET", f"/api/messages?room={room_id}&limit=1")
    cursor = latest[-1]["_id"]["$oid"] if latest else "0"
    delays = []
    for number in range(rounds):
        result = {}

        def follow():
            _, batch = follower.call("GET", f"/api/messages?room={room_id}&after={cursor}&wait=10")
            result["at"] = time.perf_counter()
            result["batch"] = batch

        thread = threading.Thread(target=follow)
        thread.start()
        time.sleep(0.05)
        poster.call("POST", "/api/messages", {"room": room_id, "text": f"d{number}"})
        posted_at = time.perf_counter()
        thread.join()
        delays.append(max(0.0, result["at"] - posted_at))
        cursor = result["batch"][-1]["_id"]["$oid"]
    print(f"delivery after 201: p50 {statistics.median(delays) * 1000:.1f}ms "
          f"p95 {percentile(delays, 0.95) * 1000:.1f}ms max {max(delays) * 1000:.1f}ms "
          f"({rounds} rounds)")


def run_waiters(port, token, room_id, count, master_pid):
    workers = [int(pid) for pid in subprocess.run(["pgrep", "-P", str(master_pid)],
                                                  capture_output=True, text=True).stdout.split()]
    before = sum(rss_kib(pid) for pid in workers)
    _, latest = Client(port, token).call("GET", f"/api/messages?room={room_id}&limit=1")
    cursor = latest[-1]["_id"]["$oid"]
    request = (f"GET /api/messages?room={room_id}&after={cursor}&wait=20 HTTP/1.1\r\n"
               f"Host: x\r\nAccept: application/json\r\nX-Auth-Token: {token}\r\n"
               "Connection: close\r\n\r\n").encode()

    async def scenario():
        connections = []
        for _ in range(count):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            connections.append((reader, writer))
        loop = asyncio.get_running_loop()
        opened = time.perf_counter()
        # Until every request is parked the workers are busy admitting them
        # (token, room and mark lookups); probe until another request is quick.
        while True:
            started = time.perf_counter()
            await loop.run_in_executor(
                None, lambda: Client(port, token).call("GET", "/api/users/me"))
            other_ms = (time.perf_counter() - started) * 1000
            if other_ms < 50 or time.perf_counter() - opened > 60:
                break
            await asyncio.sleep(0.5)
        settle_s = time.perf_counter() - opened
        during = sum(rss_kib(pid) for pid in workers)
        times = []
        for _ in range(20):
            started = time.perf_counter()
            await loop.run_in_executor(
                None, lambda: Client(port, token).call("GET", "/api/users/me"))
            times.append((time.perf_counter() - started) * 1000)
        other_ms = statistics.median(times)
        posted_at = time.perf_counter()
        await loop.run_in_executor(None, lambda: Client(port, token).call(
            "POST", "/api/messages", {"room": room_id, "text": "wake"}))
        await asyncio.gather(*(reader.read() for reader, _ in connections))
        all_ms = (time.perf_counter() - posted_at) * 1000
        for _, writer in connections:
            writer.close()
        return settle_s, during, other_ms, all_ms

    settle_s, during, other_ms, all_ms = asyncio.run(scenario())
    print(f"{count} waiting clients: all parked within {settle_s:.1f}s; workers' RSS "
          f"{before / 1024:.0f} -> {during / 1024:.0f} MiB ({(during - before) / count:.1f} KiB "
          f"per waiter); meanwhile GET /api/users/me p50 {other_ms:.1f}ms; one post answered "
          f"all {count} in {all_ms:.0f}ms")


if __name__ == "__main__":
    main()
