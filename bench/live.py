"""Live delivery: N clients waiting in one room, then posts (run by bench/run.py
in a process of its own, so the clients never share the server's cores'
accounting).

    python bench/live.py SCENARIO.json   (prints one JSON result)

The scenario names the port, the room, the poster's token, one token per
client, the mode ("poll": ``GET /api/messages?after=SEQ&wait=S`` re-sent
after each answer; "sse": ``GET /api/events`` with ``Accept:
text/event-stream``), how many posts, and where to read the server's
worker pids and command counts. It measures:

* parking: from the first connection until every request is sent (SSE:
  every stream sent ``stream.ready``) and the workers are quiet (under
  ``quiet_cpu`` of a core for ``quiet_window`` seconds);
* idle: database commands per second with all N parked, the workers' RSS;
* delivery: for each post, from its ``201`` to each client's receipt of the
  message (SSE: its ``event: message``); between posts the clients re-park
  (long-poll) and the workers go quiet again.

Plain asyncio protocols, no HTTP library: one process holds 1,000 clients
with little CPU of its own. Every wait is bounded.
"""

import asyncio
import json
import re
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import commands  # noqa: E402
from procfs import cpu_seconds, rss_mib  # noqa: E402

SEQ = re.compile(rb'"seq": (\d+)')


class Waiter(asyncio.Protocol):
    """One client: a long-poll that re-sends itself, or an event stream."""

    def __init__(self, scenario, token, after):
        self.s = scenario
        self.token = token
        self.after = after
        self.buffer = b""
        self.ready = asyncio.get_running_loop().create_future()  # SSE: stream.ready seen
        self.received = {}  # post number -> perf_counter of receipt
        self.expect = None  # the seq awaited (poll) or the number of messages seen (sse)
        self.messages = 0
        self.status = None
        self.transport = None
        self.failed = None

    def connection_made(self, transport):
        self.transport = transport
        self.send()

    def send(self):
        s = self.s
        if s["mode"] == "sse":
            request = (f"GET /api/events HTTP/1.1\r\nHost: bench\r\n"
                       f"Accept: text/event-stream\r\nX-Auth-Token: {self.token}\r\n\r\n")
        else:
            request = (f"GET /api/messages?room={s['room']}&after={self.after}&wait={s['wait']} "
                       f"HTTP/1.1\r\nHost: bench\r\nAccept: application/json\r\n"
                       f"X-Auth-Token: {self.token}\r\n\r\n")
        self.transport.write(request.encode())

    def data_received(self, data):
        now = time.perf_counter()
        self.buffer += data
        if self.s["mode"] == "sse":
            self._sse(now)
        else:
            self._poll(now)

    def _sse(self, now):
        if self.status is None:
            if b"\r\n" not in self.buffer:
                return
            self.status = self.buffer.split(b" ", 2)[1]
            if self.status != b"200":
                self.failed = self.buffer.split(b"\r\n", 1)[0].decode("latin-1")
                self.ready.set_result(False)
                return
        # Each event ends with a blank line; chunk sizes fall between events.
        *events, self.buffer = self.buffer.split(b"\n\n")
        for event in events:
            if b"event: message\n" in event:
                self.messages += 1
                self.received[self.messages] = now
            elif b"event: stream.ready" in event and not self.ready.done():
                self.ready.set_result(True)

    def _poll(self, now):
        head, sep, body = self.buffer.partition(b"\r\n\r\n")
        if not sep:
            return
        status = head.split(b" ", 2)[1]
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if len(body) < length:
            return
        self.buffer = body[length:]
        if status != b"200":
            self.failed = head.split(b"\r\n", 1)[0].decode("latin-1")
            return
        seqs = SEQ.findall(body[:length])
        if seqs:
            self.after = int(seqs[-1])
            self.messages += len(seqs)
            self.received[self.messages] = now
            if self.s.get("stop_after") and self.messages >= self.s["stop_after"]:
                return  # the last round: do not wait again
        self.send()

    def connection_lost(self, exc):
        if not self.ready.done():
            self.ready.set_result(False)
        if self.failed is None and not (self.s.get("stop_after")
                                        and self.messages >= self.s["stop_after"]):
            self.failed = f"connection lost: {exc}"


