"""What search costs on a log of 100,000 messages (issue 15, point 5).

Starts its own database server (mongod if on PATH, else FerretDB), fills one
database with --messages messages over --rooms rooms (words drawn from a
Zipf-like vocabulary, with accents and some Chinese), as posting stores them
(``words`` computed by makechat.words), then times ``makechat.chat.search``
for a user who belongs to half of the rooms::

    .venv/bin/python bench/search.py --messages 100000

It prints the time to compute the keys, the keys per message, the storage
(collection and index sizes, where the server reports them) and, for each
kind of query, the median and worst of --repeat runs (fewer once a query
has taken --budget seconds: on FerretDB v1 each one reads the whole
collection). The figures are in
bench/README.rst and docs/conversations.rst.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bson import ObjectId

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devdb.database import DatabaseServer  # noqa: E402
from makechat import db  # noqa: E402
from makechat.chat.messagelog import MessageStore  # noqa: E402
from makechat.chat.search import search  # noqa: E402
from makechat.config import Config  # noqa: E402
from makechat.models import Member, Message, Room, User, utcnow  # noqa: E402
from makechat.words import words_of  # noqa: E402

SYLLABLES = ["ka", "to", "re", "mi", "sa", "lo", "ne", "vi", "du", "pa", "ri", "zé", "çu",
             "fo", "gü", "ha"]
CHINESE = "东京都厅明天会议部署发布测试数据库服务器"


def vocabulary(size, rng):
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))))
    return sorted(words)


def text_of(rng, words, weights):
    parts = rng.choices(words, weights=weights, k=rng.randint(3, 25))
    if rng.random() < 0.05:
        start = rng.randrange(len(CHINESE) - 4)
        parts.append(CHINESE[start:start + rng.randint(2, 4)])
    if rng.random() < 0.2:
        parts[0] = parts[0].capitalize()
    return " ".join(parts) + rng.choice([".", "!", "?", ""])


def fill(count, rooms, rng):
    words = vocabulary(5000, rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    room_ids = [ObjectId() for _ in range(rooms)]
    user = User(username="reader", username_key="reader", username_skeleton="reader",
                email="r@example.com", email_key="r@example.com", password="x")
    user.save()
    for number, room_id in enumerate(room_ids):
        Room(id=room_id, name=f"room{number}", name_key=f"room{number}",
             last_seq=count, committed_seq=count).save(force_insert=True)
        if number % 2 == 0:
            Member(room=room_id, user=user.id, username="reader", joined_seq=0).save()
    collection = Message._get_collection()
    seqs = dict.fromkeys(room_ids, 0)
    keying = inserting = 0.0
    keys = 0
    start_time = utcnow()
    batch = []
    for number in range(count):
        room_id = room_ids[number % rooms]
        seqs[room_id] += 1
        text = text_of(rng, words, weights)
        started = time.perf_counter()
        found = words_of(text)
        keying += time.perf_counter() - started
        keys += len(found)
        batch.append({"_id": ObjectId(), "room": room_id, "seq": seqs[room_id],
                      "type": "message", "author": user.id, "author_username": "writer",
                      "text": text, "created": start_time + timedelta(milliseconds=number),
                      "edited": None, "deleted": False, "edit_seq": 0, "words": found,
                      "dedupe": f"bench:{number}"})
        if len(batch) == 1000 or number == count - 1:
            started = time.perf_counter()
            collection.insert_many(batch, ordered=False)
            inserting += time.perf_counter() - started
            batch = []
    return user, room_ids, words, keying, inserting, keys


def timed(repeat, function, budget):
    """(median ms, worst ms, runs, last result) of up to ``repeat`` runs, and
    no new run once ``budget`` seconds are spent (one run at least)."""
    times = []
    result = None
    spent = 0.0
    while len(times) < repeat and (not times or spent < budget):
        started = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - started
        spent += elapsed
        times.append(elapsed * 1000)
    return statistics.median(times), max(times), len(times), result


def sizes(database):
    try:
        stats = database.command("collStats", "messages")
    except Exception as error:  # noqa: BLE001 - reported, not fatal
        return f"(collStats: {str(error)[:80]})"
    indexes = stats.get("indexSizes") or {}
    shown = ", ".join(f"{name} {size / 2**20:.1f}" for name, size in sorted(indexes.items()))
    return (f"messages {stats.get('size', 0) / 2**20:.1f} MiB data, "
            f"{stats.get('storageSize', 0) / 2**20:.1f} MiB stored; indexes (MiB): {shown}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100000)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds per query after which it is not run again")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        server = DatabaseServer(Path(folder))
        server.start()
        try:
            config = Config(mongo_uri=server.uri("bench_search"), db_timeout=600.0)
            db.connect(config)
            db.ensure_indexes()
            database = Message._get_collection().database
            kind = "MongoDB" if db.has_atomic_updates(database) else "FerretDB"
            user, rooms, words, keying, inserting, keys = fill(args.messages, args.rooms, rng)
            print(f"{kind}: {args.messages} messages in {args.rooms} rooms, the reader in "
                  f"{len(rooms[::2])}")
            print(f"keys: {keys / args.messages:.1f} per message, computed in "
                  f"{keying / args.messages * 1e6:.0f} us each; inserted in {inserting:.1f} s")
            print(sizes(database))
            queries = [("a common word", words[0], None), ("a rare word", words[-1], None),
                       ("two common words", f"{words[0]} {words[1]}", None),
                       ("a common word, one room", words[0], rooms[0]),
                       ("Chinese (two pairs)", CHINESE[:3], None),
                       ("no match", "zzzz", None)]
            if kind == "FerretDB":
                plan = database.command("explain", {"find": "messages", "filter": {
                    "room": rooms[0], "words": words[0]}, "limit": 51})
                print(f"FerretDB explain of a search: filterPushdown "
                      f"{plan.get('filterPushdown')}, plan {plan.get('queryPlanner')}")
            store = MessageStore(gap_timeout=5.0)
            median, worst, runs, _ = timed(args.repeat,
                                           lambda: store.before(rooms[0], None, 50), args.budget)
            print(f"for comparison, a room's latest 50 messages: p50 {median:7.1f} ms, "
                  f"max {worst:7.1f} ms ({runs} runs)")
            for label, query, room in queries:
                median, worst, runs, (found, _) = timed(
                    args.repeat, lambda q=query, r=room: search(user, q, r, limit=50),
                    args.budget)
                print(f"search {label!r:28} {len(found):3} results: "
                      f"p50 {median:7.1f} ms, max {worst:7.1f} ms ({runs} runs)")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
