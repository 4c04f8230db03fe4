"""Operations figures: backup and restore time and size, 503 latency while the
database is down, and recovery time after it restarts.

    .venv/bin/python bench/operations.py [--messages 50000]

Runs on a database server of its own (mongod if on PATH, else FerretDB).
"""

import argparse
import logging
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pymongo
import webtest
from bson import ObjectId

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from makechat import backup, db  # noqa: E402
from makechat.app import create_app  # noqa: E402
from makechat.config import Config  # noqa: E402
from devdb.database import DatabaseServer  # noqa: E402


def populate(database, messages):
    room = ObjectId()
    now = datetime.now(timezone.utc)
    database.rooms.insert_one({"_id": room, "name": "bench", "name_key": "bench",
                               "last_seq": messages, "committed_seq": messages})
    batch = []
    for seq in range(1, messages + 1):
        batch.append({"room": room, "seq": seq, "author": ObjectId(), "author_username": "bench",
                      "text": f"message {seq} — naïve café 👋 " + "x" * 80,
                      "created": now + timedelta(milliseconds=seq), "dedupe": f"bench:{seq}"})
        if len(batch) == 1000:
            database.messages.insert_many(batch)
            batch = []
    if batch:
        database.messages.insert_many(batch)


def timed(function, *args, **kwargs):
    started = time.monotonic()
    result = function(*args, **kwargs)
    return result, time.monotonic() - started


def measure_backup(server, folder, messages):
    config = Config(mongo_uri=server.uri("makechat_bench"))
    db.connect(config)
    db.ensure_indexes()
    database = pymongo.MongoClient(config.mongo_uri)["makechat_bench"]
    populate(database, messages)
    path, backup_seconds = timed(backup.write_backup, database, folder / "backups")
    restored, restore_seconds = timed(backup.restore_backup, database, path, drop=True)
    _, check_seconds = timed(backup.read_archive, path)
    print(f"backup:  {messages} messages -> {path.stat().st_size / 1e6:.1f} MB archive "
          f"in {backup_seconds:.1f} s ({messages / backup_seconds:,.0f} docs/s)")
    print(f"restore --drop: {sum(restored.values())} documents in {restore_seconds:.1f} s "
          f"({sum(restored.values()) / restore_seconds:,.0f} docs/s), of which checking "
          f"the archive first: {check_seconds:.1f} s")
    merged, merge_seconds = timed(backup.restore_backup, database, path)
    print(f"restore without --drop over the same documents (upserts): "
          f"{sum(merged.values())} in {merge_seconds:.1f} s")


def measure_outage(server, db_timeout):
    config = Config(mongo_uri=server.uri("makechat_outage"), bcrypt_rounds=4,
                    db_timeout=db_timeout)
    app = webtest.TestApp(create_app(config))
    token = app.post_json("/api/register", {"username": "bench", "password": "bench pass 1",
                                            "email": "bench@example.com"}).json["token"]
    headers = {"X-Auth-Token": token}
    server.process.kill()
    server.process.wait()
    server.process = None
    latencies = []
    for _ in range(5):
        started = time.monotonic()
        status = app.get("/api/users/me", headers=headers, expect_errors=True).status_int
        latencies.append(time.monotonic() - started)
        assert status == 503, status
    started = time.monotonic()
    health = app.get("/api/health", expect_errors=True)
    health_seconds = time.monotonic() - started
    restarted = DatabaseServer(server.data_dir, port=server.port)
    restart_started = time.monotonic()
    restarted.start()
    up = time.monotonic()
    while app.get("/api/users/me", headers=headers, expect_errors=True).status_int != 200:
        time.sleep(0.05)
    recovered = time.monotonic()
    restarted.stop()
    print(f"outage (db_timeout={db_timeout:g}): 503 in median "
          f"{statistics.median(latencies):.2f} s, max {max(latencies):.2f} s; "
          f"/api/health {health.status_int} in {health_seconds:.2f} s; "
          f"database restart took {up - restart_started:.2f} s, first 200 "
          f"{recovered - up:.2f} s after it answered")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50000)
    args = parser.parse_args()
    logging.getLogger("makechat").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        with DatabaseServer(folder / "db") as server:
            print(f"database: {server.kind}")
            measure_backup(server, folder, args.messages)
        for db_timeout in (1.0, 5.0):
            server = DatabaseServer(folder / f"outage-{db_timeout:g}").start()
            try:
                measure_outage(server, db_timeout)
            finally:
                server.stop()


if __name__ == "__main__":
    main()