async def http(port, request, timeout=60):
    """One request on a new connection; return (status, headers bytes, body, t of answer)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        writer.write(request)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))
        body = await asyncio.wait_for(reader.readexactly(length), timeout)
        return int(head.split(b" ", 2)[1]), head, body, time.perf_counter()
    finally:
        writer.close()


async def quiet(s, pids, since, deadline, step=0.05):
    """Wait until, for quiet_window seconds, no more database commands of
    the workers were in flight at any sample than their pollers send (two
    each), they sent under
    quiet_commands_per_s commands a second (admitting a request sends
    several; the pollers of idle waiters a few a second in all), and they
    used under quiet_cpu of a core; return when that quiet stretch began
    (not before since), or None at the deadline.

    All of these, because each alone is fooled: when the database is the
    bottleneck the workers wait with idle CPUs while requests queue for a
    connection (commands in flight: up to the pool's size). The database's
    own CPU is no sign: idle event streams keep it busy (see idle_db_cpu)."""
    needed = max(1, round(s["quiet_window"] / step))
    counts = set(pids)

    def sample():
        found = commands.read(s["counts"], counts)
        return (time.perf_counter(), cpu_seconds(pids), 0, found["total"], found["in_flight"])

    run, first = 0, sample()
    while time.perf_counter() < deadline:
        await asyncio.sleep(step)
        now = sample()
        if now[4] > 2 * len(pids):  # more in flight than the pollers' own: queued work
            run, first = 0, now
            continue
        run += 1
        elapsed = now[0] - first[0]
        # NOTE: /proc counts CPU in clock ticks (10 ms): a stretch is judged
        # on its total, with one tick of slack, not step by step.
        busy = (now[1] - first[1] > s["quiet_cpu"] * elapsed + 0.011
                or now[3] - first[3] > s.get("quiet_commands_per_s", 30) * elapsed + 1)
        if busy:
            run, first = 0, now
        elif run >= needed:
            return max(first[0], since)
    return None


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else None


async def scenario(s):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    loop = asyncio.get_running_loop()
    pids = s["pids"]
    rss_before = [rss_mib(pid) for pid in pids]
    deadline = time.perf_counter() + s["park_timeout"]
    before_park = commands.read(s["counts"], set(pids))["total"]
    started = time.perf_counter()
    clients = []
    for token in s["tokens"]:
        waiter = Waiter(s, token, s["after"])
        await loop.create_connection(lambda waiter=waiter: waiter, "127.0.0.1", s["port"])
        clients.append(waiter)
    sent = time.perf_counter()
    ready_s = None
    if s["mode"] == "sse":
        await asyncio.wait([c.ready for c in clients],
                           timeout=max(1, deadline - time.perf_counter()))
        if all(c.ready.done() for c in clients):
            ready_s = round(time.perf_counter() - started, 3)
        for c in clients:  # out of the count: it may have missed a post
            if not c.ready.done() and c.failed is None:
                c.failed = f"no stream.ready within {s['park_timeout']} s"
    parked_at = await quiet(s, pids, time.perf_counter(), deadline)
    result = {"mode": s["mode"], "clients": len(clients),
              "connect_s": round(sent - started, 3),
              "park_s": round(parked_at - started, 3) if parked_at else None,
              "streams_ready_s": ready_s,
              "streams_ready": sum(1 for c in clients if c.ready.done() and c.ready.result()),
              # Commands per client while they parked (the pollers' few
              # included): what admitting one waiting request costs.
              "park_commands_per_client": round(
                  (commands.read(s["counts"], set(pids))["total"] - before_park)
                  / len(clients), 2),
              "failed": sum(1 for c in clients if c.failed)}
    # Idle: what N parked clients cost the database, and the workers' memory.
    counted = commands.read(s["counts"], set(pids))
    db = [s["db_pid"]] if s.get("db_pid") else []
    idle_start, idle_cpu, idle_db = time.perf_counter(), cpu_seconds(pids), cpu_seconds(db)
    await asyncio.sleep(s["idle_seconds"])
    after = commands.read(s["counts"], set(pids))
    elapsed = time.perf_counter() - idle_start
    result["idle_cpu_pct"] = round(100 * (cpu_seconds(pids) - idle_cpu) / elapsed, 1)
    result["idle_db_cpu_pct"] = round(100 * (cpu_seconds(db) - idle_db) / elapsed, 1)
    result["idle_commands_per_s"] = round((after["total"] - counted["total"]) / elapsed, 2)
    result["idle_by_command"] = {name: round((after[name] - counted[name]) / elapsed, 2)
                                 for name in commands.NAMES if after[name] != counted[name]}
    rss = [rss_mib(pid) for pid in pids]
    result["rss_mib"] = [round(value, 1) for value in rss]
    result["rss_before_mib"] = [round(value, 1) for value in rss_before]
    result["kib_per_client"] = round((sum(rss) - sum(rss_before)) * 1024 / len(clients), 1)
    # Delivery.
    delays, missing, repark, refused = [], 0, [], []
    before_posts = commands.read(s["counts"], set(pids))["total"]
    for number in range(1, s["posts"] + 1):
        body = json.dumps({"room": s["room"], "text": f"live {number}"}).encode()
        request = (f"POST /api/messages HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
                   f"Content-Type: application/json\r\nX-Auth-Token: {s['poster']}\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        # A client retries a post the server could not take (503: the
        # database did not answer in time); each refusal is counted.
        for _ in range(3):
            try:
                status, _, _, answered = await http(s["port"], request)
            except (OSError, asyncio.TimeoutError) as error:
                status, answered = repr(error), None
            if status == 201:
                break
            refused.append(status)
            await asyncio.sleep(1)
        else:
            missing += sum(1 for c in clients if not c.failed)
            continue
        limit = time.perf_counter() + s["delivery_timeout"]
        while time.perf_counter() < limit and \
                any(number not in c.received for c in clients if not c.failed):
            await asyncio.sleep(0.01)
        for c in clients:
            if number in c.received:
                delays.append(max(0.0, c.received[number] - answered))
            else:
                missing += 1
        if number < s["posts"]:
            back = time.perf_counter()
            settled = await quiet(s, pids, back, back + s["park_timeout"])
            repark.append(round((settled or time.perf_counter()) - back, 3))
    # Commands per delivery: what waking a waiter and answering it costs
    # (the posts' own and the re-parking of long polls included).
    delivery_commands = commands.read(s["counts"], set(pids))["total"] - before_posts
    result.update({
        "delivery_commands_per_delivery": round(delivery_commands / max(1, len(delays)), 2),
        "posts": s["posts"], "deliveries": len(delays), "missing": missing,
        "p50_ms": round(percentile(delays, 0.5) * 1000, 1) if delays else None,
        "p99_ms": round(percentile(delays, 0.99) * 1000, 1) if delays else None,
        "max_ms": round(max(delays) * 1000, 1) if delays else None,
        "repark_s": repark, "posts_refused": refused,
        "failed": sum(1 for c in clients if c.failed),
        "failures": sorted({c.failed for c in clients if c.failed})[:3]})
    for c in clients:
        c.transport.close()
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(scenario(json.loads(Path(sys.argv[1]).read_text())))))
