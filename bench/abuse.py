"""What one `makechat serve` holds against abusive clients, measured.

    .venv/bin/python bench/abuse.py [--slow 2000] [--waiters 2000] [--seconds 40]

Starts a private database server and a two-worker `makechat serve` with the
default settings, then runs two attacks from 127.0.0.1 while an honest
client on another loopback address (127.0.0.2) keeps asking:

  * slow bodies: ``--slow`` connections send full headers for
    ``POST /api/login`` with ``Content-Length: 60000``, then one body byte
    every 10 s (they reconnect when the server closes them). Meanwhile
    ``GET /api/health`` runs every 0.5 s from the honest address;
  * many waiters: one token opens ``--waiters`` ``GET /api/messages?...&wait=30``
    at once; how many park, how many get 429, and how long another user's
    ``GET /api/users/me`` takes meanwhile.

Nothing here is a test: the figures go to stdout (see bench/README.rst).
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devdb.database import DatabaseServer  # noqa: E402
from tests.live import LiveServer, http  # noqa: E402

HONEST = "127.0.0.2"


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def honest_get(port, path, token=None, timeout=10):
    """One GET from the honest address; return (status, seconds) or (None, timeout)."""
    started = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, local_addr=(HONEST, 0)), timeout)
        auth = f"X-Auth-Token: {token}\r\n" if token else ""
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n{auth}"
                     "Connection: close\r\n\r\n".encode())
        line = await asyncio.wait_for(reader.readline(), timeout)
        writer.close()
        return int(line.split()[1]), time.monotonic() - started
    except (OSError, asyncio.TimeoutError, IndexError, ValueError):
        return None, time.monotonic() - started


async def slow_body(port, stop, counts):
    """Hold one slow-body connection open, reconnecting when it is closed."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            counts["refused"] += 1
            await asyncio.sleep(1)
            continue
        counts["opened"] += 1
        writer.write(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 60000\r\n\r\n")
        try:
            while not stop.is_set():
                writer.write(b" ")
                await writer.drain()
                try:
                    data = await asyncio.wait_for(reader.read(200), 10)
                except asyncio.TimeoutError:
                    continue
                if data.startswith(b"HTTP/1.1 "):
                    counts[data.split()[1].decode()] += 1
                break
        except OSError:
            counts["reset"] += 1
        writer.close()


async def slow_bodies(port, count, seconds):
    stop = asyncio.Event()
    counts = __import__("collections").Counter()
    attackers = [asyncio.create_task(slow_body(port, stop, counts)) for _ in range(count)]
    await asyncio.sleep(3)  # let them connect
    latencies, failures = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, elapsed = await honest_get(port, "/api/health")
        if status == 200:
            latencies.append(elapsed)
        else:
            failures += 1
        await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*attackers, return_exceptions=True)
    return latencies, failures, counts


async def many_waiters(port, token, other_token, room, count):
    async def wait_one():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET /api/messages?room={room}&after=0&wait=30 HTTP/1.1\r\nHost: x\r\n"
                         f"Accept: application/json\r\nX-Auth-Token: {token}\r\n"
                         "Connection: close\r\n\r\n".encode())
            line = await asyncio.wait_for(reader.readline(), 40)
            writer.close()
            return int(line.split()[1])
        except (OSError, asyncio.TimeoutError, IndexError, ValueError):
            return None

    waits = [asyncio.create_task(wait_one()) for _ in range(count)]
    await asyncio.sleep(3)
    latencies = []
    for _ in range(20):
        status, elapsed = await honest_get(port, "/api/users/me", token=other_token)
        if status == 200:
            latencies.append(elapsed)
        await asyncio.sleep(0.2)
    done = [task.result() for task in waits if task.done()]
    for task in waits:
        task.cancel()
    await asyncio.gather(*waits, return_exceptions=True)
    return latencies, done


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slow", type=int, default=2000)
    parser.add_argument("--waiters", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=40)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, DatabaseServer(scratch) as database:
        environ = {"MAKECHAT_MONGO_URI": database.uri("bench"), "MAKECHAT_BCRYPT_ROUNDS": "4"}
        with LiveServer(environ) as server:
            print(f"makechat serve: workers=2 (gevent), defaults otherwise; {database.kind}")
            latencies, failures, counts = asyncio.run(
                slow_bodies(server.port, args.slow, args.seconds))
            answered = len(latencies)
            print(f"slow bodies: {args.slow} connections for {args.seconds:.0f}s: "
                  f"GET /api/health answered {answered}/{answered + failures}, "
                  + (f"p50 {statistics.median(latencies) * 1000:.1f}ms "
                     f"p99 {percentile(latencies, 0.99) * 1000:.1f}ms max "
                     f"{max(latencies) * 1000:.1f}ms" if latencies else "never")
                  + f"; attackers' answers {dict(counts)}")

            os.environ["MAKECHAT_MONGO_URI"] = database.uri("bench")
            tokens = {}
            for name in ("attacker", "honest"):
                from makechat import accounts, db
                from makechat.auth import issue_token
                from makechat.config import load_config
                config = load_config({"MAKECHAT_MONGO_URI": database.uri("bench")}, path=None)
                db.connect(config)
                db.ensure_indexes()
                user = accounts.create_user(name, f"{name}@example.com", "bench-pass-123",
                                            rounds=4, is_superuser=True)
                tokens[name] = issue_token(user, "bench", max_tokens=100)[1]
            _, _, room = http("POST", server.url + "/api/rooms", {"name": "bench"},
                              token=tokens["attacker"])
            room_id = room["_id"]["$oid"]
            latencies, statuses = asyncio.run(many_waiters(
                server.port, tokens["attacker"], tokens["honest"], room_id, args.waiters))
            counted = __import__("collections").Counter(statuses)
            print(f"many waiters: one token opened {args.waiters} ?wait=30 requests: "
                  f"answered at once {dict(counted)}, still parked "
                  f"{args.waiters - len(statuses)}; another user's GET /api/users/me "
                  + (f"p50 {statistics.median(latencies) * 1000:.1f}ms max "
                     f"{max(latencies) * 1000:.1f}ms ({len(latencies)}/20 answered)"
                     if latencies else "never answered"))


if __name__ == "__main__":
    main()
