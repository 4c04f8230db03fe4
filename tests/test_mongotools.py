"""makechat's backups and MongoDB's own Database Tools, proven with the real
tools (mongodump, mongorestore, bsondump): a dump in every layout mongodump
writes restores with `makechat restore`, and a makechat backup restores with
mongorestore and reads with bsondump, every document equal.

The tools are found in $MAKECHAT_MONGO_TOOLS, else in
``<repo>/../shared/tools/mongo-tools/bin``; without them these tests fail
(they never skip)."""

import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import bson
import pytest
from bson import json_util

from makechat import backup, db
from makechat.cli import Env, run
from tests.dumps import drop_all, index_names, snapshot
from tests.receiver import Receiver
from tests.test_outbox import FAST, World, make_outbox

# `pytest -m "not slow"` leaves these out: they run MongoDB's Database Tools.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TOOLS = ROOT.parent / "shared" / "tools" / "mongo-tools" / "bin"
TOOL_NAMES = ("mongodump", "mongorestore", "bsondump")
PASSWORD = "correct horse battery"


def find_tools(folder):
    """Return {tool: path} for the tools in ``folder``, or fail naming it."""
    folder = Path(folder)
    missing = [name for name in TOOL_NAMES if not os.access(folder / name, os.X_OK)]
    if missing:
        pytest.fail(f"MongoDB Database Tools not found: no executable {', '.join(missing)} in "
                    f"{folder} (see {DEFAULT_TOOLS.parent / 'README.md'}; set "
                    "MAKECHAT_MONGO_TOOLS to the folder that holds them)", pytrace=False)
    return {name: str(folder / name) for name in TOOL_NAMES}


@pytest.fixture(scope="session")
def tools():
    return find_tools(os.environ.get("MAKECHAT_MONGO_TOOLS") or DEFAULT_TOOLS)


def tool(tools, name, *args):
    result = subprocess.run([tools[name], *map(str, args)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, f"{name} {' '.join(map(str, args))}:\n{result.stderr[-3000:]}"
    return result


def tar(*args):
    subprocess.run(["tar", *map(str, args)], check=True, timeout=120)


@pytest.fixture
def ferretdb(raw_db):
    """Is the test server FerretDB? (mongorestore's indexes need --noIndexRestore there.)"""
    return "ferretdbVersion" in raw_db.client.admin.command("buildInfo")


@pytest.fixture
def server_uri(mongo_server):
    """The test server's URI without a database: mongorestore takes the
    database from the dump's folder."""
    return mongo_server.uri("")


@pytest.fixture
def env(config):
    environ = {"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_BCRYPT_ROUNDS": "4"}
    return Env(stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.StringIO(), environ=environ)


@pytest.fixture
def chat(api, make_user, config):
    """A room made through the API: members, unicode messages (one edited,
    one deleted), a failed login; every one of makechat's collections holds
    documents."""
    admin, zoe = make_user("admin", admin=True), make_user("zoe")
    room = api.as_user(admin).post("/api/rooms", {"name": "Café ☕", "topic": "日本語"})
    room_id = room.json["_id"]["$oid"]
    assert api.as_user(zoe).post("/api/members", {"room": room_id}).status_int == 201
    ids = [api.as_user(zoe).post("/api/messages", {"room": room_id,
                                                   "text": f"{n}: привет 👋 \U0001F600"}
                                 ).json["_id"]["$oid"] for n in range(1, 121)]
    assert api.as_user(zoe).patch(f"/api/messages/{ids[0]}", {"text": "edited"}).status_int == 200
    assert api.as_user(zoe).delete(f"/api/messages/{ids[1]}").status_int == 204
    marked = api.as_user(zoe).put(f"/api/rooms/{room_id}/read", {"seq": 10})
    assert marked.status_int == 200  # a read marker (read_markers)
    reacted = api.as_user(admin).put(f"/api/messages/{ids[2]}/reactions/%F0%9F%91%8B")
    assert reacted.status_int == 200  # a reaction (reactions), an event of the log
    assert api.post("/api/login", {"username": "zoe", "password": "wrong"}).status_int == 401
    # ... and one that works, so the address is remembered (login_addresses)
    assert api.post("/api/login", {"username": "zoe",
                                   "password": zoe.plain_password}).status_int == 200
    bots(config, admin, room_id)
    shown = api.as_user(zoe).get("/api/messages", params={"room": room_id, "limit": 200}).json
    events = api.as_user(zoe).get(f"/api/rooms/{room_id}/events",
                                  params={"after": 0, "limit": 200}).json
    return {"admin": admin, "zoe": zoe, "room": room_id, "shown": shown, "events": events}


def bots(config, admin, room_id):
    """A bot with an incoming webhook that posted, and an outgoing webhook
    delivered once to a receiver on loopback (webhooks, deliveries, attempts
    and the server's signing key)."""
    world = World(config.replace(**FAST), admin)
    world.room = room_id
    hook = world.call("POST", "/api/webhooks/incoming",
                      {"room": room_id, "bot": world.bot, "name": "ci"}, status=201).json
    assert world.app.post_json(hook["url"], {"text": "build passed"}).status_int == 200
    with Receiver() as receiver:
        world.hook(receiver.url)
        world.post("ship it")
        assert make_outbox(world.config).run_once() == 1


def makechats(database):
    return sorted(backup.makechat_collections() & set(database.list_collection_names()))


def mongodump(tools, mongo_uri, tmp_path, layout):
    """Dump the test database with mongodump in ``layout``; return the file
    to give to makechat restore."""
    if layout in ("archive", "gzip archive"):
        path = tmp_path / "makechat.archive"
        tool(tools, "mongodump", "--uri", mongo_uri, f"--archive={path}",
             *(["--gzip"] if layout == "gzip archive" else []))
        return path
    tool(tools, "mongodump", "--uri", mongo_uri, "--out", tmp_path / "dump",
         *(["--gzip"] if layout == "gzip folder" else []))
    path = tmp_path / "dump.tar.gz"
    tar("czf", path, "-C", tmp_path / "dump", ".")  # as operators pack a folder
    return path


@pytest.mark.parametrize("layout", ["folder", "gzip folder", "archive", "gzip archive"])
def test_restore_of_mongodump_returns_every_document_and_serves_them(
        chat, tools, mongo_uri, raw_db, env, api, tmp_path, layout):
    names = makechats(raw_db)
    assert names == sorted(backup.makechat_collections())
    before = snapshot(raw_db, names)
    assert all(before[name] for name in names)
    path = mongodump(tools, mongo_uri, tmp_path, layout)
    drop_all(raw_db)  # a new, empty database
    assert run(["restore", str(path), "--drop"], env) == 0, env.stderr.getvalue()
    assert snapshot(raw_db, names) == before
    assert env.stdout.getvalue().startswith(
        f"restored {sum(map(len, before.values()))} documents in {len(names)} collections")
    zoe = api.as_user(chat["zoe"])
    assert zoe.get("/api/messages", params={"room": chat["room"], "limit": 200}).json \
        == chat["shown"]
    assert api.post("/api/login", {"username": "zoe", "password": PASSWORD}).status_int == 200
    assert zoe.get(f"/api/rooms/{chat['room']}/events",
                   params={"after": 0, "limit": 200}).json == chat["events"]
    posted = zoe.post("/api/messages", {"room": chat["room"], "text": "after the move"})
    # The log goes on where it stopped: 2 joins, 120 messages, an edit, a
    # deletion, a reaction, the bot joining, its post and one more.
    assert posted.status_int == 201 and posted.json["seq"] == chat["events"]["cursor"] + 1 == 129


def test_restore_of_mongodump_skips_other_applications_collections(
        chat, tools, mongo_uri, raw_db, env, tmp_path):
    raw_db.evilcoll.insert_one({"not": "makechat's"})
    path = mongodump(tools, mongo_uri, tmp_path, "archive")
    drop_all(raw_db)
    assert run(["restore", str(path)], env) == 0
    assert "not makechat's: evilcoll" in env.stderr.getvalue()
    assert "evilcoll" not in raw_db.list_collection_names()
    assert raw_db.users.count_documents({}) == 3  # admin, zoe and the bot


def backup_folder(env, tmp_path):
    """Write a makechat backup and unpack it as an operator would."""
    assert run(["backup", "-o", str(tmp_path / "backups")], env) == 0
    folder = tmp_path / "dump"
    folder.mkdir()
    tar("xzf", env.stdout.getvalue().strip(), "-C", folder)
    return folder


def test_mongorestore_of_backup_returns_every_document(
        chat, tools, server_uri, raw_db, env, tmp_path, ferretdb):
    names = makechats(raw_db)
    before, indexes = snapshot(raw_db, names), index_names(raw_db)
    folder = backup_folder(env, tmp_path)
    drop_all(raw_db)
    tool(tools, "mongorestore", "--uri", server_uri, "--dir", folder, "--drop",
         *(["--noIndexRestore"] if ferretdb else []))
    if not ferretdb:  # mongorestore created the indexes from the metadata
        assert index_names(raw_db) == {name: indexes[name] for name in names}
    db.ensure_indexes()  # what makechat does when it starts
    assert snapshot(raw_db, names) == before


def test_mongorestore_of_backup_into_another_database_name(
        chat, tools, server_uri, raw_db, env, tmp_path, ferretdb):
    """The docs' --nsFrom/--nsTo: a backup restored under another name."""
    names = makechats(raw_db)
    before = snapshot(raw_db, names)
    folder = backup_folder(env, tmp_path)
    moved = raw_db.client[f"{raw_db.name}_moved"]
    drop_all(moved)
    try:
        tool(tools, "mongorestore", "--uri", server_uri, "--dir", folder,
             "--nsFrom", f"{raw_db.name}.*", "--nsTo", f"{moved.name}.*",
             *(["--noIndexRestore"] if ferretdb else []))
        assert snapshot(moved, names) == before
    finally:
        drop_all(moved)


def test_bsondump_reads_every_file_of_backup(chat, tools, raw_db, env, tmp_path):
    folder = backup_folder(env, tmp_path)
    files = sorted((folder / raw_db.name).glob("*.bson"))
    assert {path.stem for path in files} >= backup.makechat_collections()
    for path in files:
        documents = bson.decode_all(path.read_bytes())
        result = tool(tools, "bsondump", "--quiet", path)
        dumped = [json_util.loads(line) for line in result.stdout.splitlines()]
        assert dumped == documents, path.name
        assert f"{len(documents)} objects found" in tool(tools, "bsondump", path).stderr


def test_backup_bson_files_equal_mongodumps(chat, tools, mongo_uri, raw_db, env, tmp_path):
    assert run(["backup", "-o", str(tmp_path / "backups")], env) == 0
    tool(tools, "mongodump", "--uri", mongo_uri, "--out", tmp_path / "dump")
    with tarfile.open(env.stdout.getvalue().strip()) as archive:
        for name in makechats(raw_db):
            ours = archive.extractfile(f"{raw_db.name}/{name}.bson").read()
            assert ours == (tmp_path / "dump" / raw_db.name / f"{name}.bson").read_bytes(), name
            assert ours


def test_backup_metadata_has_mongodumps_uuid(chat, tools, mongo_uri, raw_db, env, tmp_path):
    assert run(["backup", "-o", str(tmp_path / "backups")], env) == 0
    tool(tools, "mongodump", "--uri", mongo_uri, "--out", tmp_path / "dump")
    with tarfile.open(env.stdout.getvalue().strip()) as archive:
        for name in makechats(raw_db):
            ours = json.loads(archive.extractfile(f"{raw_db.name}/{name}.metadata.json").read())
            theirs = json.loads((tmp_path / "dump" / raw_db.name /
                                 f"{name}.metadata.json").read_text())
            assert ours["uuid"] == theirs["uuid"], name


def test_find_tools_without_them_fails_naming_the_folder(tmp_path):
    (tmp_path / "mongodump").write_text("#!/bin/sh\n")
    with pytest.raises(pytest.fail.Exception, match=f"mongodump, mongorestore, bsondump in "
                                                    f"{tmp_path}"):
        find_tools(tmp_path)
